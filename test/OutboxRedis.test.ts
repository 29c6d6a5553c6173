import * as Outbox from "@effect-pagerduty/pagerduty/Outbox"
import * as OutboxRedisStore from "@effect-pagerduty/pagerduty/OutboxRedisStore"
import { type OutboxItem, OutboxStore } from "@effect-pagerduty/pagerduty/OutboxStore"
import { IoRedis } from "@effect-pagerduty/redis"
import { describe, expect, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { redisCluster, redisServer } from "./support/redisServers.ts"

// The restart tests provoke reconnection warnings on purpose.
const live = <A, E>(name: string, body: () => Effect.Effect<A, E, Scope.Scope>, timeout = 60_000) =>
  it.live(name, () => Effect.provideService(body(), References.MinimumLogLevel, "Error"), { timeout })

const connect = (port: number) =>
  Effect.map(
    Layer.build(IoRedis.layer({ topology: IoRedis.standalone({ host: "127.0.0.1", port }) })),
    (context) => Context.get(context, Redis.Redis)
  )

/** A store in a scope of its own, standing in for one relay process. */
const openStore = (redis: Redis.Redis["Service"], options: OutboxRedisStore.Options) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const store = yield* OutboxRedisStore.make(options).pipe(
      Effect.provideService(Redis.Redis, redis),
      Scope.provide(scope)
    )
    return { store, scope }
  })

let sequence = 0
const item = (dedupKey: string, seq: number): OutboxItem => ({
  id: `item-${++sequence}`,
  route: "redis-test",
  dedupKey,
  action: "trigger",
  body: JSON.stringify({ dedup_key: dedupKey, seq }),
  enqueuedAt: Date.now(),
  attempts: 0
})

const waitUntil = (condition: () => boolean, what: string, timeoutMillis = 40_000) =>
  Effect.gen(function*() {
    const started = Date.now()
    while (!condition()) {
      if (Date.now() - started > timeoutMillis) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("20 millis")
    }
  })

describe("OutboxRedisStore", () => {
  live("redelivers a crashed worker's item after its lease", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const redis = yield* connect(server.port)
      const options: OutboxRedisStore.Options = {
        prefix: "{outbox}:",
        leaseDuration: "600 millis",
        pollInterval: "20 millis"
      }
      const crashed = yield* openStore(redis, options)
      const survivor = yield* openStore(redis, options)
      yield* crashed.store.offer(item("disk-full", 1))
      const first = yield* crashed.store.claim
      // the process dies: its lease renewals stop and nothing is settled
      yield* Scope.close(crashed.scope, Exit.void)
      const started = Date.now()
      const again = yield* survivor.store.claim
      expect(again.item.id).toBe(first.item.id)
      expect(again.item.attempts).toBe(2)
      expect(Date.now() - started).toBeGreaterThanOrEqual(400)
      // the crashed worker's late settlement is fenced off
      yield* survivor.store.complete(first)
      expect((yield* survivor.store.stats).depth).toBe(1)
      yield* survivor.store.complete(again)
      expect((yield* survivor.store.stats).depth).toBe(0)
    }))

  live("renews the lease of a long delivery", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const redis = yield* connect(server.port)
      const options: OutboxRedisStore.Options = {
        prefix: "{outbox}:",
        leaseDuration: "300 millis",
        pollInterval: "20 millis"
      }
      const holder = yield* openStore(redis, options)
      const other = yield* openStore(redis, options)
      yield* holder.store.offer(item("k", 1))
      const claim = yield* holder.store.claim
      const stolen = yield* other.store.claim.pipe(Effect.timeoutOption("1 second"))
      expect(stolen._tag).toBe("None")
      yield* holder.store.complete(claim)
    }))

  live("keeps per-key order across processes", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const redis = yield* connect(server.port)
      const options: OutboxRedisStore.Options = { prefix: "{outbox}:", pollInterval: "10 millis" }
      const offered = new Map<string, Array<string>>()
      const delivered = new Map<string, Array<string>>()
      const inFlight = new Set<string>()
      let overlaps = 0
      let seed = 11
      const deliver = (outboxItem: OutboxItem) =>
        Effect.gen(function*() {
          if (inFlight.has(outboxItem.dedupKey)) overlaps++
          inFlight.add(outboxItem.dedupKey)
          yield* Effect.sleep(Duration.millis(2 + (outboxItem.id.length % 5)))
          inFlight.delete(outboxItem.dedupKey)
          seed = (seed * 48271) % 2147483647
          if (seed % 4 === 0) return yield* Effect.fail({ reason: { retryable: true } })
          delivered.set(outboxItem.dedupKey, [...(delivered.get(outboxItem.dedupKey) ?? []), outboxItem.id])
        })
      const processes = yield* Effect.forEach([1, 2], () => openStore(redis, options))
      for (const { scope, store } of processes) {
        yield* Outbox.worker({
          deliver,
          concurrency: 4,
          isRetryable: () => true,
          schedule: Schedule.spaced("20 millis")
        }).pipe(Effect.provideService(OutboxStore, store), Scope.provide(scope))
      }
      for (let round = 0; round < 5; round++) {
        for (let key = 0; key < 20; key++) {
          const next = item(`key-${key}`, round)
          offered.set(next.dedupKey, [...(offered.get(next.dedupKey) ?? []), next.id])
          yield* processes[round % 2]!.store.offer(next)
        }
      }
      yield* waitUntil(() => [...delivered.values()].reduce((sum, ids) => sum + ids.length, 0) >= 100, "every delivery")
      expect(overlaps).toBe(0)
      for (const [key, ids] of offered) expect(delivered.get(key)).toEqual(ids)
      yield* Effect.forEach(processes, ({ scope }) => Scope.close(scope, Exit.void))
    }))

  live("loses nothing across a Redis restart", () =>
    Effect.gen(function*() {
      const server = yield* redisServer({ appendOnly: true })
      const redis = yield* connect(server.port)
      const { store } = yield* openStore(redis, { prefix: "{outbox}:", pollInterval: "20 millis" })
      const accepted = new Set<string>()
      const arrived = new Set<string>()
      yield* Outbox.worker({
        deliver: (outboxItem) => Effect.sync(() => arrived.add(outboxItem.id)).pipe(Effect.delay("1 millis")),
        concurrency: 8,
        schedule: Schedule.spaced("50 millis")
      }).pipe(Effect.provideService(OutboxStore, store))

      // A sender that retries an offer until it is accepted, as a sender does after a 503.
      const producer = Effect.forEach(
        Array.from({ length: 2000 }, (_, index) => item(`key-${index % 50}`, index)),
        (next) =>
          store.offer(next).pipe(
            Effect.retry(Schedule.spaced("50 millis")),
            Effect.tap(() => Effect.sync(() => accepted.add(next.id)))
          ),
        { concurrency: 16, discard: true }
      )
      const producing = yield* Effect.forkChild(producer)
      yield* waitUntil(() => arrived.size >= 500, "the first deliveries")
      yield* Effect.promise(() => server.restart())
      yield* Fiber.join(producing)
      yield* waitUntil(() => [...accepted].every((id) => arrived.has(id)), "every accepted item", 50_000).pipe(
        Effect.catchDefect((defect) =>
          Effect.flatMap(Effect.orDie(store.stats), (stats) =>
            Effect.die(
              new Error(
                `${String(defect)}: ${arrived.size} of ${accepted.size} arrived, store ${JSON.stringify(stats)}`
              )
            ))
        )
      )
      expect(accepted.size).toBe(2000)
      const stats = yield* store.stats.pipe(Effect.retry(Schedule.spaced("100 millis")))
      expect(stats.depth).toBe(0)
    }), 90_000)

  live("runs on Redis Cluster", () =>
    Effect.gen(function*() {
      const cluster = yield* redisCluster
      const redis = yield* Effect.map(
        Layer.build(
          IoRedis.layer({
            topology: IoRedis.cluster({ nodes: cluster.nodes.map((node) => ({ host: node.host, port: node.port })) })
          })
        ),
        (context) => Context.get(context, Redis.Redis)
      )
      const { store } = yield* openStore(redis, { prefix: "{pd-outbox}:", pollInterval: "20 millis" })
      const first = item("k", 1)
      const second = item("k", 2)
      yield* store.offer(first)
      yield* store.offer(second)
      const claim = yield* store.claim
      expect(claim.item.id).toBe(first.id)
      yield* store.deadLetter(claim, { reason: "Rejected", detail: "bad", at: 1 })
      const next = yield* store.claim
      expect(next.item.id).toBe(second.id)
      yield* store.complete(next)
      expect(yield* store.replay()).toBe(1)
      expect((yield* store.stats).depth).toBe(1)
    }))
})
