/**
 * The error of the Notification module and its per-field problems.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Errors from "../Errors.ts"
import * as Sanitize from "../Sanitize.ts"

/**
 * One field of a notification that PagerDuty would reject: the field's wire
 * name, a shortened and sanitised rendering of its value, and what to do.
 *
 * @since 0.1.0
 */
export class FieldProblem extends Schema.TaggedClass<FieldProblem>()("FieldProblem", {
  field: Schema.String,
  value: Schema.String,
  problem: Schema.String
}) {
  get message() {
    return `${this.field} (value ${this.value}): ${this.problem}`
  }
}

/**
 * A notification has one or more invalid fields, each listed in `problems`.
 *
 * @since 0.1.0
 */
export class InvalidFields extends Schema.TaggedClass<InvalidFields>()("InvalidFields", {
  problems: Schema.Array(FieldProblem)
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    const count = this.problems.length
    return `the notification has ${count} invalid field${count === 1 ? "" : "s"}: ` +
      this.problems.map((problem) => problem.message).join("; ")
  }
}

/**
 * The built event is over PagerDuty's request size limit even after every
 * `custom_details` value was removed.
 *
 * @since 0.1.0
 */
export class TooLarge extends Schema.TaggedClass<TooLarge>()("TooLarge", {
  bytes: Schema.Number,
  limit: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 413
  readonly logLevel = "Warn" as const
  get message() {
    return `the notification encodes to ${this.bytes} bytes, over the ${this.limit}-byte limit even without ` +
      `custom_details; shorten the summary, links or images`
  }
}

/**
 * The error of the Notification module.
 *
 * @since 0.1.0
 */
export class NotificationError extends Schema.TaggedError<NotificationError>()("NotificationError", {
  reason: Schema.Union([InvalidFields, TooLarge])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * Describes a value for a problem message: strings are sanitised, cut to 64
 * code points and quoted as JSON (so line breaks show as `\n`), other values
 * are named by their type.
 *
 * @since 0.1.0
 */
export const describeValue = (value: unknown): string => {
  if (value === undefined) return "missing"
  if (value === null) return "null"
  if (Predicate.isString(value)) return JSON.stringify(Sanitize.multiline(value, 64))
  if (Array.isArray(value)) return "an array"
  if (Predicate.isObject(value)) return "an object"
  if (typeof value === "bigint") return `${value}n`
  if (typeof value === "function") return "a function"
  return Sanitize.line(String(value), 64)
}

/**
 * Builds a {@link FieldProblem}.
 *
 * @since 0.1.0
 */
export const fieldProblem = (field: string, value: unknown, problem: string): FieldProblem =>
  new FieldProblem({ field, value: describeValue(value), problem })
