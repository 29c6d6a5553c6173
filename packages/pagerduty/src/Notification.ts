/**
 * A builder for rich Events API v2 trigger events: summary, source and
 * severity, plus links, https images, custom details, the client and its URL,
 * component, group, class, dedup key and timestamp.
 *
 * A {@link Notification} is an immutable value. Each combinator returns a new
 * one, and {@link build} checks every field at once: it fails with a
 * `NotificationError` listing each invalid field (its name, its value cut
 * short, and what to do) or succeeds with an event that `EventsV2.prepare`
 * has fitted into PagerDuty's limits. Text fields are sanitised on the way:
 * control and invisible formatting characters are removed (see `Sanitize`),
 * and one-line fields lose their line breaks.
 *
 * @example
 * ```ts
 * import { Notification } from "@effect-pagerduty/pagerduty"
 *
 * const event = Notification.make({ summary: "disk full on db-1", source: "db-1", severity: "critical" }).pipe(
 *   Notification.link("https://grafana.example/d/disk", "Dashboard"),
 *   Notification.image("https://grafana.example/render/disk.png", { alt: "disk usage" }),
 *   Notification.customDetail("free_bytes", 1024),
 *   Notification.dedupKey("db-1/disk"),
 *   Notification.build
 * )
 * // Effect<EventsV2.Trigger, NotificationError>
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Digest from "effect/crypto/Digest"
import type * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { type Pipeable, pipeArguments } from "effect/Pipeable"
import * as EventsV2 from "./EventsV2.ts"
import * as Check from "./internal/notificationChecks.ts"
import {
  type FieldProblem,
  fieldProblem,
  InvalidFields,
  NotificationError,
  TooLarge
} from "./internal/notificationError.ts"
import { optionalField } from "./internal/optionalField.ts"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  FieldProblem,
  /**
   * @since 0.1.0
   * @category errors
   */
  InvalidFields,
  /**
   * The error of this module, with reasons `InvalidFields` (every invalid
   * field, each a `FieldProblem`) and `TooLarge`.
   *
   * @since 0.1.0
   * @category errors
   */
  NotificationError,
  /**
   * @since 0.1.0
   * @category errors
   */
  TooLarge
} from "./internal/notificationError.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-pagerduty/Notification" as const

/**
 * The fields a notification starts from. Only `summary`, `source` and
 * `severity` are required.
 *
 * @since 0.1.0
 * @category models
 */
export interface Input {
  /** One line describing the problem; cut to 1024 code points when longer. */
  readonly summary: string
  /** The affected system, preferably a hostname or FQDN. */
  readonly source: string
  readonly severity: EventsV2.Severity
  /** Identifies the alert across trigger, acknowledge and resolve; a key over 255 characters is hashed. */
  readonly dedupKey?: string | undefined
  /** When the problem was detected: a `DateTime` or an RFC 3339 string with an offset. */
  readonly timestamp?: DateTime.DateTime | string | undefined
  readonly component?: string | undefined
  readonly group?: string | undefined
  readonly class?: string | undefined
  /** Name of the monitoring tool that sent the event. */
  readonly client?: string | undefined
  /** An http or https URL of the monitoring tool, shown with `client`. */
  readonly clientUrl?: string | undefined
  readonly links?: ReadonlyArray<EventsV2.Link> | undefined
  readonly images?: ReadonlyArray<EventsV2.Image> | undefined
  readonly customDetails?: Readonly<Record<string, unknown>> | undefined
}

/**
 * A notification under construction. Build it into an event with
 * {@link build}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Notification extends Pipeable {
  readonly [TypeId]: typeof TypeId
  readonly summary: string
  readonly source: string
  readonly severity: EventsV2.Severity
  readonly dedupKey: string | undefined
  readonly timestamp: DateTime.DateTime | string | undefined
  readonly component: string | undefined
  readonly group: string | undefined
  readonly class: string | undefined
  readonly client: string | undefined
  readonly clientUrl: string | undefined
  readonly links: ReadonlyArray<EventsV2.Link>
  readonly images: ReadonlyArray<EventsV2.Image>
  readonly customDetails: Readonly<Record<string, unknown>>
}

const Proto = {
  [TypeId]: TypeId,
  pipe() {
    return pipeArguments(this, arguments)
  }
}

type Fields = Omit<Notification, typeof TypeId | "pipe">

// Values of the wrong type (from untyped callers) are kept as they are, so
// that `build` reports them instead of `make` throwing.
const frozenCopy = <A>(value: A): A => {
  if (Array.isArray(value)) return Object.freeze([...value]) as A
  if (typeof value === "object" && value !== null) return Object.freeze({ ...value })
  return value
}

const create = (fields: Fields): Notification =>
  Object.freeze(Object.assign(Object.create(Proto), {
    ...fields,
    links: frozenCopy(fields.links),
    images: frozenCopy(fields.images),
    customDetails: frozenCopy(fields.customDetails)
  }))

const update = (self: Notification, changes: Partial<Fields>): Notification => create({ ...self, ...changes })

/**
 * Tells whether a value is a {@link Notification}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isNotification = (u: unknown): u is Notification =>
  typeof u === "object" && u !== null && TypeId in u && (u as Notification)[TypeId] === TypeId

/**
 * Starts a notification from its fields. Nothing is checked until
 * {@link build}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (input: Input): Notification =>
  create({
    summary: input.summary,
    source: input.source,
    severity: input.severity,
    dedupKey: input.dedupKey,
    timestamp: input.timestamp,
    component: input.component,
    group: input.group,
    class: input.class,
    client: input.client,
    clientUrl: input.clientUrl,
    links: input.links ?? [],
    images: input.images ?? [],
    customDetails: input.customDetails ?? {}
  })

/**
 * Replaces the summary.
 *
 * @since 0.1.0
 * @category combinators
 */
export const summary = (summary: string) => (self: Notification): Notification => update(self, { summary })

/**
 * Replaces the source.
 *
 * @since 0.1.0
 * @category combinators
 */
export const source = (source: string) => (self: Notification): Notification => update(self, { source })

/**
 * Replaces the severity.
 *
 * @since 0.1.0
 * @category combinators
 */
export const severity = (severity: EventsV2.Severity) => (self: Notification): Notification =>
  update(self, { severity })

/**
 * Sets the `dedup_key`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const dedupKey = (dedupKey: string) => (self: Notification): Notification => update(self, { dedupKey })

/**
 * Sets the timestamp: a `DateTime` or an RFC 3339 string with an offset.
 *
 * @since 0.1.0
 * @category combinators
 */
export const timestamp = (timestamp: DateTime.DateTime | string) => (self: Notification): Notification =>
  update(self, { timestamp })

/**
 * Sets `payload.component`, the part of the source that is affected.
 *
 * @since 0.1.0
 * @category combinators
 */
export const component = (component: string) => (self: Notification): Notification => update(self, { component })

/**
 * Sets `payload.group`, a logical grouping of components.
 *
 * @since 0.1.0
 * @category combinators
 */
export const group = (group: string) => (self: Notification): Notification => update(self, { group })

/**
 * Sets `payload.class`, the type of the event (`class` is a reserved word,
 * hence the name).
 *
 * @since 0.1.0
 * @category combinators
 */
export const eventClass = (eventClass: string) => (self: Notification): Notification =>
  update(self, { class: eventClass })

/**
 * Sets `client` and, when given, `client_url`.
 *
 * @since 0.1.0
 * @category combinators
 */
export const client = (name: string, url?: string) => (self: Notification): Notification =>
  update(self, { client: name, ...(url === undefined ? {} : { clientUrl: url }) })

/**
 * Appends a link; `href` must be an absolute http or https URL.
 *
 * @since 0.1.0
 * @category combinators
 */
export const link = (href: string, text?: string) => (self: Notification): Notification =>
  update(self, { links: [...self.links, { href, ...optionalField("text", text) }] })

/**
 * Appends an image; PagerDuty shows only images whose `src` is https.
 *
 * @since 0.1.0
 * @category combinators
 */
export const image =
  (src: string, options: { readonly href?: string; readonly alt?: string } = {}) =>
  (self: Notification): Notification =>
    update(self, {
      images: [...self.images, { src, ...optionalField("href", options.href), ...optionalField("alt", options.alt) }]
    })

/**
 * Sets one custom detail, replacing a detail with the same key.
 *
 * @since 0.1.0
 * @category combinators
 */
export const customDetail = (key: string, value: unknown) => (self: Notification): Notification =>
  update(self, { customDetails: { ...self.customDetails, [key]: value } })

/**
 * Merges custom details, replacing details with the same keys.
 *
 * @since 0.1.0
 * @category combinators
 */
export const customDetails = (details: Readonly<Record<string, unknown>>) => (self: Notification): Notification =>
  update(self, { customDetails: { ...self.customDetails, ...details } })

const fromPrepareError = (error: EventsV2.EventsV2Error): NotificationError => {
  const reason = error.reason
  switch (reason._tag) {
    case "TooLarge":
      return new NotificationError({ reason: new TooLarge({ bytes: reason.bytes, limit: reason.limit }) })
    case "InvalidField":
      return invalid([fieldProblem(reason.field, reason.value, reason.problem)])
    case "InvalidRoutingKey":
      return invalid([fieldProblem("routing_key", undefined, reason.message)])
  }
}

const invalid = (problems: ReadonlyArray<FieldProblem>): NotificationError =>
  new NotificationError({ reason: new InvalidFields({ problems }) })

const fit = <E extends EventsV2.AlertEvent>(event: E) =>
  EventsV2.prepare(event).pipe(Effect.mapError(fromPrepareError), Effect.provide(Digest.layerWebCrypto))

/**
 * Checks every field, sanitises the text and fits the event into
 * PagerDuty's limits, returning the event and the adjustments made
 * (a truncated summary, a hashed dedup key, removed custom details).
 *
 * @since 0.1.0
 * @category building
 */
export const prepare = (
  self: Notification
): Effect.Effect<EventsV2.Prepared<EventsV2.Trigger>, NotificationError> =>
  Effect.suspend(() => {
    const checked = Check.trigger(self)
    return checked.problems.length > 0 ? Effect.fail(invalid(checked.problems)) : fit(checked.event)
  })

/**
 * Checks every field and returns the trigger event, sanitised and fitted
 * into PagerDuty's limits. Fails with `InvalidFields` listing every invalid
 * field, or `TooLarge`.
 *
 * @example
 * ```ts
 * import { Notification } from "@effect-pagerduty/pagerduty"
 *
 * const event = Notification.build(
 *   Notification.make({ summary: "checkout latency over 2 s", source: "checkout", severity: "warning" })
 * )
 * ```
 *
 * @since 0.1.0
 * @category building
 */
export const build = (self: Notification): Effect.Effect<EventsV2.Trigger, NotificationError> =>
  Effect.map(prepare(self), (prepared) => prepared.event)

const followUp = <A extends "acknowledge" | "resolve">(action: A, key: string) =>
  Effect.suspend(() => {
    const problem = Check.dedupKey(key, true)
    if (problem !== undefined) return Effect.fail(invalid([problem]))
    return fit({ event_action: action, dedup_key: key } as Extract<EventsV2.AlertEvent, { event_action: A }>)
  }).pipe(Effect.map((prepared) => prepared.event))

/**
 * Builds the event that acknowledges the open alert with `dedupKey`. A key
 * over 255 characters is hashed as {@link build} hashes it, so it matches.
 *
 * @since 0.1.0
 * @category building
 */
export const acknowledge = (dedupKey: string): Effect.Effect<EventsV2.Acknowledge, NotificationError> =>
  followUp("acknowledge", dedupKey)

/**
 * Builds the event that resolves the open alert with `dedupKey`. A key over
 * 255 characters is hashed as {@link build} hashes it, so it matches.
 *
 * @since 0.1.0
 * @category building
 */
export const resolve = (dedupKey: string): Effect.Effect<EventsV2.Resolve, NotificationError> =>
  followUp("resolve", dedupKey)
