/**
 * A sliding-window (log) rate limiter: at most `limit` tokens in every span
 * of `window`, wherever the span starts.
 *
 * `RateLimiter`'s fixed-window and token-bucket algorithms bound the count per
 * window only on average. A fixed window admits `limit` at the end of one
 * window and `limit` again at the start of the next. A full token bucket
 * admits a burst of `limit` followed by the refill. So both can let about
 * twice the limit through some span of `window`. PagerDuty's Events API counts events
 * over a 60-second look-back window, so only a log of admission times keeps a
 * sender under it.
 *
 * The limiter reserves: a call that does not fit now gets the earliest time at
 * which it fits, and that time is recorded at once, so callers waiting in
 * several processes never claim the same slot.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Redis from "effect/persistence/Redis"
import * as Random from "effect/Random"

/**
 * Result of one reservation.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reservation {
  /** Time until the reserved slot, zero when the tokens fit now. */
  readonly delayMillis: number
  /** Tokens in the log after this call, the reserved ones included. */
  readonly count: number
  /** Whether the tokens were recorded: always with `reserve`, only when they fit now otherwise. */
  readonly recorded: boolean
}

/**
 * Options of one reservation.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReserveOptions {
  readonly key: string
  readonly tokens: number
  readonly limit: number
  readonly windowMillis: number
  /** Extra spacing added to the window, which absorbs jitter between reservation and arrival. */
  readonly marginMillis: number
  /** Records the tokens at the earliest slot even when it lies in the future. */
  readonly reserve: boolean
}

/**
 * Storage of the admission logs.
 *
 * @since 0.1.0
 * @category services
 */
export class SlidingWindowStore extends Context.Service<SlidingWindowStore, {
  readonly reserve: (options: ReserveOptions) => Effect.Effect<Reservation, RateLimiter.RateLimiterError>
}>()("@effect-pagerduty/pagerduty/SlidingWindow/SlidingWindowStore") {}

// The slot for `tokens` more is the latest of three times. The first is now.
// The second is the last recorded slot, because slots are handed out in order
// and so every span is checked when its last slot is recorded. The third is
// when the entry `limit - tokens` places from the end leaves the window.
// Entries are sorted ascending.
const earliestSlot = (
  entries: ReadonlyArray<number>,
  now: number,
  { limit, marginMillis, tokens, windowMillis }: ReserveOptions
): number => {
  let slot = now
  const last = entries[entries.length - 1]
  if (last !== undefined && last > slot) slot = last
  const index = entries.length - (limit - tokens) - 1
  const leaving = index >= 0 ? entries[index] : undefined
  if (leaving !== undefined) slot = Math.max(slot, leaving + windowMillis + marginMillis)
  return slot
}

const validate = (options: ReserveOptions) => {
  if (!(options.tokens >= 1 && options.tokens <= options.limit)) {
    throw new RangeError(
      `SlidingWindow: tokens must be in [1, limit], got ${options.tokens} with limit ${options.limit}`
    )
  }
}

/**
 * Creates a process-local store, driven by `Clock` so `TestClock` controls it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreMemory: Effect.Effect<SlidingWindowStore["Service"]> = Effect.sync(() => {
  const logs = new Map<string, Array<number>>()
  return SlidingWindowStore.of({
    reserve: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          validate(options)
          const now = clock.currentTimeMillisUnsafe()
          const horizon = now - options.windowMillis - options.marginMillis
          const entries = logs.get(options.key) ?? []
          let expired = 0
          while (expired < entries.length && entries[expired]! <= horizon) expired++
          if (expired > 0) entries.splice(0, expired)

          const slot = earliestSlot(entries, now, options)
          const recorded = slot <= now || options.reserve
          if (recorded) {
            for (let i = 0; i < options.tokens; i++) entries.push(slot)
          }
          if (entries.length === 0) logs.delete(options.key)
          else logs.set(options.key, entries)
          return { delayMillis: slot - now, count: entries.length, recorded }
        })
      )
  })
})

/**
 * Provides a process-local store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<SlidingWindowStore> = Layer.effect(SlidingWindowStore, makeStoreMemory)

// One atomic step over a sorted set whose scores are slot times in Redis'
// own clock (`TIME`), so processes with skewed clocks share one timeline.
// Members are unique per reservation (`nonce:i`), so equal slots coexist.
const reserveScript = Redis.script(
  (key: string, options: ReserveOptions, nonce: string) => [
    key,
    options.limit,
    options.tokens,
    options.windowMillis,
    options.marginMillis,
    options.reserve ? 1 : 0,
    nonce
  ],
  {
    numberOfKeys: 1,
    lua: `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local tokens = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local margin = tonumber(ARGV[4])
local reserve = ARGV[5] == "1"
local nonce = ARGV[6]
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

redis.call("ZREMRANGEBYSCORE", key, "-inf", now - window - margin)
local count = redis.call("ZCARD", key)
local slot = now
if count > 0 then
  local last = redis.call("ZRANGE", key, -1, -1, "WITHSCORES")
  slot = math.max(slot, tonumber(last[2]))
  local index = count - (limit - tokens) - 1
  if index >= 0 then
    local leaving = redis.call("ZRANGE", key, index, index, "WITHSCORES")
    slot = math.max(slot, tonumber(leaving[2]) + window + margin)
  end
end

if slot > now and not reserve then
  return { slot - now, count, 0 }
end
for i = 1, tokens do
  redis.call("ZADD", key, slot, nonce .. ":" .. i)
end
redis.call("PEXPIRE", key, math.ceil(slot - now + window + margin + 1))
return { slot - now, count + tokens, 1 }
`
  }
).withReturnType<readonly [delayMillis: number, count: number, recorded: number]>()

/**
 * Creates a store on the `Redis` service: one sorted set per key, named
 * `<prefix>{<key>}` so a Cluster keeps each log on one node.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreRedis = Effect.fnUntraced(function*(options?: { readonly prefix?: string | undefined }) {
  const redis = yield* Redis.Redis
  const prefix = options?.prefix ?? "pagerduty:sliding:"
  const run = redis.eval(reserveScript)
  const process = (yield* Random.nextIntBetween(0, 2 ** 31)).toString(36)
  let sequence = 0

  return SlidingWindowStore.of({
    reserve: (reserveOptions) =>
      Effect.suspend(() => {
        validate(reserveOptions)
        const nonce = `${process}:${(sequence++).toString(36)}`
        return run(`${prefix}{${reserveOptions.key}}`, reserveOptions, nonce).pipe(
          Effect.map(([delayMillis, count, recorded]): Reservation => ({
            delayMillis: Number(delayMillis),
            count: Number(count),
            recorded: Number(recorded) === 1
          })),
          Effect.mapError((error) =>
            new RateLimiter.RateLimiterError({
              reason: new RateLimiter.RateLimitStoreError({
                message: "Failed to run the sliding-window script in Redis",
                cause: error.cause
              })
            })
          )
        )
      })
  })
})

/**
 * Provides a store on the `Redis` service.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreRedis = (
  options?: { readonly prefix?: string | undefined }
): Layer.Layer<SlidingWindowStore, never, Redis.Redis> => Layer.effect(SlidingWindowStore)(makeStoreRedis(options))

/**
 * Creates a `RateLimiter` whose `consume` runs the sliding-window algorithm
 * for every request, whatever `algorithm` it names, and whose adaptive mode
 * is the `RateLimiterStore`'s. It plugs into `HttpClient.withRateLimiter`.
 *
 * `margin` widens each window by a fixed time, so a slot reserved in one
 * process and sent a little late never shares a span with a later one.
 *
 * @example
 * ```ts
 * import { SlidingWindow } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer } from "effect"
 * import { RateLimiter } from "effect/persistence"
 *
 * const program = Effect.gen(function*() {
 *   const limiter = yield* SlidingWindow.makeLimiter()
 *   return yield* limiter.consume({ key: "route", limit: 110, window: "60 seconds", onExceeded: "delay" })
 * }).pipe(Effect.provide(Layer.merge(SlidingWindow.layerStoreMemory, RateLimiter.layerStoreMemory)))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeLimiter = Effect.fnUntraced(function*(options?: { readonly margin?: Duration.Input | undefined }) {
  const store = yield* SlidingWindowStore
  const adaptive = yield* RateLimiter.RateLimiterStore
  const marginMillis = Duration.toMillis(Duration.fromInputUnsafe(options?.margin ?? 0))

  const exceeded = (key: string, limit: number, retryAfter: Duration.Duration) =>
    new RateLimiter.RateLimiterError({
      reason: new RateLimiter.RateLimitExceeded({ key, limit, remaining: 0, retryAfter })
    })

  return RateLimiter.RateLimiter.of({
    [RateLimiter.TypeId]: RateLimiter.TypeId,
    adaptiveConsume: adaptive.adaptiveConsume,
    adaptiveFeedback: adaptive.adaptiveFeedback,
    consume: (consumeOptions) => {
      const tokens = consumeOptions.tokens ?? 1
      const window = Duration.max(Duration.fromInputUnsafe(consumeOptions.window), Duration.millis(1))
      const windowMillis = Duration.toMillis(window)
      const onExceeded = consumeOptions.onExceeded ?? "fail"
      if (tokens > consumeOptions.limit) {
        return onExceeded === "fail"
          ? Effect.fail(exceeded(consumeOptions.key, consumeOptions.limit, window))
          : Effect.succeed({
            delay: Duration.infinity,
            limit: consumeOptions.limit,
            remaining: 0,
            resetAfter: Duration.infinity
          })
      }
      return Effect.flatMap(
        store.reserve({
          key: consumeOptions.key,
          tokens,
          limit: consumeOptions.limit,
          windowMillis,
          marginMillis,
          reserve: onExceeded === "delay"
        }),
        ({ count, delayMillis, recorded }) => {
          const delay = Duration.millis(Math.max(0, delayMillis))
          if (!recorded) return Effect.fail(exceeded(consumeOptions.key, consumeOptions.limit, delay))
          return Effect.succeed({
            delay,
            limit: consumeOptions.limit,
            remaining: Math.max(0, consumeOptions.limit - count),
            resetAfter: Duration.sum(delay, window)
          })
        }
      )
    }
  })
})
