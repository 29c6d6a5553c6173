import { IoRedis } from "@effect-pagerduty/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as RateLimiter from "effect/persistence/RateLimiter"
import * as Redis from "effect/persistence/Redis"
import * as TestClock from "effect/testing/TestClock"
import { redisServer } from "../../../test/support/redisServers.ts"
import * as SlidingWindow from "../src/SlidingWindow.ts"

const memory = Layer.merge(SlidingWindow.layerStoreMemory, RateLimiter.layerStoreMemory)

// The largest number of timestamps inside any half-open span [t, t + window).
const maxInSpan = (times: ReadonlyArray<number>, window: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= window) start++
    max = Math.max(max, end - start + 1)
  }
  return max
}

// Offers `attempts` requests at each of the given seconds and returns the
// times the limiter admitted at once (fail mode).
const admittedTimes = (
  limiter: RateLimiter.RateLimiter,
  algorithm: "fixed-window" | undefined,
  schedule: ReadonlyArray<readonly [second: number, attempts: number]>
) =>
  Effect.gen(function*() {
    const admitted: Array<number> = []
    let now = 0
    for (const [second, attempts] of schedule) {
      yield* TestClock.adjust(Duration.seconds(second - now))
      now = second
      for (let i = 0; i < attempts; i++) {
        const exit = yield* Effect.exit(
          limiter.consume({
            key: "k",
            limit: 10,
            window: "60 seconds",
            onExceeded: "fail",
            ...(algorithm ? { algorithm } : {})
          })
        )
        if (Exit.isSuccess(exit)) admitted.push(second * 1000)
      }
    }
    return admitted
  })

// One request at 0 s opens the fixed window; then bursts at 59 s and 60 s.
const burst: ReadonlyArray<readonly [number, number]> = [[0, 1], [59, 20], [60, 20], [61, 20], [119, 20], [121, 20]]

describe("SlidingWindow", () => {
  it.effect("admits the limit, then waits for the oldest entry", () =>
    Effect.gen(function*() {
      const limiter = yield* SlidingWindow.makeLimiter()
      const delays: Array<number> = []
      for (let i = 0; i < 4; i++) {
        const result = yield* limiter.consume({ key: "k", limit: 3, window: "10 seconds", onExceeded: "delay" })
        delays.push(Duration.toMillis(result.delay))
        yield* TestClock.adjust("1 second")
      }
      assert.deepStrictEqual(delays, [0, 0, 0, 7_000])
    }).pipe(Effect.provide(memory)))

  it.effect("hands out later slots to each waiting caller", () =>
    Effect.gen(function*() {
      const limiter = yield* SlidingWindow.makeLimiter()
      const delays: Array<number> = []
      for (let i = 0; i < 7; i++) {
        const result = yield* limiter.consume({ key: "k", limit: 2, window: "10 seconds", onExceeded: "delay" })
        delays.push(Duration.toMillis(result.delay))
      }
      assert.deepStrictEqual(delays, [0, 0, 10_000, 10_000, 20_000, 20_000, 30_000])
    }).pipe(Effect.provide(memory)))

  it.effect("fails with the wait in fail mode without recording", () =>
    Effect.gen(function*() {
      const limiter = yield* SlidingWindow.makeLimiter()
      yield* limiter.consume({ key: "k", limit: 1, window: "10 seconds" })
      yield* TestClock.adjust("4 seconds")
      const error = yield* Effect.flip(limiter.consume({ key: "k", limit: 1, window: "10 seconds" }))
      assert.strictEqual(error.reason._tag, "RateLimitExceeded")
      assert.strictEqual(
        error.reason._tag === "RateLimitExceeded" ? Duration.toMillis(error.reason.retryAfter) : -1,
        6_000
      )
      yield* TestClock.adjust("6 seconds")
      const result = yield* limiter.consume({ key: "k", limit: 1, window: "10 seconds" })
      assert.strictEqual(Duration.toMillis(result.delay), 0)
    }).pipe(Effect.provide(memory)))

  it.effect("adds the margin to each window", () =>
    Effect.gen(function*() {
      const limiter = yield* SlidingWindow.makeLimiter({ margin: "50 millis" })
      yield* limiter.consume({ key: "k", limit: 1, window: "1 second", onExceeded: "delay" })
      const result = yield* limiter.consume({ key: "k", limit: 1, window: "1 second", onExceeded: "delay" })
      assert.strictEqual(Duration.toMillis(result.delay), 1_050)
    }).pipe(Effect.provide(memory)))

  it.effect("keeps every 60-second span within the limit where fixed-window does not", () =>
    Effect.gen(function*() {
      const sliding = yield* SlidingWindow.makeLimiter()
      const fixed = yield* RateLimiter.make
      const slidingTimes = yield* admittedTimes(sliding, undefined, burst)
      const fixedTimes = yield* admittedTimes(fixed, "fixed-window", burst)
      assert.isAtMost(maxInSpan(slidingTimes, 60_000), 10)
      assert.isAbove(maxInSpan(fixedTimes, 60_000), 10)
      // The sliding window still admits its full limit per window over time.
      assert.strictEqual(slidingTimes.length, 21)
    }).pipe(Effect.provide(memory)))

  it.effect("rejects more tokens than the limit", () =>
    Effect.gen(function*() {
      const limiter = yield* SlidingWindow.makeLimiter()
      const error = yield* Effect.flip(limiter.consume({ key: "k", limit: 2, window: "1 second", tokens: 3 }))
      assert.strictEqual(error.reason._tag, "RateLimitExceeded")
      const delayed = yield* limiter.consume({
        key: "k",
        limit: 2,
        window: "1 second",
        tokens: 3,
        onExceeded: "delay"
      })
      assert.isFalse(Duration.isFinite(delayed.delay))
    }).pipe(Effect.provide(memory)))

  it.live("shares one log through Redis", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const redisLayer = IoRedis.layer({ topology: IoRedis.standalone({ host: server.host, port: server.port }) })
      const context = yield* Layer.build(
        Layer.merge(SlidingWindow.layerStoreRedis({ prefix: "test:" }), RateLimiter.layerStoreMemory).pipe(
          Layer.provideMerge(redisLayer)
        )
      )
      const limiter = yield* SlidingWindow.makeLimiter().pipe(Effect.provideContext(context))
      const delays: Array<number> = []
      for (let i = 0; i < 4; i++) {
        const result = yield* limiter.consume({ key: "route", limit: 2, window: "5 seconds", onExceeded: "delay" })
        delays.push(Duration.toMillis(result.delay))
      }
      assert.strictEqual(delays[0], 0)
      assert.strictEqual(delays[1], 0)
      // Slots follow the first two by one window, less the milliseconds elapsed since.
      assert.isAbove(delays[2]!, 4_500)
      assert.isAtMost(delays[2]!, 5_000)
      assert.isAbove(delays[3]!, 4_500)
      const redis = Context.get(context, Redis.Redis)
      assert.deepStrictEqual(yield* redis.send<Array<string>>("KEYS", "*"), ["test:{route}"])
      assert.strictEqual(yield* redis.send<number>("ZCARD", "test:{route}"), 4)
      const ttl = yield* redis.send<number>("PTTL", "test:{route}")
      assert.isAbove(ttl, 5_000)
    }))
})
