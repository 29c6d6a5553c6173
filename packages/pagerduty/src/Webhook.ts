/**
 * Verification and parsing of PagerDuty v3 webhook deliveries.
 *
 * PagerDuty signs each delivery with HMAC-SHA256 of the raw body bytes, keyed
 * with the UTF-8 bytes of the subscription's signing secret (not
 * base64-decoded), and sends it hex-encoded as `X-PagerDuty-Signature:
 * v1=<hex>`. While a secret is being rotated the header carries one signature
 * per active secret, comma-separated. A delivery is genuine when any `v1`
 * signature matches the HMAC under any configured secret. No timestamp is
 * signed, so replays are caught only by de-duplicating on `X-Webhook-Id`.
 *
 * HMAC runs on the `Mac` service of `effect/crypto`, so the module runs on any
 * runtime with WebCrypto (`Mac.layerWebCrypto`).
 *
 * @example
 * ```ts
 * import { Webhook } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer, Redacted } from "effect"
 * import { Mac, SecureRandom } from "effect/crypto"
 *
 * declare const body: Uint8Array
 * declare const header: string | undefined
 *
 * const program = Webhook.verifyAndParse({
 *   body,
 *   signatureHeader: header,
 *   secrets: [Redacted.make("the signing secret")]
 * }).pipe(Effect.provide(Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import type * as Arr from "effect/Array"
import * as Mac from "effect/crypto/Mac"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Errors from "./Errors.ts"
import * as WebhookEvent from "./WebhookEvent.ts"

/**
 * The default body limit, 256 KiB (262,144 bytes): PagerDuty drops deliveries
 * over 256 KB instead of sending them.
 *
 * NOTE: PagerDuty writes "256 KB" without saying whether a KB is 1,000 or
 * 1,024 bytes, so the larger reading is used.
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultMaxBodyBytes = 256 * 1024

/**
 * The request header carrying the signatures.
 *
 * @since 0.1.0
 * @category constants
 */
export const signatureHeaderName = "x-pagerduty-signature"

/**
 * The `X-PagerDuty-Signature` header is missing or empty.
 *
 * @since 0.1.0
 * @category errors
 */
export class MissingSignature extends Schema.TaggedClass<MissingSignature>()("MissingSignature", {}) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Warn" as const
  get message() {
    return "the X-PagerDuty-Signature header is missing; only PagerDuty's signed deliveries are accepted"
  }
}

/**
 * The header carries no well-formed `v1=<64 hex digits>` signature.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedSignature extends Schema.TaggedClass<MalformedSignature>()("MalformedSignature", {
  entries: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Warn" as const
  get message() {
    return `the X-PagerDuty-Signature header has ${this.entries} entries and none is a well-formed v1 signature; expected v1=<64 hex digits>`
  }
}

/**
 * No signature in the header matches the body under any configured secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class NoMatchingSignature extends Schema.TaggedClass<NoMatchingSignature>()("NoMatchingSignature", {
  signatures: Schema.Number,
  secrets: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Warn" as const
  get message() {
    return `none of ${this.signatures} v1 signatures matches the body under ${this.secrets} configured secrets; check the signing secret of the subscription`
  }
}

/**
 * The body is larger than the configured limit.
 *
 * @since 0.1.0
 * @category errors
 */
export class BodyTooLarge extends Schema.TaggedClass<BodyTooLarge>()("BodyTooLarge", {
  bytes: Schema.Number,
  maxBytes: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 413
  readonly logLevel = "Warn" as const
  get message() {
    return `the webhook body is ${this.bytes} bytes, over the limit of ${this.maxBytes}; raise maxBodyBytes if larger deliveries are expected`
  }
}

/**
 * The verified body is not valid UTF-8 JSON.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidJson extends Schema.TaggedClass<InvalidJson>()("InvalidJson", {
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `the webhook body is not valid JSON (${this.detail})`
  }
}

/**
 * The verified body is JSON but not a v3 webhook envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidEnvelope extends Schema.TaggedClass<InvalidEnvelope>()("InvalidEnvelope", {
  issue: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `the webhook body is not a v3 event envelope: ${this.issue}`
  }
}

/**
 * The error of webhook verification and parsing.
 *
 * @since 0.1.0
 * @category errors
 */
export class WebhookError extends Schema.TaggedError<WebhookError>()("WebhookError", {
  reason: Schema.Union([
    MissingSignature,
    MalformedSignature,
    NoMatchingSignature,
    BodyTooLarge,
    InvalidJson,
    InvalidEnvelope
  ])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * The reasons that reject a delivery before its JSON is read.
 *
 * @since 0.1.0
 * @category models
 */
export type VerificationReason = MissingSignature | MalformedSignature | NoMatchingSignature | BodyTooLarge

const fail = (reason: WebhookError["reason"]) => Effect.fail(new WebhookError({ reason }))

const hexValue = (code: number): number => {
  if (code >= 48 && code <= 57) return code - 48
  if (code >= 97 && code <= 102) return code - 87
  if (code >= 65 && code <= 70) return code - 55
  return -1
}

// Decodes 64 hex digits (either case) into 32 bytes, or returns undefined.
const decodeSha256Hex = (hex: string): Uint8Array | undefined => {
  if (hex.length !== 64) return undefined
  const bytes = new Uint8Array(32)
  for (let i = 0; i < 32; i++) {
    const high = hexValue(hex.charCodeAt(2 * i))
    const low = hexValue(hex.charCodeAt(2 * i + 1))
    if (high < 0 || low < 0) return undefined
    bytes[i] = (high << 4) | low
  }
  return bytes
}

/**
 * The `v1` signatures of a header and the number of its entries.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParsedHeader {
  readonly entries: number
  readonly signatures: ReadonlyArray<Uint8Array>
}

/**
 * Splits an `X-PagerDuty-Signature` value into its well-formed `v1`
 * signatures, decoded from hex.
 *
 * Entries are separated by commas, with or without spaces. Entries of other
 * versions and `v1` entries that are not 64 hex digits are skipped.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseSignatureHeader = (header: string): ParsedHeader => {
  const parts = header.split(",")
  const signatures: Array<Uint8Array> = []
  let entries = 0
  for (const part of parts) {
    const entry = part.trim()
    if (entry.length === 0) continue
    entries++
    if (!entry.startsWith("v1=")) continue
    const bytes = decodeSha256Hex(entry.slice(3))
    if (bytes !== undefined) signatures.push(bytes)
  }
  return { entries, signatures }
}

/**
 * Options of {@link makeVerifier}.
 *
 * @since 0.1.0
 * @category models
 */
export interface VerifierOptions {
  /** The subscription's signing secrets; during rotation, the old and the new. */
  readonly secrets: Arr.NonEmptyReadonlyArray<Redacted.Redacted<string>>
  /** Bodies over this size fail with `BodyTooLarge`. Default: {@link defaultMaxBodyBytes}. */
  readonly maxBodyBytes?: number | undefined
}

/**
 * A delivery to verify: the raw body bytes and the value of
 * `X-PagerDuty-Signature`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delivery {
  readonly body: Uint8Array
  readonly signatureHeader: string | undefined
}

/**
 * Checks a delivery's signature, succeeding when it is genuine.
 *
 * @since 0.1.0
 * @category models
 */
export type Verifier = (delivery: Delivery) => Effect.Effect<void, WebhookError>

const textEncoder = new TextEncoder()

const checkOptions = (options: VerifierOptions): number => {
  if (options.secrets.length === 0) {
    throw new RangeError("secrets must contain at least one signing secret, got none")
  }
  options.secrets.forEach((secret, index) => {
    if (Redacted.value(secret).length === 0) throw new RangeError(`secrets[${index}] must not be empty`)
  })
  const maxBodyBytes = options.maxBodyBytes ?? defaultMaxBodyBytes
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}`)
  }
  return maxBodyBytes
}

/**
 * Builds a {@link Verifier} that imports each secret as an HMAC key once.
 *
 * The verifier rejects, in this order: a body over `maxBodyBytes`
 * (`BodyTooLarge`), a missing or blank header (`MissingSignature`), a header
 * without a well-formed `v1` signature (`MalformedSignature`), and a header
 * whose signatures match under no secret (`NoMatchingSignature`). It computes
 * one HMAC per secret and compares it with every signature in constant time.
 * Throws `RangeError` for an empty secret list, an empty secret or an invalid
 * `maxBodyBytes`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeVerifier = (options: VerifierOptions): Effect.Effect<Verifier, never, Mac.Mac> =>
  Effect.gen(function*() {
    const maxBodyBytes = checkOptions(options)
    const mac = yield* Mac.Mac
    const keys = yield* Effect.forEach(
      options.secrets,
      (secret) => Effect.orDie(Mac.key(Mac.hmacSha256, textEncoder.encode(Redacted.value(secret))))
    )
    const secretCount = keys.length

    return (delivery: Delivery): Effect.Effect<void, WebhookError> => {
      if (delivery.body.byteLength > maxBodyBytes) {
        return fail(new BodyTooLarge({ bytes: delivery.body.byteLength, maxBytes: maxBodyBytes }))
      }
      const header = delivery.signatureHeader
      if (header === undefined || header.trim().length === 0) return fail(new MissingSignature())
      const parsed = parseSignatureHeader(header)
      if (parsed.signatures.length === 0) return fail(new MalformedSignature({ entries: parsed.entries }))

      return Effect.flatMap(
        Effect.forEach(keys, (key) => Effect.orDie(mac.sign(key, delivery.body))),
        (expected) => {
          // Every pair is compared, so the time taken does not reveal which one matched.
          let matched = false
          for (const tag of expected) {
            for (const signature of parsed.signatures) {
              if (Mac.timingSafeEqual(tag, signature)) matched = true
            }
          }
          return matched
            ? Effect.void
            : fail(new NoMatchingSignature({ signatures: parsed.signatures.length, secrets: secretCount }))
        }
      )
    }
  })

/**
 * Verifies one delivery; see {@link makeVerifier}, which is cheaper when
 * many deliveries are checked with the same secrets.
 *
 * @since 0.1.0
 * @category verification
 */
export const verify = (options: VerifierOptions & Delivery): Effect.Effect<void, WebhookError, Mac.Mac> =>
  Effect.flatMap(makeVerifier(options), (verifier) => verifier(options))

/**
 * Computes the `v1=<hex>` signature of a body under one secret, as PagerDuty
 * sends it.
 *
 * @since 0.1.0
 * @category signing
 */
export const sign = (body: Uint8Array, secret: Redacted.Redacted<string>): Effect.Effect<string, never, Mac.Mac> =>
  Effect.gen(function*() {
    const mac = yield* Mac.Mac
    const key = yield* Effect.orDie(Mac.key(Mac.hmacSha256, textEncoder.encode(Redacted.value(secret))))
    const tag = yield* Effect.orDie(mac.sign(key, body))
    return `v1=${Array.from(tag, (byte) => byte.toString(16).padStart(2, "0")).join("")}`
  })

/**
 * Computes the `X-PagerDuty-Signature` value for a body under several
 * secrets, one `v1` entry per secret, comma-separated.
 *
 * @since 0.1.0
 * @category signing
 */
export const signatureHeader = (
  body: Uint8Array,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): Effect.Effect<string, never, Mac.Mac> =>
  Effect.map(Effect.forEach(secrets, (secret) => sign(body, secret)), (entries) => entries.join(","))

const textDecoder = new TextDecoder("utf-8", { fatal: true })
const decodeEnvelope = Schema.decodeUnknownEffect(WebhookEvent.Envelope)

// Decoders of the envelope of each known event type, so a delivery is checked against its own
// variant instead of the whole union.
const decodeEnvelopeOf = new Map(
  WebhookEvent.eventTypes.map((eventType) => [
    eventType as string,
    Schema.decodeUnknownEffect(Schema.Struct({ event: WebhookEvent.eventSchemas[eventType] }))
  ])
)

const eventTypeOf = (json: unknown): string | undefined => {
  if (typeof json !== "object" || json === null) return undefined
  const event = (json as { readonly event?: unknown }).event
  if (typeof event !== "object" || event === null) return undefined
  const eventType = (event as { readonly event_type?: unknown }).event_type
  return typeof eventType === "string" ? eventType : undefined
}

/**
 * Parses a verified body into its typed event.
 *
 * Fails with `InvalidJson` when the bytes are not UTF-8 JSON, and with
 * `InvalidEnvelope` when the JSON is not `{"event": {...}}` with the fields of
 * its event type. Call it only after verification succeeded.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (body: Uint8Array): Effect.Effect<WebhookEvent.AnyEvent, WebhookError> =>
  Effect.suspend(() => {
    // The parser's own messages quote the input, so the detail names only the kind of failure.
    let text: string
    try {
      text = textDecoder.decode(body)
    } catch {
      return fail(new InvalidJson({ detail: "the bytes are not valid UTF-8" }))
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return fail(new InvalidJson({ detail: "syntax error" }))
    }
    const eventType = eventTypeOf(json)
    const decodeVariant = eventType === undefined ? undefined : decodeEnvelopeOf.get(eventType)
    const decoded = (decodeVariant ?? decodeEnvelope)(json) as Effect.Effect<WebhookEvent.Envelope, Schema.SchemaError>
    return decoded.pipe(
      Effect.map((envelope) => envelope.event),
      Effect.mapError((error) => new WebhookError({ reason: new InvalidEnvelope({ issue: error.message }) }))
    )
  })

/**
 * Verifies a delivery, then parses it, so no byte of the body is read as
 * JSON before its signature is verified.
 *
 * @since 0.1.0
 * @category verification
 */
export const verifyAndParse = (
  options: VerifierOptions & Delivery
): Effect.Effect<WebhookEvent.AnyEvent, WebhookError, Mac.Mac> => Effect.andThen(verify(options), parse(options.body))
