/**
 * The Events API v2 routes: `POST /v2/enqueue` for alert events and
 * `POST /v2/change/enqueue` for change events.
 *
 * Each request is checked in PagerDuty's documented order of concerns:
 *
 * 1. a body over 512,000 bytes gets 400;
 * 2. a body that is not a JSON object gets 400 with the spec's
 *    "Event object format is unrecognized" body;
 * 3. an event over its routing key's rate limit gets 429 and is not ingested;
 * 4. an event breaking any field rule gets 400 with
 *    `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`,
 *    one entry per broken rule;
 * 5. a valid event gets 202, with the event's `dedup_key` (or a generated
 *    UUID) for alert events and without one for change events.
 *
 * Every request, whatever its answer, is stored in {@link SimulatorState} with
 * its raw body, headers and arrival time.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as ByteSize from "effect/ByteSize"
import { SecureRandom } from "effect/crypto"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { HttpIncomingMessage, HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as Layer from "effect/Layer"
import * as RoutingKey from "./internal/routingKey.ts"
import * as Validate from "./internal/validate.ts"
import * as RateLimit from "./RateLimit.ts"
import * as SimulatorState from "./SimulatorState.ts"

/**
 * Settings of the Events API routes.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * Largest body read, in bytes, before the connection's body is abandoned.
   * Bodies between 512,000 bytes and this size are stored and answered with
   * 400; larger ones are answered with 400 and stored without their body.
   * Default 4 MiB.
   */
  readonly maxReadBytes?: number | undefined
}

const jsonHeaders = { "content-type": "application/json" }

const invalid = (errors: ReadonlyArray<string>) =>
  HttpServerResponse.jsonUnsafe(
    { status: "invalid event", message: "Event object is invalid", errors },
    { status: 400, headers: jsonHeaders }
  )

// The Events API spec's example for a body that is not JSON.
const unrecognized = (errors: ReadonlyArray<string>) =>
  HttpServerResponse.jsonUnsafe(
    { status: "Unrecognized object", message: "Event object format is unrecognized", errors },
    { status: 400, headers: jsonHeaders }
  )

// NOTE: PagerDuty documents neither the body nor the headers of its 429 answer; this body follows
// the shape of its other error bodies.
const rateLimited = (decision: RateLimit.Decision, retryAfter: boolean) =>
  HttpServerResponse.jsonUnsafe(
    {
      status: "throttled",
      message: "Request Limit Exceeded",
      errors: ["Too many events for this routing key; retry later"]
    },
    {
      status: 429,
      headers: retryAfter
        ? { ...jsonHeaders, "retry-after": String(Math.max(1, Math.ceil(decision.retryAfterMillis / 1000))) }
        : jsonHeaders
    }
  )

const tooLarge = `Event object is too large (maximum is ${Validate.maxBodyBytes} bytes)`

const stringField = (value: unknown): string | undefined => typeof value === "string" ? value : undefined

const toAlertEvent = (body: { readonly [key: string]: unknown }, dedupKey: string): SimulatorState.AlertEvent => {
  const action = body.event_action as Validate.EventAction
  const payload = (action === "trigger" ? body.payload : undefined) as { readonly [key: string]: unknown } | undefined
  return {
    action,
    dedupKey,
    summary: stringField(payload?.summary),
    source: stringField(payload?.source),
    severity: stringField(payload?.severity) as Validate.Severity | undefined,
    timestamp: stringField(payload?.timestamp),
    component: stringField(payload?.component),
    group: stringField(payload?.group),
    class: stringField(payload?.class),
    customDetails: payload?.custom_details,
    client: action === "trigger" ? stringField(body.client) : undefined,
    clientUrl: action === "trigger" ? stringField(body.client_url) : undefined,
    links: Array.isArray(body.links) ? body.links : undefined,
    images: Array.isArray(body.images) ? body.images : undefined
  }
}

const handler = (endpoint: SimulatorState.Endpoint, options: Options) =>
  Effect.gen(function*() {
    const state = yield* SimulatorState.SimulatorState
    const limiter = yield* RateLimit.RateLimit
    const maxReadBytes = options.maxReadBytes ?? 4 * 1024 * 1024

    return Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const receivedAt = yield* DateTime.now
      const headers: Record<string, string> = { ...request.headers }
      const read = yield* request.arrayBuffer.pipe(
        Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(maxReadBytes)),
        Effect.map((buffer) => new Uint8Array(buffer)),
        Effect.option
      )
      const body = read._tag === "Some" ? read.value : new Uint8Array(0)
      const path = request.url.split("?")[0] ?? request.url
      const base = { endpoint, method: request.method, path, receivedAt, headers, body }

      const reject = (
        response: HttpServerResponse.HttpServerResponse,
        outcome: "invalid" | "rate_limited",
        errors: ReadonlyArray<string>,
        routingKey: string | undefined
      ) => Effect.as(state.receive({ ...base, status: response.status, outcome, errors, routingKey }), response)

      if (read._tag === "None" || body.byteLength > Validate.maxBodyBytes) {
        return yield* reject(invalid([tooLarge]), "invalid", [tooLarge], undefined)
      }
      const parsed = Validate.parseBody(body)
      if (parsed._tag === "Malformed") {
        return yield* reject(unrecognized([parsed.reason]), "invalid", [parsed.reason], undefined)
      }
      const event = parsed.value
      const routingKey = typeof event.routing_key === "string" && event.routing_key.length > 0
        ? event.routing_key
        : undefined

      if (routingKey !== undefined) {
        const decision = yield* limiter.check(RoutingKey.hash(routingKey))
        if (!decision.allowed) {
          const errors = ["Too many events for this routing key; retry later"]
          return yield* reject(rateLimited(decision, limiter.retryAfter), "rate_limited", errors, routingKey)
        }
      }

      const errors = endpoint === "alert" ? Validate.alertEventErrors(event) : Validate.changeEventErrors(event)
      if (errors.length > 0) return yield* reject(invalid(errors), "invalid", errors, routingKey)

      if (endpoint === "change") {
        yield* state.receive({ ...base, status: 202, outcome: "accepted", errors: [], routingKey })
        return HttpServerResponse.jsonUnsafe(
          { status: "success", message: "Change event processed" },
          { status: 202, headers: jsonHeaders }
        )
      }

      const given = typeof event.dedup_key === "string" && event.dedup_key.trim().length > 0
        ? event.dedup_key
        : undefined
      // PagerDuty generates a UUID for a trigger sent without a dedup key and returns it.
      const dedupKey = given ?? SecureRandom.uuidV4Unsafe()
      const stored = yield* state.receive({
        ...base,
        status: 202,
        outcome: "accepted",
        errors: [],
        routingKey,
        alertEvent: toAlertEvent(event, dedupKey)
      })
      return HttpServerResponse.jsonUnsafe(
        { status: "success", message: "Event processed", dedup_key: stored.dedupKey },
        { status: 202, headers: jsonHeaders }
      )
    })
  })

/**
 * Adds the Events API routes to the router.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options = {}
): Layer.Layer<never, never, HttpRouter.HttpRouter | SimulatorState.SimulatorState | RateLimit.RateLimit> => {
  if (options.maxReadBytes !== undefined && (!Number.isInteger(options.maxReadBytes) || options.maxReadBytes < 1)) {
    throw new RangeError(`Events API option "maxReadBytes" must be a positive integer, got ${options.maxReadBytes}`)
  }
  return HttpRouter.use(Effect.fnUntraced(function*(router) {
    yield* router.add("POST", "/v2/enqueue", yield* handler("alert", options))
    yield* router.add("POST", "/v2/change/enqueue", yield* handler("change", options))
  }))
}
