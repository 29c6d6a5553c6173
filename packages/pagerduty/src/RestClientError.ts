/**
 * The error raised by `RestClient`, with one reason per way a REST API v2 call
 * can fail.
 *
 * Reasons built from a response carry PagerDuty's own error `code`, `message`
 * and `errors` when the body has them. Every reason carries the HTTP method and
 * the URL path of the request. The token travels only in a header, so it never
 * appears in a reason or a message.
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Duration, Schema } from "effect"
import * as Errors from "./Errors.ts"

const requestFields = {
  method: Schema.String,
  path: Schema.String
}

const apiFields = {
  ...requestFields,
  status: Schema.Number,
  code: Schema.optional(Schema.Number),
  apiMessage: Schema.optional(Schema.String),
  errors: Schema.Array(Schema.String)
}

const describeApi = (reason: {
  readonly status: number
  readonly code?: number | undefined
  readonly apiMessage?: string | undefined
  readonly errors: ReadonlyArray<string>
}): string => {
  const parts: Array<string> = []
  if (reason.code !== undefined) parts.push(`code ${reason.code}`)
  if (reason.apiMessage !== undefined && reason.apiMessage !== "") parts.push(reason.apiMessage)
  const head = parts.length > 0 ? `${reason.status} (${parts.join(", ")})` : `${reason.status}`
  return reason.errors.length > 0 ? `${head}: ${reason.errors.join("; ")}` : head
}

/**
 * PagerDuty rejected the request as invalid (400, and other 4xx statuses
 * without a reason of their own, such as 409, 413 or 422). Retrying the same
 * request does not help.
 *
 * @since 0.1.0
 * @category reasons
 */
export class BadRequest extends Schema.TaggedClass<BadRequest>()("BadRequest", apiFields) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `${this.method} ${this.path} was rejected with ${describeApi(this)}; fix the request before sending it again`
  }
}

/**
 * The token is missing, invalid, revoked, or not sent as `Token token=…` or
 * `Bearer …` (401).
 *
 * @since 0.1.0
 * @category reasons
 */
export class Unauthorized extends Schema.TaggedClass<Unauthorized>()("Unauthorized", apiFields) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${this.method} ${this.path} was rejected with ${
      describeApi(this)
    }; check that the API or OAuth token is valid and that its kind (api or oauth) is configured correctly`
  }
}

/**
 * The account lacks the ability the request needs (402).
 *
 * @since 0.1.0
 * @category reasons
 */
export class PaymentRequired extends Schema.TaggedClass<PaymentRequired>()("PaymentRequired", apiFields) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${this.method} ${this.path} was rejected with ${
      describeApi(this)
    }; the PagerDuty account's plan does not include this feature`
  }
}

/**
 * The token is valid but not allowed to perform the request (403).
 *
 * @since 0.1.0
 * @category reasons
 */
export class Forbidden extends Schema.TaggedClass<Forbidden>()("Forbidden", apiFields) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${this.method} ${this.path} was rejected with ${
      describeApi(this)
    }; grant the token's user or OAuth scope access to this resource`
  }
}

/**
 * The resource does not exist, or the token cannot see it (404).
 *
 * @since 0.1.0
 * @category reasons
 */
export class NotFound extends Schema.TaggedClass<NotFound>()("NotFound", apiFields) {
  readonly retryable = false
  readonly httpStatus = 404
  readonly logLevel = "Info" as const
  get message() {
    return `${this.method} ${this.path} was not found (${describeApi(this)}); check the id and the region`
  }
}

/**
 * PagerDuty's rate limit was reached (429). `retryAfter` is the server's
 * `ratelimit-reset`, when the response had a usable one.
 *
 * @since 0.1.0
 * @category reasons
 */
export class RateLimited extends Schema.TaggedClass<RateLimited>()("RateLimited", {
  ...apiFields,
  retryAfter: Schema.optional(Schema.Duration),
  limit: Schema.optional(Schema.Number),
  remaining: Schema.optional(Schema.Number)
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    const wait = this.retryAfter === undefined
      ? "the response gave no ratelimit-reset, so back off before retrying"
      : `retry after ${Duration.format(this.retryAfter)}`
    return `${this.method} ${this.path} was rate limited with ${describeApi(this)}; ${wait}`
  }
}

/**
 * PagerDuty failed with a 5xx status.
 *
 * @since 0.1.0
 * @category reasons
 */
export class ServerError extends Schema.TaggedClass<ServerError>()("ServerError", apiFields) {
  readonly retryable = true
  readonly httpStatus = 502
  readonly logLevel = "Warn" as const
  get message() {
    return `${this.method} ${this.path} failed on PagerDuty's side with ${describeApi(this)}; retry later`
  }
}

/**
 * The connection failed. With `stage: "connect"` no connection was made, so
 * PagerDuty cannot have received the request; with `stage: "exchange"` the
 * request may have reached PagerDuty before the failure.
 *
 * @since 0.1.0
 * @category reasons
 */
export class Transport extends Schema.TaggedClass<Transport>()("Transport", {
  ...requestFields,
  stage: Schema.Literals(["connect", "exchange"]),
  description: Schema.String
}) {
  readonly retryable = true
  readonly httpStatus = 502
  readonly logLevel = "Warn" as const
  get message() {
    const when = this.stage === "connect" ? "before a connection was made" : "after the request may have been sent"
    return `${this.method} ${this.path} failed ${when}: ${this.description}; check the network path to the API host`
  }
}

/**
 * No response arrived in time: the client's per-attempt timeout expired
 * (`source: "client"`), or PagerDuty responded with 408 (`source: "server"`).
 *
 * @since 0.1.0
 * @category reasons
 */
export class Timeout extends Schema.TaggedClass<Timeout>()("Timeout", {
  ...requestFields,
  source: Schema.Literals(["client", "server"]),
  timeout: Schema.optional(Schema.Duration)
}) {
  readonly retryable = true
  readonly httpStatus = 504
  readonly logLevel = "Warn" as const
  get message() {
    const detail = this.source === "server"
      ? "PagerDuty responded with 408 Request Timeout"
      : `no response within ${this.timeout === undefined ? "the timeout" : Duration.format(this.timeout)}`
    return `${this.method} ${this.path} timed out: ${detail}; retry, or raise the timeout option`
  }
}

/**
 * A successful response could not be decoded into the expected shape.
 *
 * @since 0.1.0
 * @category reasons
 */
export class Decode extends Schema.TaggedClass<Decode>()("Decode", {
  ...requestFields,
  status: Schema.Number,
  description: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${this.method} ${this.path} returned ${this.status} with a body that could not be decoded: ${this.description}`
  }
}

/**
 * The operation needs a `From` header (the email of a user on the account)
 * and neither the call nor the client options gave one. Nothing was sent.
 *
 * @since 0.1.0
 * @category reasons
 */
export class MissingFrom extends Schema.TaggedClass<MissingFrom>()("MissingFrom", requestFields) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `${this.method} ${this.path} requires a From header; set the client's "from" option or pass "from" to the call`
  }
}

/**
 * Every reason a REST API v2 call can fail with.
 *
 * @since 0.1.0
 * @category reasons
 */
export const RestClientErrorReason = Schema.Union([
  BadRequest,
  Unauthorized,
  PaymentRequired,
  Forbidden,
  NotFound,
  RateLimited,
  ServerError,
  Transport,
  Timeout,
  Decode,
  MissingFrom
])

/**
 * @since 0.1.0
 * @category reasons
 */
export type RestClientErrorReason = typeof RestClientErrorReason.Type

/**
 * A failed REST API v2 call; match on `reason._tag` or use
 * `Effect.catchReason("RestClientError", "NotFound", …)`.
 *
 * @since 0.1.0
 * @category errors
 */
export class RestClientError extends Schema.TaggedError<RestClientError>()("RestClientError", {
  reason: RestClientErrorReason
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * Tells whether a value is a `RestClientError`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRestClientError = (u: unknown): u is RestClientError => u instanceof RestClientError
