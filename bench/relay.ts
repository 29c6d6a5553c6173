/**
 * Relay benchmark: alerts accepted per second at the intake and events
 * delivered per second, for each outbox store, next to a bare Node relay with
 * no durability. Then the relay's peak RSS with 100,000 alerts queued in the
 * file and Redis stores. Not part of `pnpm test`.
 *
 * Run: node bench/relay.ts [alerts] [queued] [rounds]
 *
 * Defaults: 10,000 alerts per throughput run, 100,000 for the memory runs,
 * and 2 rounds of the throughput runs, each over all four relays in turn, of
 * which the table shows each relay's best, so a burst of load from other
 * programs on the machine weighs less.
 * Every process runs on this machine and listens on 127.0.0.1: one simulator
 * per run (`pd-simulator --events-per-minute 0`), the relay
 * (`pd-relay serve`) or the bare relay (this file with the argument `bare`),
 * and a private redis-server with `--appendonly yes --appendfsync always` for
 * the Redis store. The load generator in this process keeps 64 requests in
 * flight. For the memory runs the simulator answers every event with 503, so
 * nothing drains.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { removeRedis, startRedis } from "../test/support/redisServers.ts"
import { type RelayProcess, spawnRelay } from "../test/support/relayProcess.ts"

const self = fileURLToPath(import.meta.url)
const simulatorBin = fileURLToPath(new URL("../packages/simulator/src/bin.ts", import.meta.url))
const token = "bench-token"
const routingKey = "benchbenchbenchbenchbenchbench01"
const inFlight = 64
const deliveryConcurrency = 16

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

// ---------------------------------------------------------------------------
// The bare relay: parses the JSON body, responds 202 and forwards the event
// with fetch, at most `deliveryConcurrency` at once. Nothing is stored, so a
// crash loses every alert not yet forwarded.

const serveBare = (simulatorUrl: string) => {
  const queue: Array<string> = []
  let active = 0
  let delivered = 0
  const pump = () => {
    while (active < deliveryConcurrency && queue.length > 0) {
      const body = queue.shift()!
      active++
      fetch(`${simulatorUrl}/v2/enqueue`, { method: "POST", headers: { "content-type": "application/json" }, body })
        .then(async (response) => {
          await response.arrayBuffer()
          if (response.status === 202) delivered++
          else queue.push(body)
        }, () => queue.push(body))
        .finally(() => {
          active--
          pump()
        })
    }
  }
  const server = Http.createServer((request, response) => {
    if (request.method === "GET") {
      response.writeHead(200, { "content-type": "application/json" })
      response.end(JSON.stringify({ delivered }))
      return
    }
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString("utf8"))
        queue.push(JSON.stringify({ ...event, routing_key: routingKey }))
        response.writeHead(202, { "content-type": "application/json" })
        response.end("{\"status\":\"success\"}")
        pump()
      } catch {
        response.writeHead(400)
        response.end()
      }
    })
  })
  server.listen(0, "127.0.0.1", () => {
    const address = server.address() as { port: number }
    console.log(`bare relay listening on http://127.0.0.1:${address.port}`)
  })
}

// ---------------------------------------------------------------------------
// Child processes.

const spawnListening = (args: ReadonlyArray<string>, pattern: RegExp) =>
  new Promise<{ url: string; child: ChildProcess.ChildProcess }>((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const match = pattern.exec(output)
      if (match !== null) resolve({ url: match[1]!, child })
    })
    child.once("exit", (code) => reject(new Error(`${args.join(" ")} exited with ${code}:\n${output}`)))
  })

const startSimulator = () =>
  spawnListening(
    [simulatorBin, "--port", "0", "--events-per-minute", "0"],
    /simulator listening on (http:\/\/127\.0\.0\.1:\d+)/
  )

const stopChild = (child: ChildProcess.ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
    child.kill("SIGKILL")
  })

const setFault503 = (simulatorUrl: string) =>
  fetch(`${simulatorUrl}/_sim/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scripts: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 503 } }] }] })
  }).then((response) => response.arrayBuffer())

// ---------------------------------------------------------------------------
// Load and measurement.

// Each run sends its own summaries, because the relay drops a body it accepted within the dedupe
// window, and with a Redis store that window is kept in Redis across runs.
let runNumber = 0

const eventBody = (run: number, index: number) =>
  JSON.stringify({
    event_action: "trigger",
    dedup_key: `bench-${index % 5_000}`,
    payload: {
      summary: `run ${run}: disk usage above 90% on host-${index}`,
      source: `host-${index % 5_000}`,
      severity: "error"
    }
  })

/** Posts `count` alerts with `inFlight` requests at once; returns the milliseconds until the last 202. */
const load = async (url: string, count: number): Promise<number> => {
  let next = 0
  const run = ++runNumber
  const started = performance.now()
  const worker = async () => {
    while (next < count) {
      const index = next++
      for (;;) {
        const response = await fetch(url, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: eventBody(run, index)
        })
        await response.arrayBuffer()
        if (response.status === 202) break
        if (response.status < 500) throw new Error(`${url} responded with ${response.status}`)
        await sleep(50)
      }
    }
  }
  await Promise.all(Array.from({ length: inFlight }, worker))
  return performance.now() - started
}

const deliveredByRelay = async (relay: RelayProcess) => {
  const text = await (await fetch(`${relay.url}/metrics`)).text()
  let total = 0
  for (const line of text.split("\n")) {
    const match = /^pagerduty_outbox_deliveries_total\{[^}]*outcome="delivered"[^}]*\} (\S+)$/.exec(line)
    if (match !== null) total += Number(match[1])
  }
  return total
}

const deliveredByBare = async (url: string) => ((await (await fetch(url)).json()) as { delivered: number }).delivered

const waitDelivered = async (count: () => Promise<number>, total: number) => {
  const deadline = Date.now() + 600_000
  while ((await count()) < total) {
    if (Date.now() > deadline) throw new Error(`fewer than ${total} events were delivered within 10 minutes`)
    await sleep(20)
  }
}

type Store = "memory" | "file" | "redis"

const relayConfig = (directory: string, store: Store, simulatorUrl: string, redis: string | undefined) => {
  // Only the Redis store gets the redis section, because with it the relay keeps its dedupe cache there too.
  const redisUrl = store === "redis" ? redis : undefined
  const file = Path.join(directory, `relay-${store}.yaml`)
  const outbox = store === "memory"
    ? "outbox: { store: memory, max_depth: 1000000 }"
    : store === "file"
    ? `outbox: { store: file, path: "${Path.join(directory, `outbox-${Date.now()}`)}", max_depth: 1000000 }`
    : "outbox: { store: redis, max_depth: 1000000 }"
  Fs.writeFileSync(
    file,
    [
      `pagerduty: { events_url: "${simulatorUrl}" }`,
      "server: { host: 127.0.0.1, port: 0, shutdown_timeout_seconds: 1 }",
      `intake: { auth: { bearer_tokens: ["${token}"] } }`,
      "routes:",
      `  - { name: bench, routing_key: "${routingKey}", default: true }`,
      `policy: { concurrency: ${deliveryConcurrency} }`,
      outbox,
      ...(redisUrl === undefined ? [] : [`redis: { url: "${redisUrl}" }`]),
      ""
    ].join("\n")
  )
  return file
}

interface Row {
  readonly name: string
  readonly accepted: number
  readonly delivered: number
}

const throughput = async (name: "bare" | Store, total: number, directory: string, redisUrl: string | undefined) => {
  const simulator = await startSimulator()
  try {
    if (name === "bare") {
      const bare = await spawnListening([self, "bare", simulator.url], /bare relay listening on (http:\/\/\S+)/)
      try {
        const started = performance.now()
        const intakeMillis = await load(`${bare.url}/events`, total)
        await waitDelivered(() => deliveredByBare(bare.url), total)
        return {
          name,
          accepted: total / (intakeMillis / 1000),
          delivered: total / ((performance.now() - started) / 1000)
        }
      } finally {
        await stopChild(bare.child)
      }
    }
    const relay = await spawnRelay(relayConfig(directory, name, simulator.url, redisUrl))
    try {
      const started = performance.now()
      const intakeMillis = await load(`${relay.url}/events/bench`, total)
      await waitDelivered(() => deliveredByRelay(relay), total)
      return {
        name,
        accepted: total / (intakeMillis / 1000),
        delivered: total / ((performance.now() - started) / 1000)
      }
    } finally {
      await relay.stop("SIGKILL")
    }
  } finally {
    await stopChild(simulator.child)
  }
}

const queuedRss = async (store: "file" | "redis", total: number, directory: string, redisUrl: string | undefined) => {
  const simulator = await startSimulator()
  await setFault503(simulator.url)
  const relay = await spawnRelay(relayConfig(directory, store, simulator.url, redisUrl))
  try {
    const before = relay.rss()
    const millis = await load(`${relay.url}/events/bench`, total)
    return { store, before, peak: relay.rss(), accepted: total / (millis / 1000) }
  } finally {
    await relay.stop("SIGKILL")
    await stopChild(simulator.child)
  }
}

const perSecond = (value: number) => Math.round(value).toLocaleString("en-US")
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
const percent = (part: number, whole: number) => `${Math.round((part / whole) * 100)} %`

const main = async () => {
  const total = Number(process.argv[2] ?? 10_000)
  const queued = Number(process.argv[3] ?? 100_000)
  const rounds = Number(process.argv[4] ?? 2)
  const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "relay-bench-"))
  const redis = await startRedis({ appendOnly: true })
  try {
    const names = ["bare", "memory", "file", "redis"] as const
    const rows: Array<Row> = names.map((name) => ({ name, accepted: 0, delivered: 0 }))
    for (let round = 0; round < rounds; round++) {
      for (const [index, name] of names.entries()) {
        const result = await throughput(name, total, directory, redis.url)
        const best = rows[index]!
        rows[index] = {
          name,
          accepted: Math.max(best.accepted, result.accepted),
          delivered: Math.max(best.delivered, result.delivered)
        }
      }
    }
    const bare = rows[0]!
    const memory = rows[1]!
    console.log(
      `node ${process.version}, ${Os.cpus()[0]?.model ?? "unknown CPU"} x${Os.cpus().length}, ${Os.platform()}; ` +
        `${total.toLocaleString("en-US")} alerts per run, best of ${rounds} rounds, ${inFlight} requests in flight, ` +
        `${deliveryConcurrency} deliveries in flight\n`
    )
    console.log("| relay | accepted/s | delivered/s | accepted vs bare | accepted vs memory store |")
    console.log("| --- | ---: | ---: | ---: | ---: |")
    for (const row of rows) {
      console.log(
        `| ${row.name === "bare" ? "bare Node relay" : `${row.name} store`} | ${perSecond(row.accepted)} | ` +
          `${perSecond(row.delivered)} | ${percent(row.accepted, bare.accepted)} | ` +
          `${row.name === "bare" ? "" : percent(row.accepted, memory.accepted)} |`
      )
    }

    console.log(
      `\n| store | relay RSS idle | peak RSS, ${queued.toLocaleString("en-US")} queued | accepted/s while queuing |`
    )
    console.log("| --- | ---: | ---: | ---: |")
    for (const store of ["file", "redis"] as const) {
      const result = await queuedRss(store, queued, directory, redis.url)
      console.log(`| ${store} | ${mib(result.before)} | ${mib(result.peak)} | ${perSecond(result.accepted)} |`)
    }
  } finally {
    await removeRedis(redis)
    Fs.rmSync(directory, { recursive: true, force: true })
  }
}

if (process.argv[2] === "bare") {
  serveBare(process.argv[3]!)
} else {
  main().catch((error) => {
    console.error(error)
    process.exitCode = 1
  })
}
