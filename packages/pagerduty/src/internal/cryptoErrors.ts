import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Errors from "../Errors.ts"

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

/** Fails with a {@link CryptoError} of the given reason. */
export const fail = (reason: CryptoError["reason"]) => Effect.fail(new CryptoError({ reason }))

/** Maps a platform failure to a `CryptoFailure` naming the operation. */
export const platformFailure = (operation: string) => (error: { readonly message: string }) =>
  new CryptoError({ reason: new CryptoFailure({ operation, detail: error.message }) })

const encoder = new TextEncoder()

/** Encodes text as UTF-8 and passes bytes through. */
export const bytesOf = (input: Uint8Array | string): Uint8Array =>
  typeof input === "string" ? encoder.encode(input) : input
