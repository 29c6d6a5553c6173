import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as SubscriptionRef from "effect/SubscriptionRef"

/** The current location of the policy's shared state. */
export type StoreMode = "memory" | "shared" | "degraded"

/** The policy stores' state, as the Health module reads it. */
export interface StoreStatus {
  /** `memory` when configured without Redis, `shared` while Redis replies, `degraded` while it fails. */
  readonly mode: StoreMode
  /** Epoch milliseconds (`Clock`) of the last change. */
  readonly since: number
}

const degradedGauge = Metric.gauge("pagerduty_policy_store_degraded", {
  description: "1 while the policy's Redis store is unreachable and each process keeps its own limits and circuits"
})

/**
 * Runs a store operation on Redis and, while Redis fails, on a per-process
 * memory store instead (fail-open). After a failure Redis is skipped for
 * `probeInterval`, then tried again, so shared state resumes when it replies.
 */
export interface Gate {
  readonly status: SubscriptionRef.SubscriptionRef<StoreStatus>
  readonly run: <A, E, R>(
    shared: Effect.Effect<A, E, R>,
    local: Effect.Effect<A, E, R>,
    isStoreError: (error: E) => boolean
  ) => Effect.Effect<A, E, R>
  /** Marks Redis as failing after an operation that has no local twin failed. */
  readonly failed: (cause: Cause.Cause<unknown>) => Effect.Effect<void>
  /** Whether calls go to the memory store right now. */
  readonly isLocal: Effect.Effect<boolean>
}

export const makeGate = Effect.fnUntraced(function*(probeInterval: Duration.Input) {
  const probeMillis = Duration.toMillis(Duration.fromInputUnsafe(probeInterval))
  const now = yield* Effect.clockWith((clock) => Effect.succeed(clock.currentTimeMillisUnsafe()))
  const status = yield* SubscriptionRef.make<StoreStatus>({ mode: "shared", since: now })
  let degraded = false
  let retryAt = 0

  // Logs only at state changes: the first failure of an outage and the first
  // success after it.
  const markDegraded = (cause: Cause.Cause<unknown>) =>
    Effect.clockWith((clock) => {
      const at = clock.currentTimeMillisUnsafe()
      retryAt = at + probeMillis
      if (degraded) return Effect.void
      degraded = true
      return Effect.all([
        SubscriptionRef.set(status, { mode: "degraded" as StoreMode, since: at }),
        Metric.update(degradedGauge, 1),
        Effect.logWarning(
          "Policy store: Redis failed, so each process keeps its own limits and circuits until Redis replies again",
          cause
        )
      ], { discard: true })
    })

  const markShared = Effect.clockWith((clock) => {
    if (!degraded) return Effect.void
    degraded = false
    return Effect.all([
      SubscriptionRef.set(status, { mode: "shared" as StoreMode, since: clock.currentTimeMillisUnsafe() }),
      Metric.update(degradedGauge, 0),
      Effect.logInfo("Policy store: Redis replies again, so limits and circuits are shared again")
    ], { discard: true })
  })

  const isLocal = Effect.clockWith((clock) => Effect.succeed(degraded && clock.currentTimeMillisUnsafe() < retryAt))

  const run = <A, E, R>(
    shared: Effect.Effect<A, E, R>,
    local: Effect.Effect<A, E, R>,
    isStoreError: (error: E) => boolean
  ) =>
    Effect.flatMap(isLocal, (skip) =>
      skip ? local : shared.pipe(
        Effect.tap(() => markShared),
        Effect.catchCause((cause) => {
          const error = Cause.findErrorOption(cause)
          if (error._tag === "Some" && isStoreError(error.value)) {
            return Effect.andThen(markDegraded(cause), local)
          }
          return Effect.andThen(markShared, Effect.failCause(cause))
        })
      ))

  return { status, run, failed: markDegraded, isLocal } satisfies Gate
})
