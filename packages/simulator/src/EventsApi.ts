/**
 * The Events API v2 routes: `POST /v2/enqueue` for alert events and
 * `POST /v2/change/enqueue` for change events.
 *
 * Each request is checked in PagerDuty's documented order of concerns:
 *
 * 1. a body over 512,000 bytes gets 400;
 * 2. a body that is not a JSON object gets 400;
 * 3. an event over its routing key's rate limit gets 429 and is not ingested.
 *    Every request whose JSON names a routing key counts toward that key's
 *    limit, valid or not, except the ones rejected with 429;
 * 4. an event breaking any field rule gets 400 with
 *    `{"status":"invalid event","message":"Event object is invalid","errors":[...]}`,
 *    one entry per broken rule;
 * 5. a valid event gets 202, with the event's `dedup_key` (or a generated
 *    UUID) for alert events and without one for change events.
 *
 * Every request, whatever the response, is stored in {@link SimulatorState} with
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
   * Maximum body size read, in bytes. Bodies between 512,000 bytes and this
   * size get 400 and are stored. Larger ones also get 400, but are stored
   * without their body. Default 4 MiB.
   */
  readonly maxReadBytes?: number | undefined
}

const jsonHeaders = { "content-type": "application/json" }

const invalid = (errors: ReadonlyArray<string>) =>
  HttpServerResponse.jsonUnsafe(
    { status: "invalid event", message: "Event object is invalid", errors },
    { status: 400, headers: jsonHeaders }
  )

// NOTE: PagerDuty documents neither the body nor the headers of its 429 response, so this body
// copies the shape of its other error bodies.
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

// Tells whether reading the body failed because it passed the read limit, which the Node
// platform reports as a `MaxBytesError` somewhere in the error's cause chain.
const isOverLimit = (error: unknown): boolean => {
  for (let cause = error, depth = 0; cause !== undefined && cause !== null && depth < 5; depth++) {
    if (typeof cause === "object" && "maxBytes" in cause) return true
    cause = typeof cause === "object" && "cause" in cause ? cause.cause : undefined
  }
  return false
}

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
        Effect.result
      )
      const body = read._tag === "Success" ? read.success : new Uint8Array(0)
      const path = request.url.split("?")[0] ?? request.url
      const base = { endpoint, method: request.method, path, receivedAt, headers, body }

      const reject = (
        response: HttpServerResponse.HttpServerResponse,
        outcome: "invalid" | "rate_limited",
        errors: ReadonlyArray<string>,
        routingKey: string | undefined,
        eventAction?: Validate.EventAction
      ) =>
        Effect.as(
          state.receive({ ...base, status: response.status, outcome, errors, routingKey, eventAction }),
          response
        )

      if (read._tag === "Failure" && !isOverLimit(read.failure)) {
        // The client went away or sent a broken body, so this response most likely reaches no one.
        const errors = ["The request body could not be read"]
        return yield* reject(invalid(errors), "invalid", errors, undefined)
      }
      if (read._tag === "Failure" || body.byteLength > Validate.maxBodyBytes) {
        return yield* reject(invalid([tooLarge]), "invalid", [tooLarge], undefined)
      }
      // NOTE: The Events API spec's only example of a JSON parse error is a body with status
      // "Unrecognized object", given for 5XX responses. PagerDuty documents 400 for invalid JSON,
      // so this responds with the 400 body shape and the spec's "JSON parse error" text.
      const parsed = Validate.parseBody(body)
      if (parsed._tag === "Malformed") {
        return yield* reject(invalid([parsed.reason]), "invalid", [parsed.reason], undefined)
      }
      const event = parsed.value
      const routingKey = typeof event.routing_key === "string" && event.routing_key.length > 0
        ? event.routing_key
        : undefined
      const eventAction = (Validate.eventActions as ReadonlyArray<unknown>).includes(event.event_action)
        ? event.event_action as Validate.EventAction
        : undefined

      // NOTE: PagerDuty does not document whether events that fail validation count toward the
      // limit. Here they do, because the limit is checked before the fields are.
      if (routingKey !== undefined) {
        const decision = yield* limiter.check(RoutingKey.hash(routingKey))
        if (!decision.allowed) {
          const errors = ["Too many events for this routing key; retry later"]
          return yield* reject(
            rateLimited(decision, limiter.retryAfter),
            "rate_limited",
            errors,
            routingKey,
            eventAction
          )
        }
      }

      const errors = endpoint === "alert" ? Validate.alertEventErrors(event) : Validate.changeEventErrors(event)
      if (errors.length > 0) return yield* reject(invalid(errors), "invalid", errors, routingKey, eventAction)

      if (endpoint === "change") {
        // NOTE: PagerDuty documents the same response codes for change events but not the message
        // of their 202 body; "Change event processed" is this simulator's wording.
        yield* state.receive({ ...base, status: 202, outcome: "accepted", errors: [], routingKey })
        return HttpServerResponse.jsonUnsafe(
          { status: "success", message: "Change event processed" },
          { status: 202, headers: jsonHeaders }
        )
      }

      const sentDedupKey = typeof event.dedup_key === "string" && event.dedup_key.trim().length > 0
        ? event.dedup_key
        : undefined
      // PagerDuty generates a UUID for a trigger sent without a dedup key and returns it.
      // NOTE: PagerDuty does not say how it treats a blank `dedup_key` on a trigger; the simulator
      // treats it as missing and generates one.
      const dedupKey = sentDedupKey ?? SecureRandom.uuidV4Unsafe()
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
