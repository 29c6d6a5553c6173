/**
 * Field checks for Events API v2 events, run by `EventsV2.prepare` on values
 * that may not have come through a schema.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Predicate from "effect/Predicate"
import type * as EventsV2 from "../EventsV2.ts"
import { type EventsV2Error, invalidField } from "./eventsV2Error.ts"
import { canonicalize } from "./json.ts"

type Check = EventsV2Error | undefined

const severities: ReadonlySet<unknown> = new Set(["critical", "error", "warning", "info"])

// DateTime values that RFC 3339 can write: years 0000 to 9999.
const minTimestamp = -62_167_219_200_000 // 0000-01-01T00:00:00.000Z
const maxTimestamp = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z

const first = (...checks: ReadonlyArray<() => Check>): Check => {
  for (const check of checks) {
    const error = check()
    if (error !== undefined) return error
  }
  return undefined
}

const requiredText = (field: string, value: unknown, description: string): Check =>
  Predicate.isString(value) && value.trim() !== ""
    ? undefined
    : invalidField(field, value, `${description} is required and must be a non-blank string`)

const optionalText = (field: string, value: unknown): Check =>
  value === undefined || Predicate.isString(value)
    ? undefined
    : invalidField(field, value, "must be a string when present; remove it or set a string")

const timestamp = (field: string, value: unknown): Check => {
  if (value === undefined) return undefined
  if (!DateTime.isDateTime(value)) {
    return invalidField(field, value, "must be a DateTime; decode strings with EventsV2.Timestamp")
  }
  const millis = DateTime.toEpochMillis(value)
  return millis >= minTimestamp && millis <= maxTimestamp
    ? undefined
    : invalidField(field, DateTime.formatIso(value), "must fall in the years 0000 to 9999 to be written as RFC 3339")
}

const customDetails = (field: string, value: unknown): Check => {
  if (value === undefined) return undefined
  if (!Predicate.isObject(value) || Array.isArray(value)) {
    return invalidField(field, value, "must be a JSON object of named details")
  }
  try {
    canonicalize(value)
    return undefined
  } catch {
    return invalidField(field, value, "must be JSON data; remove bigint values and circular references")
  }
}

const links = (value: unknown): Check => {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) return invalidField("links", value, "must be an array of {href, text?}")
  for (const [index, link] of value.entries()) {
    const error = Predicate.isObject(link)
      ? first(
        () => requiredText(`links[${index}].href`, link.href, "a link's href"),
        () => optionalText(`links[${index}].text`, link.text)
      )
      : invalidField(`links[${index}]`, link, "must be an object {href, text?}")
    if (error !== undefined) return error
  }
  return undefined
}

const isHttpsUrl = (input: string): boolean => {
  try {
    return new URL(input).protocol === "https:"
  } catch {
    return false
  }
}

const images = (value: unknown): Check => {
  if (value === undefined) return undefined
  if (!Array.isArray(value)) return invalidField("images", value, "must be an array of {src, href?, alt?}")
  for (const [index, image] of value.entries()) {
    const error = Predicate.isObject(image)
      ? first(
        () =>
          Predicate.isString(image.src) && isHttpsUrl(image.src)
            ? undefined
            : invalidField(`images[${index}].src`, image.src, "must be an https URL; PagerDuty shows no other images"),
        () => optionalText(`images[${index}].href`, image.href),
        () => optionalText(`images[${index}].alt`, image.alt)
      )
      : invalidField(`images[${index}]`, image, "must be an object {src, href?, alt?}")
    if (error !== undefined) return error
  }
  return undefined
}

const dedupKey = (value: unknown, required: boolean): Check =>
  value === undefined && !required ? undefined : requiredText("dedup_key", value, "the dedup_key of the alert")

const trigger = (event: EventsV2.Trigger): Check => {
  const payload: unknown = event.payload
  if (!Predicate.isObject(payload)) {
    return invalidField("payload", payload, "a trigger needs a payload {summary, source, severity}")
  }
  return first(
    () => dedupKey(event.dedup_key, false),
    () => requiredText("payload.summary", payload.summary, "a one-line summary of the problem"),
    () => requiredText("payload.source", payload.source, "the affected system (a hostname or service name)"),
    () =>
      severities.has(payload.severity)
        ? undefined
        : invalidField("payload.severity", payload.severity, "use critical, error, warning or info"),
    () => timestamp("payload.timestamp", payload.timestamp),
    () => optionalText("payload.component", payload.component),
    () => optionalText("payload.group", payload.group),
    () => optionalText("payload.class", payload.class),
    () => customDetails("payload.custom_details", payload.custom_details),
    () => links(event.links),
    () => images(event.images),
    () => optionalText("client", event.client),
    () => optionalText("client_url", event.client_url)
  )
}

const followUp = (event: EventsV2.Acknowledge | EventsV2.Resolve): Check => {
  const extra = event as { readonly client?: unknown; readonly client_url?: unknown }
  return first(
    () => dedupKey(event.dedup_key, true),
    () =>
      extra.client === undefined
        ? undefined
        : invalidField("client", extra.client, "is only allowed on trigger events"),
    () =>
      extra.client_url === undefined
        ? undefined
        : invalidField("client_url", extra.client_url, "is only allowed on trigger events")
  )
}

const change = (event: EventsV2.ChangeEvent): Check => {
  const payload: unknown = event.payload
  if (!Predicate.isObject(payload)) return invalidField("payload", payload, "a change event needs a payload {summary}")
  return first(
    () => requiredText("payload.summary", payload.summary, "a one-line summary of the change"),
    () => optionalText("payload.source", payload.source),
    () => timestamp("payload.timestamp", payload.timestamp),
    () => customDetails("payload.custom_details", payload.custom_details),
    () => links(event.links),
    () => images(event.images)
  )
}

/**
 * Returns the first problem PagerDuty would reject in an event, or `undefined`.
 *
 * @since 0.1.0
 */
export const validate = (event: EventsV2.Event): Check => {
  if (!Predicate.isObject(event)) return invalidField("event", event, "an event must be an object")
  if (!("event_action" in event)) return change(event)
  switch (event.event_action) {
    case "trigger":
      return trigger(event)
    case "acknowledge":
    case "resolve":
      return followUp(event)
    default:
      return invalidField(
        "event_action",
        (event as { event_action: unknown }).event_action,
        "use trigger, acknowledge or resolve"
      )
  }
}
