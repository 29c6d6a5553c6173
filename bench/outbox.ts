/**
 * Outbox benchmark: enqueue and drain rates per store, and memory with
 * 100,000 items queued. Not part of `pnpm test`.
 *
 * Run: node bench/outbox.ts [items] [memory|file|redis]
 *
 * Without a store name the script runs itself once per store, each in a
 * process of its own, so the memory figures of one store do not include
 * another's.
 *
 * The Redis store runs against a private redis-server started on a free
 * loopback port with `--appendonly yes --appendfsync always`. The file
 * store uses a directory under the OS temp dir. Deliveries go nowhere (the deliver
 * function only counts), so drain rates measure the store and the workers.
 */
import * as Outbox from "@effect-pagerduty/pagerduty/Outbox"
import * as OutboxFileStore from "@effect-pagerduty/pagerduty/OutboxFileStore"
import * as OutboxRedisStore from "@effect-pagerduty/pagerduty/OutboxRedisStore"
import { type OutboxItem, OutboxStore } from "@effect-pagerduty/pagerduty/OutboxStore"
import { IoRedis } from "@effect-pagerduty/redis"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer, Scope } from "effect"
import * as Exit from "effect/Exit"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { cli, removeRedis, startRedis } from "../test/support/redisServers.ts"

const total = Number(process.argv[2] ?? 100_000)
const only = process.argv[3]
const concurrency = 64

let peakRss = 0
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss)
}, 20)

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MiB`
const rate = (count: number, millis: number) => `${Math.round(count / (millis / 1000)).toLocaleString("en-US")}/s`

const makeItems = (count: number): Array<OutboxItem> =>
  Array.from({ length: count }, (_, index) => ({
    id: `bench-${index}`,
    route: "bench",
    dedupKey: `key-${index % 1000}`,
    action: "trigger",
    body: Outbox.canonicalBody({
      event_action: "trigger",
      dedup_key: `key-${index % 1000}`,
      payload: { summary: `disk usage above 90% on host-${index % 1000}`, severity: "error", source: "bench" }
    }),
    enqueuedAt: Date.now(),
    attempts: 0
  }))

const measure = (name: string, layer: Layer.Layer<OutboxStore, unknown>, extra?: () => Promise<string>) =>
  Effect.gen(function*() {
    const items = makeItems(total)
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layer, scope)
    const store = context.mapUnsafe.get(OutboxStore.key) as OutboxStore["Service"]
    peakRss = process.memoryUsage().rss

    const sequentialCount = Math.min(2_000, total)
    let started = performance.now()
    for (const item of makeItems(sequentialCount).map((i) => ({ ...i, id: `seq-${i.id}` }))) yield* store.offer(item)
    const sequentialMillis = performance.now() - started
    yield* store.purge({ state: "queued" })

    started = performance.now()
    yield* Effect.forEach(items, (item) => store.offer(item), { concurrency, discard: true })
    const enqueueMillis = performance.now() - started
    const heap = process.memoryUsage().heapUsed
    const queuedRss = peakRss
    const server = extra === undefined ? "" : `, ${yield* Effect.promise(extra)}`

    let delivered = 0
    started = performance.now()
    const workerScope = yield* Scope.make()
    yield* Outbox.worker({ deliver: () => Effect.sync(() => delivered++), concurrency: 16 }).pipe(
      Effect.provideService(OutboxStore, store),
      Scope.provide(workerScope)
    )
    while (delivered < total) yield* Effect.sleep("10 millis")
    const drainMillis = performance.now() - started
    yield* Scope.close(workerScope, Exit.void)
    yield* Scope.close(scope, Exit.void)

    console.log(
      `${name.padEnd(6)} enqueue ${rate(total, enqueueMillis)} (${concurrency} concurrent), ` +
        `${rate(sequentialCount, sequentialMillis)} one at a time; drain ${rate(total, drainMillis)} (16 workers); ` +
        `${total.toLocaleString("en-US")} queued: peak RSS ${mib(queuedRss)}, heap ${mib(heap)}${server}`
    )
  })

const program = Effect.gen(function*() {
  if (only === "memory") yield* measure("memory", Outbox.layerStoreMemory({ maxDepth: total + 10_000 }))

  if (only === "file") {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "outbox-bench-"))
    yield* measure(
      "file",
      OutboxFileStore.layer({ directory, maxDepth: total + 10_000 }).pipe(Layer.provide(NodeFileSystem.layer))
    ).pipe(Effect.ensuring(Effect.sync(() => fs.rmSync(directory, { recursive: true, force: true }))))
  }

  if (only === "redis") {
    const server = yield* Effect.promise(() => startRedis({ appendOnly: true }))
    const redisLayer = IoRedis.layer({ topology: IoRedis.standalone({ host: "127.0.0.1", port: server.port }) })
    yield* measure(
      "redis",
      OutboxRedisStore.layer({ maxDepth: total + 10_000 }).pipe(Layer.provide(redisLayer)),
      async () => {
        const info = await cli(server.port, "INFO", "memory")
        const used = /used_memory:(\d+)/.exec(info)?.[1]
        return `redis-server used_memory ${used === undefined ? "?" : mib(Number(used))}`
      }
    ).pipe(Effect.ensuring(Effect.promise(() => removeRedis(server))))
  }
})

if (only === undefined) {
  clearInterval(sampler)
  console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} x${os.cpus().length}, ${os.platform()}`)
  for (const store of ["memory", "file", "redis"]) {
    const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), String(total), store], {
      stdio: "inherit"
    })
    if (result.status !== 0) process.exitCode = 1
  }
} else {
  Effect.runPromise(program).then(
    () => clearInterval(sampler),
    (error) => {
      clearInterval(sampler)
      console.error(error)
      process.exitCode = 1
    }
  )
}
