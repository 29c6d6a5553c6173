/**
 * Retry timing shared by the clients, the policies and the outbox: parsing of
 * the server's wait hints and a backoff schedule that honours them.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Cause from "effect/Cause"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Errors from "./Errors.ts"

/**
 * Reads a `Retry-After` header value as the delay to wait from `now`.
 *
 * Accepts whole seconds (`120`) and HTTP dates in the formats of RFC 9110
 * (`Sun, 06 Nov 1994 08:49:37 GMT`). A date in the past gives a zero delay.
 * A missing, fractional, negative or otherwise malformed value gives
 * `Option.none()`.
 *
 * @example
 * ```ts
 * import { Retry } from "@effect-pagerduty/pagerduty"
 * import { DateTime } from "effect"
 *
 * Retry.parseRetryAfter("30", DateTime.makeUnsafe(0)) // Option.some(Duration.seconds(30))
 * Retry.parseRetryAfter("soon", DateTime.makeUnsafe(0)) // Option.none()
 * ```
 *
 * @since 0.1.0
 * @category hints
 */
export const parseRetryAfter = (
  headerValue: string | null | undefined,
  now: DateTime.DateTime
): Option.Option<Duration.Duration> => {
  if (headerValue === null || headerValue === undefined) return Option.none()
  const parsed = Headers.parseRetryAfter(headerValue)
  return Result.isSuccess(parsed)
    ? Option.some(Headers.retryAfterDelay(parsed.success, DateTime.toEpochMillis(now)))
    : Option.none()
}

const decimalSeconds = /^\d+(\.\d+)?$/

/**
 * Reads a `ratelimit-reset` header value, the seconds until the rate-limit
 * window resets, as a delay.
 *
 * PagerDuty's REST API sends whole seconds; decimals are accepted too. A
 * missing, negative or malformed value gives `Option.none()`.
 *
 * @since 0.1.0
 * @category hints
 */
export const parseRateLimitReset = (value: string | null | undefined): Option.Option<Duration.Duration> => {
  if (value === null || value === undefined) return Option.none()
  const trimmed = value.trim()
  if (!decimalSeconds.test(trimmed)) return Option.none()
  const seconds = Number(trimmed)
  return Number.isFinite(seconds) ? Option.some(Duration.seconds(seconds)) : Option.none()
}

/**
 * Reads the server's wait hint from an error of this library: the
 * `retryAfter` field of its reason, when that is a `Duration`.
 *
 * @since 0.1.0
 * @category hints
 */
export const retryAfterOf = (error: unknown): Duration.Duration | undefined => {
  if (!Predicate.hasProperty(error, "reason")) return undefined
  const reason = error.reason
  if (!Predicate.hasProperty(reason, "retryAfter")) return undefined
  return Duration.isDuration(reason.retryAfter) ? reason.retryAfter : undefined
}

/**
 * Options of {@link schedule}. Every field has a default.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Delay before the first retry, before jitter. Default: 500 milliseconds. */
  readonly baseDelay?: Duration.Input | undefined
  /** Growth of the delay per retry. Default: 2. */
  readonly factor?: number | undefined
  /**
   * Maximum delay between two attempts, applied after jitter. A server hint
   * longer than this ends the retries, so that a caller with a longer horizon
   * (an outbox) can wait instead. Default: 30 seconds.
   */
  readonly maxDelay?: Duration.Input | undefined
  /** Relative jitter: each delay is drawn from `[d × (1 − jitter), d × (1 + jitter)]`. Default: 0.2. */
  readonly jitter?: number | undefined
  /** Attempts in total, the first one included. Default: 4 (three retries). */
  readonly maxAttempts?: number | undefined
  /**
   * Time budget counted from the first failure: no retry is scheduled whose
   * delay would end past it. Default: 2 minutes.
   */
  readonly maxElapsed?: Duration.Input | undefined
  /** Predicate selecting the failures to retry. Default: the `retryable` flag of the error's reason (`Errors.classify`). */
  readonly isRetryable?: ((error: unknown) => boolean) | undefined
  /** Reads the server's hint from a failure. Default: {@link retryAfterOf}. */
  readonly retryAfter?: ((error: unknown) => Duration.Duration | undefined) | undefined
}

const positiveDuration = (name: string, input: Duration.Input | undefined, fallback: Duration.Input): number => {
  const millis = Duration.toMillis(Duration.fromInputUnsafe(input ?? fallback))
  if (!(millis >= 0) || !Number.isFinite(millis)) {
    throw new RangeError(`Retry.schedule: ${name} must be a finite, non-negative duration, got ${String(input)}`)
  }
  return millis
}

/**
 * Builds the retry schedule: capped exponential backoff with jitter that never
 * waits less than the server asked for.
 *
 * After the failure of attempt `n`, the delay is
 * `min(maxDelay, baseDelay × factor^(n−1))`, jittered by ±`jitter` and capped
 * at `maxDelay` again, then raised to the server's hint (`Retry-After` or
 * `ratelimit-reset`, read from the error) when the hint is longer. The
 * schedule stops when the failure is not retryable, after `maxAttempts`
 * attempts, when the next delay would end past `maxElapsed`, or when the hint
 * is longer than `maxDelay`. It outputs each delay.
 *
 * Invalid options throw a `RangeError` naming the option.
 *
 * @example
 * ```ts
 * import { Retry } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * declare const send: Effect.Effect<void, Error>
 * const withRetries = send.pipe(Effect.retry(Retry.schedule({ maxAttempts: 5, maxDelay: "10 seconds" })))
 * ```
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = <E = unknown>(options: Options = {}): Schedule.Schedule<Duration.Duration, E> => {
  const baseDelay = positiveDuration("baseDelay", options.baseDelay, "500 millis")
  const maxDelay = positiveDuration("maxDelay", options.maxDelay, "30 seconds")
  const maxElapsed = positiveDuration("maxElapsed", options.maxElapsed, "2 minutes")
  const factor = options.factor ?? 2
  const jitter = options.jitter ?? 0.2
  const maxAttempts = options.maxAttempts ?? 4
  if (!(factor >= 1) || !Number.isFinite(factor)) {
    throw new RangeError(`Retry.schedule: factor must be a finite number of at least 1, got ${factor}`)
  }
  if (!(jitter >= 0 && jitter <= 1)) {
    throw new RangeError(`Retry.schedule: jitter must be between 0 and 1, got ${jitter}`)
  }
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`Retry.schedule: maxAttempts must be a positive integer, got ${maxAttempts}`)
  }
  const isRetryable = options.isRetryable ?? ((error: unknown) => Errors.classify(error).retryable)
  const hintOf = options.retryAfter ?? retryAfterOf

  return Schedule.fromStepWithMetadata(Effect.succeed((meta: Schedule.InputMetadata<E>) => {
    const stop = Cause.done(Duration.zero)
    if (!isRetryable(meta.input) || meta.attempt >= maxAttempts) return stop

    const hint = hintOf(meta.input)
    const hintMillis = hint === undefined ? 0 : Math.ceil(Duration.toMillis(hint))
    if (hintMillis > maxDelay) return stop

    const backoff = Math.min(maxDelay, baseDelay * factor ** (meta.attempt - 1))
    return Effect.flatMap(Random.next, (random) => {
      // Whole milliseconds, so that delays add up exactly on any clock.
      const jittered = Math.min(maxDelay, Math.round(backoff * (1 - jitter + 2 * jitter * random)))
      const delay = Math.max(jittered, hintMillis)
      if (meta.elapsed + delay > maxElapsed) return stop
      const duration = Duration.millis(delay)
      return Effect.succeed([duration, duration] as [Duration.Duration, Duration.Duration])
    })
  }))
}
