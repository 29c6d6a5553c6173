/**
 * A child process that sends events through the Events policy, with its
 * state shared through Redis. The parent drives it with one JSON command per
 * stdin line and reads one JSON reply per stdout line:
 *
 * - `{ "cmd": "load", "durationMillis": n, "concurrency": c }` sends as fast as
 *   the policy allows from `c` loops for `n` ms and replies with the counts;
 * - `{ "cmd": "call" }` sends one event and replies with its outcome;
 * - `{ "cmd": "health" }` replies with the policy store's mode.
 *
 * Each command carries an `id`, and its reply is `{ id, value }`, because
 * replies come back in the order the commands finish.
 *
 * Arguments: a JSON object with `redisPort`, `httpPort`, `worker`, `limit`,
 * `windowMillis` and `marginMillis`.
 */
import * as Digest from "effect/crypto/Digest"
import * as Effect from "effect/Effect"
import * as FetchHttpClient from "effect/http/FetchHttpClient"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import * as Layer from "effect/Layer"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import * as Readline from "node:readline"
import * as Policy from "../../packages/pagerduty/src/Policy.ts"
import * as PolicyStore from "../../packages/pagerduty/src/PolicyStore.ts"
import * as IoRedis from "../../packages/redis/src/IoRedis.ts"

const options = JSON.parse(process.argv[2]!) as {
  readonly redisPort: number
  readonly httpPort: number
  readonly worker: number
  readonly limit: number
  readonly windowMillis: number
  readonly marginMillis: number
}

const quiet = Layer.succeed(References.MinimumLogLevel, "None")
const layer = Layer.mergeAll(
  PolicyStore.layerRedis({ prefix: "multiprocess:{policy}:", probeInterval: "200 millis" }).pipe(
    Layer.provideMerge(IoRedis.layer({
      topology: IoRedis.standalone({ host: "127.0.0.1", port: options.redisPort }),
      commandTimeout: "1 second",
      maxReconnectDelay: "100 millis"
    }))
  ),
  FetchHttpClient.layer,
  Digest.layerWebCrypto,
  quiet
).pipe(Layer.provide(quiet))
const runtime = ManagedRuntime.make(layer)

const setup = Effect.gen(function*() {
  const guard = yield* Policy.make(Policy.events({
    rateLimit: { limit: options.limit, window: options.windowMillis, margin: options.marginMillis },
    retry: Schedule.recurs(0) as Schedule.Schedule<unknown, unknown>,
    rejectionRetry: Schedule.recurs(0) as Schedule.Schedule<unknown, unknown>,
    circuitBreaker: { tripPolicy: CircuitBreaker.consecutive(3), openDuration: "1 minute" },
    bulkhead: { concurrency: 16 }
  }))
  const key = yield* Policy.keyOf(Redacted.make("MULTIPROCESSROUTINGKEY0000000001"))
  const client = guard.client(yield* HttpClient.HttpClient, { key, route: "multiprocess" })
  const health = yield* PolicyStore.StoreHealth
  const request = HttpClientRequest.post(`http://127.0.0.1:${options.httpPort}/v2/enqueue`).pipe(
    HttpClientRequest.setHeader("x-worker", String(options.worker))
  )
  return { client, health, request }
})

// The scope stays open for the life of the process.
const scope = await runtime.runPromise(Scope.make())
const { client, health, request } = await runtime.runPromise(Scope.provide(setup, scope))

const call = client.execute(request).pipe(
  Effect.map((response) => ({ status: response.status, error: undefined as string | undefined })),
  Effect.catch((error) =>
    Effect.succeed({
      status: 0,
      error: error._tag === "PolicyError" ? `PolicyError:${error.reason._tag}` : error._tag
    })
  )
)

const load = (durationMillis: number, concurrency: number) =>
  Effect.gen(function*() {
    const deadline = Date.now() + durationMillis
    const counts = { ok: 0, failed: 0 }
    const loop = Effect.gen(function*() {
      while (Date.now() < deadline) {
        const outcome = yield* call
        if (outcome.status === 202) counts.ok++
        else counts.failed++
      }
    })
    yield* Effect.all(Array.from({ length: concurrency }, () => loop), { concurrency: "unbounded" })
    return counts
  })

const reply = (id: number) => (value: unknown) => process.stdout.write(`${JSON.stringify({ id, value })}\n`)

const lines = Readline.createInterface({ input: process.stdin })
lines.on("line", (line) => {
  const command = JSON.parse(line) as {
    readonly id: number
    readonly cmd: string
    readonly durationMillis?: number
    readonly concurrency?: number
  }
  switch (command.cmd) {
    case "load":
      runtime.runPromise(load(command.durationMillis ?? 1000, command.concurrency ?? 1)).then(reply(command.id))
      break
    case "call":
      runtime.runPromise(call).then(reply(command.id))
      break
    case "health":
      runtime.runPromise(health.status).then(reply(command.id))
      break
  }
})
lines.on("close", () => {
  runtime.dispose().then(() => process.exit(0))
})
reply(0)({ ready: true })
