/**
 * A string cache with a time to live per entry, namespaces, a bound on its
 * size and single-flight loading, with storage behind {@link CacheStore}.
 *
 * {@link layerStoreMemory} keeps entries in the process, bounded by count with
 * the least recently used entry evicted first, and reads time from `Clock`,
 * so `TestClock` drives expiry. {@link layerStoreRedis} keeps them in Redis
 * through `effect/persistence`'s `Redis` service, where `PX` expiry bounds
 * them, so several processes share one cache.
 *
 * @example
 * ```ts
 * import { Cache } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const cache = Cache.namespace(yield* Cache.Cache, "webhooks")
 *   const first = yield* cache.setIfAbsent("delivery-1", "seen", "48 hours")
 *   const second = yield* cache.setIfAbsent("delivery-1", "seen", "48 hours")
 *   return [first, second] // [true, false]
 * }).pipe(Effect.provide(Cache.layerMemory({ capacity: 10_000 })))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redis from "effect/persistence/Redis"
import * as Schema from "effect/Schema"
import * as Errors from "./Errors.ts"

/**
 * The cache's storage failed, for example because Redis is unreachable.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreUnavailable extends Schema.TaggedClass<StoreUnavailable>()("StoreUnavailable", {
  operation: Schema.String,
  cause: Schema.Defect()
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    return `cache store ${this.operation} failed (${String(this.cause)}); check that the store is reachable`
  }
}

/**
 * A stored value did not decode with the schema of a typed view.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidValue extends Schema.TaggedClass<InvalidValue>()("InvalidValue", {
  key: Schema.String,
  issue: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `cached value of ${this.key} is invalid (${this.issue}); delete the key or fix the writer`
  }
}

/**
 * The error of every cache operation.
 *
 * @since 0.1.0
 * @category errors
 */
export class CacheError extends Schema.TaggedError<CacheError>()("CacheError", {
  reason: Schema.Union([StoreUnavailable, InvalidValue])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * Storage for cache entries: string keys and values, each with a time to live.
 *
 * Keys reach the store fully qualified (namespace included). `setIfAbsent`
 * must be atomic: of concurrent calls for one absent key, exactly one returns
 * `true`.
 *
 * @since 0.1.0
 * @category services
 */
export class CacheStore extends Context.Service<CacheStore, {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, CacheError>
  readonly set: (key: string, value: string, timeToLive: Duration.Duration) => Effect.Effect<void, CacheError>
  readonly setIfAbsent: (
    key: string,
    value: string,
    timeToLive: Duration.Duration
  ) => Effect.Effect<boolean, CacheError>
  readonly delete: (key: string) => Effect.Effect<boolean, CacheError>
}>()("@effect-pagerduty/pagerduty/Cache/CacheStore") {}

/**
 * A view of the cache, rooted at one namespace.
 *
 * A `timeToLive` left out falls back to the cache's `defaultTimeToLive`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CacheView {
  /** The namespace path of this view, `""` at the root. */
  readonly namespace: string
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, CacheError>
  readonly set: (key: string, value: string, timeToLive?: Duration.Input) => Effect.Effect<void, CacheError>
  /** Stores the value only when the key is absent or expired, atomically, and returns whether it did. */
  readonly setIfAbsent: (key: string, value: string, timeToLive?: Duration.Input) => Effect.Effect<boolean, CacheError>
  /** Removes the key and returns whether it was present. */
  readonly delete: (key: string) => Effect.Effect<boolean, CacheError>
  /**
   * Returns the cached value, or runs `load`, stores its result and returns
   * it. Concurrent calls for one missing key in this process share a single
   * run of `load`, and all of them see its result or failure.
   *
   * NOTE: single-flight works within one process. Processes sharing a Redis
   * store may each run `load` once for the same key.
   */
  readonly getOrLoad: <E, R>(
    key: string,
    load: Effect.Effect<string, E, R>,
    timeToLive?: Duration.Input
  ) => Effect.Effect<string, E | CacheError, R>
}

/**
 * The cache service, a {@link CacheView} at the root namespace.
 *
 * @since 0.1.0
 * @category services
 */
export class Cache extends Context.Service<Cache, CacheView>()("@effect-pagerduty/pagerduty/Cache") {}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Time to live of entries written without one. Default: 1 hour. */
  readonly defaultTimeToLive?: Duration.Input | undefined
  /** Namespace of the returned root view. Default: none. */
  readonly namespace?: string | undefined
}

const checkTimeToLive = (name: string, input: Duration.Input): Duration.Duration => {
  const duration = Duration.fromInputUnsafe(input)
  if (!Duration.isFinite(duration) || Duration.toMillis(duration) <= 0) {
    throw new RangeError(`${name} must be a positive, finite duration, got ${Duration.format(duration)}`)
  }
  return duration
}

const checkNamespace = (namespace: string): string => {
  if (namespace.length === 0 || namespace.includes(":")) {
    throw new RangeError(`namespace must be non-empty and contain no ":", got ${JSON.stringify(namespace)}`)
  }
  return namespace
}

interface ViewState {
  readonly store: CacheStore["Service"]
  readonly defaultTimeToLive: Duration.Duration
  // Loads in flight, by fully qualified key; shared by every view of one cache.
  readonly inflight: Map<string, Deferred.Deferred<string, unknown>>
}

const viewsByCache = new WeakMap<CacheView, ViewState>()

const makeView = (state: ViewState, namespace: string): CacheView => {
  const prefix = namespace === "" ? "" : `${namespace}:`
  const ttl = (input: Duration.Input | undefined) =>
    input === undefined ? state.defaultTimeToLive : checkTimeToLive("timeToLive", input)
  const { store } = state

  const getOrLoad = <E, R>(key: string, load: Effect.Effect<string, E, R>, timeToLive?: Duration.Input) =>
    Effect.suspend(() => {
      const fullKey = prefix + key
      const duration = ttl(timeToLive)
      return Effect.flatMap(store.get(fullKey), (cached): Effect.Effect<string, E | CacheError, R> => {
        if (Option.isSome(cached)) return Effect.succeed(cached.value)
        const running = state.inflight.get(fullKey)
        if (running !== undefined) return Deferred.await(running) as Effect.Effect<string, E | CacheError>
        const deferred = Deferred.makeUnsafe<string, unknown>()
        state.inflight.set(fullKey, deferred)
        return load.pipe(
          Effect.tap((value) => store.set(fullKey, value, duration)),
          Effect.onExit((exit) => {
            state.inflight.delete(fullKey)
            return Deferred.done(deferred, exit)
          })
        )
      })
    })

  const view: CacheView = {
    namespace,
    get: (key) => store.get(prefix + key),
    set: (key, value, timeToLive) => Effect.suspend(() => store.set(prefix + key, value, ttl(timeToLive))),
    setIfAbsent: (key, value, timeToLive) =>
      Effect.suspend(() => store.setIfAbsent(prefix + key, value, ttl(timeToLive))),
    delete: (key) => store.delete(prefix + key),
    getOrLoad
  }
  viewsByCache.set(view, state)
  return view
}

/**
 * Builds a cache on the current {@link CacheStore}.
 *
 * Throws `RangeError` when `defaultTimeToLive` is not a positive, finite
 * duration.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<CacheView, never, CacheStore> =>
  Effect.map(Effect.service(CacheStore), (store) => {
    const state: ViewState = {
      store,
      defaultTimeToLive: checkTimeToLive("defaultTimeToLive", options?.defaultTimeToLive ?? Duration.hours(1)),
      inflight: new Map()
    }
    return makeView(state, options?.namespace === undefined ? "" : checkNamespace(options.namespace))
  })

/**
 * Returns a view whose keys live under `name` inside the namespace of
 * `cache`, so `namespace(namespace(cache, "a"), "b")` stores `a:b:<key>`.
 *
 * Throws `RangeError` when `name` is empty or contains `:`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const namespace = (cache: CacheView, name: string): CacheView => {
  checkNamespace(name)
  const state = viewsByCache.get(cache)
  if (state === undefined) {
    throw new RangeError("namespace expects a cache built by Cache.make")
  }
  return makeView(state, cache.namespace === "" ? name : `${cache.namespace}:${name}`)
}

/**
 * A typed view of a cache whose values go through a schema, stored as JSON.
 *
 * @since 0.1.0
 * @category models
 */
export interface TypedCacheView<A> {
  readonly get: (key: string) => Effect.Effect<Option.Option<A>, CacheError>
  readonly set: (key: string, value: A, timeToLive?: Duration.Input) => Effect.Effect<void, CacheError>
  readonly setIfAbsent: (key: string, value: A, timeToLive?: Duration.Input) => Effect.Effect<boolean, CacheError>
  readonly delete: (key: string) => Effect.Effect<boolean, CacheError>
  readonly getOrLoad: <E, R>(
    key: string,
    load: Effect.Effect<A, E, R>,
    timeToLive?: Duration.Input
  ) => Effect.Effect<A, E | CacheError, R>
}

/**
 * Returns a typed view of `cache` that encodes values with `schema` to JSON
 * and decodes them on the way out.
 *
 * A stored value that does not decode fails with an `InvalidValue` reason.
 * The schema must need no services to encode or decode.
 *
 * @since 0.1.0
 * @category combinators
 */
export const schema = <S extends Schema.Codec<any, any, never, never>>(
  cache: CacheView,
  schema: S
): TypedCacheView<S["Type"]> => {
  const codec = Schema.fromJsonString(Schema.toCodecJson(schema))
  const decode = Schema.decodeUnknownEffect(codec)
  const encode = Schema.encodeUnknownEffect(codec)
  const decodeAt = (key: string) => (text: string) =>
    Effect.mapError(
      decode(text) as Effect.Effect<S["Type"], Schema.SchemaError>,
      (error) => new CacheError({ reason: new InvalidValue({ key, issue: error.message }) })
    )
  const encodeAt = (key: string) => (value: S["Type"]) =>
    Effect.mapError(
      encode(value) as Effect.Effect<string, Schema.SchemaError>,
      (error) => new CacheError({ reason: new InvalidValue({ key, issue: error.message }) })
    )
  return {
    get: (key) =>
      Effect.flatMap(
        cache.get(key),
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (text) => Effect.asSome(decodeAt(key)(text))
        })
      ),
    set: (key, value, timeToLive) => Effect.flatMap(encodeAt(key)(value), (text) => cache.set(key, text, timeToLive)),
    setIfAbsent: (key, value, timeToLive) =>
      Effect.flatMap(encodeAt(key)(value), (text) => cache.setIfAbsent(key, text, timeToLive)),
    delete: cache.delete,
    getOrLoad: (key, load, timeToLive) =>
      Effect.flatMap(
        cache.getOrLoad(key, Effect.flatMap(load, encodeAt(key)), timeToLive),
        decodeAt(key)
      )
  }
}

/**
 * Provides {@link Cache} on the current {@link CacheStore}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Cache, never, CacheStore> => Layer.effect(Cache, make(options))

/**
 * Provides {@link Cache} on a bounded in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: Options & MemoryStoreOptions): Layer.Layer<Cache> =>
  layer(options).pipe(Layer.provide(layerStoreMemory(options)))

/**
 * Options of {@link layerStoreMemory}.
 *
 * @since 0.1.0
 * @category models
 */
export interface MemoryStoreOptions {
  /** Maximum number of entries; the least recently used is evicted beyond it. Default: 10,000. */
  readonly capacity?: number | undefined
}

interface MemoryEntry {
  readonly value: string
  readonly expiresAt: number
}

/**
 * Builds an in-memory store bounded to `capacity` entries, evicting the least
 * recently used entry first, with expiry read from `Clock`.
 *
 * Expired entries are dropped when read and when eviction runs. Throws
 * `RangeError` when `capacity` is not a positive integer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreMemory = (options?: MemoryStoreOptions): Effect.Effect<CacheStore["Service"]> =>
  Effect.map(Effect.service(Clock.Clock), (clock) => {
    const capacity = options?.capacity ?? 10_000
    if (!Number.isInteger(capacity) || capacity <= 0) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`)
    }
    // A Map iterates in insertion order, so re-inserting on use keeps the least recently used first.
    const entries = new Map<string, MemoryEntry>()

    const live = (key: string, now: number): MemoryEntry | undefined => {
      const entry = entries.get(key)
      if (entry === undefined) return undefined
      if (entry.expiresAt <= now) {
        entries.delete(key)
        return undefined
      }
      return entry
    }
    const insert = (key: string, value: string, timeToLive: Duration.Duration, now: number) => {
      entries.delete(key)
      entries.set(key, { value, expiresAt: now + Duration.toMillis(timeToLive) })
      if (entries.size <= capacity) return
      for (const [candidate, entry] of entries) {
        if (entry.expiresAt <= now) entries.delete(candidate)
      }
      for (const candidate of entries.keys()) {
        if (entries.size <= capacity) break
        entries.delete(candidate)
      }
    }

    return CacheStore.of({
      get: (key) =>
        Effect.sync(() => {
          const entry = live(key, clock.currentTimeMillisUnsafe())
          if (entry === undefined) return Option.none()
          entries.delete(key)
          entries.set(key, entry)
          return Option.some(entry.value)
        }),
      set: (key, value, timeToLive) =>
        Effect.sync(() => insert(key, value, timeToLive, clock.currentTimeMillisUnsafe())),
      setIfAbsent: (key, value, timeToLive) =>
        Effect.sync(() => {
          const now = clock.currentTimeMillisUnsafe()
          if (live(key, now) !== undefined) return false
          insert(key, value, timeToLive, now)
          return true
        }),
      delete: (key) =>
        Effect.sync(() => live(key, clock.currentTimeMillisUnsafe()) !== undefined && entries.delete(key))
    })
  })

/**
 * Provides a bounded in-memory {@link CacheStore}; see {@link makeStoreMemory}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory = (options?: MemoryStoreOptions): Layer.Layer<CacheStore> =>
  Layer.effect(CacheStore, makeStoreMemory(options))

/**
 * Options of {@link layerStoreRedis}.
 *
 * @since 0.1.0
 * @category models
 */
export interface RedisStoreOptions {
  /** Prefix of every Redis key the store writes. Default: `"effect-pagerduty:cache:"`. */
  readonly prefix?: string | undefined
}

const storeFailure = (operation: string) => (error: Redis.RedisError): CacheError =>
  new CacheError({ reason: new StoreUnavailable({ operation, cause: error.cause }) })

/**
 * Builds a store on `effect/persistence`'s `Redis` service.
 *
 * Every entry is written with `PX`, so Redis expiry bounds the store;
 * `setIfAbsent` is `SET ... NX`, atomic across processes. Key names are
 * `prefix` followed by the namespaced key, so keys must not carry secrets.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeStoreRedis = (options?: RedisStoreOptions): Effect.Effect<CacheStore["Service"], never, Redis.Redis> =>
  Effect.map(Effect.service(Redis.Redis), (redis) => {
    const prefix = options?.prefix ?? "effect-pagerduty:cache:"
    const millis = (timeToLive: Duration.Duration) => String(Math.max(1, Math.ceil(Duration.toMillis(timeToLive))))
    return CacheStore.of({
      get: (key) =>
        redis.send<string | null>("GET", prefix + key).pipe(
          Effect.map(Option.fromNullishOr),
          Effect.mapError(storeFailure("GET"))
        ),
      set: (key, value, timeToLive) =>
        redis.send("SET", prefix + key, value, "PX", millis(timeToLive)).pipe(
          Effect.asVoid,
          Effect.mapError(storeFailure("SET"))
        ),
      setIfAbsent: (key, value, timeToLive) =>
        redis.send<string | null>("SET", prefix + key, value, "PX", millis(timeToLive), "NX").pipe(
          Effect.map((reply) => reply === "OK"),
          Effect.mapError(storeFailure("SET NX"))
        ),
      delete: (key) =>
        redis.send<number>("DEL", prefix + key).pipe(
          Effect.map((removed) => Number(removed) > 0),
          Effect.mapError(storeFailure("DEL"))
        )
    })
  })

/**
 * Provides a Redis {@link CacheStore}; see {@link makeStoreRedis}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreRedis = (options?: RedisStoreOptions): Layer.Layer<CacheStore, never, Redis.Redis> =>
  Layer.effect(CacheStore, makeStoreRedis(options))
