/**
 * The error of the EventsClient module and its reasons.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"
import * as Errors from "../Errors.ts"

// The request a failure belongs to. The URL never contains the routing key,
// which travels in the body.
const requestFields = {
  method: Schema.String,
  url: Schema.String,
  dedupKey: Schema.optional(Schema.String)
}

const describe = (reason: { readonly method: string; readonly url: string; readonly dedupKey?: string | undefined }) =>
  reason.dedupKey === undefined
    ? `${reason.method} ${reason.url}`
    : `${reason.method} ${reason.url} (dedup_key ${JSON.stringify(reason.dedupKey)})`

/**
 * PagerDuty rejected the event with 400. Retrying cannot help.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidEvent extends Schema.TaggedClass<InvalidEvent>()("InvalidEvent", {
  ...requestFields,
  status: Schema.String,
  detail: Schema.String,
  errors: Schema.Array(Schema.String)
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Error" as const
  get message() {
    const errors = this.errors.length === 0 ? "" : ` (${this.errors.join("; ")})`
    return `${describe(this)} was rejected as invalid: ${this.detail}${errors}; fix the event, a retry will fail again`
  }
}

/**
 * PagerDuty responded with 429: too many events for this routing key or account.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedClass<RateLimited>()("RateLimited", {
  ...requestFields,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    const wait = this.retryAfter === undefined
      ? "the response gave no wait time, back off for a few seconds"
      : `wait ${Duration.format(this.retryAfter)} before retrying`
    return `${describe(this)} was rate limited (429); ${wait}`
  }
}

/**
 * PagerDuty responded with a 5xx status, with the `Retry-After` wait when the
 * response had one (a 503 may).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedClass<ServerError>()("ServerError", {
  ...requestFields,
  status: Schema.Number,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  readonly retryable = true
  readonly httpStatus = 502
  readonly logLevel = "Warn" as const
  get message() {
    const wait = this.retryAfter === undefined ? "retry later" : `retry after ${Duration.format(this.retryAfter)}`
    return `${describe(this)} failed with status ${this.status}; PagerDuty had a server error, ${wait}`
  }
}

/**
 * PagerDuty responded with a status this client does not expect (401, 403,
 * 404, 408, 413, ...). Only 408 (request timeout) is retryable.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedStatus extends Schema.TaggedClass<UnexpectedStatus>()("UnexpectedStatus", {
  ...requestFields,
  status: Schema.Number
}) {
  get retryable() {
    return this.status === 408
  }
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${describe(this)} failed with unexpected status ${this.status}; check the base URL and the region`
  }
}

/**
 * The request did not reach PagerDuty or the connection failed before a
 * response arrived.
 *
 * @since 0.1.0
 * @category errors
 */
export class Transport extends Schema.TaggedClass<Transport>()("Transport", {
  ...requestFields,
  detail: Schema.String
}) {
  readonly retryable = true
  readonly httpStatus = 502
  readonly logLevel = "Warn" as const
  get message() {
    return `${describe(this)} failed before a response arrived: ${this.detail}; check network access to PagerDuty`
  }
}

/**
 * A policy wrapped around the HTTP client, such as an open circuit breaker,
 * rejected the attempt before any request was sent.
 *
 * @since 0.1.0
 * @category errors
 */
export class PolicyRejected extends Schema.TaggedClass<PolicyRejected>()("PolicyRejected", {
  ...requestFields,
  detail: Schema.String,
  retryAfter: Schema.optional(Schema.Duration)
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    return `${describe(this)} was not sent: ${this.detail}`
  }
}

/**
 * An attempt, or the whole send with its retries, took longer than allowed.
 *
 * @since 0.1.0
 * @category errors
 */
export class Timeout extends Schema.TaggedClass<Timeout>()("Timeout", {
  ...requestFields,
  scope: Schema.Literals(["attempt", "deadline"]),
  after: Schema.Duration
}) {
  readonly retryable = true
  readonly httpStatus = 504
  readonly logLevel = "Warn" as const
  get message() {
    const timedOut = this.scope === "attempt" ? "an attempt" : "the send, retries included,"
    return `${describe(this)} timed out: ${timedOut} took longer than ${Duration.format(this.after)}; ` +
      `PagerDuty may still have accepted it, so resend with the same dedup_key`
  }
}

/**
 * A 2xx response body was not the JSON object PagerDuty documents.
 *
 * @since 0.1.0
 * @category errors
 */
export class Decode extends Schema.TaggedClass<Decode>()("Decode", {
  ...requestFields,
  status: Schema.Number,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `${describe(this)} responded ${this.status} with an unreadable body: ${this.detail}; ` +
      `check that the base URL points at the Events API`
  }
}

/**
 * The error of the EventsClient module.
 *
 * @since 0.1.0
 * @category errors
 */
export class EventsClientError extends Schema.TaggedError<EventsClientError>()("EventsClientError", {
  reason: Schema.Union([
    InvalidEvent,
    RateLimited,
    ServerError,
    UnexpectedStatus,
    Transport,
    PolicyRejected,
    Timeout,
    Decode
  ])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}
