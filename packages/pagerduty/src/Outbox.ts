/**
 * A durable delivery queue for PagerDuty events: an alert is acknowledged to
 * its sender once the outbox has stored it, and delivery workers retry it until
 * PagerDuty accepts it, rejects it, or it exceeds a maximum age.
 *
 * The outbox follows the model of `effect/persistence`'s `PersistedQueue`:
 * a store service behind the queue, scoped claims settled by the handler's
 * exit (success completes, failure retries or dead-letters, interruption
 * releases without counting the attempt), at-least-once delivery, and retry
 * delays computed from the persisted attempt count alone, so a retry that
 * runs in another process continues the same backoff. It is its own layer
 * rather than a `PersistedQueue`, for these reasons:
 *
 * - `PersistedQueue.take` hands out any visible element, so while a `trigger`
 *   waits for its retry the `resolve` behind it would be delivered first. The
 *   `OutboxStore` hands out one item per dedup key at a time, its oldest.
 * - `PersistedQueue` stops after `maxAttempts`; transient failures here are
 *   retried without limit, bounded only by an optional maximum age, and the
 *   wait honours the server's `retryAfter` hint.
 * - The relay needs a bounded queue (`Full` with a suggested `retryAfter`),
 *   listing, replay of dead letters with their last response, purge and
 *   counts, none of which `PersistedQueueStore` offers.
 * - There is no `PersistedQueueStore` on plain files; the file store here
 *   keeps an append-only log with group commit.
 *
 * The Redis store uses the same `Redis` service as `PersistedQueue`'s Redis
 * store.
 *
 * @example
 * ```ts
 * import { Outbox } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer } from "effect"
 *
 * const Worker = Outbox.layerWorker({
 *   deliver: (item) => Effect.log(`would send ${item.body}`),
 *   concurrency: 8,
 *   maxAge: "1 day"
 * })
 *
 * const program = Effect.gen(function*() {
 *   const item = yield* Outbox.makeItem({
 *     route: "alertmanager",
 *     event: { event_action: "trigger", dedup_key: "disk-full", payload: { summary: "disk full" } }
 *   })
 *   yield* Outbox.offer(item)
 * }).pipe(Effect.provide(Worker.pipe(Layer.provideMerge(Outbox.layerStoreMemory()))))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { canonicalize } from "./internal/json.ts"
import { resolveOptions } from "./internal/outboxCommon.ts"
import * as LocalStore from "./internal/outboxLocalStore.ts"
import * as Metrics from "./internal/outboxMetrics.ts"
import * as Worker from "./internal/outboxWorker.ts"
import type { Entry, OutboxError, OutboxItem, Stats, TraceContext } from "./OutboxStore.ts"
import { type Options as StoreOptions, OutboxStore } from "./OutboxStore.ts"

/**
 * Provides the in-memory store: process-local and lost on exit, for demos
 * and tests.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory = (options?: StoreOptions): Layer.Layer<OutboxStore> =>
  Layer.effect(OutboxStore, Effect.suspend(() => LocalStore.make({ ...resolveOptions(options), kind: "memory" })))

/**
 * Serialises an event canonically: object keys sorted at every level, and
 * `routing_key` left out, so that the stored body contains no secret and every
 * attempt sends the same bytes.
 *
 * @since 0.1.0
 * @category items
 */
export const canonicalBody = (event: object): string => {
  const { routing_key: _routingKey, ...rest } = event as { routing_key?: unknown }
  return JSON.stringify(canonicalize(rest))
}

/**
 * Builds an item from an Events API v2 event.
 *
 * An event without `dedup_key` gets the item's id as its key, written into the
 * body, so that a repeated delivery updates the alert it created instead of
 * opening a second one.
 *
 * @since 0.1.0
 * @category items
 */
export const makeItem = (options: {
  readonly route: string
  readonly event: {
    readonly event_action: "trigger" | "acknowledge" | "resolve"
    readonly dedup_key?: string | undefined
    readonly [key: string]: unknown
  }
  readonly traceContext?: TraceContext | undefined
  readonly id?: string | undefined
}): Effect.Effect<OutboxItem> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const id = options.id ?? SecureRandom.uuidV4Unsafe()
    const dedupKey = options.event.dedup_key ?? id
    const item: OutboxItem = {
      id,
      route: options.route,
      dedupKey,
      action: options.event.event_action,
      body: canonicalBody({ ...options.event, dedup_key: dedupKey }),
      enqueuedAt: now,
      attempts: 0
    }
    return options.traceContext === undefined ? item : { ...item, traceContext: options.traceContext }
  })

/**
 * Stores an item and returns once the store has it. Fails with `Full` when
 * the outbox already contains `maxDepth` items. An id already stored is ignored.
 *
 * @since 0.1.0
 * @category operations
 */
export const offer = (item: OutboxItem): Effect.Effect<void, OutboxError, OutboxStore> =>
  OutboxStore.use((store) => store.offer(item))

/**
 * Lists queued items or dead letters, oldest first.
 *
 * @since 0.1.0
 * @category operations
 */
export const list = (
  options: Parameters<OutboxStore["Service"]["list"]>[0]
): Effect.Effect<ReadonlyArray<Entry>, OutboxError, OutboxStore> => OutboxStore.use((store) => store.list(options))

/**
 * Moves dead letters back to the queue with a fresh attempt count, each at
 * the tail of its dedup key. Replay is not bounded by `maxDepth`.
 *
 * @since 0.1.0
 * @category operations
 */
export const replay = (
  options?: Parameters<OutboxStore["Service"]["replay"]>[0]
): Effect.Effect<number, OutboxError, OutboxStore> => OutboxStore.use((store) => store.replay(options))

/**
 * Removes queued items or dead letters. Items a worker holds are kept.
 *
 * @since 0.1.0
 * @category operations
 */
export const purge = (
  options: Parameters<OutboxStore["Service"]["purge"]>[0]
): Effect.Effect<number, OutboxError, OutboxStore> => OutboxStore.use((store) => store.purge(options))

/**
 * Returns the depth, items in flight, dead letters and the oldest item's
 * enqueue time, and updates the outbox gauges.
 *
 * @since 0.1.0
 * @category operations
 */
export const stats: Effect.Effect<Stats, OutboxError, OutboxStore> = OutboxStore.use(Metrics.sample)

/**
 * Options of the delivery workers.
 *
 * - `deliver`: sends one item (the relay adds the routing key and calls the
 *   Events client). It must be safe to repeat: delivery is at least once.
 * - `concurrency`: deliveries in flight at once. Default 4. Items of one
 *   dedup key are never in flight together.
 * - `isRetryable`: returns true for transient failures, false for permanent ones. Default
 *   `Errors.classify(error).retryable`. Defects are classified the same way.
 * - `retryAfter`: the server's hint. Default: a `retryAfter` field (a
 *   `Duration` or milliseconds) on the error's reason or the error.
 * - `lastResponse`: text kept with a dead letter. Default: the error's
 *   reason as JSON.
 * - `schedule`: backoff, stepped with the attempt number. Default exponential
 *   from 1 second, at most 5 minutes. The wait is the longer of the schedule's
 *   delay and the hint, capped at `maxDelay` (default 1 hour).
 * - `maxAge`: how long an item is retried before it is dead-lettered as
 *   `Expired`. Default: no limit.
 * - `shutdownTimeout`: how long deliveries in flight may run on after the
 *   scope closes; the rest are interrupted and stay queued. Default 10 seconds.
 * - `metricsInterval`: how often the gauges are refreshed. Default 5 seconds.
 *
 * @since 0.1.0
 * @category workers
 */
export interface WorkerOptions<E, R> extends Worker.WorkerOptions<E, R> {}

/**
 * Starts delivery workers for the life of the scope.
 *
 * When the scope closes, workers stop claiming items, deliveries in flight
 * get `shutdownTimeout` to finish, and everything else stays in the store.
 *
 * @since 0.1.0
 * @category workers
 */
export const worker: <E, R>(options: WorkerOptions<E, R>) => Effect.Effect<void, never, OutboxStore | R | Scope.Scope> =
  Worker.run

/**
 * Runs delivery workers as a layer.
 *
 * @since 0.1.0
 * @category workers
 */
export const layerWorker = <E, R>(options: WorkerOptions<E, R>): Layer.Layer<never, never, OutboxStore | R> =>
  Layer.effectDiscard(Worker.run(options))

/**
 * The delay the default backoff waits before the retry that follows attempt
 * `attempts`.
 *
 * @since 0.1.0
 * @category workers
 */
export const defaultRetryDelay = (attempts: number): Effect.Effect<Duration.Duration> =>
  Worker.retryDelay(Worker.defaultSchedule, attempts)

/**
 * Gauge of queued items, labelled by `store`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const depthGauge = Metrics.depth

/**
 * Gauge of the oldest queued item's age in seconds, labelled by `store`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const oldestAgeGauge = Metrics.oldestAge

/**
 * Gauge of dead letters, labelled by `store`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const deadLettersGauge = Metrics.deadLetters

/**
 * Counter of delivery attempts, labelled by `store` and `outcome`
 * (`delivered`, `retried`, `rejected`, `expired`, `interrupted`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const deliveriesCounter = Metrics.deliveries
