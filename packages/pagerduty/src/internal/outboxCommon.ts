import * as Duration from "effect/Duration"
import type { Options, OutboxItem } from "../OutboxStore.ts"
import { InvalidItem, OutboxError, StoreFailed } from "../OutboxStore.ts"

export const resolveOptions = (options: Options | undefined) => {
  const maxDepth = options?.maxDepth ?? 100_000
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new RangeError(`maxDepth must be a positive integer, got ${maxDepth}`)
  }
  return { maxDepth, fullRetryAfter: Duration.fromInputUnsafe(options?.fullRetryAfter ?? "30 seconds") }
}

export const storeFailed = (store: string, operation: string, cause: unknown): OutboxError =>
  new OutboxError({ reason: new StoreFailed({ store, operation, detail: describeCause(cause) }) })

const describeCause = (cause: unknown): string => {
  if (cause instanceof Error) return cause.message
  if (typeof cause === "object" && cause !== null && "cause" in cause) return describeCause(cause.cause)
  return String(cause)
}

export const checkItem = (item: OutboxItem): OutboxError | undefined => {
  // A cheap substring test first, so the common body is not parsed twice.
  if (!item.body.includes("routing_key")) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(item.body)
  } catch {
    return new OutboxError({ reason: new InvalidItem({ id: item.id, detail: "body is not JSON" }) })
  }
  if (typeof parsed === "object" && parsed !== null && "routing_key" in parsed) {
    return new OutboxError({
      reason: new InvalidItem({ id: item.id, detail: "body contains routing_key; build it with Outbox.canonicalBody" })
    })
  }
  return undefined
}
