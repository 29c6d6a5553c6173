/**
 * `pd-relay serve`: the relay as a long-running program.
 *
 * Shutdown order matters for the promise that an accepted alert is never
 * lost. On SIGTERM or SIGINT the intake first responds 503 with `Retry-After`,
 * then the outbox workers finish the deliveries in flight up to
 * `server.shutdown_timeout_seconds` and leave the rest in the store, and the
 * HTTP server closes last.
 *
 * @since 0.1.0
 */
import * as Audit from "@effect-pagerduty/pagerduty/Audit"
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Crypto from "@effect-pagerduty/pagerduty/Crypto"
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as Health from "@effect-pagerduty/pagerduty/Health"
import * as Metrics from "@effect-pagerduty/pagerduty/Metrics"
import * as Outbox from "@effect-pagerduty/pagerduty/Outbox"
import * as OutboxFileStore from "@effect-pagerduty/pagerduty/OutboxFileStore"
import * as OutboxRedisStore from "@effect-pagerduty/pagerduty/OutboxRedisStore"
import * as OutboxStore from "@effect-pagerduty/pagerduty/OutboxStore"
import * as Policy from "@effect-pagerduty/pagerduty/Policy"
import * as PolicyStore from "@effect-pagerduty/pagerduty/PolicyStore"
import * as WebhookReceiver from "@effect-pagerduty/pagerduty/WebhookReceiver"
import * as IoRedis from "@effect-pagerduty/redis/IoRedis"
import { NodeFileSystem, NodeHttpClient, NodeHttpServer, NodeStdio } from "@effect/platform-node"
import type * as Arr from "effect/Array"
import * as EffectConfig from "effect/Config"
import * as Digest from "effect/crypto/Digest"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as PersistedQueue from "effect/persistence/PersistedQueue"
import * as Redis from "effect/persistence/Redis"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"
import { hostname } from "node:os"
import * as Relay from "./Relay.ts"
import * as RelayRoutes from "./RelayRoutes.ts"

const eventsClientOptions = (config: Config.RelayConfigShape): EventsClient.Options => {
  // The outbox owns retries, so one send is one attempt. The policy bounds the HTTP attempt
  // itself; the client's limit also covers the wait for a rate-limit slot, up to one window.
  const limit = Duration.seconds(config.policy.attempt_timeout_seconds + 60)
  const timeouts = { retry: false as const, timeout: limit, deadline: limit }
  return config.pagerduty.events_url !== undefined
    ? { ...timeouts, baseUrl: config.pagerduty.events_url }
    : { ...timeouts, region: config.pagerduty.region! }
}

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
      return OutboxFileStore.layer({
        ...options,
        directory: config.outbox.path,
        owner: `pd-relay pid ${process.pid} on ${hostname()}`,
        // A relay restarted right after a crash waits for the dead process's lock to go stale.
        lockTimeout: Duration.seconds(15)
      }).pipe(
        Layer.provide(NodeFileSystem.layer)
      )
    case "redis":
      return OutboxRedisStore.layer({
        ...options,
        ...(config.outbox.lease_seconds === undefined
          ? {}
          : { leaseDuration: Duration.seconds(config.outbox.lease_seconds) })
      }).pipe(Layer.provide(redisLayer(config)))
  }
}

const cacheLayer = (config: Config.RelayConfigShape) =>
  config.redis === undefined
    ? Cache.layerMemory({ capacity: 100_000 })
    : Cache.layer().pipe(Layer.provide(Cache.layerStoreRedis()), Layer.provide(redisLayer(config)))

const webhookRoutes = (config: Config.RelayConfigShape) => {
  const webhooks = config.webhooks
  if (webhooks === undefined) return Layer.empty
  const handlers = WebhookReceiver.handlers().onAny((event) =>
    Effect.gen(function*() {
      yield* Effect.logInfo("webhook event received").pipe(
        Effect.annotateLogs({ event_type: event.event_type, event_id: event.id, resource_type: event.resource_type })
      )
      const audit = yield* Audit.Audit
      yield* audit.log({
        actor: "pagerduty",
        action: "webhook.received",
        target: `${event.resource_type}:${(event.data as { id?: unknown }).id ?? "unknown"}`,
        outcome: "success",
        details: { event_type: event.event_type, event_id: event.id }
      }).pipe(Effect.ignore)
    })
  )
  // With Redis configured, queued webhook events survive a crash of the relay after its 202.
  const queue = config.redis === undefined
    ? PersistedQueue.layerStoreMemory
    : PersistedQueue.layerStoreRedis({ prefix: "{pd-relay-webhooks}:" }).pipe(Layer.provide(redisLayer(config)))
  return WebhookReceiver.layerRoute.pipe(
    Layer.provide(WebhookReceiver.layer({
      secrets: webhooks.secrets as unknown as Arr.NonEmptyReadonlyArray<Redacted.Redacted<string>>,
      handlers,
      path: webhooks.path as HttpRouter.PathInput,
      rejectStatus: webhooks.bad_signature_status
    })),
    Layer.provide([
      cacheLayer(config),
      // Handled events are removed after a day, so the queue's store does not grow without bound.
      Layer.merge(PersistedQueue.layer, PersistedQueue.layerCleanup({ timeToLive: Duration.days(1) })).pipe(
        Layer.provide(queue)
      ),
      Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
    ])
  )
}

/**
 * The Events API policy from the configuration. The policy keeps its rate
 * limit, breaker, bulkhead and timeout but retries nothing itself, because
 * the outbox retries every transient failure with its own backoff.
 */
const eventsPolicy = (config: Config.RelayConfigShape) =>
  Policy.events({
    retry: Schedule.recurs(0),
    rejectionRetry: Schedule.recurs(0),
    rateLimit: { limit: config.policy.events_per_minute, window: "60 seconds", algorithm: "sliding-window" },
    circuitBreaker: {
      tripPolicy: CircuitBreaker.consecutive(config.policy.breaker.failures),
      openDuration: Duration.seconds(config.policy.breaker.open_seconds)
    },
    bulkhead: { concurrency: config.policy.concurrency },
    timeout: Duration.seconds(config.policy.attempt_timeout_seconds)
  })

const auditLayer = (config: Config.RelayConfigShape) => {
  const base = Audit.layerConfig.pipe(
    Layer.provide([Layer.succeed(Config.RelayConfig)(config), NodeFileSystem.layer, NodeStdio.layer])
  )
  const needsRedis = config.audit?.sinks.some((sink) => sink.type === "redis") ?? false
  return needsRedis ? base.pipe(Layer.provide(redisLayer(config))) : base
}

const policyStores = (config: Config.RelayConfigShape) =>
  config.redis === undefined
    ? PolicyStore.layerMemory
    : PolicyStore.layerRedis().pipe(Layer.provide(redisLayer(config)))

/**
 * One Events API client per route, each on an HTTP client guarded by the
 * policy under the hash of the route's routing key, so routes sharing an
 * integration key share one limit and one circuit.
 */
const routeClients = Effect.fnUntraced(function*(
  config: Config.RelayConfigShape,
  routes: ReadonlyMap<string, Relay.Route>,
  audit: Audit.Audit["Service"]
) {
  const context = yield* Layer.build(Layer.mergeAll(
    policyStores(config),
    NodeHttpClient.layerUndici,
    Digest.layerWebCrypto,
    SecureRandom.layerWebCrypto
  ))
  return yield* Effect.gen(function*() {
    const guard = yield* Policy.make(eventsPolicy(config))
    const http = yield* HttpClient.HttpClient
    const storeHealth = yield* PolicyStore.StoreHealth
    // A degraded policy store is worked around (each process keeps its own limits), so it shows in
    // the combined /health view but does not take the relay out of service.
    const health = yield* Health.Health
    yield* health.register(
      "policy-store",
      Effect.flatMap(
        storeHealth.status,
        (status) =>
          status.mode === "degraded"
            ? Effect.fail("Redis unreachable: limits and circuits are per process")
            : Effect.void
      ),
      { kind: "status" }
    )
    yield* Effect.forkScoped(
      Stream.runForEach(
        storeHealth.changes,
        (status) =>
          Effect.logInfo("policy store status changed").pipe(Effect.annotateLogs({ status: JSON.stringify(status) }))
      )
    )

    const breakerStates = { Closed: "closed", Open: "open", HalfOpen: "half_open" } as const
    yield* Effect.forkScoped(Stream.runForEach(guard.transitions, (transition) =>
      Effect.forEach(
        transition.routes,
        (route) => Metrics.recordBreaker(route, breakerStates[transition.to]),
        { discard: true }
      )))
    yield* Effect.forkScoped(Stream.runForEach(
      Stream.filter(guard.transitions, (transition) => transition.to === "Open"),
      (transition) =>
        audit.log({
          actor: "relay",
          action: "breaker.opened",
          target: `routes:${transition.routes.join(",")}`,
          outcome: "failure",
          details: {
            api: transition.api,
            open_ms: transition.retryAfter ? Duration.toMillis(transition.retryAfter) : null
          }
        }).pipe(Effect.ignore)
    ))

    const clients = new Map<string, EventsClient.EventsClient["Service"]>()
    for (const route of routes.values()) {
      const key = yield* Policy.keyOf(route.routingKey)
      // The guarded client fails with the policy's errors too; the Events client
      // turns those into its `PolicyRejected` reason.
      const guarded = guard.client(http, { key, route: route.name }) as unknown as HttpClient.HttpClient
      clients.set(
        route.name,
        yield* EventsClient.make(eventsClientOptions(config)).pipe(
          Effect.provideService(HttpClient.HttpClient, guarded)
        )
      )
    }
    return clients
  }).pipe(Effect.provide(context))
})

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
    const jwt = auth.jwt

    const Settings = Layer.succeed(RelayRoutes.IntakeSettings)({
      credentials: {
        bearerTokens: auth.bearer_tokens ?? [],
        basic: (auth.basic ?? []).map((user) => ({ username: user.username, password: user.password })),
        verifyBearer: jwt === undefined ? undefined : (token: string) =>
          Crypto.verifyJwt(jwt.secret, token, {
            issuer: jwt.issuer,
            audience: jwt.audience,
            requiredClaims: ["exp"]
          }).pipe(
            Effect.map((claims) => `jwt:${typeof claims.sub === "string" ? claims.sub : "anonymous"}`),
            Effect.provide(Crypto.layerWebCrypto)
          )
      },
      insecureNoAuth: config.intake.insecure_no_auth,
      bodyLimitBytes: config.server.body_limit_bytes,
      accepting
    })

    const Base = Layer.mergeAll(
      auditLayer(config),
      Health.layer({ secrets: Config.secretsOf(config) }),
      outboxStoreLayer(config),
      cacheLayer(config),
      Digest.layerWebCrypto,
      SecureRandom.layerWebCrypto
    )

    const Checks = Layer.effectDiscard(Effect.gen(function*() {
      const health = yield* Health.Health
      const store = yield* OutboxStore.OutboxStore
      yield* health.register("event-loop", Effect.void, { kind: "liveness" })
      yield* health.register("outbox", Effect.provideService(Outbox.stats, OutboxStore.OutboxStore, store), {
        kind: "readiness"
      })
      yield* health.register(
        "intake",
        Effect.flatMap(Ref.get(accepting), (open) => open ? Effect.void : Effect.fail("shutting down")),
        { kind: "readiness" }
      )
    }))

    const Server = HttpRouter.serve(
      Layer.mergeAll(RelayRoutes.layer, RelayRoutes.layerOperations, webhookRoutes(config)),
      {
        disableListenLog: true,
        disableLogger: true
      }
    ).pipe(
      Layer.provide([Relay.layerIngress(config), Settings, Checks]),
      Layer.provideMerge(NodeHttpServer.layer(createServer, { host: config.server.host, port: config.server.port }))
    )

    // The server and the stores live in this outer scope, so they close after the workers below.
    const context = yield* Layer.build(Layer.provideMerge(Server, Base))
    const server = yield* Effect.provide(HttpServer.HttpServer, context)
    const url = HttpServer.formatAddress(server.address)
    yield* Effect.logInfo(`pd-relay listening on ${url}`)
    if (options.onListening) yield* options.onListening(url)

    const audit = yield* Effect.provide(Audit.Audit, context)
    yield* audit.log({
      actor: "relay",
      action: "config.loaded",
      target: "relay",
      outcome: "success",
      details: { routes: [...routes.keys()], outbox: config.outbox.store }
    })
    const clients = yield* routeClients(config, routes, audit).pipe(Effect.provide(context))

    yield* Effect.scoped(
      Effect.gen(function*() {
        yield* Layer.build(Outbox.layerWorker({
          deliver: Relay.deliver(routes, clients, audit),
          isRetryable: Relay.isRetryable,
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
