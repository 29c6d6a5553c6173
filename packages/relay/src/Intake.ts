/**
 * The relay's HTTP intake: authentication, body limits, content types and the
 * responses a sender gets.
 *
 * The intake is strict about what it accepts and precise about why it
 * rejects, because Alertmanager and Grafana only log the status code and body
 * of a failed notification: the operator reading those logs needs the field,
 * the value and the fix in one line.
 *
 * @since 0.1.0
 */
import { Errors } from "@effect-pagerduty/pagerduty"
import * as ByteSize from "effect/ByteSize"
import { timingSafeEqual } from "effect/crypto/Mac"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * The request carried no credentials or wrong ones.
 *
 * @since 0.1.0
 * @category reasons
 */
export class Unauthorized extends Schema.TaggedClass<Unauthorized>()("Unauthorized", {
  scheme: Schema.Literals(["none", "bearer", "basic", "other"])
}) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Warn"
  get message(): string {
    if (this.scheme === "none") {
      return "missing credentials: send an Authorization header with a bearer token or basic-auth user from intake.auth"
    }
    if (this.scheme === "other") {
      return "unsupported Authorization scheme: use Bearer or Basic"
    }
    return `invalid ${this.scheme} credentials: check them against intake.auth in the relay configuration`
  }
}

/**
 * The body is larger than the configured limit.
 *
 * @since 0.1.0
 * @category reasons
 */
export class PayloadTooLarge extends Schema.TaggedClass<PayloadTooLarge>()("PayloadTooLarge", {
  limitBytes: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 413
  readonly logLevel = "Warn"
  get message(): string {
    // Lowering Alertmanager's max_alerts is no remedy: the webhook then carries the
    // status of the kept alerts only, and the relay can resolve a group that still fires.
    return `request body exceeds ${this.limitBytes} bytes: raise server.body_limit_bytes`
  }
}

/**
 * The request's `Content-Type` is not JSON.
 *
 * @since 0.1.0
 * @category reasons
 */
export class UnsupportedMediaType extends Schema.TaggedClass<UnsupportedMediaType>()("UnsupportedMediaType", {
  contentType: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 415
  readonly logLevel = "Warn"
  get message(): string {
    return `unsupported Content-Type ${JSON.stringify(this.contentType)}: send application/json`
  }
}

/**
 * The body is not valid JSON or does not match the source's schema.
 *
 * @since 0.1.0
 * @category reasons
 */
export class InvalidPayload extends Schema.TaggedClass<InvalidPayload>()("InvalidPayload", {
  source: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn"
  get message(): string {
    return `invalid ${this.source} payload: ${this.detail}`
  }
}

/**
 * The path names a route that the configuration does not define, or names
 * none while no default route is configured.
 *
 * @since 0.1.0
 * @category reasons
 */
export class UnknownRoute extends Schema.TaggedClass<UnknownRoute>()("UnknownRoute", {
  route: Schema.optional(Schema.String),
  known: Schema.Array(Schema.String)
}) {
  readonly retryable = false
  readonly httpStatus = 404
  readonly logLevel = "Warn"
  get message(): string {
    const known = this.known.length === 0 ? "none" : this.known.join(", ")
    return this.route === undefined
      ? `no default route is configured: post to a path ending in a route name (configured routes: ${known})`
      : `unknown route ${JSON.stringify(this.route)}: configured routes are ${known}`
  }
}

/**
 * The relay cannot take the alert now: it is shutting down or its outbox is
 * full. The sender should retry after `retryAfter`.
 *
 * @since 0.1.0
 * @category reasons
 */
export class Unavailable extends Schema.TaggedClass<Unavailable>()("Unavailable", {
  cause: Schema.Literals(["shutting-down", "outbox-full", "outbox-failed"]),
  retryAfter: Schema.Duration
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn"
  get message(): string {
    const seconds = Math.ceil(Duration.toSeconds(this.retryAfter))
    switch (this.cause) {
      case "shutting-down":
        return `relay is shutting down: retry in ${seconds} s, another instance or the restarted relay will accept it`
      case "outbox-full":
        return `outbox is full: retry in ${seconds} s; deliveries to PagerDuty are behind, check /health`
      case "outbox-failed":
        return `outbox could not store the alert: retry in ${seconds} s and check the relay's log`
    }
  }
}

/**
 * The error of a rejected intake request, with the reason as its `reason`.
 *
 * @since 0.1.0
 * @category errors
 */
export class IntakeError extends Schema.TaggedError<IntakeError>()("IntakeError", {
  reason: Schema.Union([Unauthorized, PayloadTooLarge, UnsupportedMediaType, InvalidPayload, UnknownRoute, Unavailable])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message(): string {
    return this.reason.message
  }
}

/**
 * Credentials the intake accepts. Alertmanager's `http_config` and Grafana's
 * webhook contact point can both send a static bearer token or basic-auth
 * credentials.
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly bearerTokens: ReadonlyArray<Redacted.Redacted<string>>
  readonly basic: ReadonlyArray<{ readonly username: string; readonly password: Redacted.Redacted<string> }>
  /**
   * Verifies a bearer value that matched no static token, for example as a
   * JWT, and succeeds with the subject it authenticated.
   */
  readonly verifyBearer?: ((token: string) => Effect.Effect<string, unknown>) | undefined
}

const encoder = new TextEncoder()

// NOTE: the comparison takes constant time for equal lengths only. A length mismatch
// returns early, which reveals the length of the secret but not its bytes.
const secretEquals = (given: string, expected: Redacted.Redacted<string>): boolean => {
  const a = encoder.encode(given)
  const b = encoder.encode(Redacted.value(expected))
  return a.length === b.length && timingSafeEqual(a, b)
}

/**
 * Checks the request's `Authorization` header against the configured
 * credentials, and succeeds with the principal (`bearer`, `basic:<user>` or
 * the verified token's subject).
 *
 * @since 0.1.0
 * @category authentication
 */
export const authenticate = (
  request: HttpServerRequest.HttpServerRequest,
  credentials: Credentials
): Effect.Effect<string, IntakeError> => {
  const header = request.headers["authorization"]
  if (header === undefined || header.trim() === "") {
    return Effect.fail(new IntakeError({ reason: new Unauthorized({ scheme: "none" }) }))
  }
  const space = header.indexOf(" ")
  const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase()
  const value = space === -1 ? "" : header.slice(space + 1).trim()

  if (scheme === "bearer") {
    // Every configured token is compared, so the time taken does not reveal which one matched.
    let matched = false
    for (const token of credentials.bearerTokens) matched = secretEquals(value, token) || matched
    if (matched) return Effect.succeed("bearer")
    const verify = credentials.verifyBearer
    if (verify !== undefined) {
      return verify(value).pipe(
        Effect.mapError(() => new IntakeError({ reason: new Unauthorized({ scheme: "bearer" }) }))
      )
    }
    return Effect.fail(new IntakeError({ reason: new Unauthorized({ scheme: "bearer" }) }))
  }

  if (scheme === "basic") {
    const decoded = decodeBasic(value)
    let principal: string | undefined
    for (const user of credentials.basic) {
      const passwordMatches = decoded !== undefined && secretEquals(decoded.password, user.password)
      if (decoded !== undefined && decoded.username === user.username && passwordMatches) {
        principal = `basic:${user.username}`
      }
    }
    return principal === undefined
      ? Effect.fail(new IntakeError({ reason: new Unauthorized({ scheme: "basic" }) }))
      : Effect.succeed(principal)
  }

  return Effect.fail(new IntakeError({ reason: new Unauthorized({ scheme: "other" }) }))
}

const decodeBasic = (value: string): { readonly username: string; readonly password: string } | undefined => {
  let text: string
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.from(atob(value), (c) => c.charCodeAt(0)))
  } catch {
    return undefined
  }
  const colon = text.indexOf(":")
  return colon === -1 ? undefined : { username: text.slice(0, colon), password: text.slice(colon + 1) }
}

/**
 * Reads a JSON body: checks the `Content-Type`, reads at most `limitBytes`
 * bytes and parses it.
 *
 * @since 0.1.0
 * @category body
 */
export const readJson = (
  request: HttpServerRequest.HttpServerRequest,
  options: { readonly limitBytes: number; readonly source: string }
): Effect.Effect<unknown, IntakeError> =>
  Effect.gen(function*() {
    const contentType = request.headers["content-type"] ?? ""
    const mediaType = contentType.split(";")[0]!.trim().toLowerCase()
    // Alertmanager and Grafana send application/json; `+json` media types are JSON too.
    if (mediaType !== "application/json" && !mediaType.endsWith("+json")) {
      return yield* new IntakeError({ reason: new UnsupportedMediaType({ contentType }) })
    }

    const declared = Number(request.headers["content-length"])
    if (Number.isFinite(declared) && declared > options.limitBytes) {
      return yield* new IntakeError({ reason: new PayloadTooLarge({ limitBytes: options.limitBytes }) })
    }

    const buffer = yield* request.arrayBuffer.pipe(
      Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(options.limitBytes)),
      Effect.mapError((error) =>
        error.reason._tag === "RequestParseError" && error.reason.reason === "BodyTooLarge"
          ? new IntakeError({ reason: new PayloadTooLarge({ limitBytes: options.limitBytes }) })
          : new IntakeError({
            reason: new InvalidPayload({ source: options.source, detail: "the body could not be read" })
          })
      )
    )

    const text = new TextDecoder().decode(buffer)
    try {
      return JSON.parse(text) as unknown
    } catch (cause) {
      const detail = cause instanceof SyntaxError ? cause.message : "malformed JSON"
      return yield* new IntakeError({
        reason: new InvalidPayload({ source: options.source, detail: `malformed JSON (${detail})` })
      })
    }
  })

/**
 * Renders an error as the JSON response a sender receives: `{"status": "rejected", "error", "message"}`,
 * with `Retry-After` in seconds where the error carries a delay.
 *
 * @since 0.1.0
 * @category responses
 */
export const errorResponse = (error: IntakeError): HttpServerResponse.HttpServerResponse => {
  const reason = error.reason
  const response = HttpServerResponse.jsonUnsafe(
    { status: "rejected", error: reason._tag, message: reason.message },
    { status: reason.httpStatus }
  )
  if (reason._tag === "Unavailable") {
    return HttpServerResponse.setHeader(
      response,
      "retry-after",
      String(Math.max(1, Math.ceil(Duration.toSeconds(reason.retryAfter))))
    )
  }
  if (reason._tag === "Unauthorized") {
    return HttpServerResponse.setHeader(response, "www-authenticate", "Bearer, Basic realm=\"pd-relay\"")
  }
  return response
}
