import * as Mac from "effect/crypto/Mac"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Base64Url from "effect/encoding/Base64Url"
import type * as JoseError from "effect/jose/JoseError"
import * as Jwk from "effect/jose/Jwk"
import * as Jwt from "effect/jose/Jwt"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import {
  AudienceMismatch,
  BadSignature,
  bytesOf,
  CryptoError,
  InvalidKey,
  IssuerMismatch,
  MalformedToken,
  platformFailure,
  TokenExpired,
  TokenNotYetValid
} from "./cryptoErrors.ts"

const encoder = new TextEncoder()

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
