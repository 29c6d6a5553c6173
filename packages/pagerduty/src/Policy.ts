/**
 * Declarative resilience policies for PagerDuty's APIs: retry schedule, rate
 * limit, circuit breaker, bulkhead and timeout, applied to an `HttpClient` in
 * the order a circuit breaker needs.
 *
 * From the outside in, a guarded request passes:
 *
 * 1. the rejection retry: a call the breaker rejects is retried after the
 *    breaker's `retryAfter`, outside the breaker, so it never counts as an
 *    outcome;
 * 2. the bulkhead, a `Semaphore` bounding concurrent calls per key;
 * 3. the circuit breaker (`HttpClient.withCircuitBreaker`), which records one
 *    outcome per call;
 * 4. the transient retry (`HttpClient.retryTransient`): 408, 429, 5xx and
 *    transport errors, waiting at least the response's `retry-after`;
 * 5. the rate limit (`HttpClient.withRateLimiter`), so every attempt takes a
 *    token, with adaptive learning from 429 responses;
 * 6. the per-attempt timeout.
 *
 * PagerDuty sends no `Retry-After`. A 429 is therefore given a `retry-after`
 * equal to its `ratelimit-reset` (REST API) or to `rateLimitedDelay` (Events
 * API, which sends neither), so both the adaptive limiter and the retry wait.
 *
 * Limits and circuits are keyed by {@link keyOf}, a truncated SHA-256 of the
 * routing key or token, so two routes sharing one integration key share one
 * limit, and no Redis key, error or metric label contains the secret. Route
 * names are only labels.
 *
 * @example
 * ```ts
 * import { Policy, PolicyStore } from "@effect-pagerduty/pagerduty"
 * import { Effect, Redacted } from "effect"
 * import { Digest } from "effect/crypto"
 * import { HttpClient } from "effect/http"
 *
 * const program = Effect.gen(function*() {
 *   const guard = yield* Policy.make(Policy.events())
 *   const key = yield* Policy.keyOf(Redacted.make("R0UT1NGKEY"))
 *   const client = guard.client(yield* HttpClient.HttpClient, { key, route: "billing" })
 *   return client
 * }).pipe(Effect.provide([PolicyStore.layerMemory, Digest.layerWebCrypto]))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Digest from "effect/crypto/Digest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Headers from "effect/http/Headers"
import * as HttpClient from "effect/http/HttpClient"
import type * as HttpClientError from "effect/http/HttpClientError"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Metric from "effect/Metric"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as Breaker from "./Breaker.ts"
import * as Errors from "./Errors.ts"
import type * as PolicyStore from "./PolicyStore.ts"
import * as Retry from "./Retry.ts"
import * as SlidingWindow from "./SlidingWindow.ts"

/**
 * A rate limit per key.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit {
  readonly limit: number
  readonly window: Duration.Input
  /** Default `sliding-window`, the only one that bounds every span of `window`. */
  readonly algorithm?: "sliding-window" | "fixed-window" | "token-bucket" | undefined
  /** Sliding window only: extra spacing that absorbs send jitter. Default 1 % of the window, at most 1 second. */
  readonly margin?: Duration.Input | undefined
}

/**
 * A complete policy. Every field is optional in {@link events} and
 * {@link rest}, which fill in PagerDuty's defaults.
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy {
  /** Names the guarded API in metrics, keys and transitions, for example `events`. */
  readonly api: string
  /** Retries of transient failures inside the breaker. */
  readonly retry: Schedule.Schedule<unknown, unknown>
  /**
   * Retries of breaker rejections outside the breaker. The default, built with
   * `Retry.schedule`, waits at least each rejection's `retryAfter`, and a
   * custom schedule should read it the same way.
   */
  readonly rejectionRetry: Schedule.Schedule<unknown, unknown>
  readonly rateLimit: RateLimit | undefined
  readonly circuitBreaker: Breaker.Options | undefined
  /** Maximum concurrent calls per key. */
  readonly bulkhead: { readonly concurrency: number } | undefined
  /** Time one HTTP attempt may take. */
  readonly timeout: Duration.Input | undefined
  /** Wait after a 429 that carries no `ratelimit-reset`. */
  readonly rateLimitedDelay: Duration.Input
  /** Upper bound of any server-supplied wait. */
  readonly maxRetryAfter: Duration.Input
}

const isBreakerError = (u: unknown): u is CircuitBreaker.CircuitBreakerError =>
  Predicate.hasProperty(u, CircuitBreaker.ErrorTypeId)

// Exponential from 1 second, jittered and capped at 30 seconds, at most 5
// retries. `retryTransient` selects what is retried and raises each delay to
// the response's `retry-after`, so the schedule reads no hint itself.
const defaultRetry = (): Schedule.Schedule<unknown, unknown> =>
  Retry.schedule({ baseDelay: "1 second", maxAttempts: 6, isRetryable: () => true, retryAfter: () => undefined })

// At most 3 retries of breaker rejections, each after at least the
// rejection's `retryAfter` (read by `Retry.retryAfterOf`) and at most 5 minutes.
const defaultRejectionRetry = (): Schedule.Schedule<unknown, unknown> =>
  Retry.schedule({
    baseDelay: "1 second",
    maxAttempts: 4,
    maxDelay: "5 minutes",
    maxElapsed: "10 minutes",
    isRetryable: isBreakerError
  })

const validate = (policy: Policy): Policy => {
  const limit = policy.rateLimit?.limit
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) {
    throw new RangeError(`Policy: rateLimit.limit must be an integer >= 1, got ${limit}`)
  }
  const concurrency = policy.bulkhead?.concurrency
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    throw new RangeError(`Policy: bulkhead.concurrency must be an integer >= 1, got ${concurrency}`)
  }
  return policy
}

/**
 * The Events API policy: 110 events a minute per routing key over a sliding
 * window, a margin below the about 120 in any 60 seconds PagerDuty documents.
 * Its breaker opens after 5 consecutive failed calls for 30 seconds, doubling
 * up to 5 minutes. It allows 10 concurrent calls per routing key and 10
 * seconds per attempt. Every field can be overridden.
 *
 * @since 0.1.0
 * @category constructors
 */
export const events = (overrides?: Partial<Policy>): Policy =>
  validate({
    api: "events",
    retry: defaultRetry(),
    rejectionRetry: defaultRejectionRetry(),
    rateLimit: { limit: 110, window: "60 seconds", algorithm: "sliding-window" },
    circuitBreaker: {
      tripPolicy: CircuitBreaker.consecutive(5),
      openDuration: Schedule.min([Schedule.exponential("30 seconds", 2), Schedule.spaced("5 minutes")]),
      maxOpenDuration: "10 minutes"
    },
    bulkhead: { concurrency: 10 },
    timeout: "10 seconds",
    rateLimitedDelay: "30 seconds",
    maxRetryAfter: "5 minutes",
    ...overrides
  })

/**
 * The REST API policy: 960 requests a minute per token over a sliding window
 * (PagerDuty's documented limit per API key), the breaker, retry and timeout
 * of {@link events}, and 4 concurrent calls per token. Every field can be
 * overridden.
 *
 * @since 0.1.0
 * @category constructors
 */
export const rest = (overrides?: Partial<Policy>): Policy =>
  events({
    api: "rest",
    rateLimit: { limit: 960, window: "60 seconds", algorithm: "sliding-window" },
    bulkhead: { concurrency: 4 },
    rateLimitedDelay: "20 seconds",
    ...overrides
  })

/**
 * Hashes a routing key or token into the key a policy uses: the first 24 hex
 * digits (96 bits) of its SHA-256.
 *
 * @since 0.1.0
 * @category keys
 */
export const keyOf = (secret: Redacted.Redacted<string>): Effect.Effect<string, never, Digest.Digest> =>
  Digest.Digest.use((digest) =>
    Effect.map(
      digest.digestHex(Digest.sha256, new TextEncoder().encode(Redacted.value(secret))),
      (hex) => hex.slice(0, 24)
    )
  )

class CircuitOpen extends Schema.TaggedClass<CircuitOpen>()("CircuitOpen", {
  api: Schema.String,
  routes: Schema.Array(Schema.String),
  retryAfter: Schema.DurationFromMillis
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    return `the ${this.api} circuit for route ${
      this.routes.join(", ") || "unnamed"
    } is open after repeated failures; calls resume in ${Duration.format(this.retryAfter)}`
  }
}

class CircuitHalfOpen extends Schema.TaggedClass<CircuitHalfOpen>()("CircuitHalfOpen", {
  api: Schema.String,
  routes: Schema.Array(Schema.String)
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Info" as const
  get message() {
    return `the ${this.api} circuit for route ${
      this.routes.join(", ") || "unnamed"
    } is half-open and a probe call is running; retry shortly`
  }
}

/**
 * Failure of a guarded call that the policy itself raised.
 *
 * @since 0.1.0
 * @category errors
 */
export class PolicyError extends Schema.TaggedError<PolicyError>()("PolicyError", {
  reason: Schema.Union([CircuitOpen, CircuitHalfOpen])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * Reasons of a {@link PolicyError}.
 *
 * @since 0.1.0
 * @category errors
 */
export const PolicyErrorReason = { CircuitOpen, CircuitHalfOpen }

/**
 * A policy in force: wraps clients and publishes breaker transitions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Guard {
  readonly policy: Policy
  /**
   * Wraps `client` so each request runs under the policy for `key` (see
   * {@link keyOf}). `route` labels metrics and transitions.
   */
  readonly client: <E, R>(
    client: HttpClient.HttpClient.With<E, R>,
    target: { readonly key: string; readonly route?: string | undefined }
  ) => HttpClient.HttpClient.With<E | PolicyError | StageError, R>
  readonly transitions: Stream.Stream<Breaker.Transition>
}

/**
 * Errors the policy's stages add besides {@link PolicyError}: a timed-out
 * attempt, and store failures when a store is configured to fail.
 *
 * @since 0.1.0
 * @category errors
 */
export type StageError =
  | HttpClientError.HttpClientError
  | RateLimiter.RateLimiterError
  | CircuitBreaker.CircuitBreakerError

const waitHistogram = Metric.histogram("pagerduty_policy_rate_limit_wait_seconds", {
  description: "Time calls waited for a rate-limit slot",
  boundaries: Metric.exponentialBoundaries({ start: 0.01, factor: 4, count: 8 })
})
const rejectionCounter = Metric.counter("pagerduty_policy_rejections_total", {
  description: "Calls the circuit breaker rejected",
  incremental: true
})

const retryAfterHeader = "retry-after"
const resetHeader = "ratelimit-reset"

// Gives a 429 the `retry-after` that `withRateLimiter` and `retryTransient`
// read: its `ratelimit-reset` when present, the fallback delay otherwise.
// The response keeps its body and everything else; only `headers` differs.
const withRetryAfter = (fallbackSeconds: number, capSeconds: number) =>
(
  response: HttpClientResponse.HttpClientResponse
): HttpClientResponse.HttpClientResponse => {
  if (response.status !== 429 || response.headers[retryAfterHeader] !== undefined) return response
  const reset = Number(response.headers[resetHeader])
  const seconds = Number.isFinite(reset) && reset > 0 ? Math.min(reset, capSeconds) : fallbackSeconds
  const headers = Headers.set(response.headers, retryAfterHeader, String(Math.ceil(seconds)))
  return Object.create(response, { headers: { value: headers, enumerable: true } })
}

const seconds = (input: Duration.Input) => Duration.toSeconds(Duration.fromInputUnsafe(input))

const defaultMargin = (window: Duration.Input) =>
  Duration.millis(Math.min(1000, Duration.toMillis(Duration.fromInputUnsafe(window)) / 100))

/**
 * Puts `policy` in force on the current stores (see `PolicyStore`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(
  policy: Policy
): Effect.fn.Return<Guard, never, PolicyStore.Stores | Scope.Scope> {
  const rateLimit = policy.rateLimit
  const sliding = rateLimit !== undefined && (rateLimit.algorithm ?? "sliding-window") === "sliding-window"
  const baseLimiter = sliding
    ? yield* SlidingWindow.makeLimiter({ margin: rateLimit.margin ?? defaultMargin(rateLimit.window) })
    : yield* RateLimiter.make
  const breaker = policy.circuitBreaker === undefined
    ? undefined
    : yield* Breaker.make({ ...policy.circuitBreaker, api: policy.api })
  const routes = new Map<string, Set<string>>()
  const routesOf = (key: string) => [...(routes.get(key) ?? [])]
  const labelOf = (key: string) => routesOf(key).join(",") || "unnamed"

  const limiterKey = (key: string) => `${policy.api}:${key}`
  const keyFromLimiter = new Map<string, string>()
  // The shared adaptive state is read only for keys whose calls met a 429 in
  // this process within the last hour, which saves one Redis round trip per
  // call while PagerDuty accepts everything.
  // NOTE: a process that has met no 429 itself does not follow a rate that
  // other processes learned, so until then the sliding window alone paces it.
  const adaptiveUntil = new Map<string, number>()
  const adaptiveWatch = Duration.toMillis(Duration.hours(1))
  const inactive: RateLimiter.AdaptiveConsumeResult = { delay: Duration.zero, epoch: 0, phase: "inactive" }
  const limiter = RateLimiter.RateLimiter.of({
    ...baseLimiter,
    adaptiveConsume: (options) =>
      Effect.clockWith((clock) =>
        clock.currentTimeMillisUnsafe() < (adaptiveUntil.get(options.key) ?? 0)
          ? baseLimiter.adaptiveConsume(options)
          : Effect.succeed(inactive)
      ),
    adaptiveFeedback: (options) =>
      Effect.clockWith((clock) => {
        if (options.status === 429) adaptiveUntil.set(options.key, clock.currentTimeMillisUnsafe() + adaptiveWatch)
        return baseLimiter.adaptiveFeedback(options)
      }),
    consume: (options) =>
      Effect.tap(baseLimiter.consume(options), ({ delay }) =>
        Duration.isZero(delay) ? Effect.void : Metric.update(
          Metric.withAttributes(waitHistogram, {
            api: policy.api,
            route: labelOf(keyFromLimiter.get(options.key) ?? "")
          }),
          Duration.toSeconds(delay)
        ))
  })

  const fallbackSeconds = seconds(policy.rateLimitedDelay)
  const capSeconds = seconds(policy.maxRetryAfter)
  const bulkheads = new Map<string, Semaphore.Semaphore>()

  const toPolicyError = (key: string) => (error: CircuitBreaker.CircuitBreakerError) => {
    const names = routesOf(key)
    switch (error.reason._tag) {
      case "CircuitOpen":
        return new PolicyError({
          reason: new CircuitOpen({ api: policy.api, routes: names, retryAfter: error.reason.retryAfter })
        })
      case "CircuitHalfOpen":
        return new PolicyError({ reason: new CircuitHalfOpen({ api: policy.api, routes: names }) })
      default:
        return error
    }
  }

  const client = <E, R>(
    inner: HttpClient.HttpClient.With<E, R>,
    target: { readonly key: string; readonly route?: string | undefined }
  ): HttpClient.HttpClient.With<E | PolicyError | StageError, R> => {
    const key = target.key
    const names = routes.get(key) ?? new Set()
    if (target.route !== undefined) names.add(target.route)
    routes.set(key, names)
    if (target.route !== undefined) breaker?.register(`${policy.api}:${key}`, target.route)
    keyFromLimiter.set(limiterKey(key), key)

    // `HttpClient.With` is invariant in its error type, while each stage only
    // adds errors, so every stage is typed with the union of all of them.
    type Stage = HttpClient.HttpClient.With<E | StageError, R>
    let guarded = inner.pipe(
      HttpClient.transformResponse(Effect.map(withRetryAfter(fallbackSeconds, capSeconds)))
    ) as unknown as Stage
    if (policy.timeout !== undefined) guarded = HttpClient.timeout(guarded, policy.timeout) as Stage
    if (rateLimit !== undefined) {
      guarded = HttpClient.withRateLimiter(guarded, {
        limiter,
        key: limiterKey(key),
        limit: rateLimit.limit,
        window: rateLimit.window,
        algorithm: rateLimit.algorithm === "token-bucket" ? "token-bucket" : "fixed-window",
        // 429s are retried by `retryTransient` below, which sends them back
        // through this limiter, so the limiter itself does not retry.
        times: 0
      })
    }
    guarded = HttpClient.retryTransient(guarded, policy.retry)
    if (breaker !== undefined) {
      guarded = HttpClient.withCircuitBreaker(guarded, { breaker: breaker.breaker, key: `${policy.api}:${key}` })
    }
    const concurrency = policy.bulkhead?.concurrency
    let bulkhead: Semaphore.Semaphore | undefined
    if (concurrency !== undefined) {
      bulkhead = bulkheads.get(key) ?? Semaphore.makeUnsafe(concurrency)
      bulkheads.set(key, bulkhead)
    }
    if (bulkhead !== undefined) {
      const permits = bulkhead
      guarded = HttpClient.transformResponse(guarded, (effect) => permits.withPermit(effect))
    }
    return HttpClient.transformResponse(guarded, (effect) =>
      effect.pipe(
        Effect.tapError((error) =>
          isBreakerError(error) && error.reason._tag !== "CircuitBreakerStoreError"
            ? Metric.update(
              Metric.withAttributes(rejectionCounter, {
                api: policy.api,
                route: labelOf(key),
                reason: error.reason._tag
              }),
              1
            )
            : Effect.void
        ),
        Effect.retry({ schedule: policy.rejectionRetry, while: isBreakerError }),
        Effect.mapError((error) => isBreakerError(error) ? toPolicyError(key)(error) : error)
      ))
  }

  return {
    policy,
    client,
    transitions: breaker === undefined ? Stream.empty : breaker.transitions
  }
})
