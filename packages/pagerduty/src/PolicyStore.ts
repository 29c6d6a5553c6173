/**
 * Storage behind the policies: the sliding-window logs, the `RateLimiter`
 * store (adaptive state, fixed windows, token buckets) and the
 * `CircuitBreaker` store, all in memory or all shared through Redis.
 *
 * The Redis layer fails open: while Redis is unreachable, every operation
 * runs on a memory store of its own process, so each process keeps limiting
 * and breaking on its own, and {@link StoreHealth} reports `degraded`. After a
 * failure Redis is tried again every `probeInterval` (1 second unless set), and
 * shared state resumes on the first success.
 *
 * NOTE: state kept in memory during an outage is not copied to Redis when it
 * returns, and calls admitted through one store are recorded in that store.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as RateLimiter from "effect/persistence/RateLimiter"
import type * as Redis from "effect/persistence/Redis"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as SubscriptionRef from "effect/SubscriptionRef"
import * as Fallback from "./internal/fallback.ts"
import * as SlidingWindow from "./SlidingWindow.ts"

/**
 * The location of the policy's state: `memory` (configured without Redis),
 * `shared` (Redis) or `degraded` (Redis configured but failing, so memory).
 *
 * @since 0.1.0
 * @category models
 */
export type StoreMode = Fallback.StoreMode

/**
 * The stores' mode and when it last changed.
 *
 * @since 0.1.0
 * @category models
 */
export type StoreStatus = Fallback.StoreStatus

/**
 * The stores' status, for health checks.
 *
 * @since 0.1.0
 * @category services
 */
export class StoreHealth extends Context.Service<StoreHealth, {
  readonly status: Effect.Effect<StoreStatus>
  /** The current status, then every change. */
  readonly changes: Stream.Stream<StoreStatus>
}>()("@effect-pagerduty/pagerduty/PolicyStore/StoreHealth") {}

/**
 * All the stores a policy needs.
 *
 * @since 0.1.0
 * @category models
 */
export type Stores =
  | SlidingWindow.SlidingWindowStore
  | RateLimiter.RateLimiterStore
  | CircuitBreaker.CircuitBreakerStore
  | StoreHealth

/**
 * Provides memory stores, for a single process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Stores> = Layer.mergeAll(
  SlidingWindow.layerStoreMemory,
  RateLimiter.layerStoreMemory,
  CircuitBreaker.layerStoreMemory(),
  Layer.effect(
    StoreHealth,
    Effect.clockWith((clock) => {
      const status: StoreStatus = { mode: "memory", since: clock.currentTimeMillisUnsafe() }
      return Effect.succeed(StoreHealth.of({ status: Effect.succeed(status), changes: Stream.succeed(status) }))
    })
  )
)

/**
 * Options of {@link layerRedis}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisOptions {
  /**
   * Start of every key. Default `pagerduty:{policy}:`, whose hash tag keeps a
   * token bucket's two keys on one Cluster node.
   */
  readonly prefix?: string | undefined
  /** Time Redis is skipped after a failure before it is tried again. Default 1 second. */
  readonly probeInterval?: Duration.Input | undefined
}

const isRateLimiterStoreError = (error: RateLimiter.RateLimiterError) => error.reason._tag === "RateLimitStoreError"
const isBreakerStoreError = (error: CircuitBreaker.CircuitBreakerError) =>
  error.reason._tag === "CircuitBreakerStoreError"

const makeRedis = Effect.fnUntraced(function*(
  options?: RedisOptions
): Effect.fn.Return<Context.Context<Stores>, never, Redis.Redis | Scope.Scope> {
  const prefix = options?.prefix ?? "pagerduty:{policy}:"
  const gate = yield* Fallback.makeGate(options?.probeInterval ?? "1 second")

  const sharedWindow = yield* SlidingWindow.makeStoreRedis({ prefix: `${prefix}sliding:` })
  const localWindow = yield* SlidingWindow.makeStoreMemory
  const window = SlidingWindow.SlidingWindowStore.of({
    reserve: (reserve) => gate.run(sharedWindow.reserve(reserve), localWindow.reserve(reserve), isRateLimiterStoreError)
  })

  const sharedLimiter = yield* RateLimiter.makeStoreRedis({ prefix: `${prefix}ratelimit:` })
  const localLimiter = yield* Layer.build(RateLimiter.layerStoreMemory).pipe(
    Effect.map((built) => Context.get(built, RateLimiter.RateLimiterStore))
  )
  const limiter = RateLimiter.RateLimiterStore.of({
    fixedWindow: (o) => gate.run(sharedLimiter.fixedWindow(o), localLimiter.fixedWindow(o), isRateLimiterStoreError),
    tokenBucket: (o) => gate.run(sharedLimiter.tokenBucket(o), localLimiter.tokenBucket(o), isRateLimiterStoreError),
    adaptiveConsume: (o) =>
      gate.run(sharedLimiter.adaptiveConsume(o), localLimiter.adaptiveConsume(o), isRateLimiterStoreError),
    adaptiveFeedback: (o) =>
      gate.run(sharedLimiter.adaptiveFeedback(o), localLimiter.adaptiveFeedback(o), isRateLimiterStoreError)
  })

  const context = yield* Effect.context<Redis.Redis>()
  const sharedBreaker = yield* Layer.build(CircuitBreaker.layerStoreRedis({ prefix: `${prefix}breaker:` })).pipe(
    Effect.provideContext(context),
    Effect.map((built) => Context.get(built, CircuitBreaker.CircuitBreakerStore))
  )
  const localBreaker = yield* Layer.build(CircuitBreaker.layerStoreMemory()).pipe(
    Effect.map((built) => Context.get(built, CircuitBreaker.CircuitBreakerStore))
  )
  // A call is recorded in the store that admitted it, because generations of
  // one store mean nothing to the other.
  const localAdmissions = new Set<string>()
  const breaker = CircuitBreaker.CircuitBreakerStore.of({
    admit: (key) =>
      gate.run(
        sharedBreaker.admit(key),
        Effect.tap(localBreaker.admit(key), (admission) => {
          const id = `${key}\u0000${admission.generation}`
          localAdmissions.add(id)
          return Effect.addFinalizer(() => Effect.sync(() => localAdmissions.delete(id)))
        }),
        isBreakerStoreError
      ),
    record: (record) => {
      if (localAdmissions.delete(`${record.key}\u0000${record.generation}`)) return localBreaker.record(record)
      return sharedBreaker.record(record).pipe(
        Effect.catchIf(isBreakerStoreError, (error) => Effect.as(gate.failed(Cause.fail(error)), undefined))
      )
    },
    state: (key) => gate.run(sharedBreaker.state(key), localBreaker.state(key), isBreakerStoreError)
  })

  const health = StoreHealth.of({
    status: SubscriptionRef.get(gate.status),
    changes: SubscriptionRef.changes(gate.status)
  })

  return Context.make(SlidingWindow.SlidingWindowStore, window).pipe(
    Context.add(RateLimiter.RateLimiterStore, limiter),
    Context.add(CircuitBreaker.CircuitBreakerStore, breaker),
    Context.add(StoreHealth, health)
  )
})

/**
 * Provides stores shared through the `Redis` service, falling back to memory
 * per process while Redis fails.
 *
 * NOTE: the breaker's Redis store reads Redis' `TIME`, so `TestClock` drives
 * only the memory stores. A guarded call makes 3 Redis round trips (breaker
 * admission, sliding-window reservation, breaker record).
 *
 * @example
 * ```ts
 * import { PolicyStore } from "@effect-pagerduty/pagerduty"
 * import { IoRedis } from "@effect-pagerduty/redis"
 * import { Layer } from "effect"
 *
 * const StoresLive = PolicyStore.layerRedis({ prefix: "relay:{policy}:" }).pipe(
 *   Layer.provide(IoRedis.layer({ topology: IoRedis.standalone({ host: "127.0.0.1", port: 6379 }) }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRedis = (options?: RedisOptions): Layer.Layer<Stores, never, Redis.Redis> =>
  Layer.effectContext(makeRedis(options))
