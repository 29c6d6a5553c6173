import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as RateLimit from "../src/RateLimit.ts"
import * as Simulator from "../src/Simulator.ts"
import { otherRoutingKey, post, trigger } from "./support.ts"

const sendMany = (simulator: Simulator.Handle, count: number, key?: string) =>
  Effect.forEach(
    Array.from({ length: count }, (_, index) => index),
    (index) => post(`${simulator.url}/v2/enqueue`, trigger(`event-${index}`, key)),
    { concurrency: 1 }
  )

describe("RateLimit window", () => {
  it("allows the limit and rejects the next event", () => {
    const window = RateLimit.makeWindow({ limit: 3, windowMillis: 1_000 })
    const decisions = [0, 1, 2, 3].map((at) => window.tryAcquire("key", at).allowed)
    expect(decisions).toEqual([true, true, true, false])
  })

  it("frees a slot when the oldest event leaves the window", () => {
    const window = RateLimit.makeWindow({ limit: 2, windowMillis: 1_000 })
    window.tryAcquire("key", 0)
    window.tryAcquire("key", 400)
    const denied = window.tryAcquire("key", 999)
    expect(denied.allowed).toBe(false)
    expect(denied.retryAfterMillis).toBe(1)
    expect(window.tryAcquire("key", 1_000).allowed).toBe(true)
    expect(window.tryAcquire("key", 1_001).allowed).toBe(false)
  })

  it("counts each key on its own", () => {
    const window = RateLimit.makeWindow({ limit: 1, windowMillis: 1_000 })
    expect(window.tryAcquire("a", 0).allowed).toBe(true)
    expect(window.tryAcquire("b", 0).allowed).toBe(true)
    expect(window.tryAcquire("a", 1).allowed).toBe(false)
  })

  it("rejects a limit that is not a positive integer", () => {
    expect(() => RateLimit.makeWindow({ limit: 0, windowMillis: 1_000 })).toThrow(RangeError)
    expect(() => RateLimit.layer({ limit: 1.5 })).toThrow(/"limit" must be a positive integer, got 1.5/)
    expect(() => RateLimit.layer({ windowMillis: -1 })).toThrow(/"windowMillis" must be a positive number/)
  })

  it.effect("slides over 60 seconds at 120 events by default", () =>
    Effect.gen(function*() {
      const limiter = RateLimit.make()
      const allowed = (count: number) =>
        Effect.map(
          Effect.forEach(Array.from({ length: count }), () => limiter.check("key")),
          (decisions) => decisions.filter((decision) => decision.allowed).length
        )
      expect(yield* allowed(60)).toBe(60)
      yield* TestClock.adjust("30 seconds")
      expect(yield* allowed(60)).toBe(60)
      yield* TestClock.adjust("29 seconds")
      expect(yield* allowed(1)).toBe(0)
      // At 60 s a fixed window would start afresh and allow 120, but the 60 events sent at 30 s
      // are still inside the look-back window.
      yield* TestClock.adjust("1 second")
      expect(yield* allowed(61)).toBe(60)
      yield* TestClock.adjust("30 seconds")
      expect(yield* allowed(61)).toBe(60)
    }))

  it.effect("reports when the next slot opens", () =>
    Effect.gen(function*() {
      const limiter = RateLimit.make({ limit: 1, windowMillis: 60_000 })
      yield* limiter.check("key")
      yield* TestClock.adjust("45 seconds")
      const decision = yield* limiter.check("key")
      expect(decision.allowed).toBe(false)
      expect(decision.retryAfterMillis).toBe(15_000)
    }))

  it.effect("reset forgets counted events", () =>
    Effect.gen(function*() {
      const limiter = RateLimit.make({ limit: 1 })
      yield* limiter.check("key")
      yield* limiter.reset
      expect((yield* limiter.check("key")).allowed).toBe(true)
    }))
})

describe("RateLimit over HTTP", () => {
  it.live("answers 429 after 120 events by default", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const replies = yield* sendMany(simulator, 121)
      expect(replies.slice(0, 120).every((reply) => reply.status === 202)).toBe(true)
      expect(replies[120]?.status).toBe(429)
    }))

  it.live("does not ingest a rejected event", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 2 } })
      const replies = yield* sendMany(simulator, 3)
      expect(replies.map((reply) => reply.status)).toEqual([202, 202, 429])
      expect(replies[2]?.json.message).toBe("Request Limit Exceeded")
      const alerts = yield* simulator.alerts()
      expect(alerts.map((alert) => alert.dedupKey)).toEqual(["event-0", "event-1"])
      const events = yield* simulator.events()
      expect(events.map((event) => event.outcome)).toEqual(["accepted", "accepted", "rate_limited"])
      expect(events[2]?.alertId).toBeUndefined()
      expect(events[2]?.eventAction).toBe("trigger")
    }))

  it.live("sends no Retry-After by default", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1 } })
      const replies = yield* sendMany(simulator, 2)
      expect(replies[1]?.status).toBe(429)
      expect(replies[1]?.headers.has("retry-after")).toBe(false)
    }))

  it.live("sends Retry-After when enabled", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1, windowMillis: 60_000, retryAfter: true } })
      const replies = yield* sendMany(simulator, 2)
      expect(replies[1]?.status).toBe(429)
      const seconds = Number(replies[1]?.headers.get("retry-after"))
      expect(seconds).toBeGreaterThanOrEqual(59)
      expect(seconds).toBeLessThanOrEqual(60)
    }))

  it.live("limits each routing key separately", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1 } })
      const first = yield* sendMany(simulator, 2)
      const other = yield* sendMany(simulator, 1, otherRoutingKey)
      expect(first.map((reply) => reply.status)).toEqual([202, 429])
      expect(other.map((reply) => reply.status)).toEqual([202])
    }))

  it.live("counts invalid events against the key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1 } })
      const invalid = yield* post(`${simulator.url}/v2/enqueue`, { ...trigger("a"), event_action: "escalate" })
      const valid = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect(invalid.status).toBe(400)
      expect(valid.status).toBe(429)
    }))

  it.live("counts change events against the same key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1 } })
      yield* sendMany(simulator, 1)
      const change = yield* post(`${simulator.url}/v2/change/enqueue`, {
        routing_key: trigger(undefined).routing_key,
        payload: { summary: "deploy" }
      })
      expect(change.status).toBe(429)
    }))

  it.live("reopens once the window slides", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: { limit: 1, windowMillis: 200 } })
      const before = yield* sendMany(simulator, 2)
      yield* Effect.sleep("250 millis")
      const after = yield* sendMany(simulator, 1)
      expect(before.map((reply) => reply.status)).toEqual([202, 429])
      expect(after.map((reply) => reply.status)).toEqual([202])
    }))

  it.live("allows everything when disabled", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: false })
      const replies = yield* sendMany(simulator, 130)
      expect(replies.filter((reply) => reply.status !== 202)).toEqual([])
    }))
})
