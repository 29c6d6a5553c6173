/**
 * Canonical encoding of Events API v2 request bodies.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Redacted from "effect/Redacted"
import type * as EventsV2 from "../EventsV2.ts"
import { canonicalize } from "./json.ts"

type Wire = Record<string, unknown>

const put = (target: Wire, key: string, value: unknown): void => {
  if (value !== undefined) target[key] = value
}

const encodeLinks = (links: ReadonlyArray<EventsV2.Link> | undefined) =>
  links?.map((link) => {
    const wire: Wire = { href: link.href }
    put(wire, "text", link.text)
    return wire
  })

const encodeImages = (images: ReadonlyArray<EventsV2.Image> | undefined) =>
  images?.map((image) => {
    const wire: Wire = { src: image.src }
    put(wire, "href", image.href)
    put(wire, "alt", image.alt)
    return wire
  })

const encodeTimestamp = (timestamp: DateTime.DateTime | undefined) =>
  timestamp === undefined ? undefined : DateTime.formatIso(DateTime.toUtc(timestamp))

const encodeDetails = (details: EventsV2.CustomDetails | undefined) =>
  details === undefined ? undefined : canonicalize(details)

const encodeTrigger = (event: EventsV2.Trigger, wire: Wire): void => {
  const payload: Wire = {
    summary: event.payload.summary,
    source: event.payload.source,
    severity: event.payload.severity
  }
  put(payload, "timestamp", encodeTimestamp(event.payload.timestamp))
  put(payload, "component", event.payload.component)
  put(payload, "group", event.payload.group)
  put(payload, "class", event.payload.class)
  put(payload, "custom_details", encodeDetails(event.payload.custom_details))
  wire.event_action = event.event_action
  put(wire, "dedup_key", event.dedup_key)
  wire.payload = payload
  put(wire, "links", encodeLinks(event.links))
  put(wire, "images", encodeImages(event.images))
  put(wire, "client", event.client)
  put(wire, "client_url", event.client_url)
}

const encodeChange = (event: EventsV2.ChangeEvent, wire: Wire): void => {
  const payload: Wire = { summary: event.payload.summary }
  put(payload, "source", event.payload.source)
  put(payload, "timestamp", encodeTimestamp(event.payload.timestamp))
  put(payload, "custom_details", encodeDetails(event.payload.custom_details))
  wire.payload = payload
  put(wire, "links", encodeLinks(event.links))
  put(wire, "images", encodeImages(event.images))
}

/**
 * Encodes an event and its routing key as the JSON body PagerDuty expects.
 *
 * The output is canonical: keys in a fixed order (`routing_key` first, then
 * the wire order of the OpenAPI specification), `custom_details` keys sorted,
 * no whitespace, so identical input gives identical bytes. Fields an action
 * does not use (a payload on `resolve`, say) are left out. Timestamps are
 * written as RFC 3339 in UTC (`2026-01-02T03:04:05.000Z`).
 *
 * Gotcha: it throws a `TypeError` on a `custom_details` value that JSON cannot
 * hold (a `bigint`, a circular structure). `prepare` reports those as typed
 * errors, so encode only prepared events.
 *
 * @since 0.1.0
 */
export const encodeRequest = (routingKey: Redacted.Redacted<string>, event: EventsV2.Event): string => {
  const wire: Wire = { routing_key: Redacted.value(routingKey) }
  if (!("event_action" in event)) {
    encodeChange(event, wire)
  } else if (event.event_action === "trigger") {
    encodeTrigger(event, wire)
  } else {
    wire.event_action = event.event_action
    wire.dedup_key = event.dedup_key
  }
  return JSON.stringify(wire)
}
