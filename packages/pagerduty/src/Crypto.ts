/**
 * AES-256-GCM sealing of secrets with key ids and rotation, HMAC helpers, and
 * HS256 JSON Web Tokens.
 *
 * A sealed value is a line of text, `sealed:v1:<key id>:<nonce>:<ciphertext>`,
 * with the nonce and the ciphertext (tag included) in unpadded base64url. It
 * can sit in a configuration file in place of a secret: {@link seal} encrypts
 * with the key ring's current key, and {@link open} decrypts with whichever
 * key of the ring the envelope names, so old values keep opening after a
 * rotation for as long as their key stays in the ring.
 *
 * @example
 * ```ts
 * import { Crypto } from "@effect-pagerduty/pagerduty"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const ring = yield* Crypto.makeKeyRing({
 *     current: "k1",
 *     ring: { k1: Redacted.make("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=") }
 *   })
 *   const sealed = yield* Crypto.seal(ring, "a routing key")
 *   return yield* Crypto.openString(ring, sealed)
 * }).pipe(Effect.provide(Crypto.layerWebCrypto))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Aead from "effect/crypto/Aead"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Base64Url from "effect/encoding/Base64Url"
import type * as JoseError from "effect/jose/JoseError"
import * as Jwk from "effect/jose/Jwk"
import * as Jwt from "effect/jose/Jwt"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Errors from "./Errors.ts"

/**
 * A key of the ring that is not 32 bytes of base64.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidKey extends Schema.TaggedClass<InvalidKey>()("InvalidKey", {
  keyId: Schema.String,
  problem: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `key ${this.keyId} is invalid: ${this.problem}; generate one with \`openssl rand -base64 32\``
  }
}

/**
 * An envelope naming a key id the ring does not contain.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnknownKey extends Schema.TaggedClass<UnknownKey>()("UnknownKey", {
  keyId: Schema.String,
  known: Schema.Array(Schema.String)
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    const known = this.known.length === 0 ? "none" : this.known.join(", ")
    return `key ${this.keyId} is not in the key ring (known: ${known}); add it back to keys.ring to open this value`
  }
}

/**
 * Text that is not a `sealed:v1:` envelope.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedEnvelope extends Schema.TaggedClass<MalformedEnvelope>()("MalformedEnvelope", {
  problem: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `sealed value is malformed: ${this.problem}; expected sealed:v1:<key id>:<nonce>:<ciphertext>`
  }
}

/**
 * An envelope whose authentication tag does not match: a wrong key, a wrong
 * additional data, or a modified nonce or ciphertext.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationFailed extends Schema.TaggedClass<AuthenticationFailed>()("AuthenticationFailed", {
  keyId: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `sealed value for key ${this.keyId} failed authentication; it was modified, sealed with another key ` +
      `of that id, or opened with other additional data`
  }
}

/**
 * A failure of the platform's cryptography (an unsupported algorithm, a
 * failed random source).
 *
 * @since 0.1.0
 * @category errors
 */
export class CryptoFailure extends Schema.TaggedClass<CryptoFailure>()("CryptoFailure", {
  operation: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `${this.operation} failed: ${this.detail}`
  }
}

/**
 * A token that is not a compact HS256 JWS with a JSON object payload.
 *
 * @since 0.1.0
 * @category errors
 */
export class MalformedToken extends Schema.TaggedClass<MalformedToken>()("MalformedToken", { detail: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT is malformed: ${this.detail}`
  }
}

/**
 * A token whose signature does not match the shared secret.
 *
 * @since 0.1.0
 * @category errors
 */
export class BadSignature extends Schema.TaggedClass<BadSignature>()("BadSignature", { detail: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT signature is invalid: ${this.detail}; check that the sender signs with the configured secret`
  }
}

/**
 * A token whose `exp` has passed.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenExpired extends Schema.TaggedClass<TokenExpired>()("TokenExpired", { detail: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT has expired: ${this.detail}; request a new one`
  }
}

/**
 * A token whose `nbf` is still in the future.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenNotYetValid
  extends Schema.TaggedClass<TokenNotYetValid>()("TokenNotYetValid", { detail: Schema.String })
{
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT is not valid yet: ${this.detail}; check the clocks of sender and relay`
  }
}

/**
 * A token whose `iss` is missing or not the configured issuer.
 *
 * @since 0.1.0
 * @category errors
 */
export class IssuerMismatch extends Schema.TaggedClass<IssuerMismatch>()("IssuerMismatch", { detail: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT issuer is not accepted: ${this.detail}`
  }
}

/**
 * A token whose `aud` is missing or does not contain the configured audience.
 *
 * @since 0.1.0
 * @category errors
 */
export class AudienceMismatch
  extends Schema.TaggedClass<AudienceMismatch>()("AudienceMismatch", { detail: Schema.String })
{
  readonly retryable = false
  readonly httpStatus = 401
  readonly logLevel = "Info" as const
  get message() {
    return `JWT audience is not accepted: ${this.detail}`
  }
}

/**
 * The error of every operation in this module.
 *
 * @since 0.1.0
 * @category errors
 */
export class CryptoError extends Schema.TaggedError<CryptoError>()("CryptoError", {
  reason: Schema.Union([
    InvalidKey,
    UnknownKey,
    MalformedEnvelope,
    AuthenticationFailed,
    CryptoFailure,
    MalformedToken,
    BadSignature,
    TokenExpired,
    TokenNotYetValid,
    IssuerMismatch,
    AudienceMismatch
  ])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

const fail = (reason: CryptoError["reason"]) => Effect.fail(new CryptoError({ reason }))

/**
 * Keys for sealing: the id of the key that seals, and every key that may
 * still open.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyRing {
  readonly current: string
  readonly keys: ReadonlyMap<string, Aead.Key<Aead.AesGcm>>
}

const keyIdPattern = /^[A-Za-z0-9_.-]{1,64}$/

/**
 * Builds a key ring from base64 keys of 32 bytes each.
 *
 * Fails with `InvalidKey` naming the key id when a key is not base64 or not
 * 32 bytes long, and when `current` is not one of the ring's ids.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeKeyRing = Effect.fnUntraced(function*(options: {
  readonly current: string
  readonly ring: Readonly<Record<string, Redacted.Redacted<string>>>
}): Effect.fn.Return<KeyRing, CryptoError> {
  const keys = new Map<string, Aead.Key<Aead.AesGcm>>()
  for (const [keyId, encoded] of Object.entries(options.ring)) {
    if (!keyIdPattern.test(keyId)) {
      return yield* fail(
        new InvalidKey({ keyId, problem: "a key id contains 1 to 64 letters, digits, '.', '_' or '-'" })
      )
    }
    const decoded = Base64.decode(Redacted.value(encoded).trim())
    if (Result.isFailure(decoded)) {
      return yield* fail(new InvalidKey({ keyId, problem: "expected base64 text" }))
    }
    if (decoded.success.length !== 32) {
      return yield* fail(
        new InvalidKey({ keyId, problem: `expected 32 bytes, got ${decoded.success.length}` })
      )
    }
    const key = yield* Aead.key(Aead.aes256Gcm, decoded.success).pipe(
      Effect.mapError(() => new CryptoError({ reason: new InvalidKey({ keyId, problem: "rejected by AES-256-GCM" }) }))
    )
    keys.set(keyId, key)
  }
  if (!keys.has(options.current)) {
    return yield* fail(
      new InvalidKey({ keyId: options.current, problem: "the current key is not in the ring" })
    )
  }
  return { current: options.current, keys }
})

const prefix = "sealed:v1:"
const nonceLength = 12
const encoder = new TextEncoder()
const decoder = new TextDecoder()

const bytesOf = (input: Uint8Array | string): Uint8Array => typeof input === "string" ? encoder.encode(input) : input

/**
 * Tells whether a string is a sealed envelope (by its prefix only).
 *
 * @since 0.1.0
 * @category guards
 */
export const isSealed = (text: string): boolean => text.startsWith(prefix)

// The header is authenticated with the caller's data, so an envelope cannot be
// relabelled with another key id or version without failing the tag check.
const additionalData = (keyId: string, aad: Uint8Array | string | undefined): Uint8Array => {
  const header = encoder.encode(`${prefix}${keyId}:`)
  const extra = aad === undefined ? new Uint8Array(0) : bytesOf(aad)
  const out = new Uint8Array(header.length + extra.length)
  out.set(header, 0)
  out.set(extra, header.length)
  return out
}

const platformFailure = (operation: string) => (error: { readonly message: string }) =>
  new CryptoError({ reason: new CryptoFailure({ operation, detail: error.message }) })

/**
 * Seals a secret with the ring's current key and a random 96-bit nonce.
 *
 * `aad` (additional authenticated data) is not stored in the envelope; the
 * same bytes must be passed to {@link open}.
 *
 * @since 0.1.0
 * @category sealing
 */
export const seal = Effect.fnUntraced(function*(
  ring: KeyRing,
  plaintext: Uint8Array | string,
  options?: { readonly aad?: Uint8Array | string | undefined }
): Effect.fn.Return<string, CryptoError, Aead.Aead | SecureRandom.SecureRandom> {
  const aead = yield* Aead.Aead
  const random = yield* SecureRandom.SecureRandom
  const key = ring.keys.get(ring.current)!
  const nonce = yield* random.randomBytes(nonceLength).pipe(Effect.mapError(platformFailure("random nonce")))
  const ciphertext = yield* aead.encrypt(key, bytesOf(plaintext), {
    nonce,
    aad: additionalData(ring.current, options?.aad)
  }).pipe(
    Effect.mapError(platformFailure("AES-256-GCM encryption"))
  )
  return `${prefix}${ring.current}:${Base64Url.encode(nonce)}:${Base64Url.encode(ciphertext)}`
})

/**
 * Opens a sealed envelope with the key its header names.
 *
 * @since 0.1.0
 * @category sealing
 */
export const open = Effect.fnUntraced(function*(
  ring: KeyRing,
  sealed: string,
  options?: { readonly aad?: Uint8Array | string | undefined }
): Effect.fn.Return<Uint8Array, CryptoError, Aead.Aead> {
  if (!isSealed(sealed)) {
    return yield* fail(new MalformedEnvelope({ problem: `missing the ${prefix} prefix` }))
  }
  const parts = sealed.trim().slice(prefix.length).split(":")
  if (parts.length !== 3) {
    return yield* fail(new MalformedEnvelope({ problem: `expected 3 fields after ${prefix}, got ${parts.length}` }))
  }
  const [keyId, nonceText, ciphertextText] = parts as [string, string, string]
  const key = ring.keys.get(keyId)
  if (key === undefined) {
    return yield* fail(new UnknownKey({ keyId, known: [...ring.keys.keys()] }))
  }
  const nonce = Base64Url.decode(nonceText)
  if (Result.isFailure(nonce) || nonce.success.length !== nonceLength) {
    return yield* fail(new MalformedEnvelope({ problem: `the nonce is not ${nonceLength} bytes of base64url` }))
  }
  const ciphertext = Base64Url.decode(ciphertextText)
  if (Result.isFailure(ciphertext) || ciphertext.success.length < 16) {
    return yield* fail(new MalformedEnvelope({ problem: "the ciphertext is not base64url of at least 16 bytes" }))
  }
  const aead = yield* Aead.Aead
  return yield* aead.decrypt(key, ciphertext.success, {
    nonce: nonce.success,
    aad: additionalData(keyId, options?.aad)
  })
    .pipe(
      Effect.mapError((error) =>
        error.reason._tag === "DecryptionFailed"
          ? new CryptoError({ reason: new AuthenticationFailed({ keyId }) })
          : platformFailure("AES-256-GCM decryption")(error)
      )
    )
})

/**
 * Opens a sealed envelope holding UTF-8 text and returns it as `Redacted`.
 *
 * @since 0.1.0
 * @category sealing
 */
export const openString = (
  ring: KeyRing,
  sealed: string,
  options?: { readonly aad?: Uint8Array | string | undefined }
): Effect.Effect<Redacted.Redacted<string>, CryptoError, Aead.Aead> =>
  Effect.map(open(ring, sealed, options), (bytes) => Redacted.make(decoder.decode(bytes)))

/**
 * The key id an envelope names, without opening it.
 *
 * @since 0.1.0
 * @category sealing
 */
export const keyIdOf = (sealed: string): string | undefined =>
  isSealed(sealed) ? sealed.slice(prefix.length).split(":")[0] : undefined

const hmacKey = (secret: Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>) =>
  Mac.key(Mac.hmacSha256, bytesOf(Redacted.value<string | Uint8Array>(secret))).pipe(
    Effect.mapError(platformFailure("HMAC key import"))
  )

/**
 * Computes the HMAC-SHA-256 tag of data with a secret.
 *
 * @since 0.1.0
 * @category mac
 */
export const hmacSha256 = Effect.fnUntraced(function*(
  secret: Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>,
  data: Uint8Array | string
): Effect.fn.Return<Uint8Array, CryptoError, Mac.Mac> {
  const mac = yield* Mac.Mac
  const key = yield* hmacKey(secret)
  return yield* mac.sign(key, bytesOf(data)).pipe(Effect.mapError(platformFailure("HMAC-SHA-256")))
})

/**
 * Checks an HMAC-SHA-256 tag in constant time; a tag of another length is `false`.
 *
 * @since 0.1.0
 * @category mac
 */
export const verifyHmacSha256 = Effect.fnUntraced(function*(
  secret: Redacted.Redacted<string> | Redacted.Redacted<Uint8Array>,
  tag: Uint8Array,
  data: Uint8Array | string
): Effect.fn.Return<boolean, CryptoError, Mac.Mac> {
  const mac = yield* Mac.Mac
  const key = yield* hmacKey(secret)
  return yield* mac.verify(key, tag, bytesOf(data)).pipe(Effect.mapError(platformFailure("HMAC-SHA-256")))
})

const jwtKey = (secret: Redacted.Redacted<string>) =>
  Jwk.importSecret(
    Redacted.make({ kty: "oct" as const, k: Base64Url.encode(encoder.encode(Redacted.value(secret))) }),
    "HS256"
  ).pipe(
    Effect.mapError((error) => new CryptoError({ reason: new InvalidKey({ keyId: "jwt", problem: error.message }) }))
  )

/**
 * The claims of a verified token: the registered ones (`iss`, `aud`, `exp`,
 * ...) and any others, as JSON.
 *
 * @since 0.1.0
 * @category jwt
 */
export type JwtClaims = Jwt.RegisteredClaims & { readonly [claim: string]: Schema.Json | undefined }

/**
 * Signs claims as a compact HS256 JWT. The secret's UTF-8 bytes are the key,
 * and must be at least 32 bytes long.
 *
 * @since 0.1.0
 * @category jwt
 */
export const signJwt = Effect.fnUntraced(function*(
  secret: Redacted.Redacted<string>,
  claims: { readonly [claim: string]: Schema.Json }
): Effect.fn.Return<Redacted.Redacted<string>, CryptoError, Mac.Mac> {
  const key = yield* jwtKey(secret)
  return yield* Jwt.sign(Schema.JsonObject, claims, key, { typ: "JWT" }).pipe(
    Effect.mapError((error) => new CryptoError({ reason: new MalformedToken({ detail: error.message }) }))
  )
})

const toJwtReason = (error: JoseError.JoseError | Schema.SchemaError): CryptoError["reason"] => {
  if (Schema.isSchemaError(error)) return new MalformedToken({ detail: "the claims are not a JSON object" })
  const reason = error.reason
  switch (reason._tag) {
    case "SignatureVerificationFailed":
      return new BadSignature({ detail: "HMAC-SHA-256 mismatch" })
    case "AlgorithmNotAllowed":
      return new BadSignature({ detail: "the token's alg is not HS256" })
    case "ClaimValidationFailed":
      switch (reason.claim) {
        case "exp":
          return reason.reason === "expired"
            ? new TokenExpired({ detail: "exp is in the past" })
            : new MalformedToken({ detail: `exp is ${reason.reason}` })
        case "nbf":
          return reason.reason === "notYetValid"
            ? new TokenNotYetValid({ detail: "nbf is in the future" })
            : new MalformedToken({ detail: `nbf is ${reason.reason}` })
        case "iss":
          return new IssuerMismatch({ detail: `iss is ${reason.reason === "missing" ? "missing" : "another issuer"}` })
        case "aud":
          return new AudienceMismatch({
            detail: `aud is ${reason.reason === "missing" ? "missing" : "another audience"}`
          })
        default:
          return new MalformedToken({ detail: `${reason.claim} is ${reason.reason}` })
      }
    default:
      return new MalformedToken({ detail: reason.message })
  }
}

/**
 * Verifies a compact HS256 JWT: its signature, then `exp` and `nbf` against
 * the `Clock` when present, then `iss` and `aud` when the options require
 * them. Each rejection is its own reason (`BadSignature`, `TokenExpired`,
 * `TokenNotYetValid`, `IssuerMismatch`, `AudienceMismatch`, `MalformedToken`).
 *
 * @since 0.1.0
 * @category jwt
 */
export const verifyJwt = Effect.fnUntraced(function*(
  secret: Redacted.Redacted<string>,
  token: string | Redacted.Redacted<string>,
  options?: {
    readonly issuer?: string | undefined
    readonly audience?: string | undefined
    /** Allowed clock difference for `exp` and `nbf`. Default 0. */
    readonly clockTolerance?: Duration.Input | undefined
    /** Claims that must be present, such as `["exp"]`. */
    readonly requiredClaims?: ReadonlyArray<keyof Jwt.RegisteredClaims> | undefined
  }
): Effect.fn.Return<JwtClaims, CryptoError, Mac.Mac> {
  const key = yield* jwtKey(secret)
  const verified = yield* Jwt.verify(Schema.JsonObject, token, key, {
    issuer: options?.issuer,
    audience: options?.audience,
    clockTolerance: options?.clockTolerance,
    requiredClaims: options?.requiredClaims
  }).pipe(Effect.mapError((error) => new CryptoError({ reason: toJwtReason(error) })))
  return { ...verified.claims, ...verified.registeredClaims } as JwtClaims
})

/**
 * WebCrypto implementations of `Aead`, `Mac` and `SecureRandom`, which run on
 * Node, Bun, Deno and browsers.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWebCrypto: Layer.Layer<Aead.Aead | Mac.Mac | SecureRandom.SecureRandom> = Layer.mergeAll(
  Aead.layerWebCrypto,
  Mac.layerWebCrypto
).pipe(Layer.provideMerge(SecureRandom.layerWebCrypto))
