/**
 * `pd-relay serve`: the relay as a long-running program.
 *
 * Shutdown order matters for the promise that an accepted alert is never
 * lost. On SIGTERM or SIGINT the intake first answers 503 with `Retry-After`,
 * then the outbox workers finish the deliveries in flight up to
 * `server.shutdown_timeout_seconds` and leave the rest in the store, and the
 * HTTP server closes last.
 *
 * @since 0.1.0
 */
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import type * as Config from "@effect-pagerduty/pagerduty/Config"
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as Outbox from "@effect-pagerduty/pagerduty/Outbox"
import * as OutboxFileStore from "@effect-pagerduty/pagerduty/OutboxFileStore"
import * as OutboxRedisStore from "@effect-pagerduty/pagerduty/OutboxRedisStore"
import * as IoRedis from "@effect-pagerduty/redis/IoRedis"
import { NodeFileSystem, NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import * as EffectConfig from "effect/Config"
import * as Digest from "effect/crypto/Digest"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Ref from "effect/Ref"
import { createServer } from "node:http"
import * as Relay from "./Relay.ts"
import * as RelayRoutes from "./RelayRoutes.ts"

const eventsClientOptions = (config: Config.RelayConfigShape): EventsClient.Options =>
  config.pagerduty.events_url !== undefined
    ? { baseUrl: config.pagerduty.events_url }
    : { region: config.pagerduty.region! }

const redisLayer = (config: Config.RelayConfigShape): Layer.Layer<Redis.Redis, unknown> =>
  config.redis === undefined
    ? Layer.effect(Redis.Redis, Effect.die(new RangeError("a Redis store is configured but redis.url is not")))
    : IoRedis.layerConfig({ url: EffectConfig.succeed(config.redis.url) })

const outboxStoreLayer = (config: Config.RelayConfigShape) => {
  const options = { maxDepth: config.outbox.max_depth }
  switch (config.outbox.store) {
    case "memory":
      return Outbox.layerStoreMemory(options)
    case "file":
      return OutboxFileStore.layer({ ...options, directory: config.outbox.path ?? "./pd-relay-outbox" }).pipe(
        Layer.provide(NodeFileSystem.layer)
      )
    case "redis":
      return OutboxRedisStore.layer(options).pipe(Layer.provide(redisLayer(config)))
  }
}

const cacheLayer = (config: Config.RelayConfigShape) =>
  config.redis === undefined
    ? Cache.layerMemory({ capacity: 100_000 })
    : Cache.layer().pipe(Layer.provide(Cache.layerStoreRedis()), Layer.provide(redisLayer(config)))

/**
 * Builds the relay from a configuration: stores, intake routes and delivery
 * workers, served on the configured host and port until interrupted.
 *
 * @since 0.1.0
 * @category running
 */
export const run = (config: Config.RelayConfigShape, options: {
  /** Called with the URL once the server listens. */
  readonly onListening?: ((url: string) => Effect.Effect<void>) | undefined
} = {}) =>
  Effect.scoped(Effect.gen(function*() {
    const accepting = yield* Ref.make(true)
    const routes = Relay.routesOf(config)
    const auth = config.intake.auth

    const Settings = Layer.succeed(RelayRoutes.IntakeSettings)({
      credentials: {
        bearerTokens: auth.bearer_tokens ?? [],
        basic: (auth.basic ?? []).map((user) => ({ username: user.username, password: user.password }))
      },
      insecureNoAuth: config.intake.insecure_no_auth,
      bodyLimitBytes: config.server.body_limit_bytes,
      accepting
    })

    const Base = Layer.mergeAll(
      outboxStoreLayer(config),
      cacheLayer(config),
      Digest.layerWebCrypto,
      SecureRandom.layerWebCrypto,
      EventsClient.layer(eventsClientOptions(config)).pipe(
        Layer.provide([NodeHttpClient.layerUndici, Digest.layerWebCrypto, SecureRandom.layerWebCrypto])
      )
    )

    const Server = HttpRouter.serve(RelayRoutes.layer, { disableListenLog: true }).pipe(
      Layer.provide([Relay.layerIngress(config), Settings]),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { host: config.server.host, port: config.server.port }))
    )

    // The server and the stores live in this outer scope, so they close after the workers below.
    const context = yield* Layer.build(Layer.provideMerge(Server, Base))
    const server = yield* Effect.provide(HttpServer.HttpServer, context)
    const url = HttpServer.formatAddress(server.address)
    yield* Effect.logInfo(`pd-relay listening on ${url}`)
    if (options.onListening) yield* options.onListening(url)

    yield* Effect.scoped(
      Effect.gen(function*() {
        yield* Layer.build(Outbox.layerWorker({
          deliver: Relay.deliver(routes),
          concurrency: config.policy.concurrency,
          shutdownTimeout: Duration.seconds(config.server.shutdown_timeout_seconds),
          ...(config.outbox.max_age_seconds === undefined
            ? {}
            : { maxAge: Duration.seconds(config.outbox.max_age_seconds) })
        }))
        // Registered after the workers, so it runs first when the scope closes.
        yield* Effect.addFinalizer(() =>
          Effect.andThen(Ref.set(accepting, false), Effect.logInfo("pd-relay stopping: intake answers 503"))
        )
        return yield* Effect.never
      }).pipe(Effect.provide(context))
    )
  }))
