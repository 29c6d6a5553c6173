/**
 * Returns `{ [key]: value }`, or an empty object when `value` is undefined, so
 * that optional fields can be spread into objects under
 * `exactOptionalPropertyTypes`.
 */
export const optionalField = <K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: V }
