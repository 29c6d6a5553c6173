/**
 * The three outbox stores as fresh layers for tests: memory, file (in a new
 * temporary directory) and Redis (the machine's Redis on 127.0.0.1:6379 under
 * a unique prefix whose keys are deleted afterwards).
 */
import { NodeFileSystem, NodeRedis } from "@effect/platform-node"
import { Effect, FileSystem, Layer } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as Outbox from "../../src/Outbox.ts"
import * as OutboxFileStore from "../../src/OutboxFileStore.ts"
import * as OutboxRedisStore from "../../src/OutboxRedisStore.ts"
import { type OutboxItem, OutboxStore } from "../../src/OutboxStore.ts"

export interface StoreCase {
  readonly name: "memory" | "file" | "redis"
  readonly layer: (options?: { readonly maxDepth?: number }) => Layer.Layer<OutboxStore, unknown>
}

/** Deletes every key under a prefix, with SCAN so the shared server is never blocked. */
export const deleteKeys = (prefix: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    let cursor = "0"
    do {
      const [next, keys] = yield* redis.send<[string, Array<string>]>(
        "SCAN",
        cursor,
        "MATCH",
        `${prefix}*`,
        "COUNT",
        "500"
      )
      cursor = next
      if (keys.length > 0) yield* redis.send("DEL", ...keys)
    } while (cursor !== "0")
  })

export const uniquePrefix = () => `{outbox-test-${crypto.randomUUID()}}:`

export const sharedRedis = NodeRedis.layer({ url: "redis://127.0.0.1:6379" })

export const stores: ReadonlyArray<StoreCase> = [
  { name: "memory", layer: (options) => Outbox.layerStoreMemory(options) },
  {
    name: "file",
    layer: (options) =>
      Layer.effect(
        OutboxStore,
        Effect.gen(function*() {
          const fs = yield* FileSystem.FileSystem
          const directory = yield* fs.makeTempDirectoryScoped({ prefix: "outbox-test-" })
          return yield* OutboxFileStore.make({ directory, ...options })
        })
      ).pipe(Layer.provide(NodeFileSystem.layer))
  },
  {
    name: "redis",
    layer: (options) =>
      Layer.effect(
        OutboxStore,
        Effect.gen(function*() {
          const prefix = uniquePrefix()
          yield* Effect.addFinalizer(() => Effect.ignore(deleteKeys(prefix)))
          return yield* OutboxRedisStore.make({ prefix, pollInterval: "20 millis", ...options })
        })
      ).pipe(Layer.provide(sharedRedis))
  }
]

let counter = 0

/** An item with a canonical body and no routing key. */
export const makeTestItem = (
  dedupKey: string,
  action: OutboxItem["action"] = "trigger",
  overrides: Partial<OutboxItem> = {}
): OutboxItem => {
  const id = overrides.id ?? `item-${++counter}-${crypto.randomUUID()}`
  return {
    id,
    route: "test",
    dedupKey,
    action,
    body: Outbox.canonicalBody({ event_action: action, dedup_key: dedupKey, payload: { summary: id } }),
    enqueuedAt: overrides.enqueuedAt ?? 1_000 + counter,
    attempts: 0,
    ...overrides
  }
}
