/**
 * Field checks and sanitising of `Notification.build`. Every check runs, so
 * the caller sees all problems at once.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Predicate from "effect/Predicate"
import * as EventsV2 from "../EventsV2.ts"
import type * as Notification from "../Notification.ts"
import * as Sanitize from "../Sanitize.ts"
import { type FieldProblem, fieldProblem } from "./notificationError.ts"

const severities: ReadonlySet<unknown> = new Set(["critical", "error", "warning", "info"])

// DateTime values that RFC 3339 can write: years 0000 to 9999.
const minTimestamp = -62_167_219_200_000
const maxTimestamp = 253_402_300_799_999

class Collector {
  readonly problems: Array<FieldProblem> = []
  add(field: string, value: unknown, problem: string): undefined {
    this.problems.push(fieldProblem(field, value, problem))
    return undefined
  }
}

const requiredLine = (collector: Collector, field: string, value: unknown, description: string): string => {
  if (!Predicate.isString(value)) {
    return collector.add(field, value, `${description} is required and must be a string`) ?? ""
  }
  const cleaned = Sanitize.line(value)
  if (cleaned === "") collector.add(field, value, `${description} is required and must not be blank`)
  return cleaned
}

// An optional one-line field; blank after sanitising means absent.
const optionalLine = (collector: Collector, field: string, value: unknown): string | undefined => {
  if (value === undefined) return undefined
  if (!Predicate.isString(value)) {
    return collector.add(field, value, "must be a string when present; remove it or set a string")
  }
  const cleaned = Sanitize.line(value)
  return cleaned === "" ? undefined : cleaned
}

const url = (collector: Collector, field: string, value: unknown, httpsOnly: boolean): string | undefined => {
  const normalised = Predicate.isString(value) ? Sanitize.httpUrl(value.trim()) : undefined
  if (normalised !== undefined && (!httpsOnly || normalised.startsWith("https:"))) return normalised
  return collector.add(
    field,
    value,
    httpsOnly
      ? "must be an absolute https URL; PagerDuty shows no other images"
      : "must be an absolute http or https URL, such as https://grafana.example/d/abc"
  )
}

const optionalUrl = (collector: Collector, field: string, value: unknown): string | undefined =>
  value === undefined ? undefined : url(collector, field, value, false)

/**
 * Checks a `dedup_key`: a non-blank string. It is not sanitised, because an
 * acknowledge or resolve must repeat it byte for byte.
 *
 * @since 0.1.0
 */
export const dedupKey = (value: unknown, required: boolean): FieldProblem | undefined => {
  if (value === undefined && !required) return undefined
  if (Predicate.isString(value) && value.trim() !== "") return undefined
  return fieldProblem("dedup_key", value, "must be a non-blank string that identifies the alert")
}

const timestamp = (collector: Collector, value: unknown): DateTime.Utc | undefined => {
  if (value === undefined) return undefined
  const parsed = Predicate.isString(value)
    ? EventsV2.parseTimestamp(value.trim())
    : DateTime.isDateTime(value)
    ? DateTime.toUtc(value)
    : undefined
  if (parsed === undefined) {
    return collector.add("payload.timestamp", value, "must be a DateTime or an RFC 3339 date-time with an offset")
  }
  const millis = DateTime.toEpochMillis(parsed)
  if (millis < minTimestamp || millis > maxTimestamp) {
    return collector.add("payload.timestamp", value, "must fall in the years 0000 to 9999")
  }
  return parsed
}

// Sanitises strings, keys included, and reports values JSON cannot hold.
const detailValue = (collector: Collector, path: string, value: unknown, seen: Set<object>): unknown => {
  if (Predicate.isString(value)) return Sanitize.multiline(value)
  if (value === null || typeof value === "number" || typeof value === "boolean" || value === undefined) return value
  if (typeof value === "bigint" || typeof value === "symbol" || typeof value === "function") {
    return collector.add(path, value, `a ${typeof value} cannot be sent as JSON; convert it to a string or number`)
  }
  if (Predicate.hasProperty(value, "toJSON") && Predicate.isFunction(value.toJSON)) {
    return detailValue(collector, path, value.toJSON(), seen)
  }
  const object = value as object
  if (seen.has(object)) return collector.add(path, "a circular reference", "remove the reference to an enclosing value")
  seen.add(object)
  let result: unknown
  if (Array.isArray(object)) {
    result = object.map((item, index) => detailValue(collector, `${path}[${index}]`, item, seen) ?? null)
  } else {
    const record: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(object)) {
      const cleanKey = Sanitize.line(key)
      const cleaned = detailValue(collector, `${path}.${cleanKey}`, item, seen)
      if (cleaned !== undefined) record[cleanKey] = cleaned
    }
    result = record
  }
  seen.delete(object)
  return result
}

const customDetails = (collector: Collector, value: unknown): Record<string, unknown> | undefined => {
  if (!Predicate.isObject(value) || Array.isArray(value)) {
    return collector.add("payload.custom_details", value, "must be an object of named details")
  }
  const cleaned = detailValue(collector, "payload.custom_details", value, new Set()) as Record<string, unknown>
  return Object.keys(cleaned).length === 0 ? undefined : cleaned
}

const links = (collector: Collector, value: ReadonlyArray<unknown>): Array<EventsV2.Link> =>
  value.flatMap((link, index) => {
    if (!Predicate.isObject(link)) {
      return collector.add(`links[${index}]`, link, "must be an object {href, text?}") ?? []
    }
    const href = url(collector, `links[${index}].href`, link.href, false)
    const text = optionalLine(collector, `links[${index}].text`, link.text)
    return href === undefined ? [] : [{ href, ...(text === undefined ? {} : { text }) }]
  })

const images = (collector: Collector, value: ReadonlyArray<unknown>): Array<EventsV2.Image> =>
  value.flatMap((image, index) => {
    if (!Predicate.isObject(image)) {
      return collector.add(`images[${index}]`, image, "must be an object {src, href?, alt?}") ?? []
    }
    const src = url(collector, `images[${index}].src`, image.src, true)
    const href = optionalUrl(collector, `images[${index}].href`, image.href)
    const alt = optionalLine(collector, `images[${index}].alt`, image.alt)
    return src === undefined
      ? []
      : [{ src, ...(href === undefined ? {} : { href }), ...(alt === undefined ? {} : { alt }) }]
  })

const defined = <A extends Record<string, unknown>>(record: A): A => {
  const result: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(record)) if (value !== undefined) result[key] = value
  return result as A
}

/**
 * Checks and sanitises every field of a notification, returning the trigger
 * event and every problem found. The event is meaningful only when there are
 * no problems.
 *
 * @since 0.1.0
 */
export const trigger = (
  self: Notification.Notification
): { readonly event: EventsV2.Trigger; readonly problems: ReadonlyArray<FieldProblem> } => {
  const collector = new Collector()
  const key = dedupKey(self.dedupKey, false)
  if (key !== undefined) collector.problems.push(key)
  const summary = requiredLine(collector, "payload.summary", self.summary, "a one-line summary of the problem")
  const source = requiredLine(
    collector,
    "payload.source",
    self.source,
    "the affected system (a hostname or service name)"
  )
  if (!severities.has(self.severity)) {
    collector.add("payload.severity", self.severity, "use critical, error, warning or info")
  }
  const payload = defined({
    summary,
    source,
    severity: self.severity,
    timestamp: timestamp(collector, self.timestamp),
    component: optionalLine(collector, "payload.component", self.component),
    group: optionalLine(collector, "payload.group", self.group),
    class: optionalLine(collector, "payload.class", self.class),
    custom_details: customDetails(collector, self.customDetails)
  })
  const eventLinks = Array.isArray(self.links)
    ? links(collector, self.links)
    : collector.add("links", self.links, "must be an array of {href, text?}")
  const eventImages = Array.isArray(self.images)
    ? images(collector, self.images)
    : collector.add("images", self.images, "must be an array of {src, href?, alt?}")
  const event: EventsV2.Trigger = defined({
    event_action: "trigger" as const,
    dedup_key: self.dedupKey,
    payload,
    links: eventLinks !== undefined && eventLinks.length > 0 ? eventLinks : undefined,
    images: eventImages !== undefined && eventImages.length > 0 ? eventImages : undefined,
    client: optionalLine(collector, "client", self.client),
    client_url: optionalUrl(collector, "client_url", self.clientUrl)
  })
  return { event, problems: collector.problems }
}
