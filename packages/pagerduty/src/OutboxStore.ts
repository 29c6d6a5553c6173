/**
 * The storage behind the `Outbox`: its items, its error and the `OutboxStore`
 * service that the memory, file and Redis stores implement.
 *
 * An item is stored without its routing key. `route` names the relay route the
 * alert arrived on, and the delivery function looks the routing key up from it
 * at delivery time, so nothing at rest, and nothing `list` returns, contains a
 * routing key.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Errors from "./Errors.ts"

/**
 * Trace and span ids of the span that accepted an item, so the delivery span
 * can link back to it.
 *
 * @since 0.1.0
 * @category models
 */
export const TraceContext = Schema.Struct({
  traceId: Schema.String,
  spanId: Schema.String
})

/**
 * @since 0.1.0
 * @category models
 */
export type TraceContext = typeof TraceContext.Type

/**
 * An event waiting for delivery.
 *
 * - `route`: the relay route name, never the routing key.
 * - `dedupKey`: the event's `dedup_key`. Items of one key are delivered in the
 *   order they were offered.
 * - `body`: the event serialised canonically without `routing_key`, so every
 *   attempt sends the same bytes (see `Outbox.canonicalBody`).
 * - `enqueuedAt`, `replayedAt`: epoch milliseconds. The age that `maxAge` and
 *   the oldest-age metric measure starts at `replayedAt` when it is set.
 * - `attempts`: delivery attempts made so far, counting the current one while
 *   a worker holds the item.
 *
 * @since 0.1.0
 * @category models
 */
export const OutboxItem = Schema.Struct({
  id: Schema.String,
  route: Schema.String,
  dedupKey: Schema.String,
  action: Schema.Literals(["trigger", "acknowledge", "resolve"]),
  body: Schema.String,
  enqueuedAt: Schema.Number,
  attempts: Schema.Number,
  traceContext: Schema.optional(TraceContext),
  replayedAt: Schema.optional(Schema.Number)
})

/**
 * @since 0.1.0
 * @category models
 */
export type OutboxItem = typeof OutboxItem.Type

/**
 * Why an item was moved to the dead-letter list, with the failure that moved
 * it there.
 *
 * - `Rejected`: a delivery failed with a permanent error (PagerDuty's 400).
 * - `Expired`: transient failures went on past the worker's `maxAge`.
 *
 * `lastResponse` holds what the last attempt returned, as text, when the
 * error carried one. `at` is epoch milliseconds.
 *
 * @since 0.1.0
 * @category models
 */
export const DeadLetter = Schema.Struct({
  reason: Schema.Literals(["Rejected", "Expired"]),
  detail: Schema.String,
  lastResponse: Schema.optional(Schema.String),
  at: Schema.Number
})

/**
 * @since 0.1.0
 * @category models
 */
export type DeadLetter = typeof DeadLetter.Type

/**
 * An item as `list` returns it: queued (possibly held by a worker) or dead.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  readonly item: OutboxItem
  readonly state: "queued" | "in-flight" | "dead"
  /** Epoch milliseconds before which the item is not retried, after a transient failure. */
  readonly notBefore?: number | undefined
  readonly lastError?: string | undefined
  readonly deadLetter?: DeadLetter | undefined
}

/**
 * An item a worker holds. Settle it with `complete`, `retry`, `deadLetter`
 * or `release`; a settlement with a token that no longer holds the item
 * (the store recovered it meanwhile) changes nothing.
 *
 * @since 0.1.0
 * @category models
 */
export interface Claim {
  readonly item: OutboxItem
  readonly token: string
}

/**
 * Counts that `stats` returns. `oldestEnqueuedAt` is undefined when nothing
 * is queued.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly depth: number
  readonly inFlight: number
  readonly deadLetters: number
  readonly oldestEnqueuedAt: number | undefined
}

/**
 * The outbox holds its configured maximum of items.
 *
 * @since 0.1.0
 * @category errors
 */
export class Full extends Schema.TaggedClass<Full>()("Full", {
  depth: Schema.Number,
  maxDepth: Schema.Number,
  retryAfter: Schema.Duration
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    return `outbox is full (${this.depth} of maxDepth ${this.maxDepth} items); retry after ${
      Duration.format(this.retryAfter)
    }, or raise maxDepth if deliveries keep up`
  }
}

/**
 * A store operation failed (Redis unreachable, disk full, ...).
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreFailed extends Schema.TaggedClass<StoreFailed>()("StoreFailed", {
  store: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Error" as const
  get message() {
    return `outbox ${this.store} store failed to ${this.operation}: ${this.detail}; check that the store is reachable and writable`
  }
}

/**
 * Another process holds the file store's lock.
 *
 * @since 0.1.0
 * @category errors
 */
export class Locked extends Schema.TaggedClass<Locked>()("Locked", {
  path: Schema.String,
  holder: Schema.String,
  staleAfter: Schema.Duration
}) {
  readonly retryable = false
  readonly httpStatus = 503
  readonly logLevel = "Error" as const
  get message() {
    return `outbox file store lock ${this.path} is held by ${this.holder}; stop that process, or wait ${
      Duration.format(this.staleAfter)
    } if it has died`
  }
}

/**
 * An offered item breaks the outbox's rules (its body contains a routing key).
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidItem extends Schema.TaggedClass<InvalidItem>()("InvalidItem", {
  id: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `outbox item ${this.id} is invalid: ${this.detail}`
  }
}

/**
 * The error of every outbox operation.
 *
 * @since 0.1.0
 * @category errors
 */
export class OutboxError extends Schema.TaggedError<OutboxError>()("OutboxError", {
  reason: Schema.Union([Full, StoreFailed, Locked, InvalidItem])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * The storage behind an outbox.
 *
 * `offer` returns once the store holds the item, and ignores an id it
 * already holds. `claim` waits until an item is due and hands out at most one
 * item per dedup key at a time: the key's oldest, so later items of a key
 * never overtake an earlier one. `release` returns a claimed item without
 * counting the attempt.
 *
 * @since 0.1.0
 * @category services
 */
export class OutboxStore extends Context.Service<OutboxStore, {
  readonly kind: "memory" | "file" | "redis"
  readonly offer: (item: OutboxItem) => Effect.Effect<void, OutboxError>
  readonly claim: Effect.Effect<Claim, OutboxError>
  readonly complete: (claim: Claim) => Effect.Effect<void, OutboxError>
  readonly retry: (
    claim: Claim,
    options: { readonly notBefore: number; readonly lastError: string }
  ) => Effect.Effect<void, OutboxError>
  readonly deadLetter: (claim: Claim, deadLetter: DeadLetter) => Effect.Effect<void, OutboxError>
  readonly release: (claim: Claim) => Effect.Effect<void, OutboxError>
  readonly list: (options: {
    readonly state: "queued" | "dead"
    readonly offset?: number | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<ReadonlyArray<Entry>, OutboxError>
  /** Moves dead letters (the given ids, or the oldest `limit`, or all) back to the queue; returns how many moved. */
  readonly replay: (options?: {
    readonly ids?: ReadonlyArray<string> | undefined
    readonly limit?: number | undefined
  }) => Effect.Effect<number, OutboxError>
  /** Removes items (the given ids, or all) of one state; returns how many were removed. Held items stay. */
  readonly purge: (options: {
    readonly state: "queued" | "dead"
    readonly ids?: ReadonlyArray<string> | undefined
  }) => Effect.Effect<number, OutboxError>
  readonly stats: Effect.Effect<Stats, OutboxError>
}>()("@effect-pagerduty/pagerduty/OutboxStore") {}

/**
 * Options shared by the stores.
 *
 * - `maxDepth`: the most items queued at once (dead letters not counted);
 *   an offer beyond it fails with `Full`. Default 100,000.
 * - `fullRetryAfter`: the `retryAfter` a `Full` failure suggests. Default 30
 *   seconds.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  readonly maxDepth?: number | undefined
  readonly fullRetryAfter?: Duration.Input | undefined
}
