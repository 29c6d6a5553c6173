/**
 * The relay's main job, assembled from the library's parts: the intake
 * pipeline that turns a payload into events and commits them to the outbox,
 * and the delivery function the outbox workers call.
 *
 * The intake responds 202 only after the outbox contains every event of the
 * request. The dedupe mark of an event is written after that commit, so a
 * crash in between leaves no mark, and the sender's retry is accepted again
 * instead of being dropped as a duplicate.
 *
 * @since 0.1.0
 */
import type * as Alert from "@effect-pagerduty/pagerduty/Alert"
import type * as Audit from "@effect-pagerduty/pagerduty/Audit"
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import type * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Errors from "@effect-pagerduty/pagerduty/Errors"
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as EventsV2 from "@effect-pagerduty/pagerduty/EventsV2"
import * as GenericSource from "@effect-pagerduty/pagerduty/GenericSource"
import * as Metrics from "@effect-pagerduty/pagerduty/Metrics"
import * as Outbox from "@effect-pagerduty/pagerduty/Outbox"
import type * as OutboxStore from "@effect-pagerduty/pagerduty/OutboxStore"
import * as Pipeline from "@effect-pagerduty/pagerduty/Pipeline"
import * as Sources from "@effect-pagerduty/pagerduty/Sources"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Digest from "effect/crypto/Digest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Tracer from "effect/Tracer"
import * as Intake from "./Intake.ts"
import * as RelayRoutes from "./RelayRoutes.ts"

/**
 * A configured route as the relay uses it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route {
  readonly name: string
  readonly routingKey: Redacted.Redacted<string>
  readonly mode: "group" | "alert"
  readonly defaultSeverity: EventsV2.Severity
  readonly dedupeWindow: Duration.Duration
  /** The generic JSON source of the route, when it has a mapping. */
  readonly generic: ((input: unknown) => Effect.Effect<Alert.AlertGroup, Sources.SourceError>) | undefined
}

/**
 * Builds the route table from the configuration.
 *
 * @since 0.1.0
 * @category constructors
 */
export const routesOf = (config: Config.RelayConfigShape): ReadonlyMap<string, Route> =>
  new Map(config.routes.map((route) => [route.name, {
    name: route.name,
    routingKey: route.routing_key,
    mode: route.mode ?? "group",
    defaultSeverity: route.default_severity ?? "error",
    dedupeWindow: Duration.seconds(route.dedupe_window_seconds ?? 60),
    generic: route.mapping === undefined
      ? undefined
      : GenericSource.make({ ...route.mapping, name: route.mapping.name ?? route.name })
  }]))

const decodePosted = Schema.decodeUnknownEffect(EventsV2.AlertEvent)
const encodePosted = (event: EventsV2.AlertEvent) => Effect.orDie(Schema.encodeEffect(EventsV2.AlertEvent)(event))

// A `routing_key` in a posted Events API v2 body is ignored: the route's key is
// used, so a sender never needs to hold the integration key.
const stripRoutingKey = (body: unknown): unknown => {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body
  const { routing_key: _ignored, ...rest } = body as Record<string, unknown>
  return rest
}

/**
 * The stages that turn one request body into prepared events, per source.
 *
 * @since 0.1.0
 * @category pipelines
 */
export const formatPipeline = (
  source: RelayRoutes.SourceKind,
  route: Route
): Pipeline.Pipeline<
  unknown,
  EventsV2.AlertEvent,
  Sources.SourceError | EventsV2.EventsV2Error | Intake.IntakeError,
  Digest.Digest
> => {
  const format = Pipeline.format({ mode: route.mode, defaultSeverity: route.defaultSeverity })
  switch (source) {
    case "alertmanager":
      return Pipeline.transform(Sources.alertmanager, "alertmanager").pipe(Pipeline.andThen(format))
    case "grafana":
      return Pipeline.transform(Sources.grafana, "grafana").pipe(Pipeline.andThen(format))
    case "generic": {
      const generic = route.generic
      const transform: (input: unknown) => Effect.Effect<Alert.AlertGroup, Sources.SourceError | Intake.IntakeError> =
        generic === undefined
          ? () =>
            Effect.fail(
              new Intake.IntakeError({
                reason: new Intake.InvalidPayload({
                  source,
                  detail: `route ${route.name} has no mapping: add routes[].mapping to the configuration`
                })
              })
            )
          : generic
      return Pipeline.transform(transform, "generic").pipe(Pipeline.andThen(format))
    }
    case "events":
      return Pipeline.transform(
        (body: unknown) =>
          decodePosted(stripRoutingKey(body)).pipe(
            Effect.mapError((error) =>
              new Intake.IntakeError({ reason: new Intake.InvalidPayload({ source, detail: error.message }) })
            ),
            Effect.flatMap((event) => EventsV2.prepare(event)),
            Effect.map((prepared) => prepared.event)
          ),
        "events"
      )
  }
}

const encoder = new TextEncoder()

/**
 * Commits one event: drops it when it repeats the last event committed for
 * the same dedup key within the route's dedupe window, stores the others in
 * the outbox, and only then records them as the key's last event.
 *
 * Details: the mark is kept per dedup key and contains the hash of the whole
 * event, so a `trigger` that follows a `resolve` of the same key is never a
 * repeat, even with an unchanged body.
 *
 * @since 0.1.0
 * @category pipelines
 */
export const commitEvent = (route: Route) => (event: EventsV2.AlertEvent) =>
  Effect.gen(function*() {
    const cache = Cache.namespace(yield* Cache.Cache, "intake-dedupe")
    const digest = yield* Digest.Digest
    // The outbox stores the wire form (timestamps as RFC 3339 text), the bytes PagerDuty will get.
    const wire = yield* encodePosted(event)
    // The intake span's ids travel with the item, so the delivery span links to it after a restart too.
    const span = yield* Effect.currentSpan.pipe(Effect.option)
    const traceContext = Option.match(span, {
      onNone: () => undefined,
      onSome: (current) => ({ traceId: current.traceId, spanId: current.spanId })
    })
    const item = yield* Outbox.makeItem({ route: route.name, event: wire, traceContext })
    const hash = yield* digest.digestHex(Digest.sha256, encoder.encode(item.body))
    const key = `${route.name}:${yield* digest.digestHex(Digest.sha256, encoder.encode(item.dedupKey))}`

    // A failing dedupe store must not lose alerts: the event is then committed
    // and PagerDuty's dedup_key makes a repeat harmless.
    const last = yield* cache.get(key).pipe(Effect.orElseSucceed(() => Option.none<string>()))
    if (Option.isSome(last) && last.value === hash) {
      return { dedup_key: item.dedupKey, event_action: item.action, duplicate: true }
    }

    yield* Outbox.offer(item)
    yield* cache.set(key, hash, route.dedupeWindow).pipe(Effect.ignore)
    return { dedup_key: item.dedupKey, event_action: item.action, duplicate: false }
  })

/**
 * Commits the events of one request. Events with different dedup keys are
 * committed concurrently, so they share the file store's group commit;
 * events with the same key keep their order.
 *
 * @since 0.1.0
 * @category pipelines
 */
export const commitAll = (route: Route) => (events: ReadonlyArray<EventsV2.AlertEvent>) => {
  const byKey = new Map<string, Array<EventsV2.AlertEvent>>()
  events.forEach((event, index) => {
    const key = event.dedup_key ?? `#${index}`
    byKey.set(key, [...(byKey.get(key) ?? []), event])
  })
  return Effect.forEach(
    [...byKey.values()],
    (sameKey) => Effect.forEach(sameKey, commitEvent(route)),
    { concurrency: 64 }
  ).pipe(Effect.map((groups) => groups.flat()))
}

const toIntakeError = (source: string) => (error: unknown): Intake.IntakeError => {
  if (error instanceof Intake.IntakeError) return error
  const { httpStatus } = Errors.classify(error)
  const message = error instanceof Error ? error.message : String(error)
  if (httpStatus === 503 || httpStatus >= 500) {
    const full = Errors.isPagerDutyError(error) && error.reason._tag === "Full"
    const retryAfter = full ? (error.reason as unknown as OutboxStore.Full).retryAfter : Duration.seconds(5)
    return new Intake.IntakeError({
      reason: new Intake.Unavailable({ cause: full ? "outbox-full" : "outbox-failed", retryAfter })
    })
  }
  return new Intake.IntakeError({ reason: new Intake.InvalidPayload({ source, detail: message }) })
}

/**
 * The relay's `Ingress`: runs the route's pipeline and commits its events.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerIngress = (config: Config.RelayConfigShape) =>
  Layer.effect(RelayRoutes.Ingress)(Effect.gen(function*() {
    const routes = routesOf(config)
    const services = yield* Effect.context<Cache.Cache | Digest.Digest | OutboxStore.OutboxStore>()
    const defaultRoute = config.routes.find((route) => route.default === true)?.name ??
      (config.routes.length === 1 ? config.routes[0]!.name : undefined)

    return RelayRoutes.Ingress.of({
      routes: [...routes.keys()],
      defaultRoute,
      sourceOf: (name) => config.routes.find((route) => route.name === name)?.source,
      accept: (source, routeName, body) => {
        const route = routes.get(routeName)!
        return Pipeline.run(formatPipeline(source, route), body).pipe(
          Effect.flatMap(commitAll(route)),
          Effect.map((results) => ({
            route: routeName,
            events: results.filter((result) => !result.duplicate).map(({ dedup_key, event_action }) => ({
              dedup_key,
              event_action
            })),
            duplicates: results.filter((result) => result.duplicate).length
          })),
          Effect.mapError(toIntakeError(source)),
          Effect.provide(services)
        )
      }
    })
  }))

/**
 * Why an item could not be delivered without a retry: its route is no
 * longer configured.
 *
 * @since 0.1.0
 * @category reasons
 */
export class RouteRemoved extends Schema.TaggedClass<RouteRemoved>()("RouteRemoved", { route: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error"
  get message(): string {
    return `route ${JSON.stringify(this.route)} is not configured any more: add it back and replay the dead letter`
  }
}

/**
 * A stored item whose body is not an Events API v2 event, so no retry can
 * deliver it.
 *
 * @since 0.1.0
 * @category reasons
 */
export class CorruptItem extends Schema.TaggedClass<CorruptItem>()("CorruptItem", {
  id: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error"
  get message(): string {
    return `outbox item ${this.id} does not hold an Events API v2 event (${this.detail}); inspect it with outbox list`
  }
}

/**
 * A delivery failure of the relay itself.
 *
 * @since 0.1.0
 * @category errors
 */
export class DeliveryError extends Schema.TaggedError<DeliveryError>()("DeliveryError", {
  reason: Schema.Union([RouteRemoved, CorruptItem])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message(): string {
    return this.reason.message
  }
}

/**
 * The function outbox workers call for each item: adds the route's routing
 * key and sends the stored body with the route's client, one attempt per
 * call, because the outbox owns the retries.
 *
 * @since 0.1.0
 * @category delivery
 */
export const deliver = (
  routes: ReadonlyMap<string, Route>,
  clients: ReadonlyMap<string, EventsClient.EventsClient["Service"]>,
  audit: Audit.Audit["Service"]
) => {
  const decodeStored = Schema.decodeUnknownEffect(Schema.fromJsonString(EventsV2.AlertEvent))
  return Effect.fnUntraced(function*(item: OutboxStore.OutboxItem) {
    const route = routes.get(item.route)
    if (route === undefined) return yield* new DeliveryError({ reason: new RouteRemoved({ route: item.route }) })
    const event = yield* decodeStored(item.body).pipe(
      Effect.mapError((error) =>
        new DeliveryError({ reason: new CorruptItem({ id: item.id, detail: error.message.split("\n")[0]! }) })
      )
    )
    // NOTE: a delivery waiting for its route's rate limit occupies an outbox worker, so a backlog on
    // one route above its limit can occupy every worker and delay the other routes until it drains.
    const client = clients.get(item.route)!
    const started = yield* Clock.currentTimeMillis
    return yield* client.send(route.routingKey, event, { retry: false }).pipe(
      Effect.onExit((exit) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Metrics.recordOutbound({
            api: "events",
            action: event.event_action,
            ...outboundOutcome(exit),
            seconds: (now - started) / 1000
          }))
      )
    )
  }, (effect, item) =>
    effect.pipe(
      Effect.withSpan("pd-relay.deliver", {
        attributes: { "pagerduty.route": item.route, "pagerduty.event.action": item.action },
        links: item.traceContext === undefined
          ? []
          : [{ span: Tracer.externalSpan(item.traceContext), attributes: { "pagerduty.link": "intake" } }]
      }),
      Effect.tap(() => record(audit, item, "success")),
      Effect.tapError((error) =>
        isRetryable(error)
          ? Effect.void
          : Effect.andThen(Metrics.recordDeadLetter("rejected"), record(audit, item, "rejected"))
      ),
      // Logged on the first failure of an item and then at attempts 2, 4, 8, ..., so an outage
      // that fails every delivery writes a few lines per item, not one per retry.
      Effect.tapError((error) =>
        isPowerOfTwo(item.attempts)
          ? Effect.logWarning("delivery attempt failed").pipe(
            Effect.annotateLogs({
              route: item.route,
              dedup_key: item.dedupKey,
              action: item.action,
              attempt: item.attempts,
              retryable: Errors.classify(error).retryable,
              error: error.message
            })
          )
          : Effect.void
      )
    ))
}

const record = (audit: Audit.Audit["Service"], item: OutboxStore.OutboxItem, outcome: "success" | "rejected") =>
  audit.log({
    actor: "relay",
    action: "event.sent",
    target: `route:${item.route}`,
    outcome,
    details: { dedup_key: item.dedupKey, event_action: item.action, attempts: item.attempts }
  }).pipe(
    // An audit sink failure must not turn a delivered event into a redelivery.
    Effect.catch((error) =>
      Effect.logWarning("audit record failed").pipe(Effect.annotateLogs({ error: error.message }))
    )
  )

/**
 * Tells the outbox which delivery failures to retry: everything the error
 * model calls retryable, and also the responses a proxy or a wrong base URL
 * produce (a 2xx body that is not PagerDuty's, 404, 408, 409, 425). Retrying
 * those is safe because the dedup key makes a repeated event harmless, and it
 * keeps the alert queued until the path to PagerDuty is fixed instead of
 * dead-lettering it.
 *
 * @since 0.1.0
 * @category delivery
 */
export const isRetryable = (error: unknown): boolean => {
  if (Errors.classify(error).retryable) return true
  if (!(error instanceof EventsClient.EventsClientError)) return false
  const reason = error.reason
  if (reason._tag === "Decode") return true
  return reason._tag === "UnexpectedStatus" && [404, 408, 409, 425].includes(reason.status)
}

const outboundOutcome = (
  exit: Exit.Exit<EventsV2.Accepted, EventsClient.EventsClientError | EventsV2.EventsV2Error>
): { readonly outcome: Metrics.Outcome; readonly status?: number } => {
  if (Exit.isSuccess(exit)) return { outcome: "success", status: 202 }
  const error = Cause.findErrorOption(exit.cause)
  if (Option.isNone(error) || !(error.value instanceof EventsClient.EventsClientError)) return { outcome: "rejected" }
  const reason = error.value.reason
  switch (reason._tag) {
    case "InvalidEvent":
      return { outcome: "rejected", status: 400 }
    case "RateLimited":
      return { outcome: "rate_limited", status: 429 }
    case "ServerError":
      return { outcome: "server_error", status: reason.status }
    case "UnexpectedStatus":
      return { outcome: "rejected", status: reason.status }
    case "Timeout":
      return { outcome: "timeout" }
    case "PolicyRejected":
      return { outcome: "circuit_open" }
    default:
      return { outcome: "transport" }
  }
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0
