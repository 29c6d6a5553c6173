import { DateTime, Predicate } from "effect"

const normalize = (value: unknown): unknown => {
  if (DateTime.isDateTime(value)) return DateTime.formatIso(DateTime.toUtc(value))
  if (Array.isArray(value)) return value.map(normalize)
  if (Predicate.isObject(value) && !Predicate.isFunction(value)) {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const entry = (value as Record<string, unknown>)[key]
      if (entry !== undefined) sorted[key] = normalize(entry)
    }
    return sorted
  }
  return value
}

/**
 * Encodes a value as JSON with object keys sorted at every level, so equal
 * content always gives equal text. `DateTime` values become ISO strings and
 * `undefined` fields are left out, as `JSON.stringify` leaves them out.
 */
export const canonicalJson = (value: unknown): string => JSON.stringify(normalize(value))
