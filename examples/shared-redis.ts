/**
 * Runs three relay processes that share one Redis: one outbox queue and one
 * dedupe window. Alerts posted to different relays all reach PagerDuty once,
 * whichever relay's worker delivers them, and a repeat posted to a second
 * relay is recognised as a repeat.
 *
 * Run from the repository root: `node examples/shared-redis.ts`
 *
 * Needs `redis-server` on PATH (Debian: `apt-get install redis-server`). The
 * relay's stores use fixed key names such as `{outbox}:items`, so the example
 * starts a private `redis-server` on a free port of 127.0.0.1, in a temporary
 * directory and without persistence, and stops it at the end. The relays are
 * `pd-relay serve --config FILE` child processes on free ports of 127.0.0.1,
 * and they deliver to the PagerDuty simulator started in this process.
 */
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Path from "effect/Path"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer } from "node:net"
import { fileURLToPath } from "node:url"

const relayBin = fileURLToPath(import.meta.resolve("@effect-pagerduty/relay/bin"))
const relayCount = 3
const intakeToken = "example-intake-token"
const routingKey = "example0000000000000000000000005"

/** Asks the OS for a free TCP port on 127.0.0.1. */
const freePort = Effect.callback<number, Error>((resume) => {
  const server = createServer()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/**
 * Spawns a child process for the life of the scope and waits until a line of
 * its standard output matches `ready`. On release it sends SIGTERM, then
 * SIGKILL after 10 seconds, and waits for the exit.
 *
 * NOTE: the release runs on success, failure and SIGINT or SIGTERM, but a
 * parent killed with SIGKILL leaves redis-server and the relays running.
 */
const spawnScoped = (name: string, command: string, args: ReadonlyArray<string>, ready: RegExp, hint = "") =>
  Effect.gen(function*() {
    const output: Array<string> = []
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] })),
      (child) => stop(child)
    )
    const match = yield* Effect.callback<RegExpMatchArray, string>((resume) => {
      const onData = (chunk: Buffer) => {
        output.push(chunk.toString("utf8"))
        const found = output.join("").match(ready)
        if (found !== null) resume(Effect.succeed(found))
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")))
      child.once("error", (error) => resume(Effect.fail(`${name} could not start: ${error.message}${hint}`)))
      child.once("exit", (code) => resume(Effect.fail(`${name} exited with ${code} before it was ready`)))
    }).pipe(
      Effect.timeoutOrElse({
        duration: "30 seconds",
        orElse: () => Effect.fail(`${name} was not ready within 30 seconds`)
      }),
      Effect.mapError((message) => `${message}; its output:\n${output.join("")}`)
    )
    return { child, match, output }
  })

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    child.kill("SIGTERM")
  })

const post = (url: string, body: unknown) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${intakeToken}` },
      body: JSON.stringify(body)
    })
    return { status: response.status, body: await response.json() as { duplicates?: number } }
  })

// An Events API v2 trigger for the relay's `/events` intake. The relay adds the route's routing key.
const trigger = (host: string) => ({
  event_action: "trigger",
  dedup_key: `disk-full-${host}`,
  payload: { summary: `disk full on ${host}`, source: host, severity: "error" }
})

const program = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "shared-redis-" })

  // 1. A private Redis without persistence, in its own directory.
  const redisPort = yield* freePort
  const redisArgs = ["--port", `${redisPort}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
  yield* spawnScoped(
    "redis-server",
    "redis-server",
    [...redisArgs, "--dir", directory],
    /Ready to accept connections/,
    "; install it with `apt-get install redis-server` (Debian, Ubuntu) or `brew install redis` (macOS)"
  )
  yield* Console.log(`private redis-server on 127.0.0.1:${redisPort}`)

  // 2. The simulator, and one configuration file for every relay.
  const simulator = yield* Simulator.start()
  const configFile = path.join(directory, "relay.yaml")
  yield* fs.writeFileString(
    configFile,
    [
      `pagerduty: { events_url: "${simulator.url}" }`,
      "server: { host: 127.0.0.1, port: 0, shutdown_timeout_seconds: 2 }",
      `intake: { auth: { bearer_tokens: ["${intakeToken}"] } }`,
      `routes: [{ name: storage, routing_key: "${routingKey}", default: true }]`,
      "outbox: { store: redis }",
      `redis: { url: "redis://127.0.0.1:${redisPort}/0" }`,
      ""
    ].join("\n")
  )

  // 3. The relays, started at once. Each one logs the URL it listens on.
  const relays = yield* Effect.forEach(
    Array.from({ length: relayCount }, (_, index) => index + 1),
    (index) =>
      Effect.map(
        spawnScoped(
          `relay ${index}`,
          process.execPath,
          [relayBin, "serve", "--config", configFile],
          /listening on (\S+)/
        ),
        ({ match }) => ({ name: `relay ${index}`, url: match[1]! })
      ),
    { concurrency: "unbounded" }
  )
  for (const relay of relays) yield* Console.log(`${relay.name} listens on ${relay.url}`)

  // 4. Two alerts to each relay, then a repeat of the first alert to another relay.
  const hosts = ["db-1", "db-2", "db-3", "web-1", "web-2", "web-3"]
  for (const [index, host] of hosts.entries()) {
    const relay = relays[index % relays.length]!
    const answer = yield* post(`${relay.url}/events`, trigger(host))
    yield* Console.log(`POST ${relay.name} /events (${host}) -> ${answer.status}`)
    if (answer.status !== 202) return yield* Effect.fail(`${relay.name} rejected the alert for ${host}`)
  }
  const repeat = yield* post(`${relays[1]!.url}/events`, trigger("db-1"))
  yield* Console.log(
    `POST ${relays[1]!.name} /events (db-1 again) -> ${repeat.status}, duplicates ${repeat.body.duplicates}`
  )
  if (repeat.body.duplicates !== 1) return yield* Effect.fail("the shared dedupe window missed the repeat")

  // 5. Every alert reaches the simulator, and a second later each one has still arrived only once.
  yield* simulator.events().pipe(
    Effect.repeat({ until: (events) => events.length >= hosts.length, schedule: Schedule.spaced("100 millis") }),
    Effect.timeoutOrElse({ duration: "15 seconds", orElse: () => Effect.fail("timed out waiting for deliveries") })
  )
  yield* Effect.sleep("1 second")
  const events = yield* simulator.events()
  const alerts = yield* simulator.alerts()
  yield* Console.log(`the simulator received ${events.length} events and has ${alerts.length} alerts:`)
  for (const alert of alerts) {
    yield* Console.log(`  ${alert.dedupKey}: ${alert.status}, triggered ${alert.triggerCount} time(s)`)
  }
  const once = alerts.length === hosts.length && alerts.every((alert) => alert.triggerCount === 1)
  if (events.length !== hosts.length || !once) {
    return yield* Effect.fail(`expected ${hosts.length} events, one per alert, got ${events.length}`)
  }
  yield* Console.log(`shared-redis finished: ${hosts.length} alerts through ${relayCount} relays, each delivered once`)
})

program.pipe(
  Effect.scoped,
  Effect.tapError((error) => Console.error(`shared-redis failed: ${String(error)}`)),
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  Effect.provide(NodeServices.layer),
  NodeRuntime.runMain
)
