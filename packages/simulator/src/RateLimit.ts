/**
 * The Events API's per-routing-key rate limit: at most `limit` events for one
 * routing key within any `window` (a sliding, look-back window).
 *
 * PagerDuty documents about 120 events a minute per integration key, counted
 * over a 60-second look-back window, and responds to events over the limit
 * with 429 without ingesting them. It documents no `Retry-After` header, so none is
 * sent unless {@link Options.retryAfter} is set.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * Settings of the limit.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Events allowed per routing key within one window. Default 120. */
  readonly limit?: number | undefined
  /** Length of the look-back window in milliseconds. Default 60,000. */
  readonly windowMillis?: number | undefined
  /** Adds a `Retry-After` header (whole seconds) to 429 responses. Default false. */
  readonly retryAfter?: boolean | undefined
}

/**
 * PagerDuty's documented limit: 120 events per routing key over 60 seconds.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaults = { limit: 120, windowMillis: 60_000, retryAfter: false } as const

/**
 * The limiter's decision on one event.
 *
 * @since 0.1.0
 * @category models
 */
export interface Decision {
  readonly allowed: boolean
  /** Events still allowed in the current window after this one. */
  readonly remaining: number
  /** Milliseconds until the oldest counted event leaves the window; 0 when allowed. */
  readonly retryAfterMillis: number
}

const checkOptions = (options: Options): void => {
  const { limit, windowMillis } = options
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`rate limit option "limit" must be a positive integer, got ${limit}`)
  }
  if (windowMillis !== undefined && (!Number.isFinite(windowMillis) || windowMillis <= 0)) {
    throw new RangeError(`rate limit option "windowMillis" must be a positive number, got ${windowMillis}`)
  }
}

/**
 * Creates a sliding-window log, which keeps the arrival times of the events
 * counted in the current window, per key.
 *
 * Memory is bounded by `limit` timestamps per key that sent events within the
 * last window, and keys are forgotten once their window empties.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeWindow = (options: { readonly limit: number; readonly windowMillis: number }) => {
  checkOptions(options)
  const { limit, windowMillis } = options
  let arrivals = new Map<string, Array<number>>()

  const prune = (key: string, now: number): Array<number> => {
    const times = arrivals.get(key) ?? []
    let expired = 0
    while (expired < times.length && times[expired]! <= now - windowMillis) expired++
    const kept = expired === 0 ? times : times.slice(expired)
    if (kept.length === 0) arrivals.delete(key)
    else arrivals.set(key, kept)
    return kept
  }

  return {
    /** Counts an event for `key` at `now` (epoch milliseconds) unless the window is full. */
    tryAcquire(key: string, now: number): Decision {
      const times = prune(key, now)
      if (times.length >= limit) {
        return { allowed: false, remaining: 0, retryAfterMillis: times[0]! + windowMillis - now }
      }
      times.push(now)
      arrivals.set(key, times)
      return { allowed: true, remaining: limit - times.length, retryAfterMillis: 0 }
    },
    /** Forgets every counted event. */
    reset(): void {
      arrivals = new Map()
    }
  }
}

/**
 * The rate limiter service used by the Events API routes.
 *
 * @since 0.1.0
 * @category services
 */
export class RateLimit extends Context.Service<RateLimit, {
  /** Counts an event for `key` (a routing key hash) at the current `Clock` time. */
  readonly check: (key: string) => Effect.Effect<Decision>
  /** Whether 429 responses carry `Retry-After`. */
  readonly retryAfter: boolean
  /** Forgets every counted event. */
  readonly reset: Effect.Effect<void>
}>()("@effect-pagerduty/simulator/RateLimit") {}

/**
 * Builds a limiter; `false` builds one that allows everything.
 *
 * Throws a `RangeError` when `limit` or `windowMillis` is not positive.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options | false = {}): RateLimit["Service"] => {
  if (options === false) {
    return RateLimit.of({
      check: () => Effect.succeed({ allowed: true, remaining: Number.POSITIVE_INFINITY, retryAfterMillis: 0 }),
      retryAfter: false,
      reset: Effect.void
    })
  }
  const window = makeWindow({
    limit: options.limit ?? defaults.limit,
    windowMillis: options.windowMillis ?? defaults.windowMillis
  })
  return RateLimit.of({
    check: (key) => Effect.map(Clock.currentTimeMillis, (now) => window.tryAcquire(key, now)),
    retryAfter: options.retryAfter ?? defaults.retryAfter,
    reset: Effect.sync(() => window.reset())
  })
}

/**
 * Provides a limiter with the given settings, PagerDuty's documented 120
 * events per 60 seconds by default; `false` disables limiting.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options | false = {}): Layer.Layer<RateLimit> => {
  if (options !== false) checkOptions(options)
  return Layer.sync(RateLimit, () => make(options))
}
