import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"

const marker = "[redacted]"

// Field names whose values are secrets whatever they contain.
const secretField =
  /pass(word|wd|phrase)?$|secret|token|authorization|cookie|routing_?key|integration_?key|api_?key|private_?key|signature|credential/i

/**
 * Secrets shorter than this are not searched for inside other text, because
 * replacing every occurrence of a two-letter string would destroy records.
 *
 * NOTE: a configured secret of 1 to 3 characters is therefore redacted only
 * where it sits in a field named like a secret or in a `Redacted`.
 */
const minimumSearchLength = 4

const replaceSecrets = (text: string, values: ReadonlyArray<string>): string => {
  let out = text
  for (const value of values) {
    if (out.includes(value)) out = out.split(value).join(marker)
  }
  return out
}

/**
 * Replaces secrets in a value: fields whose name marks a secret, every
 * `Redacted`, and every occurrence of a given secret's value in any string or
 * key. The result is plain JSON data.
 */
export const redact = (value: unknown, secrets: ReadonlyArray<Redacted.Redacted<string>>): unknown => {
  // Longer secrets first, so a secret containing another is replaced whole.
  const values = secrets.map((secret) => Redacted.value(secret))
    .filter((text) => text.length >= minimumSearchLength)
    .sort((a, b) => b.length - a.length)
  const seen = new Set<object>()

  const visit = (item: unknown): unknown => {
    if (typeof item === "string") return replaceSecrets(item, values)
    if (typeof item === "number") return Number.isFinite(item) ? item : String(item)
    if (typeof item === "boolean" || item === null) return item
    if (typeof item === "bigint") return replaceSecrets(item.toString(), values)
    if (item === undefined || typeof item === "function" || typeof item === "symbol") return undefined
    if (Redacted.isRedacted(item)) return marker
    if (item instanceof Date) return Number.isNaN(item.getTime()) ? null : item.toISOString()
    if (item instanceof Error) return { name: item.name, message: replaceSecrets(item.message, values) }
    // `Predicate.isObject` is false for arrays, which are walked like objects.
    if (!Predicate.isObject(item) && !Array.isArray(item)) return replaceSecrets(String(item), values)
    if (seen.has(item)) return "[circular]"
    seen.add(item)
    try {
      if (Array.isArray(item)) return item.map((element) => visit(element) ?? null)
      const out: Record<string, unknown> = {}
      for (const [key, element] of Object.entries(item)) {
        // Numbers and booleans under a secret-like name (`signature_valid: true`) carry no secret.
        const hidden = secretField.test(key) && typeof element !== "number" && typeof element !== "boolean" &&
          element !== undefined && element !== null
        const visited = hidden ? marker : visit(element)
        if (visited !== undefined) out[replaceSecrets(key, values)] = visited
      }
      return out
    } finally {
      seen.delete(item)
    }
  }

  return visit(value)
}
