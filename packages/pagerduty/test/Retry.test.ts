import { describe, expect, it } from "@effect/vitest"
import { Clock, DateTime, Duration, Effect, Exit, Fiber, Option } from "effect"
import { Headers } from "effect/http"
import { TestClock } from "effect/testing"
import * as Errors from "../src/Errors.ts"
import * as EventsClient from "../src/EventsClient.ts"
import * as Retry from "../src/Retry.ts"

const now = DateTime.makeUnsafe("2026-03-01T12:00:00.000Z")
const seconds = (value: Option.Option<Duration.Duration>) => Option.map(value, Duration.toSeconds)

describe("Retry.parseRetryAfter", () => {
  const cases: ReadonlyArray<readonly [string, string | null | undefined, Option.Option<number>]> = [
    ["delta seconds", "120", Option.some(120)],
    ["zero seconds", "0", Option.some(0)],
    ["padded seconds", " 30 ", Option.some(30)],
    ["a future date", Headers.formatHttpDate(DateTime.add(now, { seconds: 45 })), Option.some(45)],
    ["a past date", Headers.formatHttpDate(DateTime.subtract(now, { seconds: 45 })), Option.some(0)],
    ["an RFC 850 date", "Sunday, 01-Mar-26 12:00:10 GMT", Option.some(10)],
    ["garbage", "soon", Option.none()],
    ["negative seconds", "-5", Option.none()],
    ["fractional seconds", "1.5", Option.none()],
    ["an empty value", "", Option.none()],
    ["a missing header", undefined, Option.none()],
    ["a null header", null, Option.none()]
  ]
  for (const [name, value, expected] of cases) {
    it(`reads ${name}`, () => {
      expect(seconds(Retry.parseRetryAfter(value, now))).toEqual(expected)
    })
  }
})

describe("Retry.parseRateLimitReset", () => {
  const cases: ReadonlyArray<readonly [string | undefined, Option.Option<number>]> = [
    ["20", Option.some(20)],
    ["1.5", Option.some(1.5)],
    ["0", Option.some(0)],
    ["-1", Option.none()],
    ["soon", Option.none()],
    [undefined, Option.none()]
  ]
  for (const [value, expected] of cases) {
    it(`reads ${JSON.stringify(value)}`, () => {
      expect(seconds(Retry.parseRateLimitReset(value))).toEqual(expected)
    })
  }
})

const rateLimited = (retryAfter?: Duration.Input) =>
  new EventsClient.EventsClientError({
    reason: new EventsClient.RateLimited({
      method: "POST",
      url: "http://127.0.0.1:1/v2/enqueue",
      retryAfter: retryAfter === undefined ? undefined : Duration.fromInputUnsafe(retryAfter)
    })
  })

const invalid = new EventsClient.EventsClientError({
  reason: new EventsClient.InvalidEvent({
    method: "POST",
    url: "http://127.0.0.1:1/v2/enqueue",
    status: "invalid event",
    detail: "Event object is invalid",
    errors: []
  })
})

// Runs an always-failing effect under the schedule on the TestClock and
// returns the gaps between attempts, in milliseconds.
const gapsUnder = (schedule: Retry.Options, errors: (attempt: number) => unknown) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const failing = Effect.gen(function*() {
      times.push(yield* Clock.currentTimeMillis)
      return yield* Effect.fail(errors(times.length))
    })
    const fiber = yield* Effect.retry(failing, Retry.schedule(schedule)).pipe(Effect.exit, Effect.forkChild)
    yield* TestClock.adjust("1 hour")
    const exit = yield* Fiber.join(fiber)
    expect(Exit.isFailure(exit)).toBe(true)
    return times.slice(1).map((time, index) => time - times[index]!)
  })

describe("Retry.schedule", () => {
  it.effect("never waits less than the hint", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder({ baseDelay: "100 millis", maxAttempts: 5 }, () => rateLimited("7 seconds"))
      expect(gaps).toHaveLength(4)
      for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(7_000)
    }))

  it.effect("uses the backoff when it exceeds the hint", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder(
        { baseDelay: "4 seconds", jitter: 0, maxAttempts: 3 },
        () => rateLimited("1 second")
      )
      expect(gaps).toEqual([4_000, 8_000])
    }))

  it.effect("grows exponentially up to maxDelay", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder(
        { baseDelay: "1 second", factor: 2, jitter: 0, maxDelay: "5 seconds", maxAttempts: 6 },
        () => rateLimited()
      )
      expect(gaps).toEqual([1_000, 2_000, 4_000, 5_000, 5_000])
    }))

  it.effect("keeps jitter within its bounds", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder(
        { baseDelay: "1 second", factor: 1, jitter: 0.5, maxDelay: "10 seconds", maxAttempts: 20 },
        () => rateLimited()
      )
      expect(gaps).toHaveLength(19)
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(500)
        expect(gap).toBeLessThanOrEqual(1_500)
      }
    }))

  it.effect("caps jittered delays at maxDelay", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder(
        { baseDelay: "2 seconds", factor: 1, jitter: 1, maxDelay: "2 seconds", maxAttempts: 10 },
        () => rateLimited()
      )
      for (const gap of gaps) expect(gap).toBeLessThanOrEqual(2_000)
    }))

  it.effect("stops on a non-retryable failure", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder({}, () => invalid)
      expect(gaps).toEqual([])
    }))

  it.effect("stops after a retryable then a permanent failure", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder({ jitter: 0 }, (attempt) => attempt === 1 ? rateLimited() : invalid)
      expect(gaps).toEqual([500])
    }))

  it.effect("stops when the hint exceeds maxDelay", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder({ maxDelay: "30 seconds" }, () => rateLimited("60 seconds"))
      expect(gaps).toEqual([])
    }))

  it.effect("stops at maxElapsed", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder(
        { baseDelay: "1 second", jitter: 0, maxElapsed: "5 seconds", maxAttempts: 10 },
        () => rateLimited()
      )
      expect(gaps).toEqual([1_000, 2_000])
    }))

  it.effect("makes maxAttempts attempts", () =>
    Effect.gen(function*() {
      const gaps = yield* gapsUnder({ maxAttempts: 3 }, () => rateLimited())
      expect(gaps).toHaveLength(2)
    }))

  it.effect("retries foreign errors only when told to", () =>
    Effect.gen(function*() {
      const foreign = yield* gapsUnder({}, () => new Error("boom"))
      expect(foreign).toEqual([])
      const custom = yield* gapsUnder({ isRetryable: () => true, maxAttempts: 2 }, () => new Error("boom"))
      expect(custom).toHaveLength(1)
    }))

  it("reads the hint from a reason's retryAfter", () => {
    expect(Retry.retryAfterOf(rateLimited("3 seconds"))).toEqual(Duration.seconds(3))
    expect(Retry.retryAfterOf(rateLimited())).toBeUndefined()
    expect(Retry.retryAfterOf(new Error("x"))).toBeUndefined()
    expect(Errors.classify(rateLimited()).retryable).toBe(true)
  })

  const invalidOptions: ReadonlyArray<readonly [string, string, Retry.Options]> = [
    ["factor", "factor below 1", { factor: 0.5 }],
    ["jitter", "jitter above 1", { jitter: 2 }],
    ["maxAttempts", "zero attempts", { maxAttempts: 0 }],
    ["maxAttempts", "fractional attempts", { maxAttempts: 1.5 }],
    ["baseDelay", "an infinite baseDelay", { baseDelay: Duration.infinity }]
  ]
  for (const [name, label, options] of invalidOptions) {
    it(`throws a RangeError for ${label}`, () => {
      expect(() => Retry.schedule(options)).toThrow(RangeError)
      expect(() => Retry.schedule(options)).toThrow(name)
    })
  }
})
