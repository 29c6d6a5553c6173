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
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Result from "effect/Result"
import {
  AuthenticationFailed,
  bytesOf,
  CryptoError,
  fail,
  InvalidKey,
  MalformedEnvelope,
  platformFailure,
  UnknownKey
} from "./internal/cryptoErrors.ts"

export {
  AudienceMismatch,
  AuthenticationFailed,
  BadSignature,
  CryptoError,
  CryptoFailure,
  InvalidKey,
  IssuerMismatch,
  MalformedEnvelope,
  MalformedToken,
  TokenExpired,
  TokenNotYetValid,
  UnknownKey
} from "./internal/cryptoErrors.ts"
export { hmacSha256, type JwtClaims, signJwt, verifyHmacSha256, verifyJwt } from "./internal/cryptoMac.ts"

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
