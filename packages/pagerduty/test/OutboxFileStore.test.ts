import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, FileSystem, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as OutboxFileStore from "../src/OutboxFileStore.ts"
import { makeTestItem } from "./support/outboxStores.ts"

const withDirectory = <A, E, R>(f: (directory: string) => Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const directory = yield* fs.makeTempDirectoryScoped({ prefix: "outbox-file-" })
    return yield* f(directory)
  }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer))

const open = (directory: string, options: Partial<OutboxFileStore.Options> = {}) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const store = yield* OutboxFileStore.make({ directory, ...options }).pipe(Scope.provide(scope))
    return { store, close: Scope.close(scope, Exit.void) }
  })

describe("OutboxFileStore", () => {
  it.live("keeps items, retries and dead letters across a reopen", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const first = yield* open(directory)
        const a = makeTestItem("a")
        const b = makeTestItem("a", "resolve")
        const c = makeTestItem("c")
        yield* first.store.offer(a)
        yield* first.store.offer(b)
        yield* first.store.offer(c)
        const claimA = yield* first.store.claim
        yield* first.store.retry(claimA, { notBefore: 1, lastError: "timed out" })
        const claimC = yield* first.store.claim
        yield* first.store.deadLetter(claimC, { reason: "Rejected", detail: "invalid", at: 2 })
        yield* first.close

        const second = yield* open(directory)
        const queued = yield* second.store.list({ state: "queued" })
        expect(queued.map((entry) => entry.item.id)).toEqual([a.id, b.id])
        expect(queued[0]?.item.attempts).toBe(1)
        expect(queued[0]?.lastError).toBe("timed out")
        const dead = yield* second.store.list({ state: "dead" })
        expect(dead.map((entry) => entry.item.id)).toEqual([c.id])
        const claim = yield* second.store.claim
        expect(claim.item.id).toBe(a.id)
        expect(claim.item.attempts).toBe(2)
        yield* second.close
      })
    ))

  it.live("rejects a second opener while the lock is held", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const first = yield* open(directory, { owner: "pid 4242 on relay-1" })
        const error = yield* Effect.flip(open(directory))
        expect(error.reason._tag).toBe("Locked")
        expect(error.message).toContain("pid 4242 on relay-1")
        yield* first.close
        const second = yield* open(directory)
        yield* second.close
      })
    ))

  it.live("takes over a stale lock", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const lockPath = path.join(directory, "outbox.lock")
        yield* fs.writeFileString(lockPath, JSON.stringify({ owner: "pid 1 (dead)", token: "old" }))
        const past = new Date(Date.now() - 60_000)
        yield* fs.utimes(lockPath, past, past)
        const store = yield* open(directory)
        const lock = JSON.parse(yield* fs.readFileString(lockPath))
        expect(lock.token).not.toBe("old")
        yield* store.close
        expect(yield* fs.exists(lockPath)).toBe(false)
      })
    ))

  it.live("cuts off a torn last record", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const first = yield* open(directory)
        const item = makeTestItem("a")
        yield* first.store.offer(item)
        yield* first.close
        const logPath = path.join(directory, "outbox.log")
        yield* fs.writeFileString(logPath, "{\"t\":\"put\",\"item\":{\"id\":\"torn", { flag: "a" })
        const second = yield* open(directory)
        expect((yield* second.store.list({ state: "queued" })).map((entry) => entry.item.id)).toEqual([item.id])
        yield* second.store.offer(makeTestItem("b"))
        yield* second.close
        const third = yield* open(directory)
        expect((yield* third.store.stats).depth).toBe(2)
        yield* third.close
      })
    ))

  it.live("compacts the log and keeps order", () =>
    withDirectory((directory) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const logPath = path.join(directory, "outbox.log")
        const first = yield* open(directory, { compactAfterBytes: 16 * 1024 })
        for (let i = 0; i < 400; i++) {
          yield* first.store.offer(makeTestItem(`k${i % 5}`))
          yield* first.store.complete(yield* first.store.claim)
        }
        const kept = Array.from({ length: 6 }, (_, i) => makeTestItem("kept", i % 2 === 0 ? "trigger" : "resolve"))
        for (const item of kept) yield* first.store.offer(item)
        yield* first.store.deadLetter(yield* first.store.claim, { reason: "Rejected", detail: "bad", at: 1 })
        const size = Number((yield* fs.stat(logPath)).size)
        expect(size).toBeLessThan(64 * 1024)
        yield* first.close

        const second = yield* open(directory)
        const queued = yield* second.store.list({ state: "queued" })
        expect(queued.map((entry) => entry.item.id)).toEqual(kept.slice(1).map((item) => item.id))
        expect((yield* second.store.stats).deadLetters).toBe(1)
        yield* second.close
      })
    ))
})

// A local stand-in for PagerDuty that records every event it receives.
const startRecorder = () =>
  Effect.acquireRelease(
    Effect.callback<{ server: Server; port: number; arrivals: Array<{ run: string; id: string; key: string }> }>(
      (resume) => {
        const arrivals: Array<{ run: string; id: string; key: string }> = []
        const server = createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            const event = JSON.parse(Buffer.concat(chunks).toString("utf8"))
            arrivals.push({ run: String(request.headers["x-run"]), id: event.payload.summary, key: event.dedup_key })
            // a short pause keeps deliveries slower than offers, so the kill lands mid-delivery
            setTimeout(() => {
              response.writeHead(202, { "content-type": "application/json" })
              response.end("{\"status\":\"success\"}")
            }, 2)
          })
        })
        server.listen(0, "127.0.0.1", () => {
          resume(Effect.succeed({ server, port: (server.address() as AddressInfo).port, arrivals }))
        })
      }
    ),
    ({ server }) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const childScript = path.join(import.meta.dirname, "support", "outboxChild.ts")

const startChild = (directory: string, port: number, run: number, count: number, keys: number) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(process.execPath, [
        childScript,
        directory,
        String(port),
        String(run),
        String(count),
        String(keys)
      ], {
        stdio: ["ignore", "pipe", "pipe"]
      })
      const accepted: Array<string> = []
      let stderr = ""
      let pending = ""
      child.stdout.setEncoding("utf8")
      child.stdout.on("data", (chunk: string) => {
        pending += chunk
        const lines = pending.split("\n")
        pending = lines.pop() ?? ""
        for (const line of lines) if (line.startsWith("A ")) accepted.push(line.slice(2))
      })
      child.stderr.setEncoding("utf8")
      child.stderr.on("data", (chunk: string) => stderr += chunk)
      return { child, accepted, stderr: () => stderr }
    }),
    ({ child }) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

const waitFor = (condition: () => boolean, what: string, timeoutMillis = 40_000) =>
  Effect.gen(function*() {
    const started = Date.now()
    while (!condition()) {
      if (Date.now() - started > timeoutMillis) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("20 millis")
    }
  })

const exited = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

describe("OutboxFileStore after SIGKILL", () => {
  it.live("delivers every accepted item in per-key order", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const directory = yield* fs.makeTempDirectoryScoped({ directory: os.tmpdir(), prefix: "outbox-kill-" })
      const recorder = yield* startRecorder()
      const total = 3000
      const keys = 100

      const first = yield* startChild(directory, recorder.port, 1, total, keys)
      yield* waitFor(() => recorder.arrivals.length >= 400, "the first deliveries")
      first.child.kill("SIGKILL")
      yield* exited(first.child)
      const accepted = new Set(first.accepted)
      expect(accepted.size).toBeGreaterThan(400)
      const delivered = new Set(recorder.arrivals.map((arrival) => arrival.id))
      // the kill came before the queue drained
      expect(delivered.size).toBeLessThan(accepted.size)

      const second = yield* startChild(directory, recorder.port, 2, 0, keys)
      yield* waitFor(
        () => {
          const seen = new Set(recorder.arrivals.map((arrival) => arrival.id))
          for (const id of accepted) if (!seen.has(id)) return false
          return true
        },
        "every accepted item",
        50_000
      ).pipe(Effect.catchDefect(() => {
        const seen = new Set(recorder.arrivals.map((arrival) => arrival.id))
        const missing = [...accepted].filter((id) => !seen.has(id))
        return Effect.die(
          new Error(
            `${missing.length} of ${accepted.size} accepted items never arrived; restarted child: ${second.stderr()}`
          )
        )
      }))

      // Within one run, the items of a key arrive in offer order (seq grows by `keys`).
      for (const run of ["1", "2"]) {
        const lastByKey = new Map<string, number>()
        for (const arrival of recorder.arrivals.filter((a) => a.run === run)) {
          const seq = Number(arrival.id.slice("item-".length))
          const last = lastByKey.get(arrival.key)
          if (last !== undefined) expect(seq).toBeGreaterThanOrEqual(last)
          lastByKey.set(arrival.key, seq)
        }
      }
      // Across runs, first arrivals are in offer order too.
      const firstSeen = new Map<string, number>()
      const orderByKey = new Map<string, Array<number>>()
      for (const arrival of recorder.arrivals) {
        if (firstSeen.has(arrival.id)) continue
        const seq = Number(arrival.id.slice("item-".length))
        firstSeen.set(arrival.id, seq)
        orderByKey.set(arrival.key, [...(orderByKey.get(arrival.key) ?? []), seq])
      }
      for (const seqs of orderByKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)), { timeout: 120_000 })
})
