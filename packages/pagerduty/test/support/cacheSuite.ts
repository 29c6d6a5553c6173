/**
 * The Cache test suite, one function run against each CacheStore layer.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, Schema } from "effect"
import * as Redis from "effect/persistence/Redis"
import * as Cache from "../../src/Cache.ts"

export interface Backend {
  readonly name: string
  readonly store: Layer.Layer<Cache.CacheStore, unknown>
  // memory runs under TestClock; Redis expires keys on its own clock, so it needs real time
  readonly test: typeof it.effect
  readonly elapse: (duration: Duration.Input) => Effect.Effect<void>
}

export const cacheSuite = (backend: Backend) =>
  describe(`Cache on ${backend.name}`, () => {
    const run = <A, E>(program: (cache: Cache.CacheView) => Effect.Effect<A, E>) =>
      Effect.flatMap(Cache.make({ defaultTimeToLive: "1 minute" }), program).pipe(Effect.provide(backend.store))

    backend.test("set then get returns the value", () =>
      run((cache) =>
        Effect.gen(function*() {
          yield* cache.set("a", "1")
          expect(yield* cache.get("a")).toEqual(Option.some("1"))
          expect(yield* cache.get("missing")).toEqual(Option.none())
        })
      ))

    backend.test("entries expire after their time to live", () =>
      run((cache) =>
        Effect.gen(function*() {
          yield* cache.set("short", "x", "200 millis")
          yield* cache.set("long", "y", "1 minute")
          expect(yield* cache.get("short")).toEqual(Option.some("x"))
          yield* backend.elapse("400 millis")
          expect(yield* cache.get("short")).toEqual(Option.none())
          expect(yield* cache.get("long")).toEqual(Option.some("y"))
        })
      ))

    backend.test("setIfAbsent sets only once", () =>
      run((cache) =>
        Effect.gen(function*() {
          expect(yield* cache.setIfAbsent("k", "first")).toBe(true)
          expect(yield* cache.setIfAbsent("k", "second")).toBe(false)
          expect(yield* cache.get("k")).toEqual(Option.some("first"))
        })
      ))

    backend.test("setIfAbsent sets again after expiry", () =>
      run((cache) =>
        Effect.gen(function*() {
          expect(yield* cache.setIfAbsent("k", "first", "200 millis")).toBe(true)
          yield* backend.elapse("400 millis")
          expect(yield* cache.setIfAbsent("k", "second")).toBe(true)
          expect(yield* cache.get("k")).toEqual(Option.some("second"))
        })
      ))

    backend.test("concurrent setIfAbsent has one winner", () =>
      run((cache) =>
        Effect.gen(function*() {
          const results = yield* Effect.forEach(
            Array.from({ length: 20 }, (_, i) => String(i)),
            (value) => cache.setIfAbsent("race", value),
            { concurrency: "unbounded" }
          )
          expect(results.filter((won) => won)).toHaveLength(1)
        })
      ))

    backend.test("delete removes and reports presence", () =>
      run((cache) =>
        Effect.gen(function*() {
          yield* cache.set("d", "1")
          expect(yield* cache.delete("d")).toBe(true)
          expect(yield* cache.delete("d")).toBe(false)
          expect(yield* cache.get("d")).toEqual(Option.none())
        })
      ))

    backend.test("namespaces keep keys apart", () =>
      run((cache) =>
        Effect.gen(function*() {
          const webhooks = Cache.namespace(cache, "webhooks")
          const other = Cache.namespace(cache, "other")
          yield* webhooks.set("id", "w")
          yield* other.set("id", "o")
          expect(yield* webhooks.get("id")).toEqual(Option.some("w"))
          expect(yield* other.get("id")).toEqual(Option.some("o"))
          expect(yield* cache.get("webhooks:id")).toEqual(Option.some("w"))
          expect(Cache.namespace(webhooks, "inner").namespace).toBe("webhooks:inner")
        })
      ))

    backend.test("getOrLoad runs one load for a burst", () =>
      run((cache) =>
        Effect.gen(function*() {
          let loads = 0
          const load = Effect.sync(() => ++loads).pipe(
            Effect.delay("10 millis"),
            Effect.map((n) => `loaded-${n}`)
          )
          const fiber = yield* Effect.forEach(
            Array.from({ length: 50 }),
            () => cache.getOrLoad("burst", load),
            { concurrency: "unbounded" }
          ).pipe(Effect.forkChild)
          yield* backend.elapse("20 millis")
          const values = yield* Fiber.join(fiber)
          expect(loads).toBe(1)
          expect(new Set(values)).toEqual(new Set(["loaded-1"]))
          expect(yield* cache.get("burst")).toEqual(Option.some("loaded-1"))
        })
      ))

    backend.test("getOrLoad shares a failure and retries later", () =>
      run((cache) =>
        Effect.gen(function*() {
          let loads = 0
          const failing = Effect.suspend(() => {
            loads++
            return Effect.fail("boom" as const)
          }).pipe(Effect.delay("10 millis"))
          const fiber = yield* Effect.forEach(
            Array.from({ length: 5 }),
            () => Effect.flip(cache.getOrLoad("broken", failing)),
            { concurrency: "unbounded" }
          ).pipe(Effect.forkChild)
          yield* backend.elapse("20 millis")
          expect(yield* Fiber.join(fiber)).toEqual(["boom", "boom", "boom", "boom", "boom"])
          expect(loads).toBe(1)
          expect(yield* cache.getOrLoad("broken", Effect.succeed("ok"))).toBe("ok")
        })
      ))

    backend.test("schema view round-trips typed values", () =>
      run((cache) =>
        Effect.gen(function*() {
          const typed = Cache.schema(cache, Schema.Struct({ id: Schema.String, count: Schema.Number }))
          yield* typed.set("t", { id: "P1", count: 2 })
          expect(yield* typed.get("t")).toEqual(Option.some({ id: "P1", count: 2 }))
          yield* cache.set("bad", "not json")
          const error = yield* Effect.flip(typed.get("bad"))
          expect(error.reason._tag).toBe("InvalidValue")
        })
      ))
  })

/** A unique key prefix on the shared Redis, so a run touches only its own keys. */
export const uniqueRedisPrefix = (name: string) => `effect-pagerduty-test:${name}:${process.pid}:${Date.now()}:`

/** Deletes every key under `prefix`. */
export const deleteKeys = (prefix: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    let cursor = "0"
    do {
      const [next, keys] = yield* redis.send<[string, Array<string>]>("SCAN", cursor, "MATCH", `${prefix}*`)
      cursor = next
      if (keys.length > 0) yield* redis.send("DEL", ...keys)
    } while (cursor !== "0")
  })

/** The Redis store under `prefix`, whose keys are deleted when the layer closes. */
export const redisStoreLayer = <E>(prefix: string, redis: Layer.Layer<Redis.Redis, E>) =>
  Layer.effectDiscard(Effect.addFinalizer(() => Effect.orDie(deleteKeys(prefix)))).pipe(
    Layer.provideMerge(Cache.layerStoreRedis({ prefix })),
    Layer.provide(redis)
  )
