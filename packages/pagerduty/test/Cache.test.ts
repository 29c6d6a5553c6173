import { NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as Cache from "../src/Cache.ts"
import { cacheSuite, redisStoreLayer, uniqueRedisPrefix } from "./support/cacheSuite.ts"

cacheSuite({
  name: "memory",
  store: Cache.layerStoreMemory({ capacity: 100 }),
  test: it.effect,
  elapse: (duration) => TestClock.adjust(duration)
})

cacheSuite({
  name: "Redis (node-redis)",
  store: redisStoreLayer(uniqueRedisPrefix("cache"), NodeRedis.layer({ url: "redis://127.0.0.1:6379" })),
  test: it.live,
  elapse: (duration) => Effect.sleep(duration)
})

describe("Cache on memory, bounds", () => {
  it.effect("evicts the least recently used entry", () =>
    Effect.gen(function*() {
      const cache = yield* Cache.make()
      yield* cache.set("a", "1")
      yield* cache.set("b", "2")
      yield* cache.get("a")
      yield* cache.set("c", "3")
      expect(yield* cache.get("b")).toEqual(Option.none())
      expect(yield* cache.get("a")).toEqual(Option.some("1"))
      expect(yield* cache.get("c")).toEqual(Option.some("3"))
    }).pipe(Effect.provide(Cache.layerStoreMemory({ capacity: 2 }))))

  it("rejects an invalid capacity", () => {
    expect(() => Effect.runSync(Cache.makeStoreMemory({ capacity: 0 }))).toThrow(RangeError)
  })

  it("rejects a non-positive time to live", () => {
    expect(() => Effect.runSync(Cache.make({ defaultTimeToLive: 0 }).pipe(Effect.provide(Cache.layerStoreMemory()))))
      .toThrow(/defaultTimeToLive/)
  })

  it("layerMemory provides the service", async () => {
    const value = await Effect.runPromise(
      Effect.gen(function*() {
        const cache = yield* Cache.Cache
        yield* cache.set("x", "y")
        return yield* cache.get("x")
      }).pipe(Effect.provide(Cache.layerMemory()))
    )
    expect(value).toEqual(Option.some("y"))
  })
})
