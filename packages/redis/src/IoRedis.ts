/**
 * The `effect/persistence` `Redis` service on ioredis, for a standalone
 * server, a Sentinel-managed primary or a Cluster.
 *
 * Commands never wait for a connection that is down: the offline queue is
 * off, in-flight commands fail on the first reconnection attempt
 * (`maxRetriesPerRequest: 0`), and every command on the shared connection has
 * a `commandTimeout` (2 seconds unless set). So a command sent while Redis is
 * unreachable fails with a `RedisError` within that time, and commands succeed
 * again once ioredis has reconnected.
 *
 * @example
 * ```ts
 * import { IoRedis } from "@effect-pagerduty/redis"
 * import { Effect } from "effect"
 * import { Redis } from "effect/persistence"
 *
 * const program = Effect.gen(function*() {
 *   const redis = yield* Redis.Redis
 *   return yield* redis.send<string>("PING")
 * }).pipe(Effect.provide(IoRedis.layer({ topology: IoRedis.standalone({ host: "127.0.0.1", port: 6379 }) })))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Redacted from "effect/Redacted"
import { Cluster, Redis as IoRedisClient } from "ioredis"
import type { RedisOptions } from "ioredis"
import * as Url from "./internal/url.ts"

/**
 * A host and port of one server, Sentinel or Cluster node.
 *
 * @since 0.1.0
 * @category models
 */
export type Address = Url.Address

/**
 * The arrangement of the Redis servers: one server, a Sentinel-managed primary or a Cluster.
 *
 * @since 0.1.0
 * @category models
 */
export type Topology = Url.Topology

/**
 * A single Redis server.
 *
 * @since 0.1.0
 * @category constructors
 */
export const standalone = (
  options: { readonly host: string; readonly port: number; readonly db?: number }
): Topology => ({
  _tag: "Standalone",
  ...options
})

/**
 * A primary found through Sentinels under the name `name`. ioredis follows
 * failovers to the new primary.
 *
 * @since 0.1.0
 * @category constructors
 */
export const sentinel = (options: {
  readonly sentinels: ReadonlyArray<Address>
  readonly name: string
  readonly db?: number
}): Topology => ({ _tag: "Sentinel", ...options })

/**
 * A Redis Cluster reached through any of its `nodes`.
 *
 * Keys that one script or command touches together must hash to one slot, so
 * give them a common hash tag such as `{outbox}:`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cluster = (options: { readonly nodes: ReadonlyArray<Address> }): Topology => ({
  _tag: "Cluster",
  ...options
})

/**
 * Parses a Redis URL into a topology and the credentials it carries.
 *
 * Accepted forms: `redis://[user:password@]host[:port][/db]`,
 * `redis+sentinel://host[:port][,host[:port]...]/primary-name[/db]` and
 * `redis+cluster://host[:port][,host[:port]...]`. Throws a `RangeError`, which
 * never repeats the password, when the URL is invalid.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUrl: (url: string) => Url.ParsedUrl = Url.parseUrl

/**
 * Options of {@link layer}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends Redis.PoolOptions {
  readonly topology: Topology
  readonly username?: string | undefined
  readonly password?: Redacted.Redacted<string> | undefined
  /** Password of the Sentinels themselves, when they require one. */
  readonly sentinelPassword?: Redacted.Redacted<string> | undefined
  /** Time a command on the shared connection may take before it fails. Default 2 seconds. */
  readonly commandTimeout?: Duration.Input | undefined
  /** Time to connect, and to wait for the first connection when `awaitReady` is set. Default 5 seconds. */
  readonly connectTimeout?: Duration.Input | undefined
  /**
   * Whether building the layer waits for the first connection and fails when
   * it does not come. Default `true`. With `false` the layer builds at once and
   * commands fail with `RedisError` until the connection is ready.
   */
  readonly awaitReady?: boolean | undefined
  /** Maximum delay between reconnection attempts. Default 1 second. */
  readonly maxReconnectDelay?: Duration.Input | undefined
  /**
   * Further ioredis options, applied to every connection. `replyMapping` is
   * left out because ioredis' constructor types reject it alongside the rest.
   */
  readonly ioredis?: Omit<RedisOptions, "replyMapping" | "sentinels" | "name" | "host" | "port"> | undefined
}

/**
 * The ioredis client behind the `Redis` service, for commands the service
 * does not cover.
 *
 * @since 0.1.0
 * @category services
 */
export class IoRedis extends Context.Service<IoRedis, {
  readonly client: IoRedisClient | Cluster
  /** Whether the shared connection is ready for commands now. */
  readonly isReady: Effect.Effect<boolean>
}>()("@effect-pagerduty/redis/IoRedis") {}

type Client = IoRedisClient | Cluster

const noop = () => {}

const toMillis = (input: Duration.Input | undefined, fallback: Duration.Input): number =>
  Math.max(1, Math.round(Duration.toMillis(Duration.fromInputUnsafe(input ?? fallback))))

// Reconnects forever with a growing delay, capped so recovery after an outage
// is noticed within about `maxDelay`.
const retryStrategy = (maxDelay: number) => (times: number): number =>
  Math.min(50 * 2 ** Math.min(times, 10), maxDelay) + Math.floor(Math.random() * 50)

const isScriptLoad = (command: string, args: ReadonlyArray<string>) =>
  command.toUpperCase() === "SCRIPT" && args[0]?.toUpperCase() === "LOAD"

const call = (client: Client, command: string, args: ReadonlyArray<string>): Promise<unknown> =>
  client.call(command, args as Array<string>)

// A Cluster routes `SCRIPT LOAD`, which names no key, to an arbitrary node,
// while `EVALSHA` runs on the node owning its keys. Loading on every primary
// lets the script run wherever its keys live. A primary added later answers
// `NOSCRIPT`, and `Redis.make` then loads the script again, which reaches the
// new primary too.
const loadOnPrimaries = async (cluster: Cluster, args: ReadonlyArray<string>): Promise<unknown> => {
  const primaries = cluster.nodes("master")
  if (primaries.length === 0) return call(cluster, "SCRIPT", args)
  const results = await Promise.allSettled(primaries.map((node) => call(node, "SCRIPT", args)))
  const loaded = results.find((result) => result.status === "fulfilled")
  if (loaded !== undefined) return loaded.value
  throw (results[0] as PromiseRejectedResult).reason
}

const sendWith = (client: Client) => <A = unknown>(command: string, ...args: ReadonlyArray<string>) =>
  Effect.tryPromise({
    try: () =>
      (client instanceof Cluster && isScriptLoad(command, args)
        ? loadOnPrimaries(client, args)
        : call(client, command, args)) as Promise<A>,
    catch: (cause) => new Redis.RedisError({ cause })
  })

const timeoutError = (what: string, millis: number) =>
  new Redis.RedisError({ cause: new Error(`IoRedis: ${what} timed out after ${millis} ms; check that Redis is up`) })

// `quit` lets Redis reply to the commands already sent, while a connection
// that is not ready has nothing to finish and is closed at once. Either way this
// waits for the client's `end` event, after which it makes no further attempt
// to connect.
const close = (client: Client, millis: number): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    if (client.status === "end") return resume(Effect.void)
    const timer = setTimeout(() => client.disconnect(), millis)
    client.once("end", () => {
      clearTimeout(timer)
      resume(Effect.void)
    })
    if (client.status === "ready") client.quit().catch(() => client.disconnect())
    else client.disconnect()
  })

/**
 * Creates the ioredis clients for `options` and the `Redis` service on them.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: Options) {
  const commandTimeout = toMillis(options.commandTimeout, "2 seconds")
  const connectTimeout = toMillis(options.connectTimeout, "5 seconds")
  const maxReconnectDelay = toMillis(options.maxReconnectDelay, "1 second")
  const topology = options.topology

  const connectionOptions: Omit<RedisOptions, "replyMapping"> = {
    ...options.ioredis,
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: Redacted.value(options.password) }),
    ...(topology._tag !== "Cluster" && topology.db !== undefined ? { db: topology.db } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout,
    connectTimeout,
    // A command whose connection dropped fails instead of running twice.
    autoResendUnfulfilledCommands: false
  }

  const { lazyConnect: _lazy, enableOfflineQueue: _offline, ...clusterNodeOptions } = connectionOptions

  const createClient = (): Client => {
    switch (topology._tag) {
      case "Standalone":
        return new IoRedisClient({
          ...connectionOptions,
          host: topology.host,
          port: topology.port,
          retryStrategy: retryStrategy(maxReconnectDelay)
        })
      case "Sentinel":
        return new IoRedisClient({
          ...connectionOptions,
          sentinels: topology.sentinels.map(({ host, port }) => ({ host, port })),
          name: topology.name,
          ...(options.sentinelPassword === undefined
            ? {}
            : { sentinelPassword: Redacted.value(options.sentinelPassword) }),
          retryStrategy: retryStrategy(maxReconnectDelay),
          sentinelRetryStrategy: retryStrategy(maxReconnectDelay)
        })
      case "Cluster": {
        return new Cluster(topology.nodes.map(({ host, port }) => ({ host, port })), {
          lazyConnect: true,
          enableOfflineQueue: false,
          clusterRetryStrategy: retryStrategy(maxReconnectDelay),
          redisOptions: clusterNodeOptions
        })
      }
    }
  }

  const context = yield* Effect.context<never>()
  const runFork = Effect.runForkWith(context)

  // Logs an outage once when it starts and once when the connection is back,
  // because ioredis emits an error on every failed reconnection attempt.
  const watch = (client: Client, name: string) => {
    let down = false
    const onError = (cause: unknown) => {
      if (down || client.status === "end") return
      down = true
      runFork(Effect.logWarning(`IoRedis: the ${name} lost its Redis connection; reconnecting`, cause))
    }
    client.on("error", onError)
    client.on("node error", onError)
    client.on("ready", () => {
      if (!down) return
      down = false
      runFork(Effect.logInfo(`IoRedis: the ${name} reconnected to Redis`))
    })
  }

  const connect = (client: Client, what: string) =>
    Effect.callback<void, Redis.RedisError>((resume) => {
      const timer = setTimeout(() => resume(Effect.fail(timeoutError(what, connectTimeout))), connectTimeout)
      client.connect().then(
        () => resume(Effect.void),
        (cause) => resume(Effect.fail(new Redis.RedisError({ cause })))
      ).finally(() => clearTimeout(timer))
    })

  const client = yield* Effect.acquireRelease(Effect.sync(createClient), (client) => close(client, connectTimeout))
  watch(client, "shared connection")
  if (options.awaitReady ?? true) {
    yield* connect(client, "connecting to Redis")
  } else {
    client.connect().catch(noop)
  }

  // Reserved connections carry blocking commands, which may legitimately wait
  // longer than `commandTimeout`, so they have none. They never reconnect: a
  // dropped socket fails the command and the pool discards the connection.
  const duplicate = (client: Client, override: Partial<Omit<RedisOptions, "replyMapping">>): Client =>
    client instanceof Cluster
      ? client.duplicate(undefined, {
        lazyConnect: true,
        enableOfflineQueue: false,
        ...(override.retryStrategy === null ? { clusterRetryStrategy: null } : {}),
        redisOptions: { ...clusterNodeOptions, ...override }
      })
      : client.duplicate({ ...override, lazyConnect: true, enableOfflineQueue: false })

  const redis = yield* Redis.make({
    send: sendWith(client),
    connect: Effect.gen(function*() {
      const connection = duplicate(client, { commandTimeout: undefined, retryStrategy: null })
      connection.on("error", noop)
      connection.on("node error", noop)
      yield* Effect.onInterrupt(
        connect(connection, "opening a reserved connection"),
        () => Effect.sync(() => connection.disconnect())
      ).pipe(
        Effect.tapError(() => Effect.sync(() => connection.disconnect()))
      )
      return {
        send: sendWith(connection),
        // `disconnect` rejects the command in flight rather than waiting for it.
        close: Effect.sync(() => connection.disconnect())
      }
    }).pipe(Effect.interruptible),
    pool: {
      maxConnections: options.maxConnections,
      minConnections: options.minConnections,
      idleTimeout: options.idleTimeout,
      acquireTimeout: options.acquireTimeout
    },
    subscribe: Effect.fnUntraced(function*(channel, onMessage) {
      const ended = yield* Deferred.make<void, Redis.RedisError>()
      // ioredis subscribes again after each reconnection (`autoResubscribe`),
      // so messages published while it reconnects are missed but later ones
      // arrive. The subscription ends only when the connection gives up.
      const subscriber = yield* Effect.acquireRelease(
        Effect.sync(() => duplicate(client, { autoResubscribe: true })),
        (subscriber) => close(subscriber, connectTimeout)
      )
      watch(subscriber, `subscriber of ${channel}`)
      subscriber.on("message", (from: string, message: string) => {
        if (from === channel) onMessage({ channel, message })
      })
      subscriber.on("end", () => {
        Deferred.doneUnsafe(
          ended,
          Effect.fail(new Redis.RedisError({ cause: new Error(`IoRedis: the subscriber of ${channel} closed`) }))
        )
      })
      yield* connect(subscriber, `subscribing to ${channel}`)
      yield* Effect.tryPromise({
        try: () => subscriber.subscribe(channel),
        catch: (cause) => new Redis.RedisError({ cause })
      })
      return Deferred.await(ended)
    })
  })

  const service = IoRedis.of({ client, isReady: Effect.sync(() => client.status === "ready") })
  return Context.make(IoRedis, service).pipe(Context.add(Redis.Redis, redis))
})

/**
 * Provides the `Redis` service and the ioredis client, closing every
 * connection when the layer's scope closes.
 *
 * @example
 * ```ts
 * import { IoRedis } from "@effect-pagerduty/redis"
 *
 * const RedisLive = IoRedis.layer({
 *   topology: IoRedis.cluster({ nodes: [{ host: "127.0.0.1", port: 7000 }] }),
 *   commandTimeout: "1 second"
 * })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Redis.Redis | IoRedis, Redis.RedisError> =>
  Layer.effectContext(make(options))

/**
 * Options of {@link layerConfig}: a Redis URL (see {@link parseUrl}) and the
 * settings of {@link Options} other than the topology.
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions extends Omit<Options, "topology" | "password" | "ioredis"> {
  readonly url: string | Redacted.Redacted<string>
  /** Overrides a password in the URL. */
  readonly password?: Redacted.Redacted<string> | undefined
}

/**
 * Provides the `Redis` service from configuration, by default the URL in
 * `REDIS_URL` and an optional password in `REDIS_PASSWORD`.
 *
 * A password may also be part of the URL, and either way it is kept `Redacted`.
 *
 * @example
 * ```ts
 * import { IoRedis } from "@effect-pagerduty/redis"
 * import { Config } from "effect"
 *
 * const RedisLive = IoRedis.layerConfig({ url: Config.Redacted("RELAY_REDIS_URL") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Config.Wrap<ConfigOptions>
): Layer.Layer<Redis.Redis | IoRedis, Redis.RedisError | Config.ConfigError> =>
  Layer.effectContext(Effect.gen(function*() {
    const config: ConfigOptions = options === undefined
      ? yield* Config.all({
        url: Config.Redacted("REDIS_URL"),
        password: Config.Redacted("REDIS_PASSWORD").pipe(Config.withDefault(undefined))
      })
      : yield* Config.unwrap(options)
    const { password, url, ...rest } = config
    const parsed = yield* Effect.try({
      try: () => parseUrl(Redacted.isRedacted(url) ? Redacted.value(url) : url),
      catch: (cause) => new Redis.RedisError({ cause })
    })
    return yield* make({
      ...rest,
      topology: parsed.topology,
      username: rest.username ?? parsed.username,
      password: password ?? parsed.password
    })
  }))
