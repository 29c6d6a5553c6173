/**
 * The relay's HTTP routes: the alert intake for each source, with and without
 * a route name in the path.
 *
 * @since 0.1.0
 */
import * as Health from "@effect-pagerduty/pagerduty/Health"
import * as Metrics from "@effect-pagerduty/pagerduty/Metrics"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Ref from "effect/Ref"
import * as Intake from "./Intake.ts"

/**
 * The payload kinds the intake accepts, one path prefix each.
 *
 * @since 0.1.0
 * @category models
 */
export type SourceKind = "alertmanager" | "grafana" | "events" | "generic"

/**
 * The relay's response body for an accepted request.
 *
 * @since 0.1.0
 * @category models
 */
export interface Accepted {
  readonly route: string
  readonly events: ReadonlyArray<{ readonly dedup_key: string; readonly event_action: string }>
  /** Events that the dedupe window dropped as repeats. */
  readonly duplicates: number
}

/**
 * Takes a parsed body for a route into the relay's pipeline, succeeding once
 * the outbox contains what it produced.
 *
 * @since 0.1.0
 * @category services
 */
export class Ingress extends Context.Service<Ingress, {
  readonly routes: ReadonlyArray<string>
  readonly defaultRoute: string | undefined
  /** The one payload kind a route accepts, when its configuration names one. */
  readonly sourceOf: (route: string) => SourceKind | undefined
  readonly accept: (
    source: SourceKind,
    route: string,
    body: unknown,
    principal: string
  ) => Effect.Effect<Accepted, Intake.IntakeError>
}>()("@effect-pagerduty/relay/Ingress") {}

/**
 * Intake settings: credentials, the body size limit, and whether the relay
 * still accepts alerts.
 *
 * @since 0.1.0
 * @category services
 */
export class IntakeSettings extends Context.Service<IntakeSettings, {
  readonly credentials: Intake.Credentials
  /** When true, requests are accepted without credentials. */
  readonly insecureNoAuth: boolean
  readonly bodyLimitBytes: number
  /** Set to false when shutdown begins, after which the intake responds 503. */
  readonly accepting: Ref.Ref<boolean>
}>()("@effect-pagerduty/relay/IntakeSettings") {}

const handle = (source: SourceKind, request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function*() {
    const settings = yield* IntakeSettings
    const ingress = yield* Ingress

    if (!(yield* Ref.get(settings.accepting))) {
      return yield* new Intake.IntakeError({
        reason: new Intake.Unavailable({ cause: "shutting-down", retryAfter: Duration.seconds(5) })
      })
    }

    const principal = settings.insecureNoAuth
      ? "anonymous"
      : yield* Intake.authenticate(request, settings.credentials)

    const params = yield* HttpRouter.params
    const route = params["route"] ?? ingress.defaultRoute
    if (route === undefined || !ingress.routes.includes(route)) {
      return yield* new Intake.IntakeError({
        reason: new Intake.UnknownRoute({ route: params["route"], known: ingress.routes })
      })
    }

    const only = ingress.sourceOf(route)
    if (only !== undefined && only !== source) {
      return yield* new Intake.IntakeError({
        reason: new Intake.InvalidPayload({
          source,
          detail: `route ${route} accepts only ${only} payloads: post to /${only}/${route}`
        })
      })
    }

    const body = yield* Intake.readJson(request, { limitBytes: settings.bodyLimitBytes, source })
    const accepted = yield* ingress.accept(source, route, body, principal)
    yield* Metrics.recordIntake(
      source,
      accepted.events.length === 0 && accepted.duplicates > 0 ? "duplicate" : "accepted"
    )
    return HttpServerResponse.jsonUnsafe({ status: "accepted", ...accepted }, { status: 202 })
  }).pipe(
    Effect.catchTag("IntakeError", (error) =>
      Effect.gen(function*() {
        yield* Metrics.recordIntake(source, intakeOutcome(error))
        yield* Effect.logDebug("intake rejected a request").pipe(
          Effect.annotateLogs({ source, reason: error.reason._tag, status: error.reason.httpStatus })
        )
        return Intake.errorResponse(error)
      }))
  )

const intakeOutcome = (error: Intake.IntakeError): Metrics.IntakeOutcome => {
  switch (error.reason._tag) {
    case "Unauthorized":
      return "unauthorized"
    case "PayloadTooLarge":
      return "too_large"
    case "Unavailable":
      return "unavailable"
    default:
      return "invalid"
  }
}

/**
 * The intake routes: `POST /alertmanager`, `/grafana`, `/events` and
 * `/generic` (the route's JSON mapping), each also under `/{route}` to pick a
 * configured route by name.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = HttpRouter.addAll(
  (["alertmanager", "grafana", "events", "generic"] as const).flatMap((source) => [
    HttpRouter.route("POST", `/${source}`, (request: HttpServerRequest.HttpServerRequest) => handle(source, request)),
    HttpRouter.route(
      "POST",
      `/${source}/:route`,
      (request: HttpServerRequest.HttpServerRequest) => handle(source, request)
    )
  ])
)

/**
 * The operational routes: `GET /health` (every check), `/health/live`,
 * `/health/ready` (200 or 503 with each check's status and latency) and
 * `/metrics` (Prometheus text).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerOperations = HttpRouter.addAll([
  HttpRouter.route("GET", "/health", Health.handler),
  HttpRouter.route("GET", "/health/live", Health.liveHandler),
  HttpRouter.route("GET", "/health/ready", Health.readyHandler),
  HttpRouter.route("GET", "/metrics", Metrics.handler)
])
