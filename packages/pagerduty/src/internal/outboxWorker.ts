/**
 * Delivery workers: claim, deliver, settle, with graceful stop.
 */
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import * as Errors from "../Errors.ts"
import type { Claim, DeadLetter, OutboxItem } from "../OutboxStore.ts"
import { OutboxStore } from "../OutboxStore.ts"
import { readyAt } from "./outboxEngine.ts"
import * as Metrics from "./outboxMetrics.ts"

export interface WorkerOptions<E, R> {
  readonly deliver: (item: OutboxItem) => Effect.Effect<void, E, R>
  readonly concurrency?: number | undefined
  readonly isRetryable?: ((error: E) => boolean) | undefined
  readonly retryAfter?: ((error: E) => Duration.Duration | undefined) | undefined
  readonly lastResponse?: ((error: E) => string | undefined) | undefined
  readonly schedule?: Schedule.Schedule<unknown, number> | undefined
  readonly maxDelay?: Duration.Input | undefined
  readonly maxAge?: Duration.Input | undefined
  readonly shutdownTimeout?: Duration.Input | undefined
  readonly metricsInterval?: Duration.Input | undefined
}

export const defaultSchedule: Schedule.Schedule<unknown, number> = Schedule.min([
  Schedule.exponential("1 second"),
  Schedule.spaced("5 minutes")
])

/**
 * Computes the delay before retry number `attempts + 1` by stepping a fresh
 * schedule `attempts` times. The attempt count is the only state kept between
 * attempts, which may run in another process, so elapsed time is simulated
 * as the sum of the delays. A schedule that ends keeps its last delay, because
 * transient failures are retried without limit.
 */
export const retryDelay = Effect.fnUntraced(function*(schedule: Schedule.Schedule<unknown, number>, attempts: number) {
  const step = yield* Schedule.toStep(schedule)
  let now = 0
  let delay = Duration.zero
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const result = yield* Pull.catchDone(step(now, attempt), () => Effect.undefined)
    if (result === undefined) break
    delay = result[1]
    now += Duration.toMillis(delay)
  }
  return delay
})

/** Reads a `retryAfter` hint (a `Duration` or milliseconds) from an error or its reason. */
export const defaultRetryAfter = (error: unknown): Duration.Duration | undefined => {
  const read = (value: unknown): Duration.Duration | undefined => {
    if (typeof value !== "object" || value === null || !("retryAfter" in value)) return undefined
    const hint = value.retryAfter
    if (Duration.isDuration(hint)) return hint
    if (typeof hint === "number" && Number.isFinite(hint) && hint >= 0) return Duration.millis(hint)
    return undefined
  }
  if (typeof error !== "object" || error === null) return undefined
  return read("reason" in error ? error.reason : undefined) ?? read(error)
}

const maxResponseLength = 4096

/** Describes what a failed attempt returned: the error's reason as JSON (its fields, never a secret). */
export const defaultLastResponse = (error: unknown): string | undefined => {
  if (typeof error !== "object" || error === null || !("reason" in error)) return undefined
  try {
    const text = JSON.stringify(error.reason)
    return text === undefined ? undefined : text.slice(0, maxResponseLength)
  } catch {
    return undefined
  }
}

const describe = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  const text = error instanceof Error ? error.message : String(error)
  return text.slice(0, maxResponseLength)
}

export const run = <E, R>(
  options: WorkerOptions<E, R>
): Effect.Effect<void, never, OutboxStore | R | Scope.Scope> =>
  Effect.gen(function*() {
    const concurrency = options.concurrency ?? 4
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`)
    }
    const store = yield* OutboxStore
    const schedule = options.schedule ?? defaultSchedule
    const maxDelayMillis = Duration.toMillis(Duration.fromInputUnsafe(options.maxDelay ?? "1 hour"))
    const maxAgeMillis = options.maxAge === undefined ? undefined : Duration.toMillis(options.maxAge)
    const shutdownTimeout = Duration.fromInputUnsafe(options.shutdownTimeout ?? "10 seconds")
    const isRetryable = options.isRetryable ?? ((error: E) => Errors.classify(error).retryable)
    const retryAfter = options.retryAfter ?? defaultRetryAfter
    const lastResponse = options.lastResponse ?? defaultLastResponse
    const stop = Deferred.makeUnsafe<void>()
    const deliveries = Metrics.deliveries(store.kind)

    // Store failures are retried quietly after the first one is logged; a recovery re-arms the log.
    let storeFailing = false
    const settle = (effect: Effect.Effect<void, unknown>, what: string) =>
      effect.pipe(
        Effect.retry(Schedule.exponential("100 millis").pipe(Schedule.upTo({ duration: "30 seconds" }))),
        Effect.catchCause((cause) =>
          Effect.logWarning(`outbox: failed to ${what}; the item will be delivered again`, cause)
        )
      )

    const deadLetter = (claim: Claim, deadLetter: DeadLetter, outcome: "rejected" | "expired") =>
      Effect.andThen(
        settle(store.deadLetter(claim, deadLetter), "record a dead letter"),
        Metric.update(Metric.withAttributes(deliveries, { outcome }), 1)
      )

    const settleFailure = (claim: Claim, cause: Cause.Cause<E>) =>
      Effect.gen(function*() {
        const item = claim.item
        const now = yield* Clock.currentTimeMillis
        const failure = Cause.findErrorOption(cause)
        const retryable = failure._tag === "Some"
          ? isRetryable(failure.value)
          : Errors.classify(Cause.squash(cause)).retryable
        const response = failure._tag === "Some" ? lastResponse(failure.value) : undefined
        const detail = describe(cause)
        if (!retryable) {
          return yield* deadLetter(claim, { reason: "Rejected", detail, lastResponse: response, at: now }, "rejected")
        }
        const deadline = maxAgeMillis === undefined ? Infinity : readyAt(item) + maxAgeMillis
        if (now >= deadline) {
          return yield* deadLetter(claim, {
            reason: "Expired",
            detail: `still failing after ${item.attempts} attempts and maxAge; last error: ${detail}`,
            lastResponse: response,
            at: now
          }, "expired")
        }
        const scheduled = Duration.toMillis(yield* retryDelay(schedule, item.attempts))
        const hint = failure._tag === "Some" ? retryAfter(failure.value) : undefined
        const wait = Math.min(Math.max(scheduled, hint === undefined ? 0 : Duration.toMillis(hint)), maxDelayMillis)
        // The last retry runs at the deadline rather than after it.
        const notBefore = Math.min(now + wait, deadline)
        yield* settle(store.retry(claim, { notBefore, lastError: detail }), "schedule a retry")
        yield* Metric.update(Metric.withAttributes(deliveries, { outcome: "retried" }), 1)
      })

    const handle = (claim: Claim) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const item = claim.item
          const now = yield* Clock.currentTimeMillis
          if (maxAgeMillis !== undefined && now - readyAt(item) > maxAgeMillis) {
            return yield* deadLetter(claim, {
              reason: "Expired",
              detail: `older than maxAge before attempt ${item.attempts}`,
              at: now
            }, "expired")
          }
          const links = item.traceContext === undefined ? [] : [{
            span: Tracer.externalSpan(item.traceContext),
            attributes: {}
          }]
          const exit = yield* Effect.exit(restore(
            options.deliver(item).pipe(
              Effect.withSpan("Outbox.deliver", {
                links,
                attributes: {
                  "pagerduty.outbox.item_id": item.id,
                  "pagerduty.outbox.route": item.route,
                  "pagerduty.event.action": item.action,
                  "pagerduty.outbox.attempt": item.attempts
                }
              })
            )
          ))
          if (Exit.isSuccess(exit)) {
            yield* settle(store.complete(claim), "record a delivery")
            return yield* Metric.update(Metric.withAttributes(deliveries, { outcome: "delivered" }), 1)
          }
          if (Cause.hasInterruptsOnly(exit.cause)) {
            yield* settle(store.release(claim), "release an item")
            return yield* Metric.update(Metric.withAttributes(deliveries, { outcome: "interrupted" }), 1)
          }
          yield* settleFailure(claim, exit.cause)
        })
      )

    // Claims in a child fiber, so a stop never drops a claim that completed at the same moment: it is released.
    const claimUnlessStopped = Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(store.claim)
      const first = yield* Effect.raceFirst(
        Effect.as(Fiber.await(fiber), "claimed" as const),
        Effect.as(Deferred.await(stop), "stopped" as const)
      )
      if (first === "stopped") {
        yield* Fiber.interrupt(fiber)
        const exit = yield* Fiber.await(fiber)
        if (Exit.isSuccess(exit)) yield* settle(store.release(exit.value), "release an item")
        return undefined
      }
      return yield* Fiber.join(fiber)
    })

    const loop = Effect.gen(function*() {
      while (!Deferred.isDoneUnsafe(stop)) {
        const claimed = yield* claimUnlessStopped.pipe(
          Effect.tap(() => Effect.sync(() => storeFailing = false)),
          Effect.catchCause((cause) =>
            Effect.gen(function*() {
              if (!storeFailing) yield* Effect.logWarning("outbox: failed to claim an item; retrying", cause)
              storeFailing = true
              yield* Effect.sleep("1 second")
              return undefined
            })
          )
        )
        if (claimed !== undefined) yield* handle(claimed)
      }
    })

    const fibers = yield* Effect.forEach(
      Array.from({ length: concurrency }),
      () => Effect.forkDetach(loop),
      { concurrency: "unbounded" }
    )
    const sampler = yield* Effect.forkDetach(
      Metrics.sample(store).pipe(
        Effect.repeat(Schedule.spaced(options.metricsInterval ?? "5 seconds")),
        Effect.ignore
      )
    )

    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        Deferred.doneUnsafe(stop, Exit.void)
        const finished = yield* Fiber.awaitAll(fibers).pipe(Effect.timeoutOption(shutdownTimeout))
        if (finished._tag === "None") yield* Fiber.interruptAll(fibers)
        yield* Fiber.interrupt(sampler)
        yield* Effect.ignore(Metrics.sample(store))
      })
    )
  })
