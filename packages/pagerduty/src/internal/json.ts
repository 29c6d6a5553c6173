/**
 * Canonical JSON: the same value always serialises to the same string.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (Predicate.isObject(value)) {
    const sorted: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      sorted[key] = sortKeys((value as Record<string, unknown>)[key])
    }
    return sorted
  }
  return value
}

/**
 * Converts a value to plain JSON data with object keys in sorted order.
 *
 * The value first goes through `JSON.stringify` semantics (`toJSON` is
 * called, `undefined` and functions are dropped, non-finite numbers become
 * `null`), so the result contains only JSON data. Throws a `TypeError` for a
 * `bigint` or a circular structure, as `JSON.stringify` does.
 *
 * NOTE: JavaScript objects always list integer-like keys ("1", "2") first, so
 * such keys come before the others whatever the sort order, but the output is still
 * identical for identical input.
 *
 * @since 0.1.0
 */
export const canonicalize = (value: unknown): unknown => {
  const text = JSON.stringify(value)
  return text === undefined ? undefined : sortKeys(JSON.parse(text))
}
