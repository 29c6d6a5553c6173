import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Path from "node:path"
import * as Readline from "node:readline"
import { type RedisServer, removeRedis, startRedis } from "./support/redisServers.ts"

const limit = 10
const windowMillis = 3_000
const workerCount = 3
// Spacing added to each window, which absorbs the time by which an arrival
// can trail its reserved slot. On a loaded machine running the whole suite
// that reached about 300 ms.
const marginMillis = 400

interface Arrival {
  readonly at: number
  readonly worker: number
}

// The busiest half-open span [t, t + window): its arrival count and times
// (relative to the first arrival), for the failure message.
const busiestSpan = (times: ReadonlyArray<number>, window: number) => {
  const sorted = [...times].sort((a, b) => a - b)
  let max = 0
  let from = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= window) start++
    if (end - start + 1 > max) {
      max = end - start + 1
      from = start
    }
  }
  const first = sorted[0] ?? 0
  return { count: max, times: sorted.slice(from, from + max).map((time) => Math.round(time - first)).join(" ") }
}

const assertWithinLimit = (times: ReadonlyArray<number>) => {
  const busiest = busiestSpan(times, windowMillis)
  assert.isAtMost(busiest.count, limit, `arrivals (ms) in the busiest span: ${busiest.times}`)
}

class Worker {
  private readonly pending = new Map<number, (value: any) => void>()
  private nextId = 1
  readonly child: ChildProcess.ChildProcess
  readonly ready: Promise<unknown>

  constructor(options: object) {
    this.child = ChildProcess.spawn(
      process.execPath,
      [Path.join(import.meta.dirname, "support", "policyWorker.ts"), JSON.stringify(options)],
      { stdio: ["pipe", "pipe", "inherit"] }
    )
    const lines = Readline.createInterface({ input: this.child.stdout! })
    this.ready = new Promise((resolve) => this.pending.set(0, resolve))
    // Replies are JSON objects, so any other output line is ignored.
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return
      const { id, value } = JSON.parse(line) as { id: number; value: unknown }
      this.pending.get(id)?.(value)
      this.pending.delete(id)
    })
  }

  send<A>(command: object): Promise<A> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, resolve)
      this.child.stdin!.write(`${JSON.stringify({ ...command, id })}\n`)
    })
  }

  stop() {
    this.child.stdin!.end()
    return new Promise<void>((resolve) => this.child.once("exit", () => resolve()))
  }
}

describe("Policy across processes", () => {
  let redis: RedisServer
  let server: Http.Server
  let workers: Array<Worker> = []
  const arrivals: Array<Arrival> = []
  const state = { failing: false }

  beforeAll(async () => {
    redis = await startRedis()
    server = Http.createServer((request, response) => {
      arrivals.push({ at: performance.now(), worker: Number(request.headers["x-worker"]) })
      request.resume()
      response.writeHead(state.failing ? 503 : 202).end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const httpPort = (server.address() as Net.AddressInfo).port
    workers = Array.from(
      { length: workerCount },
      (_, worker) => new Worker({ redisPort: redis.port, httpPort, worker, limit, windowMillis, marginMillis })
    )
    await Promise.all(workers.map((worker) => worker.ready))
    // The first requests of a process open its connections and compile its
    // code paths, which delays their arrival well past their slots. So each
    // worker sends from all its loops for one window first, and the
    // measurements start once that window's log has expired.
    await Promise.all(
      workers.map((worker) => worker.send({ cmd: "load", durationMillis: windowMillis, concurrency: 4 }))
    )
    await new Promise((resolve) => setTimeout(resolve, windowMillis + 2 * marginMillis))
  })

  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.stop()))
    await new Promise((resolve) => server.close(resolve))
    await removeRedis(redis)
  })

  const load = (durationMillis: number) =>
    Promise.all(workers.map((worker) => worker.send<{ ok: number }>({ cmd: "load", durationMillis, concurrency: 4 })))

  it("keeps every window within one shared limit", { timeout: 60_000 }, async () => {
    const start = performance.now()
    await load(10 * windowMillis)
    const times = arrivals.filter((arrival) => arrival.at >= start).map((arrival) => arrival.at)
    const allowed = limit * (10 * windowMillis) / windowMillis
    assertWithinLimit(times)
    assert.isAtLeast(times.length, 0.9 * allowed)
    for (let worker = 0; worker < workerCount; worker++) {
      assert.isAbove(arrivals.filter((arrival) => arrival.at >= start && arrival.worker === worker).length, 0)
    }
  })

  it("keeps delivering while Redis restarts, then shares limits again", { timeout: 60_000 }, async () => {
    const start = performance.now()
    const running = load(5 * windowMillis)
    await new Promise((resolve) => setTimeout(resolve, windowMillis))
    await redis.stop()
    const stopped = performance.now()
    await new Promise((resolve) => setTimeout(resolve, windowMillis))
    const modes = await Promise.all(workers.map((worker) => worker.send<{ mode: string }>({ cmd: "health" })))
    await redis.start()
    const restarted = performance.now()
    await running

    for (const mode of modes) assert.strictEqual(mode.mode, "degraded")
    for (let worker = 0; worker < workerCount; worker++) {
      const during = arrivals.filter((arrival) =>
        arrival.worker === worker && arrival.at >= stopped && arrival.at < restarted
      )
      assert.isAbove(during.length, 0)
    }
    const before = arrivals.filter((arrival) => arrival.at >= start && arrival.at < stopped).map((arrival) =>
      arrival.at
    )
    assertWithinLimit(before)
    // Slots reserved in memory during the outage run out within about one
    // window of the switch back, so the check starts two windows after it.
    const settled = restarted + 2 * windowMillis
    const after = arrivals.filter((arrival) => arrival.at >= settled).map((arrival) => arrival.at)
    assert.isAbove(after.length, 0)
    assertWithinLimit(after)
    const modesAfter = await Promise.all(workers.map((worker) => worker.send<{ mode: string }>({ cmd: "health" })))
    for (const mode of modesAfter) assert.strictEqual(mode.mode, "shared")
  })

  it("rejects in every process once one process opens the breaker", { timeout: 30_000 }, async () => {
    state.failing = true
    for (let attempt = 0; attempt < 3; attempt++) {
      const outcome = await workers[0]!.send<{ status: number }>({ cmd: "call" })
      assert.strictEqual(outcome.status, 503)
    }
    const seen = arrivals.length
    for (const worker of workers.slice(1)) {
      const outcome = await worker.send<{ error?: string }>({ cmd: "call" })
      assert.strictEqual(outcome.error, "PolicyError:CircuitOpen")
    }
    assert.strictEqual(arrivals.length, seen)
    state.failing = false
  })
})
