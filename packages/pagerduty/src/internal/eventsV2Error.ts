/**
 * The error of the EventsV2 module, kept apart so that its helpers can raise
 * it without importing the module itself.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import * as Errors from "../Errors.ts"
import { preview } from "./text.ts"

/**
 * A field of an event is missing or has a value PagerDuty rejects.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidField extends Schema.TaggedClass<InvalidField>()("InvalidField", {
  field: Schema.String,
  value: Schema.String,
  problem: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `event field ${this.field} is invalid (value ${this.value}): ${this.problem}`
  }
}

/**
 * The encoded request is over PagerDuty's size limit even after every
 * `custom_details` value was removed.
 *
 * @since 0.1.0
 * @category errors
 */
export class TooLarge extends Schema.TaggedClass<TooLarge>()("TooLarge", {
  bytes: Schema.Number,
  limit: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 413
  readonly logLevel = "Warn" as const
  get message() {
    return `the encoded event is ${this.bytes} bytes, over the ${this.limit}-byte limit even without custom_details; ` +
      `shorten the payload fields, links or images`
  }
}

/**
 * A routing key does not have 32 characters.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRoutingKey extends Schema.TaggedClass<InvalidRoutingKey>()("InvalidRoutingKey", {
  length: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `the routing key has ${this.length} characters but must have 32; ` +
      `copy the Integration Key of an Events API v2 integration and check for surrounding whitespace`
  }
}

/**
 * The error of this module: an event or routing key PagerDuty would reject.
 *
 * @since 0.1.0
 * @category errors
 */
export class EventsV2Error extends Schema.TaggedError<EventsV2Error>()("EventsV2Error", {
  reason: Schema.Union([InvalidField, TooLarge, InvalidRoutingKey])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/** Builds an `InvalidField` error; `value` is shortened and described, never echoed whole. */
export const invalidField = (field: string, value: unknown, problem: string): EventsV2Error =>
  new EventsV2Error({ reason: new InvalidField({ field, value: describeValue(value), problem }) })

const describeValue = (value: unknown): string => {
  if (value === undefined) return "missing"
  if (Predicate.isString(value)) return JSON.stringify(preview(value))
  if (Predicate.isObject(value)) return Array.isArray(value) ? "an array" : "an object"
  return preview(String(value))
}
