import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"

/** Hashes a routing key to the lowercase hex SHA-256 used wherever the key must be identified. */
export const hash = (routingKey: string | Redacted.Redacted<string>): string =>
  createHash("sha256").update(Redacted.isRedacted(routingKey) ? Redacted.value(routingKey) : routingKey).digest("hex")

/**
 * Returns the last four characters of a routing key, the only part of it the simulator shows,
 * or an empty string for a key under 16 characters, where four would reveal too much of it.
 */
export const lastFour = (routingKey: Redacted.Redacted<string>): string => {
  const value = Redacted.value(routingKey)
  return value.length < 16 ? "" : value.slice(-4)
}
