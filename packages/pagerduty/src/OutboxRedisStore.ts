/**
 * The Redis-backed `OutboxStore`: many relay processes share one queue.
 *
 * A worker claims an item by taking a lease on its dedup key, which it renews
 * while the delivery runs. A key's lease expires `leaseDuration` after the
 * last renewal; a worker that crashed stops renewing, and the next claim
 * after expiry hands the item out again. At most one item per dedup key is
 * in flight across every process, so per-key order holds across them.
 *
 * All keys start with `prefix`, which must contain a Redis Cluster hash tag
 * such as `{outbox}:`, so that they share one slot and the store's scripts
 * run on Cluster.
 *
 * NOTE: the store is only as durable as the Redis server's persistence. An
 * `offer` returns once Redis has applied the write; with `appendonly yes` and
 * `appendfsync always` the write is on disk by then, with the default
 * `appendfsync everysec` up to a second of writes can be lost in a server
 * crash, and without persistence a restart loses the whole queue.
 *
 * NOTE: lease expiry and retry times are compared with the clock of the
 * process that runs the script call, so the workers' clocks must agree to
 * within a small fraction of `leaseDuration`.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import type * as Scope from "effect/Scope"
import { checkItem, resolveOptions, storeFailed } from "./internal/outboxCommon.ts"
import { readyAt } from "./internal/outboxEngine.ts"
import * as Scripts from "./internal/outboxRedisScripts.ts"
import type { Claim, DeadLetter, Entry, OutboxItem } from "./OutboxStore.ts"
import { Full, type Options as StoreOptions, OutboxError, OutboxStore } from "./OutboxStore.ts"

/**
 * Options of the Redis store.
 *
 * - `prefix`: start of every key, with a hash tag. Default `{outbox}:`.
 * - `leaseDuration`: how long a claim survives without renewal (the
 *   visibility timeout). Default 60 seconds; renewed every third of it.
 * - `pollInterval`: how often an idle worker looks for due items. Offers and
 *   settlements in the same process wake it at once. Default 500 ms.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends StoreOptions {
  readonly prefix?: string | undefined
  readonly leaseDuration?: Duration.Input | undefined
  readonly pollInterval?: Duration.Input | undefined
}

const keysFor = (prefix: string) => ({
  items: `${prefix}items`,
  enqueued: `${prefix}enqueued`,
  attempts: `${prefix}attempts`,
  retry: `${prefix}retry`,
  due: `${prefix}due`,
  leases: `${prefix}leases`,
  owners: `${prefix}owners`,
  dead: `${prefix}dead`,
  deadIndex: `${prefix}deadIndex`,
  listPrefix: `${prefix}key:`
})

/**
 * Builds the Redis store for the life of the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options?: Options
): Effect.Effect<OutboxStore["Service"], never, Redis.Redis | Scope.Scope> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const { fullRetryAfter, maxDepth } = resolveOptions(options)
    const prefix = options?.prefix ?? "{outbox}:"
    if (!/\{[^}]+\}/.test(prefix)) {
      throw new RangeError(`prefix must contain a Redis Cluster hash tag such as "{outbox}:", got "${prefix}"`)
    }
    const leaseMillis = Duration.toMillis(Duration.fromInputUnsafe(options?.leaseDuration ?? "60 seconds"))
    const pollInterval = Duration.fromInputUnsafe(options?.pollInterval ?? "500 millis")
    const keys = keysFor(prefix)
    const list = (dedupKey: string) => `${keys.listPrefix}${dedupKey}`
    const failed = (operation: string) => (cause: unknown) => storeFailed("redis", operation, cause)
    const nudge = Latch.makeUnsafe(false)
    const claimPrefix = SecureRandom.uuidV4Unsafe()
    let claimSeq = 0
    // Claims this process holds, renewed in the background: token -> dedup key.
    const active = new Map<string, string>()

    const evalScript = <P extends ReadonlyArray<unknown>, A>(
      script: Redis.Script<{ params: P; result: A }>,
      operation: string
    ) => {
      const run = redis.eval(script)
      return (...params: P) => Effect.mapError(run(...params), failed(operation))
    }
    const offerScript = evalScript(Scripts.offer, "store an item")
    const claimScript = evalScript(Scripts.claim, "claim an item")
    const completeScript = evalScript(Scripts.complete, "record a delivery")
    const retryScript = evalScript(Scripts.retry, "schedule a retry")
    const releaseScript = evalScript(Scripts.release, "release an item")
    const deadScript = evalScript(Scripts.deadLetter, "record a dead letter")
    const renewScript = evalScript(Scripts.renew, "renew a lease")
    const reviveScript = evalScript(Scripts.revive, "replay a dead letter")
    const purgeQueuedScript = evalScript(Scripts.purgeQueued, "purge an item")
    const purgeDeadScript = evalScript(Scripts.purgeDead, "purge a dead letter")
    const send = <A>(operation: string, command: string, ...args: Array<string>) =>
      Effect.mapError(redis.send<A>(command, ...args), failed(operation))

    yield* Effect.gen(function*() {
      while (true) {
        yield* Effect.sleep(Duration.millis(leaseMillis / 3))
        const expiresAt = (yield* Clock.currentTimeMillis) + leaseMillis
        yield* Effect.forEach(
          Array.from(active),
          ([token, dedupKey]) => Effect.ignore(renewScript(keys.owners, keys.leases, dedupKey, token, expiresAt)),
          { concurrency: 16, discard: true }
        )
      }
    }).pipe(Effect.interruptible, Effect.forkScoped)

    const offer = (item: OutboxItem) =>
      Effect.gen(function*() {
        const invalid = checkItem(item)
        if (invalid !== undefined) return yield* invalid
        const result = yield* offerScript(
          keys.items,
          keys.enqueued,
          keys.due,
          keys.owners,
          list(item.dedupKey),
          keys.dead,
          item.id,
          JSON.stringify(item),
          readyAt(item),
          maxDepth,
          item.dedupKey
        )
        if (result < 0) {
          return yield* new OutboxError({
            reason: new Full({ depth: -result - 1, maxDepth, retryAfter: fullRetryAfter })
          })
        }
        nudge.openUnsafe()
      })

    const claimOnce = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const token = `${claimPrefix}:${++claimSeq}`
      const result = yield* claimScript(
        keys.due,
        keys.leases,
        keys.owners,
        keys.items,
        keys.attempts,
        now,
        leaseMillis,
        token,
        keys.listPrefix,
        1
      )
      if (result === null || result.length < 5) return undefined
      const dedupKey = String(result[0])
      const stored = JSON.parse(String(result[2])) as OutboxItem
      const claimToken = String(result[4])
      active.set(claimToken, dedupKey)
      const claim: Claim = { item: { ...stored, attempts: Number(result[3]) }, token: claimToken }
      return claim
    })

    const claim: Effect.Effect<Claim, OutboxError> = Effect.gen(function*() {
      while (true) {
        nudge.closeUnsafe()
        const claimed = yield* claimOnce
        if (claimed !== undefined) return claimed
        yield* Effect.race(Effect.sleep(pollInterval), nudge.await)
      }
    })

    const settled = (claim: Claim) =>
      Effect.sync(() => {
        active.delete(claim.token)
        nudge.openUnsafe()
      })

    const decodeEntries = (raw: ReadonlyArray<string | null>) =>
      raw.flatMap((text) => text === null ? [] : [JSON.parse(text) as unknown])

    const listQueued = (offset: number, limit: number) =>
      Effect.gen(function*() {
        const ids = yield* send<Array<string>>(
          "list items",
          "ZRANGE",
          keys.enqueued,
          String(offset),
          String(offset + limit - 1)
        )
        if (ids.length === 0) return []
        const items = yield* send<Array<string | null>>("list items", "HMGET", keys.items, ...ids)
        const attempts = yield* send<Array<string | null>>("list items", "HMGET", keys.attempts, ...ids)
        const retries = yield* send<Array<string | null>>("list items", "HMGET", keys.retry, ...ids)
        const entries: Array<Entry> = []
        for (let index = 0; index < ids.length; index++) {
          const text = items[index]
          if (text === null || text === undefined) continue
          const item = JSON.parse(text) as OutboxItem
          const retry = retries[index]
            ? JSON.parse(retries[index]!) as { notBefore: number; lastError: string }
            : undefined
          const owner = yield* send<string | null>("list items", "HGET", keys.owners, item.dedupKey)
          const head = owner === null
            ? null
            : yield* send<string | null>("list items", "LINDEX", list(item.dedupKey), "0")
          entries.push({
            item: { ...item, attempts: Number(attempts[index] ?? item.attempts) },
            state: head === item.id ? "in-flight" : "queued",
            notBefore: retry?.notBefore,
            lastError: retry?.lastError
          })
        }
        return entries
      })

    const listDead = (offset: number, limit: number) =>
      Effect.gen(function*() {
        const ids = yield* send<Array<string>>(
          "list dead letters",
          "ZRANGE",
          keys.deadIndex,
          String(offset),
          String(offset + limit - 1)
        )
        if (ids.length === 0) return []
        const records = yield* send<Array<string | null>>("list dead letters", "HMGET", keys.dead, ...ids)
        return decodeEntries(records).map((record): Entry => {
          const { deadLetter, item } = record as { item: OutboxItem; deadLetter: DeadLetter }
          return { item, state: "dead", deadLetter }
        })
      })

    const batch = 500

    return OutboxStore.of({
      kind: "redis",
      offer,
      claim,
      complete: (claim) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          completeScript(
            keys.owners,
            keys.leases,
            keys.items,
            keys.enqueued,
            keys.attempts,
            keys.retry,
            keys.due,
            list(claim.item.dedupKey),
            claim.item.dedupKey,
            claim.item.id,
            claim.token,
            now
          )).pipe(Effect.andThen(settled(claim))),
      retry: (claim, { lastError, notBefore }) =>
        retryScript(
          keys.owners,
          keys.leases,
          keys.retry,
          keys.due,
          claim.item.dedupKey,
          claim.item.id,
          claim.token,
          notBefore,
          JSON.stringify({ notBefore, lastError })
        ).pipe(Effect.andThen(settled(claim))),
      release: (claim) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          releaseScript(
            keys.owners,
            keys.leases,
            keys.attempts,
            keys.due,
            claim.item.dedupKey,
            claim.item.id,
            claim.token,
            now
          )).pipe(Effect.andThen(settled(claim))),
      deadLetter: (claim, deadLetter) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          deadScript(
            keys.owners,
            keys.leases,
            keys.items,
            keys.enqueued,
            keys.attempts,
            keys.retry,
            keys.due,
            list(claim.item.dedupKey),
            keys.dead,
            keys.deadIndex,
            claim.item.dedupKey,
            claim.item.id,
            claim.token,
            now,
            JSON.stringify({ item: claim.item, deadLetter })
          )).pipe(Effect.andThen(settled(claim))),
      list: ({ limit, offset, state }) =>
        state === "queued"
          ? listQueued(offset ?? 0, limit ?? Number.MAX_SAFE_INTEGER)
          : listDead(offset ?? 0, limit ?? Number.MAX_SAFE_INTEGER),
      replay: (replayOptions) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          let remaining = replayOptions?.limit ?? Number.POSITIVE_INFINITY
          let count = 0
          const reviveAll = (entries: ReadonlyArray<Entry>) =>
            Effect.forEach(entries, (entry) => {
              const item: OutboxItem = { ...entry.item, attempts: 0, replayedAt: now }
              return reviveScript(
                keys.dead,
                keys.deadIndex,
                keys.items,
                keys.enqueued,
                keys.owners,
                keys.due,
                list(item.dedupKey),
                item.id,
                JSON.stringify(item),
                now,
                item.dedupKey
              )
            }, { concurrency: 16 }).pipe(Effect.map((results) => results.reduce((sum, n) => sum + n, 0)))
          if (replayOptions?.ids !== undefined) {
            const wanted = replayOptions.ids
            for (let start = 0; start < wanted.length; start += batch) {
              const records = yield* send<Array<string | null>>(
                "read dead letters",
                "HMGET",
                keys.dead,
                ...wanted.slice(start, start + batch)
              )
              const entries = decodeEntries(records).map((record) => ({ ...(record as { item: OutboxItem }) }))
              count += yield* reviveAll(entries.map((record) => ({ item: record.item, state: "dead" as const })))
            }
          } else {
            while (remaining > 0) {
              // Revived letters leave the index, so the next page starts at offset 0 again.
              const entries = yield* listDead(0, Math.min(batch, remaining))
              if (entries.length === 0) break
              const revived = yield* reviveAll(entries)
              count += revived
              remaining -= entries.length
              if (revived === 0) break
            }
          }
          if (count > 0) nudge.openUnsafe()
          return count
        }),
      purge: ({ ids, state }) =>
        Effect.gen(function*() {
          let count = 0
          const purgeIds = (batchIds: ReadonlyArray<string>) =>
            Effect.gen(function*() {
              if (state === "dead") {
                const results = yield* Effect.forEach(
                  batchIds,
                  (id) => purgeDeadScript(keys.dead, keys.deadIndex, id),
                  { concurrency: 16 }
                )
                return results.reduce((sum, n) => sum + n, 0)
              }
              const items = yield* send<Array<string | null>>("read items", "HMGET", keys.items, ...batchIds)
              const results = yield* Effect.forEach(items, (text, index) => {
                if (text === null) return Effect.succeed(0)
                const item = JSON.parse(text) as OutboxItem
                return purgeQueuedScript(
                  keys.items,
                  keys.enqueued,
                  keys.attempts,
                  keys.retry,
                  keys.owners,
                  keys.due,
                  list(item.dedupKey),
                  batchIds[index]!,
                  item.dedupKey
                )
              }, { concurrency: 16 })
              return results.reduce((sum, n) => sum + n, 0)
            })
          if (ids !== undefined) {
            for (let start = 0; start < ids.length; start += batch) {
              count += yield* purgeIds(ids.slice(start, start + batch))
            }
            return count
          }
          const index = state === "dead" ? keys.deadIndex : keys.enqueued
          let offset = 0
          while (true) {
            const page = yield* send<Array<string>>(
              "list items",
              "ZRANGE",
              index,
              String(offset),
              String(offset + batch - 1)
            )
            if (page.length === 0) break
            const removed = yield* purgeIds(page)
            count += removed
            // Held items stay in the index, so the next page skips them.
            offset += page.length - removed
          }
          return count
        }),
      stats: Effect.gen(function*() {
        const depth = yield* send<number>("read counts", "ZCARD", keys.enqueued)
        const inFlight = yield* send<number>("read counts", "HLEN", keys.owners)
        const deadLetters = yield* send<number>("read counts", "HLEN", keys.dead)
        // RESP2 replies a flat [member, score]; RESP3 clients may nest the pair.
        const oldest = (yield* send<Array<unknown>>("read counts", "ZRANGE", keys.enqueued, "0", "0", "WITHSCORES"))
          .flat()
        return {
          depth: Number(depth),
          inFlight: Number(inFlight),
          deadLetters: Number(deadLetters),
          oldestEnqueuedAt: oldest.length >= 2 ? Number(oldest[1]) : undefined
        }
      })
    })
  })

/**
 * Provides the Redis store on the `Redis` service.
 *
 * @example
 * ```ts
 * import { NodeRedis } from "@effect/platform-node"
 * import { OutboxRedisStore } from "@effect-pagerduty/pagerduty"
 * import { Layer } from "effect"
 *
 * const StoreLive = OutboxRedisStore.layer({ prefix: "{pd-relay}:outbox:" }).pipe(
 *   Layer.provide(NodeRedis.layer({ url: "redis://127.0.0.1:6379" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<OutboxStore, never, Redis.Redis> =>
  Layer.effect(OutboxStore, make(options))
