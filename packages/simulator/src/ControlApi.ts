/**
 * The simulator's control API under `/_sim/`, in JSON, for tests and tools
 * that drive the simulator from another process.
 *
 * | route | what it does |
 * | --- | --- |
 * | `GET /_sim/health` | `{"status":"ok"}` |
 * | `GET /_sim/events` | received events in order; filters `routing_key_hash`, `endpoint`, `outcome`, `dedup_key` |
 * | `GET /_sim/alerts` | alerts; filters `routing_key_hash`, `dedup_key`, `status` |
 * | `GET /_sim/faults` | the fault scripts in force and the faults injected so far |
 * | `POST /_sim/faults` | `{"scripts":[...]}` replaces the scripts of the paths it names |
 * | `DELETE /_sim/faults` | removes every script, or only the one of `?path=` |
 * | `POST /_sim/reset` | clears events, alerts, rate-limit windows and injected faults, but keeps scripts |
 *
 * Responses show a routing key only as its lowercase hex SHA-256
 * (`routing_key_hash`, also the filter value) and its last four characters.
 * Event bodies are shown parsed, with the `routing_key` field masked the same
 * way, together with their size and SHA-256. Credential headers
 * (`authorization`, `cookie` and similar) are redacted. A key copied into
 * another field or header is shown as sent. The exact bytes are available in
 * process through `Simulator`.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { createHash } from "node:crypto"
import * as Faults from "./Faults.ts"
import * as RoutingKey from "./internal/routingKey.ts"
import * as RateLimit from "./RateLimit.ts"
import * as SimulatorState from "./SimulatorState.ts"

const redactedHeaders = new Set(["authorization", "cookie", "proxy-authorization", "x-api-key"])

const maskRoutingKey = (routingKey: string): string => `****${RoutingKey.lastFour(Redacted.make(routingKey))}`

const parsedBody = (bytes: Uint8Array): unknown => {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(bytes))
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "routing_key" in value) {
      const routingKey = (value as { routing_key: unknown }).routing_key
      return { ...value, routing_key: typeof routingKey === "string" ? maskRoutingKey(routingKey) : routingKey }
    }
    return value
  } catch {
    return null
  }
}

/**
 * Renders a received event as the control API shows it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const eventJson = (event: SimulatorState.ReceivedEvent) => ({
  sequence: event.sequence,
  endpoint: event.endpoint,
  method: event.method,
  path: event.path,
  received_at: DateTime.formatIso(event.receivedAt),
  status: event.status,
  outcome: event.outcome,
  errors: event.errors,
  routing_key_hash: event.routingKeyHash ?? null,
  routing_key_last4: event.routingKey === undefined ? null : RoutingKey.lastFour(event.routingKey),
  event_action: event.eventAction ?? null,
  dedup_key: event.dedupKey ?? null,
  alert_id: event.alertId ?? null,
  transition: event.transition ?? null,
  headers: Object.fromEntries(
    Object.entries(event.headers).map(([name, value]) => [name, redactedHeaders.has(name) ? "<redacted>" : value])
  ),
  body_bytes: event.body.byteLength,
  body_sha256: createHash("sha256").update(event.body).digest("hex"),
  body: parsedBody(event.body)
})

const isoOrNull = (value: DateTime.Utc | undefined) => value === undefined ? null : DateTime.formatIso(value)

/**
 * Renders an alert as the control API shows it.
 *
 * @since 0.1.0
 * @category encoding
 */
export const alertJson = (alert: SimulatorState.Alert) => ({
  id: alert.id,
  routing_key_hash: alert.routingKeyHash,
  routing_key_last4: RoutingKey.lastFour(alert.routingKey),
  dedup_key: alert.dedupKey,
  status: alert.status,
  severity: alert.severity,
  summary: alert.summary,
  source: alert.source,
  timestamp: alert.timestamp ?? null,
  component: alert.component ?? null,
  group: alert.group ?? null,
  class: alert.class ?? null,
  custom_details: alert.customDetails ?? null,
  client: alert.client ?? null,
  client_url: alert.clientUrl ?? null,
  links: alert.links,
  images: alert.images,
  created_at: DateTime.formatIso(alert.createdAt),
  updated_at: DateTime.formatIso(alert.updatedAt),
  acknowledged_at: isoOrNull(alert.acknowledgedAt),
  resolved_at: isoOrNull(alert.resolvedAt),
  trigger_count: alert.triggerCount,
  event_sequences: alert.eventSequences
})

const injectionJson = (injection: Faults.Injection) => ({
  method: injection.method,
  path: injection.path,
  fault: injection.fault,
  at: DateTime.formatIso(injection.at)
})

const EventQuery = Schema.Struct({
  routing_key_hash: Schema.optionalKey(Schema.String),
  endpoint: Schema.optionalKey(Schema.Literals(["alert", "change"])),
  outcome: Schema.optionalKey(Schema.Literals(["accepted", "dropped", "invalid", "rate_limited"])),
  dedup_key: Schema.optionalKey(Schema.String)
})

const AlertQuery = Schema.Struct({
  routing_key_hash: Schema.optionalKey(Schema.String),
  dedup_key: Schema.optionalKey(Schema.String),
  status: Schema.optionalKey(Schema.Literals(["triggered", "acknowledged", "resolved"]))
})

const FaultsBody = Schema.Struct({ scripts: Schema.Array(Faults.Script) })

const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })

const badRequest = (message: string) => json({ status: "invalid request", message }, 400)

/**
 * Adds the control API routes to the router.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<
  never,
  never,
  HttpRouter.HttpRouter | SimulatorState.SimulatorState | Faults.Faults | RateLimit.RateLimit
> = HttpRouter.use(Effect.fnUntraced(function*(router) {
  const state = yield* SimulatorState.SimulatorState
  const faults = yield* Faults.Faults
  const limiter = yield* RateLimit.RateLimit

  yield* router.add("GET", "/_sim/health", json({ status: "ok" }))

  yield* router.add(
    "GET",
    "/_sim/events",
    HttpServerRequest.schemaSearchParams(EventQuery).pipe(
      Effect.flatMap((query) =>
        state.events({
          routingKeyHash: query.routing_key_hash,
          endpoint: query.endpoint,
          outcome: query.outcome,
          dedupKey: query.dedup_key
        })
      ),
      Effect.map((events) => json({ events: events.map(eventJson) })),
      Effect.catchTag("SchemaError", (error) => Effect.succeed(badRequest(error.message)))
    )
  )

  yield* router.add(
    "GET",
    "/_sim/alerts",
    HttpServerRequest.schemaSearchParams(AlertQuery).pipe(
      Effect.flatMap((query) =>
        state.alerts({ routingKeyHash: query.routing_key_hash, dedupKey: query.dedup_key, status: query.status })
      ),
      Effect.map((alerts) => json({ alerts: alerts.map(alertJson) })),
      Effect.catchTag("SchemaError", (error) => Effect.succeed(badRequest(error.message)))
    )
  )

  yield* router.add(
    "GET",
    "/_sim/faults",
    Effect.map(
      Effect.all([faults.scripts, faults.injections]),
      ([scripts, injections]) => json({ scripts, injections: injections.map(injectionJson) })
    )
  )

  yield* router.add(
    "POST",
    "/_sim/faults",
    HttpServerRequest.schemaBodyJson(FaultsBody).pipe(
      Effect.flatMap((body) => faults.set(body.scripts)),
      Effect.flatMap(() => faults.scripts),
      Effect.map((scripts) => json({ scripts })),
      Effect.catchTag("SchemaError", (error) => Effect.succeed(badRequest(error.message))),
      Effect.catchTag("HttpServerError", () => Effect.succeed(badRequest("the body is not valid JSON")))
    )
  )

  yield* router.add(
    "DELETE",
    "/_sim/faults",
    Effect.gen(function*() {
      const params = yield* HttpServerRequest.ParsedSearchParams
      const path = params.path
      yield* faults.clear(typeof path === "string" ? path : undefined)
      return json({ scripts: yield* faults.scripts })
    })
  )

  yield* router.add(
    "POST",
    "/_sim/reset",
    Effect.gen(function*() {
      yield* state.reset
      yield* limiter.reset
      yield* faults.clearInjections
      return json({ status: "ok" })
    })
  )
}))
