/**
 * A relay stand-in for the file store's crash test. It opens the file store
 * in a directory, offers `count` items spread over `keys` dedup keys (none
 * when `count` is 0), and delivers every item by POSTing its body to a local
 * recording server. Each accepted offer prints `A <id>` on stdout, which is
 * written synchronously to a pipe, so a printed id was accepted even if the
 * process is killed right after.
 *
 * Usage: node outboxChild.ts <directory> <port> <run> <count> <keys>
 */
import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import * as Outbox from "../../src/Outbox.ts"
import * as OutboxFileStore from "../../src/OutboxFileStore.ts"

const [directory, port, run, count, keys] = process.argv.slice(2)
if (directory === undefined || port === undefined || run === undefined || count === undefined || keys === undefined) {
  throw new Error("usage: outboxChild.ts <directory> <port> <run> <count> <keys>")
}

class DeliveryFailed extends Error {}

const deliver = (item: { readonly body: string }) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`http://127.0.0.1:${port}/enqueue`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-run": run },
        body: item.body
      })
      await response.arrayBuffer()
      if (response.status !== 202) throw new DeliveryFailed(`status ${response.status}`)
    },
    catch: (cause) => new DeliveryFailed(String(cause))
  })

const program = Effect.gen(function*() {
  yield* Outbox.worker({
    deliver,
    concurrency: 8,
    // every failure here (connection refused, a status other than 202) is transient
    isRetryable: () => true,
    maxDelay: "200 millis"
  })
  const total = Number(count)
  const keyCount = Number(keys)
  // Keys are offered concurrently, the items of one key one after another, so each key has a defined order.
  yield* Effect.forEach(
    Array.from({ length: keyCount }, (_, key) => key),
    (key) =>
      Effect.gen(function*() {
        for (let index = key; index < total; index += keyCount) {
          const item = yield* Outbox.makeItem({
            route: "crash-test",
            id: `item-${index}`,
            event: {
              event_action: "trigger",
              dedup_key: `key-${key}`,
              payload: { summary: `item-${index}`, seq: index }
            }
          })
          yield* Outbox.offer(item)
          process.stdout.write(`A ${item.id}\n`)
        }
      }),
    { concurrency: "unbounded", discard: true }
  )
  process.stdout.write("OFFERED\n")
  return yield* Effect.never
})

const StoreLive = OutboxFileStore.layer({
  directory,
  owner: `pid ${process.pid}`,
  lockStaleAfter: "1 second",
  lockRefreshInterval: "200 millis",
  lockTimeout: "5 seconds",
  compactAfterBytes: 256 * 1024
}).pipe(Layer.provide(NodeFileSystem.layer))

NodeRuntime.runMain(program.pipe(Effect.provide(StoreLive), Effect.scoped))
