/**
 * Schemas of PagerDuty Events API v2 alert and change events and of the API's
 * responses, with the limits PagerDuty enforces.
 *
 * Event values never contain `routing_key`. The routing key is a
 * `Redacted<string>` given separately to {@link encodeRequest}, so events can be
 * stored, logged and audited without the secret. Field names follow the wire
 * format (`dedup_key`, `custom_details`).
 *
 * Run {@link prepare} on every event before sending it: it validates the fields
 * and fits the event into PagerDuty's limits (1024-code-point summary,
 * 255-character `dedup_key`, 512,000-byte request), recording each change it
 * makes as an {@link Adjustment}.
 *
 * @example
 * ```ts
 * import { EventsV2 } from "@effect-pagerduty/pagerduty"
 * import { Effect, Redacted } from "effect"
 * import { Digest } from "effect/crypto"
 *
 * const routingKey = Redacted.make("e93facc04764012d7bfb002500d5d1a6")
 * const program = Effect.gen(function*() {
 *   const { event } = yield* EventsV2.prepare({
 *     event_action: "trigger",
 *     payload: { summary: "disk full on db-1", source: "db-1", severity: "critical" }
 *   })
 *   return EventsV2.encodeRequest(routingKey, event)
 * }).pipe(Effect.provide(Digest.layerWebCrypto))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import type * as Digest from "effect/crypto/Digest"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaTransformation from "effect/SchemaTransformation"
import * as Encode from "./internal/encode.ts"
import { EventsV2Error, InvalidRoutingKey } from "./internal/eventsV2Error.ts"
import * as limits from "./internal/limits.ts"
import * as Prepare from "./internal/prepare.ts"

// -----------------------------------------------------------------------------
// limits
// -----------------------------------------------------------------------------

/**
 * Maximum length of `payload.summary`, in Unicode code points.
 *
 * NOTE: PagerDuty documents "1024 characters" without saying how it counts;
 * Alertmanager and Grafana count code points, and so does this library.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxSummaryLength: number = limits.maxSummaryLength

/**
 * Maximum length of `dedup_key`, in UTF-16 code units (JavaScript's `length`).
 *
 * NOTE: PagerDuty documents "255 characters" without saying how it counts;
 * UTF-16 code units are never fewer than code points, so this is the stricter
 * reading.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxDedupKeyLength: number = limits.maxDedupKeyLength

/**
 * Maximum size of a request body, in bytes of UTF-8 JSON, routing key included.
 *
 * NOTE: PagerDuty documents "512 KB"; Alertmanager and Grafana use 512,000
 * bytes, the smaller of the two readings.
 *
 * @since 0.1.0
 * @category limits
 */
export const maxRequestBytes: number = limits.maxRequestBytes

/**
 * Length of a routing key (integration key), in characters.
 *
 * @since 0.1.0
 * @category limits
 */
export const routingKeyLength: number = limits.routingKeyLength

// -----------------------------------------------------------------------------
// severity
// -----------------------------------------------------------------------------

/**
 * The four severities PagerDuty accepts in `payload.severity`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Severity = Schema.Literals(["critical", "error", "warning", "info"])

/**
 * @since 0.1.0
 * @category models
 */
export type Severity = typeof Severity.Type

const severityAliases: Record<string, Severity> = {
  critical: "critical",
  crit: "critical",
  fatal: "critical",
  emergency: "critical",
  emerg: "critical",
  alert: "critical",
  disaster: "critical",
  p1: "critical",
  sev1: "critical",
  error: "error",
  err: "error",
  high: "error",
  major: "error",
  p2: "error",
  sev2: "error",
  warning: "warning",
  warn: "warning",
  medium: "warning",
  minor: "warning",
  average: "warning",
  p3: "warning",
  sev3: "warning",
  info: "info",
  informational: "info",
  information: "info",
  low: "info",
  notice: "info",
  debug: "info",
  ok: "info",
  p4: "info",
  p5: "info",
  sev4: "info",
  sev5: "info"
}

/**
 * Maps a severity label from any monitoring tool to one of PagerDuty's four
 * severities, ignoring case and surrounding whitespace.
 *
 * Aliases: `crit`, `fatal`, `emergency`, `alert`, `disaster`, `p1` become
 * `critical`; `err`, `high`, `major`, `p2` become `error`; `warn`, `medium`,
 * `minor`, `average`, `p3` become `warning`; `low`, `informational`, `notice`,
 * `debug`, `ok`, `p4`, `p5` become `info` (`sevN` works like `pN`). Anything
 * else, and a missing value, gives `fallback`, which defaults to `error`:
 * Alertmanager's PagerDuty notifier sends `error` when no severity is set.
 *
 * @example
 * ```ts
 * import { EventsV2 } from "@effect-pagerduty/pagerduty"
 *
 * EventsV2.normalizeSeverity("CRIT") // "critical"
 * EventsV2.normalizeSeverity(undefined) // "error"
 * EventsV2.normalizeSeverity("unknown", "warning") // "warning"
 * ```
 *
 * @since 0.1.0
 * @category severity
 */
export const normalizeSeverity = (input: string | null | undefined, fallback: Severity = "error"): Severity => {
  if (input === null || input === undefined) return fallback
  return severityAliases[input.trim().toLowerCase()] ?? fallback
}

// -----------------------------------------------------------------------------
// schemas
// -----------------------------------------------------------------------------

// RFC 3339 date-time with a required offset. The offset may also be written
// without a colon (`+0000`), as PagerDuty's own documentation example does.
const timestampPattern = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:?\d{2})$/

/**
 * Parses an RFC 3339 timestamp with an offset into a UTC `DateTime`.
 *
 * @since 0.1.0
 * @category timestamps
 */
export const parseTimestamp = (input: string): DateTime.Utc | undefined => {
  if (!timestampPattern.test(input)) return undefined
  const parsed = DateTime.make(input.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"))
  return parsed._tag === "Some" ? DateTime.toUtc(parsed.value) : undefined
}

/**
 * Formats a timestamp as RFC 3339 in UTC with milliseconds and a `Z` offset.
 *
 * @since 0.1.0
 * @category timestamps
 */
export const formatTimestamp = (timestamp: DateTime.DateTime): string => DateTime.formatIso(DateTime.toUtc(timestamp))

const AnyDateTime = Schema.declare<DateTime.DateTime>(DateTime.isDateTime, { expected: "a DateTime" })

/**
 * A timestamp: a `DateTime.Utc` decoded from a `DateTime` or an RFC 3339
 * string with an offset, and encoded as RFC 3339 in UTC (`...Z`).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Timestamp = Schema.Union([Schema.String, AnyDateTime]).pipe(
  Schema.decodeTo(
    Schema.DateTimeUtc,
    SchemaTransformation.transformEffect({
      decode: (input, options) => {
        if (!Predicate.isString(input)) return Effect.succeed(DateTime.toUtc(input))
        const parsed = parseTimestamp(input)
        return parsed === undefined
          ? Effect.fail(
            new SchemaIssue.InvalidValue({ expected: "an RFC 3339 date-time with an offset" }, input, options)
          )
          : Effect.succeed(parsed)
      },
      encode: (utc) => Effect.succeed(formatTimestamp(utc))
    })
  )
)

const isHttpsUrl = (input: string): boolean => {
  try {
    return new URL(input).protocol === "https:"
  } catch {
    return false
  }
}

/**
 * A link shown on the alert: `href` is required, `text` is its label.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Link = Schema.Struct({
  href: Schema.NonEmptyString,
  text: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Link = typeof Link.Type

/**
 * An image shown on the alert. PagerDuty displays only `https` images.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Image = Schema.Struct({
  src: Schema.String.check(Schema.makeFilter(isHttpsUrl, { expected: "an https URL" })),
  href: Schema.optional(Schema.String),
  alt: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Image = typeof Image.Type

/**
 * Free-form details shown with the alert, any JSON object.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CustomDetails = Schema.Record(Schema.String, Schema.Unknown)

/**
 * @since 0.1.0
 * @category models
 */
export type CustomDetails = typeof CustomDetails.Type

/**
 * The `payload` of a trigger event.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Payload = Schema.Struct({
  summary: Schema.NonEmptyString,
  source: Schema.NonEmptyString,
  severity: Severity,
  timestamp: Schema.optional(Timestamp),
  component: Schema.optional(Schema.String),
  group: Schema.optional(Schema.String),
  class: Schema.optional(Schema.String),
  custom_details: Schema.optional(CustomDetails)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Payload = typeof Payload.Type

const DedupKey = Schema.NonEmptyString

/**
 * An event that opens an alert, or adds to the open alert with the same
 * `dedup_key`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Trigger = Schema.Struct({
  event_action: Schema.Literal("trigger"),
  dedup_key: Schema.optional(DedupKey),
  payload: Payload,
  links: Schema.optional(Schema.Array(Link)),
  images: Schema.optional(Schema.Array(Image)),
  client: Schema.optional(Schema.String),
  client_url: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Trigger = typeof Trigger.Type

/**
 * An event that acknowledges the open alert with this `dedup_key`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Acknowledge = Schema.Struct({
  event_action: Schema.Literal("acknowledge"),
  dedup_key: DedupKey
})

/**
 * @since 0.1.0
 * @category models
 */
export type Acknowledge = typeof Acknowledge.Type

/**
 * An event that resolves the open alert with this `dedup_key`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Resolve = Schema.Struct({
  event_action: Schema.Literal("resolve"),
  dedup_key: DedupKey
})

/**
 * @since 0.1.0
 * @category models
 */
export type Resolve = typeof Resolve.Type

/**
 * Any alert event, sent to `/v2/enqueue`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertEvent = Schema.Union([Trigger, Acknowledge, Resolve])

/**
 * @since 0.1.0
 * @category models
 */
export type AlertEvent = typeof AlertEvent.Type

/**
 * The `payload` of a change event.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChangePayload = Schema.Struct({
  summary: Schema.NonEmptyString,
  source: Schema.optional(Schema.String),
  timestamp: Schema.optional(Timestamp),
  custom_details: Schema.optional(CustomDetails)
})

/**
 * A change event (a deploy, a configuration change), sent to
 * `/v2/change/enqueue`. It opens no incident and sends no notifications.
 *
 * NOTE: PagerDuty's guide states that change events support only `links`, but its
 * OpenAPI specification also lists `images`; both are accepted here.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChangeEvent = Schema.Struct({
  payload: ChangePayload,
  links: Schema.optional(Schema.Array(Link)),
  images: Schema.optional(Schema.Array(Image))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ChangeEvent = typeof ChangeEvent.Type

/**
 * Any event this module can send.
 *
 * @since 0.1.0
 * @category models
 */
export type Event = AlertEvent | ChangeEvent

/**
 * Tells a change event from an alert event: only alert events carry
 * `event_action`.
 *
 * @since 0.1.0
 * @category guards
 */
export const isChangeEvent = (event: Event): event is ChangeEvent => !("event_action" in event)

const RoutingKey = Schema.RedactedFromValue(Schema.String)

/**
 * A full alert request body as received on the wire, with its `routing_key`
 * decoded into a `Redacted` value. Servers and simulators decode with it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertEventRequest = Schema.Union([
  Schema.Struct({ ...Trigger.fields, routing_key: RoutingKey }),
  Schema.Struct({ ...Acknowledge.fields, routing_key: RoutingKey }),
  Schema.Struct({ ...Resolve.fields, routing_key: RoutingKey })
])

/**
 * A full change request body as received on the wire.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ChangeEventRequest = Schema.Struct({ ...ChangeEvent.fields, routing_key: RoutingKey })

/**
 * The body of a 202 response: the event was accepted for processing (an
 * incident may or may not follow). Extra fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Accepted = Schema.Struct({
  status: Schema.String,
  message: Schema.optional(Schema.String),
  dedup_key: Schema.optional(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Accepted = typeof Accepted.Type

/**
 * The body of a 400 response: the event is invalid and must not be retried.
 * A missing `errors` list decodes as empty; extra fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Rejected = Schema.Struct({
  status: Schema.String,
  message: Schema.String,
  errors: Schema.Array(Schema.String).pipe(Schema.withDecodingDefault(Effect.succeed([])))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Rejected = typeof Rejected.Type

/**
 * Gives a trigger without a `dedup_key` a random UUID (version 4), and returns
 * other events unchanged.
 *
 * Assign the key before the first attempt and keep it with the event, in an
 * outbox for example. PagerDuty may accept an attempt whose response is lost,
 * and only a resend with the same key updates that alert instead of opening a
 * second one.
 *
 * @since 0.1.0
 * @category dedup keys
 */
export const assignDedupKey = <E extends AlertEvent>(event: E): Effect.Effect<E, never, SecureRandom.SecureRandom> => {
  if (event.event_action !== "trigger" || event.dedup_key !== undefined) return Effect.succeed(event)
  return Effect.map(
    Effect.flatMap(SecureRandom.SecureRandom, (random) => random.uuidV4()),
    (dedupKey) => ({ ...event, dedup_key: dedupKey })
  )
}

/**
 * Checks that a routing key has 32 characters.
 *
 * Only the length is checked: service integration keys are 32 hexadecimal
 * characters, but global ruleset keys start with `R`. The key itself never
 * appears in the error.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateRoutingKey = (
  routingKey: Redacted.Redacted<string>
): Effect.Effect<Redacted.Redacted<string>, EventsV2Error> => {
  const length = Redacted.value(routingKey).length
  return length === routingKeyLength
    ? Effect.succeed(routingKey)
    : Effect.fail(new EventsV2Error({ reason: new InvalidRoutingKey({ length }) }))
}

export {
  /**
   * The error of this module, with reasons `InvalidField`, `TooLarge` and
   * `InvalidRoutingKey`.
   *
   * @since 0.1.0
   * @category errors
   */
  EventsV2Error,
  /**
   * @since 0.1.0
   * @category errors
   */
  InvalidField,
  /**
   * @since 0.1.0
   * @category errors
   */
  InvalidRoutingKey,
  /**
   * @since 0.1.0
   * @category errors
   */
  TooLarge
} from "./internal/eventsV2Error.ts"

/**
 * @since 0.1.0
 * @category adjustments
 */
export const SummaryTruncated = Prepare.SummaryTruncated

/**
 * @since 0.1.0
 * @category adjustments
 */
export const DedupKeyHashed = Prepare.DedupKeyHashed

/**
 * @since 0.1.0
 * @category adjustments
 */
export const CustomDetailsRemoved = Prepare.CustomDetailsRemoved

/**
 * A change `prepare` made to an event: `SummaryTruncated`, `DedupKeyHashed`
 * or `CustomDetailsRemoved`.
 *
 * @since 0.1.0
 * @category adjustments
 */
export const Adjustment = Prepare.Adjustment

/**
 * @since 0.1.0
 * @category adjustments
 */
export type Adjustment = Prepare.Adjustment

/**
 * An event that passed {@link prepare}, with the adjustments made to it.
 *
 * @since 0.1.0
 * @category adjustments
 */
export type Prepared<E extends Event> = Prepare.Prepared<E>

/**
 * The `custom_details` key that {@link prepare} adds when it removes values.
 *
 * @since 0.1.0
 * @category adjustments
 */
export const removedKeysEntry: string = Prepare.removedKeysEntry

/**
 * Validates an event and fits it into PagerDuty's limits.
 *
 * - a `dedup_key` over 255 characters becomes the lowercase hex SHA-256 of it,
 *   so acknowledge and resolve events with the same long key still match;
 * - a summary over 1024 code points is cut at a grapheme boundary and ends in
 *   `…` (U+2026);
 * - a request over 512,000 bytes loses `custom_details` values, largest first,
 *   and gains a `removed_custom_details` entry naming them; if that is not
 *   enough it fails with `TooLarge`.
 *
 * Invalid fields fail with `InvalidField` naming the field. Needs
 * `Digest.Digest` (`Digest.layerWebCrypto`) for the hashing.
 *
 * @example
 * ```ts
 * import { EventsV2 } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 * import { Digest } from "effect/crypto"
 *
 * const prepared = EventsV2.prepare({ event_action: "resolve", dedup_key: "db-1/disk" }).pipe(
 *   Effect.provide(Digest.layerWebCrypto)
 * )
 * ```
 *
 * @since 0.1.0
 * @category limits
 */
export const prepare: <E extends Event>(event: E) => Effect.Effect<Prepared<E>, EventsV2Error, Digest.Digest> =
  Prepare.prepare

/**
 * Encodes an event with its routing key as the canonical JSON request body.
 *
 * Keys come in a fixed order (`routing_key` first), `custom_details` keys are
 * sorted and there is no whitespace, so identical input gives identical bytes
 * and a retried request is byte-identical. Timestamps are written as RFC 3339
 * in UTC (`...Z`).
 *
 * Gotcha: it throws a `TypeError` on a `custom_details` value JSON cannot hold
 * (a `bigint`, a circular structure); {@link prepare} reports those as typed
 * errors, so encode prepared events.
 *
 * @example
 * ```ts
 * import { EventsV2 } from "@effect-pagerduty/pagerduty"
 * import { Redacted } from "effect"
 *
 * const body = EventsV2.encodeRequest(Redacted.make("e93facc04764012d7bfb002500d5d1a6"), {
 *   event_action: "acknowledge",
 *   dedup_key: "db-1/disk"
 * })
 * // {"routing_key":"e93f…","event_action":"acknowledge","dedup_key":"db-1/disk"}
 * ```
 *
 * @since 0.1.0
 * @category encoding
 */
export const encodeRequest: (routingKey: Redacted.Redacted<string>, event: Event) => string = Encode.encodeRequest
