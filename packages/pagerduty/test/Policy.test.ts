import { IoRedis } from "@effect-pagerduty/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Digest from "effect/crypto/Digest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as Redis from "effect/persistence/Redis"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/testing/TestClock"
import { redisServer } from "../../../test/support/redisServers.ts"
import * as Breaker from "../src/Breaker.ts"
import * as Policy from "../src/Policy.ts"
import * as PolicyStore from "../src/PolicyStore.ts"
import * as Retry from "../src/Retry.ts"

interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
}

// A client that returns the next reply for each request (the last one
// repeats) and counts requests.
const scripted = (replies: ReadonlyArray<Reply>) => {
  const state = { requests: 0 }
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      const reply = replies[Math.min(state.requests, replies.length - 1)]!
      state.requests++
      return HttpClientResponse.fromWeb(request, new Response(null, reply))
    })
  )
  return { client, state }
}

const url = "http://pagerduty.test/v2/enqueue"

// Runs `effect` in a fiber while TestClock moves forward one second at a
// time until it ends, and returns its result with the simulated time it took.
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.forkChild(Effect.zip(effect, Clock.currentTimeMillis))
    for (let turn = 0; turn < 10 && fiber.pollUnsafe() === undefined; turn++) yield* Effect.yieldNow
    for (let step = 0; step < 7200 && fiber.pollUnsafe() === undefined; step++) {
      yield* TestClock.adjust("1 second")
    }
    const [result, end] = yield* Fiber.join(fiber)
    return { result, elapsed: end - start }
  })

const noRetry = Schedule.recurs(0) as Schedule.Schedule<unknown, unknown>
const immediateRetries = (times: number) => Schedule.recurs(times) as Schedule.Schedule<unknown, unknown>

const quiet = Layer.succeed(References.MinimumLogLevel, "None")
const stores = Layer.mergeAll(PolicyStore.layerMemory, quiet)

describe("Policy", () => {
  it.effect("retries transient failures inside one breaker outcome", () =>
    Effect.gen(function*() {
      const { client, state } = scripted([{ status: 503 }, { status: 503 }, { status: 202 }])
      const guard = yield* Policy.make(Policy.events({
        retry: immediateRetries(3),
        circuitBreaker: { tripPolicy: CircuitBreaker.consecutive(1), openDuration: "30 seconds" }
      }))
      const { result } = yield* timed(guard.client(client, { key: "k", route: "billing" }).post(url))
      assert.strictEqual(result.status, 202)
      assert.strictEqual(state.requests, 3)
      const next = yield* timed(guard.client(client, { key: "k" }).post(url))
      assert.strictEqual(next.result.status, 202)
    }).pipe(Effect.provide(stores)))

  it.effect("fails with CircuitOpen once the breaker opens", () =>
    Effect.gen(function*() {
      const { client, state } = scripted([{ status: 503 }])
      const guard = yield* Policy.make(Policy.events({
        retry: noRetry,
        rejectionRetry: noRetry,
        circuitBreaker: { tripPolicy: CircuitBreaker.consecutive(2), openDuration: "30 seconds" }
      }))
      const guarded = guard.client(client, { key: "k", route: "billing" })
      yield* timed(guarded.post(url))
      yield* timed(guarded.post(url))
      const error = yield* Effect.flip(guarded.post(url))
      assert.strictEqual(state.requests, 2)
      assert.strictEqual(error._tag, "PolicyError")
      const reason = error._tag === "PolicyError" ? error.reason : undefined
      assert.strictEqual(reason?._tag, "CircuitOpen")
      assert.include(error.message, "billing")
      assert.notInclude(error.message, "k:")
    }).pipe(Effect.provide(stores)))

  it.effect("retries a rejection after its retryAfter", () =>
    Effect.gen(function*() {
      const replies: Array<Reply> = [{ status: 503 }, { status: 202 }]
      const { client, state } = scripted(replies)
      const guard = yield* Policy.make(Policy.events({
        retry: noRetry,
        rejectionRetry: Retry.schedule({ baseDelay: 0, maxAttempts: 3, maxDelay: "1 minute", isRetryable: () => true }),
        circuitBreaker: { tripPolicy: CircuitBreaker.consecutive(1), openDuration: "30 seconds" }
      }))
      const guarded = guard.client(client, { key: "k" })
      yield* timed(guarded.post(url))
      const { elapsed, result } = yield* timed(guarded.post(url))
      assert.strictEqual(result.status, 202)
      assert.isAtLeast(elapsed, 30_000)
      assert.strictEqual(state.requests, 2)
    }).pipe(Effect.provide(stores)))

  it.effect("waits the fallback delay after a 429 without headers", () =>
    Effect.gen(function*() {
      const { client, state } = scripted([{ status: 429 }, { status: 202 }])
      const guard = yield* Policy.make(Policy.events({ retry: immediateRetries(3), rateLimitedDelay: "30 seconds" }))
      const { elapsed, result } = yield* timed(guard.client(client, { key: "k" }).post(url))
      assert.strictEqual(result.status, 202)
      assert.strictEqual(state.requests, 2)
      assert.isAtLeast(elapsed, 30_000)
    }).pipe(Effect.provide(stores)))

  it.effect("waits ratelimit-reset after a REST 429", () =>
    Effect.gen(function*() {
      const { client } = scripted([{ status: 429, headers: { "ratelimit-reset": "20" } }, { status: 200 }])
      const guard = yield* Policy.make(Policy.rest({ retry: immediateRetries(3) }))
      const { elapsed, result } = yield* timed(guard.client(client, { key: "k" }).get(url))
      assert.strictEqual(result.status, 200)
      assert.isAtLeast(elapsed, 20_000)
      assert.isBelow(elapsed, 30_000)
    }).pipe(Effect.provide(stores)))

  it.effect("takes a rate-limit token for every attempt", () =>
    Effect.gen(function*() {
      const { client, state } = scripted([{ status: 503 }, { status: 503 }, { status: 202 }])
      const guard = yield* Policy.make(Policy.events({
        retry: immediateRetries(3),
        rateLimit: { limit: 2, window: "10 seconds", margin: 0 }
      }))
      const { elapsed, result } = yield* timed(guard.client(client, { key: "k" }).post(url))
      assert.strictEqual(result.status, 202)
      assert.strictEqual(state.requests, 3)
      assert.strictEqual(elapsed, 10_000)
    }).pipe(Effect.provide(stores)))

  it.effect("shares one limit between routes of one key", () =>
    Effect.gen(function*() {
      const { client } = scripted([{ status: 202 }])
      const guard = yield* Policy.make(Policy.events({ rateLimit: { limit: 1, window: "10 seconds", margin: 0 } }))
      yield* timed(guard.client(client, { key: "shared", route: "a" }).post(url))
      const second = yield* timed(guard.client(client, { key: "shared", route: "b" }).post(url))
      const other = yield* timed(guard.client(client, { key: "other", route: "c" }).post(url))
      assert.strictEqual(second.elapsed, 10_000)
      assert.strictEqual(other.elapsed, 0)
    }).pipe(Effect.provide(stores)))

  it.effect("limits concurrent calls per key with the bulkhead", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const state = { active: 0, max: 0 }
      const client = HttpClient.make((request) =>
        Effect.gen(function*() {
          state.active++
          state.max = Math.max(state.max, state.active)
          yield* Deferred.await(release)
          state.active--
          return HttpClientResponse.fromWeb(request, new Response(null, { status: 202 }))
        })
      )
      const guard = yield* Policy.make(Policy.events({ bulkhead: { concurrency: 2 } }))
      const guarded = guard.client(client, { key: "k" })
      const fibers = yield* Effect.forEach([1, 2, 3, 4], () => Effect.forkChild(guarded.post(url)))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(state.active, 2)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.joinAll(fibers)
      assert.strictEqual(state.max, 2)
    }).pipe(Effect.provide(stores)))

  it.effect("times out a slow attempt", () =>
    Effect.gen(function*() {
      const client = HttpClient.make((request) =>
        Effect.as(Effect.sleep("1 minute"), HttpClientResponse.fromWeb(request, new Response(null, { status: 202 })))
      )
      const guard = yield* Policy.make(Policy.events({ retry: noRetry, timeout: "2 seconds" }))
      const { elapsed, result } = yield* timed(Effect.flip(guard.client(client, { key: "k" }).post(url)))
      assert.strictEqual(result._tag, "HttpClientError")
      assert.strictEqual(elapsed, 2_000)
    }).pipe(Effect.provide(stores)))

  it.effect("publishes transitions and breaker metrics by route", () =>
    Effect.gen(function*() {
      const { client } = scripted([{ status: 503 }])
      const guard = yield* Policy.make(Policy.events({
        retry: noRetry,
        circuitBreaker: { tripPolicy: CircuitBreaker.consecutive(1), openDuration: "30 seconds" }
      }))
      const collected = yield* Effect.forkChild(Stream.runHead(guard.transitions))
      yield* Effect.yieldNow
      yield* timed(guard.client(client, { key: "k", route: "billing" }).post(url))
      const transition = yield* Fiber.join(collected)
      assert.strictEqual(transition._tag, "Some")
      const value = transition._tag === "Some" ? transition.value : undefined
      assert.strictEqual(value?.to, "Open")
      assert.strictEqual(value?.from, "Closed")
      assert.deepStrictEqual(value?.routes, ["billing"])
      const gauge = Metric.withAttributes(Breaker.stateGauge, { api: "events", route: "billing" })
      assert.strictEqual((yield* Metric.value(gauge)).value, 2)
    }).pipe(Effect.provide(stores), Effect.provideService(Metric.MetricRegistry, new Map())))

  it.effect("hashes routing keys into short stable keys", () =>
    Effect.gen(function*() {
      const first = yield* Policy.keyOf(Redacted.make("R0UTINGKEY0000000000000000000001"))
      const again = yield* Policy.keyOf(Redacted.make("R0UTINGKEY0000000000000000000001"))
      const other = yield* Policy.keyOf(Redacted.make("R0UTINGKEY0000000000000000000002"))
      assert.match(first, /^[0-9a-f]{24}$/)
      assert.strictEqual(first, again)
      assert.notStrictEqual(first, other)
      assert.notInclude(first, "R0UTING")
    }).pipe(Effect.provide(Digest.layerWebCrypto)))

  it("rejects an invalid limit", () => {
    assert.throws(() => Policy.events({ rateLimit: { limit: 0, window: "1 minute" } }), RangeError)
  })
})

describe("Policy with Redis", () => {
  it.live("falls back to memory while Redis is down and shares state again after", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const context = yield* Layer.build(
        PolicyStore.layerRedis({ prefix: "test:{policy}:", probeInterval: "100 millis" }).pipe(
          Layer.provideMerge(IoRedis.layer({
            topology: IoRedis.standalone({ host: server.host, port: server.port }),
            commandTimeout: "300 millis",
            maxReconnectDelay: "100 millis"
          }))
        )
      )
      const health = Context.get(context, PolicyStore.StoreHealth)
      const redis = Context.get(context, Redis.Redis)
      const key = yield* Policy.keyOf(Redacted.make("R0UTINGKEY0000000000000000000001")).pipe(
        Effect.provide(Digest.layerWebCrypto)
      )
      const guard = yield* Policy.make(Policy.events()).pipe(Effect.provideContext(context))
      const { client } = scripted([{ status: 202 }])
      const guarded = guard.client(client, { key, route: "billing" })

      assert.strictEqual((yield* guarded.post(url)).status, 202)
      assert.strictEqual((yield* health.status).mode, "shared")
      const keys = yield* redis.send<Array<string>>("KEYS", "*")
      assert.isAbove(keys.length, 0)
      for (const stored of keys) assert.notInclude(stored, "R0UTING")

      yield* Effect.promise(() => server.stop())
      assert.strictEqual((yield* guarded.post(url)).status, 202)
      assert.strictEqual((yield* health.status).mode, "degraded")

      yield* Effect.promise(() => server.start())
      yield* Effect.retry(
        Effect.flatMap(guarded.post(url), () =>
          Effect.flatMap(health.status, (status) =>
            status.mode === "shared" ? Effect.void : Effect.fail("degraded"))),
        { schedule: Schedule.spaced("100 millis"), times: 100 }
      )
      assert.strictEqual((yield* health.status).mode, "shared")
    }).pipe(Effect.provideService(References.MinimumLogLevel, "None")))
})
