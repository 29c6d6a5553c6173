/**
 * The error model shared by every module of effect-pagerduty.
 *
 * Each module defines one `Schema.TaggedError` class whose `reason` field is a
 * union of `Schema.TaggedClass` reasons (`RateLimited`, `InvalidEvent`,
 * `Transport`, ...). A reason states three facts about itself: whether the
 * failed operation may succeed if retried, the HTTP status a server should
 * answer with when the failure reaches a route, and the log level it deserves.
 * {@link classify} reads them from any error of the library, so callers need
 * not match on module-specific tags.
 *
 * A module error is written like this, with the two members every error of the
 * library carries:
 *
 * ```ts
 * import { Errors } from "@effect-pagerduty/pagerduty"
 * import { Schema } from "effect"
 *
 * class NotFound extends Schema.TaggedClass<NotFound>()("NotFound", { id: Schema.String }) {
 *   readonly retryable = false
 *   readonly httpStatus = 404
 *   readonly logLevel = "Info"
 *   get message() {
 *     return `incident ${this.id} was not found; check the id`
 *   }
 * }
 *
 * class IncidentError extends Schema.TaggedError<IncidentError>()("IncidentError", {
 *   reason: Schema.Union([NotFound])
 * }) {
 *   readonly [Errors.TypeId] = Errors.TypeId
 *   override get message() {
 *     return this.reason.message
 *   }
 * }
 * ```
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"

/**
 * Log levels used by the error model, a subset of Effect's `LogLevel`.
 *
 * @since 0.1.0
 * @category models
 */
export type Severity = "Debug" | "Info" | "Warn" | "Error" | "Fatal"

/**
 * How a failure should be treated: retried or not, which HTTP status a route
 * answers, and at which level it is logged.
 *
 * @since 0.1.0
 * @category models
 */
export interface Classification {
  readonly retryable: boolean
  readonly httpStatus: number
  readonly logLevel: Severity
}

/**
 * The facts each reason of a module error provides.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reason extends Classification {
  readonly _tag: string
  readonly message: string
}

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-pagerduty/Error" as const

/**
 * The shape of every error the library raises.
 *
 * @since 0.1.0
 * @category models
 */
export interface PagerDutyError {
  readonly [TypeId]: typeof TypeId
  readonly _tag: string
  readonly reason: Reason
  readonly message: string
}

/**
 * Tells whether a value is an error raised by this library.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPagerDutyError = (u: unknown): u is PagerDutyError => Predicate.hasProperty(u, TypeId)

const unknownClassification: Classification = { retryable: false, httpStatus: 500, logLevel: "Error" }

/**
 * Classifies any failure: errors of this library by their reason, anything
 * else as a non-retryable internal error (500, logged at `Error`).
 *
 * @example
 * ```ts
 * import { Errors } from "@effect-pagerduty/pagerduty"
 *
 * const { httpStatus, retryable } = Errors.classify(new Error("boom"))
 * // httpStatus === 500, retryable === false
 * ```
 *
 * @since 0.1.0
 * @category classification
 */
export const classify = (u: unknown): Classification => {
  if (!isPagerDutyError(u)) return unknownClassification
  const { httpStatus, logLevel, retryable } = u.reason
  return { retryable, httpStatus, logLevel }
}
