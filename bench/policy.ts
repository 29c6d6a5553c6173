/**
 * Measures the composed Events policy in three ways. The first is its
 * per-call cost with memory stores, next to cockatiel's retry, circuit
 * breaker, bulkhead and timeout plus a token-bucket limiter around the same
 * no-op call. The second is the Redis round trips of one guarded call. The
 * third is guarded calls per second next to raw ioredis GETs.
 *
 * Run: `node bench/policy.ts` (starts its own redis-server on a free port).
 * It prints its figures and exits; nothing here runs in `pnpm test`.
 */
import {
  bulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import * as Context from "effect/Context"
import * as Digest from "effect/crypto/Digest"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Policy from "../packages/pagerduty/src/Policy.ts"
import * as PolicyStore from "../packages/pagerduty/src/PolicyStore.ts"
import * as IoRedis from "../packages/redis/src/IoRedis.ts"
import { removeRedis, startRedis } from "../test/support/redisServers.ts"

const calls = 5_000
const request = HttpClientRequest.post("http://pagerduty.bench/v2/enqueue")
// Each call builds a fresh response, on both sides: the HttpClient tracks
// every response it returns, so returning one object again and again slows
// every later call.
const noop = HttpClient.make((request) =>
  Effect.sync(() => HttpClientResponse.fromWeb(request, new Response(null, { status: 202 })))
)

// The Events defaults with a limit no benchmark reaches, so no call waits.
const policy = Policy.events({ rateLimit: { limit: 1e12, window: "60 seconds" } })

const nanosPerCall = async (run: () => Promise<unknown>, count: number) => {
  for (let i = 0; i < 1_000; i++) await run()
  const start = process.hrtime.bigint()
  for (let i = 0; i < count; i++) await run()
  return Number(process.hrtime.bigint() - start) / count
}

// A token bucket refilled from elapsed time, the usual companion of
// cockatiel, which has no rate limiter of its own.
const tokenBucket = (capacity: number, perSecond: number) => {
  let tokens = capacity
  let last = performance.now()
  return async <A>(call: () => Promise<A>): Promise<A> => {
    const now = performance.now()
    tokens = Math.min(capacity, tokens + ((now - last) / 1000) * perSecond)
    last = now
    if (tokens < 1) await new Promise((resolve) => setTimeout(resolve, ((1 - tokens) / perSecond) * 1000))
    tokens -= 1
    return call()
  }
}

const memoryCost = async () => {
  const quiet = Layer.succeed(References.MinimumLogLevel, "None")
  // The scope stays open until the process exits.
  const scope = Effect.runSync(Scope.make())
  const guarded = await Effect.runPromise(
    Effect.gen(function*() {
      const guard = yield* Policy.make(policy)
      const key = yield* Policy.keyOf(Redacted.make("BENCHROUTINGKEY00000000000000001"))
      return guard.client(noop, { key, route: "bench" })
    }).pipe(
      Effect.provide(Layer.mergeAll(PolicyStore.layerMemory, Digest.layerWebCrypto, quiet)),
      Scope.provide(scope)
    )
  )
  const effectPolicy = await nanosPerCall(() => Effect.runPromise(guarded.execute(request)), calls)
  const effectBare = await nanosPerCall(() => Effect.runPromise(noop.execute(request)), calls)

  const resilience = wrap(
    retry(handleAll, { maxAttempts: 5, backoff: new ExponentialBackoff() }),
    circuitBreaker(handleAll, { halfOpenAfter: 30_000, breaker: new ConsecutiveBreaker(5) }),
    bulkhead(10, 1_000),
    timeout(10_000, TimeoutStrategy.Cooperative)
  )
  const limit = tokenBucket(1e12, 1e12)
  const call = async () => new Response(null, { status: 202 })
  const cockatielSet = await nanosPerCall(() => limit(() => resilience.execute(call)), calls)
  const cockatielBare = await nanosPerCall(call, calls)
  return { effectPolicy, effectBare, cockatielSet, cockatielBare }
}

const redisFigures = async () => {
  const server = await startRedis()
  try {
    const quiet = Layer.succeed(References.MinimumLogLevel, "None")
    const redisLayer = IoRedis.layer({ topology: IoRedis.standalone({ host: server.host, port: server.port }) })
    const stores = PolicyStore.layerRedis({ prefix: "bench:{policy}:" }).pipe(Layer.provideMerge(redisLayer))
    return await Effect.runPromise(
      Effect.gen(function*() {
        const context = yield* Layer.build(Layer.mergeAll(stores, Digest.layerWebCrypto, quiet))
        const guard = yield* Policy.make(policy).pipe(Effect.provideContext(context))
        const key = yield* Policy.keyOf(Redacted.make("BENCHROUTINGKEY00000000000000001")).pipe(
          Effect.provideContext(context)
        )
        const guarded = guard.client(noop, { key, route: "bench" })
        const redis = Context.get(context, Redis.Redis)
        const io = Context.get(context, IoRedis.IoRedis)

        // Warm up, so script loading is not counted.
        yield* Effect.forEach(Array.from({ length: 100 }), () => guarded.execute(request), { discard: true })
        // MONITOR prints every command a client sends, and also each command a
        // Lua script runs (marked "lua"), so only client lines are counted.
        const monitor = ChildProcess.spawn("redis-cli", ["-p", String(server.port), "MONITOR"], {
          stdio: ["ignore", "pipe", "ignore"]
        })
        let clientCommands = 0
        let counting = false
        let buffered = ""
        monitor.stdout.on("data", (chunk) => {
          buffered += String(chunk)
          const lines = buffered.split("\n")
          buffered = lines.pop() ?? ""
          for (const line of lines) {
            if (line.includes("\"BENCHMARK-START\"")) counting = true
            else if (line.includes("\"BENCHMARK-END\"")) counting = false
            else if (counting && / \[\d+ \d+\.\d+\.\d+\.\d+:\d+\] /.test(line)) clientCommands++
          }
        })
        yield* Effect.sleep("300 millis")
        const counted = 1_000
        yield* redis.send("ECHO", "BENCHMARK-START")
        yield* Effect.forEach(Array.from({ length: counted }), () => guarded.execute(request), { discard: true })
        yield* redis.send("ECHO", "BENCHMARK-END")
        yield* Effect.sleep("500 millis")
        monitor.kill()
        const commandsPerCall = clientCommands / counted

        const concurrency = 50
        const millis = 3_000
        const rate = (run: Effect.Effect<unknown, unknown>) =>
          Effect.gen(function*() {
            let done = 0
            const deadline = Date.now() + millis
            const loop = Effect.gen(function*() {
              while (Date.now() < deadline) {
                yield* run
                done++
              }
            })
            yield* Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded" })
            return done / (millis / 1000)
          })
        const guardedPerSecond = yield* rate(guarded.execute(request))
        yield* redis.send("SET", "bench:get", "value")
        const client = io.client
        const rawGetsPerSecond = yield* rate(Effect.promise(() => client.get("bench:get")))
        return { commandsPerCall, guardedPerSecond, rawGetsPerSecond }
      }).pipe(Effect.scoped)
    )
  } finally {
    await removeRedis(server)
  }
}

const memory = await memoryCost()
const redis = await redisFigures()
const micros = (nanos: number) => `${(nanos / 1000).toFixed(2)} µs`
const lines = [
  `node ${process.version}, ${calls} sequential calls to a no-op call`,
  `Effect policy (memory stores):           ${micros(memory.effectPolicy)} per call`,
  `Effect HttpClient without the policy:    ${micros(memory.effectBare)} per call`,
  `cockatiel set + token bucket:            ${micros(memory.cockatielSet)} per call`,
  `bare async call:                         ${micros(memory.cockatielBare)} per call`,
  `policy overhead, Effect minus bare client: ${micros(memory.effectPolicy - memory.effectBare)}`,
  `policy overhead, cockatiel minus bare call: ${micros(memory.cockatielSet - memory.cockatielBare)}`,
  `Redis round trips per guarded call (MONITOR): ${redis.commandsPerCall.toFixed(2)}`,
  `guarded calls per second (Redis, 50 concurrent): ${redis.guardedPerSecond.toFixed(0)}`,
  `raw ioredis GETs per second (50 concurrent):     ${redis.rawGetsPerSecond.toFixed(0)}`
]
process.stdout.write(`${lines.join("\n")}\n`)
process.exit(0)
