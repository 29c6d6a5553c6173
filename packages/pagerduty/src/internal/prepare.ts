/**
 * `EventsV2.prepare`: validation and the fitting of events into PagerDuty's
 * limits.
 *
 * @since 0.1.0
 */
import * as Digest from "effect/crypto/Digest"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as EventsV2 from "../EventsV2.ts"
import { encodeRequest } from "./encode.ts"
import { EventsV2Error, TooLarge } from "./eventsV2Error.ts"
import { canonicalize } from "./json.ts"
import { maxDedupKeyLength, maxRequestBytes, maxSummaryLength } from "./limits.ts"
import { codePointLength, truncateCodePoints, utf8Length } from "./text.ts"
import { validate } from "./validate.ts"

/**
 * The summary was longer than 1024 code points and was cut, ending in `…`.
 *
 * @since 0.1.0
 */
export const SummaryTruncated = Schema.TaggedStruct("SummaryTruncated", {
  originalLength: Schema.Number,
  length: Schema.Number
})

/**
 * The `dedup_key` was longer than 255 characters and was replaced by the
 * lowercase hex SHA-256 of it. The same long key always gives the same hash,
 * so an acknowledge or resolve with it still matches the trigger.
 *
 * @since 0.1.0
 */
export const DedupKeyHashed = Schema.TaggedStruct("DedupKeyHashed", {
  originalLength: Schema.Number,
  dedupKey: Schema.String
})

/**
 * `custom_details` values were removed, largest first, to bring the request
 * under 512,000 bytes.
 *
 * @since 0.1.0
 */
export const CustomDetailsRemoved = Schema.TaggedStruct("CustomDetailsRemoved", {
  keys: Schema.Array(Schema.String),
  bytesBefore: Schema.Number,
  bytesAfter: Schema.Number
})

/**
 * A change `prepare` made to an event to fit PagerDuty's limits.
 *
 * @since 0.1.0
 */
export const Adjustment = Schema.Union([SummaryTruncated, DedupKeyHashed, CustomDetailsRemoved])

/**
 * @since 0.1.0
 */
export type Adjustment = typeof Adjustment.Type

/**
 * An event that passed `prepare`, with the changes made to it.
 *
 * @since 0.1.0
 */
export interface Prepared<E extends EventsV2.Event> {
  readonly event: E
  readonly adjustments: ReadonlyArray<Adjustment>
}

/**
 * The `custom_details` key `prepare` adds when it removes values, naming the
 * removed keys.
 *
 * @since 0.1.0
 */
export const removedKeysEntry = "removed_custom_details"

// Any 32-character key encodes to 32 bytes, so a placeholder measures the
// request exactly.
const placeholderKey = Redacted.make("0".repeat(32))
const requestBytes = (event: EventsV2.Event): number => utf8Length(encodeRequest(placeholderKey, event))

type WithPayload = EventsV2.Trigger | EventsV2.ChangeEvent

const withDetails = <E extends WithPayload>(event: E, details: EventsV2.CustomDetails | undefined): E => {
  const { custom_details: _, ...payload } = event.payload
  return { ...event, payload: details === undefined ? payload : { ...payload, custom_details: details } }
}

const removalNote = (keys: ReadonlyArray<string>): string =>
  truncateCodePoints(
    `${keys.length} key(s) removed to fit PagerDuty's ${maxRequestBytes}-byte limit: ${keys.join(", ")}`,
    maxSummaryLength,
    "…"
  )

const largestFirst = (a: { key: string; bytes: number }, b: { key: string; bytes: number }): number => {
  if (a.bytes !== b.bytes) return b.bytes - a.bytes
  return a.key < b.key ? -1 : 1
}

// Removes custom_details entries, largest first, until the request fits. Each
// round drops as many entries as the estimated excess needs, then measures the
// real encoding again, so a few full encodings suffice.
const fitSize = <E extends WithPayload>(
  event: E
): { readonly event: E; readonly adjustment?: Adjustment } | EventsV2Error => {
  const bytesBefore = requestBytes(event)
  if (bytesBefore <= maxRequestBytes) return { event }

  const details = event.payload.custom_details ?? {}
  const queue = Object.keys(details)
    .map((key) => ({ key, bytes: utf8Length(JSON.stringify({ [key]: canonicalize(details[key]) ?? null })) - 1 }))
    .sort(largestFirst)
  const removed = new Set<string>()

  let bytes = bytesBefore
  while (queue.length > 0) {
    let excess = bytes - maxRequestBytes
    do {
      const entry = queue.shift()!
      removed.add(entry.key)
      excess -= entry.bytes
    } while (excess > 0 && queue.length > 0)

    const keys = [...removed]
    const kept: Record<string, unknown> = {}
    for (const key of Object.keys(details)) {
      if (!removed.has(key) && key !== removedKeysEntry) kept[key] = details[key]
    }
    kept[removedKeysEntry] = removalNote(keys)
    const candidate = withDetails(event, kept)
    bytes = requestBytes(candidate)
    if (bytes <= maxRequestBytes) {
      return { event: candidate, adjustment: CustomDetailsRemoved.make({ keys, bytesBefore, bytesAfter: bytes }) }
    }
  }
  return new EventsV2Error({ reason: new TooLarge({ bytes, limit: maxRequestBytes }) })
}

const encoder = new TextEncoder()

/**
 * Validates an event and fits it into PagerDuty's limits, returning the event
 * to send and the changes made to it.
 *
 * - a `dedup_key` over 255 characters becomes the lowercase hex SHA-256 of it
 *   (64 characters), so later events with the same long key still match;
 * - a summary over 1024 code points is cut at a grapheme boundary and ends in
 *   `…` (U+2026), never splitting a surrogate pair, an emoji ZWJ sequence or a
 *   letter from its combining marks;
 * - a request over 512,000 bytes of UTF-8 JSON (counting a 32-character
 *   routing key) loses `custom_details` values, largest first, and gains a
 *   `removed_custom_details` entry naming the removed keys. If that is not
 *   enough it fails with `TooLarge`.
 *
 * Invalid fields fail with `InvalidField`: a blank summary or source, an
 * unknown severity, a link without `href`, an image whose `src` is not https,
 * `client`/`client_url` on anything but a trigger, `custom_details` that JSON
 * cannot hold. The routing key is checked by `validateRoutingKey`.
 *
 * @since 0.1.0
 */
export const prepare: <E extends EventsV2.Event>(
  event: E
) => Effect.Effect<Prepared<E>, EventsV2Error, Digest.Digest> = Effect.fnUntraced(function*<E extends EventsV2.Event>(
  event: E
) {
  const invalid = validate(event)
  if (invalid !== undefined) return yield* invalid

  const adjustments: Array<Adjustment> = []
  let prepared: EventsV2.Event = event

  if ("event_action" in prepared && prepared.dedup_key !== undefined && prepared.dedup_key.length > maxDedupKeyLength) {
    const digest = yield* Digest.Digest
    const dedupKey = yield* digest.digestHex(Digest.sha256, encoder.encode(prepared.dedup_key))
    adjustments.push(DedupKeyHashed.make({ originalLength: prepared.dedup_key.length, dedupKey }))
    prepared = { ...prepared, dedup_key: dedupKey }
  }

  if (!("event_action" in prepared) || prepared.event_action === "trigger") {
    const withPayload: WithPayload = prepared
    const originalLength = codePointLength(withPayload.payload.summary)
    if (originalLength > maxSummaryLength) {
      const summary = truncateCodePoints(withPayload.payload.summary, maxSummaryLength, "…")
      adjustments.push(SummaryTruncated.make({ originalLength, length: codePointLength(summary) }))
      prepared = { ...withPayload, payload: { ...withPayload.payload, summary } } as WithPayload
    }

    const fitted = fitSize(prepared as WithPayload)
    if (fitted instanceof EventsV2Error) return yield* fitted
    if (fitted.adjustment !== undefined) adjustments.push(fitted.adjustment)
    prepared = fitted.event
  }

  return { event: prepared as E, adjustments }
})
