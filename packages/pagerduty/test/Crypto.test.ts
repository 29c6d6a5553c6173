import { expect, layer } from "@effect/vitest"
import { Clock, Effect, Redacted } from "effect"
import * as Base64Url from "effect/encoding/Base64Url"
import * as Hex from "effect/encoding/Hex"
import { TestClock } from "effect/testing"
import * as Crypto from "../src/Crypto.ts"

// Fixed test keys (base64 of 32 bytes); never used outside tests.
const k1 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
const k2 = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8="

const ringOf = (current: string, ring: Record<string, string>) =>
  Crypto.makeKeyRing({
    current,
    ring: Object.fromEntries(Object.entries(ring).map(([id, key]) => [id, Redacted.make(key)]))
  })

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

/** Flips one bit of the byte at `index` (negative counts from the end) in the envelope field `field`. */
const flip = (sealed: string, field: 3 | 4, index: number) => {
  const parts = sealed.split(":")
  const bytes = Base64Url.decode(parts[field]!)
  if (bytes._tag !== "Success") throw new Error("bad test envelope")
  const copy = bytes.success.slice()
  const at = index < 0 ? copy.length + index : index
  copy[at] = copy[at]! ^ 0x01
  parts[field] = Base64Url.encode(copy)
  return parts.join(":")
}

const reasonOf = <A, R>(effect: Effect.Effect<A, Crypto.CryptoError, R>) =>
  Effect.map(Effect.flip(effect), (error) => error.reason._tag)

layer(Crypto.layerWebCrypto)("Crypto sealing", (it) => {
  it.effect("opens what it sealed", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const sealed = yield* Crypto.seal(ring, "routing key 0123")
      expect(sealed.startsWith("sealed:v1:k1:")).toBe(true)
      expect(sealed).not.toContain("routing key")
      expect(text(yield* Crypto.open(ring, sealed))).toBe("routing key 0123")
      expect(Redacted.value(yield* Crypto.openString(ring, sealed))).toBe("routing key 0123")
    }))

  it.effect("uses a fresh nonce for every seal", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const first = yield* Crypto.seal(ring, "same")
      const second = yield* Crypto.seal(ring, "same")
      expect(first.split(":")[3]).not.toBe(second.split(":")[3])
      expect(first).not.toBe(second)
    }))

  it.effect("round trips binary and empty plaintexts", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const bytes = new Uint8Array([0, 255, 1, 254])
      expect(Array.from(yield* Crypto.open(ring, yield* Crypto.seal(ring, bytes)))).toEqual([0, 255, 1, 254])
      expect(text(yield* Crypto.open(ring, yield* Crypto.seal(ring, "")))).toBe("")
    }))

  it.effect("rejects a flipped nonce byte", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const sealed = yield* Crypto.seal(ring, "secret")
      expect(yield* reasonOf(Crypto.open(ring, flip(sealed, 3, 0)))).toBe("AuthenticationFailed")
    }))

  it.effect("rejects a flipped ciphertext byte", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const sealed = yield* Crypto.seal(ring, "secret")
      expect(yield* reasonOf(Crypto.open(ring, flip(sealed, 4, 0)))).toBe("AuthenticationFailed")
    }))

  it.effect("rejects a flipped tag byte", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const sealed = yield* Crypto.seal(ring, "secret")
      expect(yield* reasonOf(Crypto.open(ring, flip(sealed, 4, -1)))).toBe("AuthenticationFailed")
    }))

  it.effect("rejects other additional data", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      const sealed = yield* Crypto.seal(ring, "secret", { aad: "routes[0].routing_key" })
      expect(text(yield* Crypto.open(ring, sealed, { aad: "routes[0].routing_key" }))).toBe("secret")
      expect(yield* reasonOf(Crypto.open(ring, sealed, { aad: "routes[1].routing_key" }))).toBe("AuthenticationFailed")
      expect(yield* reasonOf(Crypto.open(ring, sealed))).toBe("AuthenticationFailed")
    }))

  it.effect("rejects an envelope relabelled with another key id", () =>
    Effect.gen(function*() {
      // Both ids hold the same key, so only the authenticated header distinguishes them.
      const ring = yield* ringOf("k1", { k1, twin: k1 })
      const sealed = yield* Crypto.seal(ring, "secret")
      const relabelled = sealed.replace("sealed:v1:k1:", "sealed:v1:twin:")
      expect(yield* reasonOf(Crypto.open(ring, relabelled))).toBe("AuthenticationFailed")
    }))

  it.effect("rejects a value sealed with another key of the same id", () =>
    Effect.gen(function*() {
      const sealed = yield* Crypto.seal(yield* ringOf("k1", { k1 }), "secret")
      const other = yield* ringOf("k1", { k1: k2 })
      const error = yield* Effect.flip(Crypto.open(other, sealed))
      expect(error.reason._tag).toBe("AuthenticationFailed")
      expect(error.message).toContain("key k1")
    }))

  it.effect("names a key id missing from the ring", () =>
    Effect.gen(function*() {
      const sealed = yield* Crypto.seal(yield* ringOf("old", { old: k1 }), "secret")
      const error = yield* Effect.flip(Crypto.open(yield* ringOf("new", { new: k2 }), sealed))
      expect(error.reason._tag).toBe("UnknownKey")
      expect(error.message).toBe(
        "key old is not in the key ring (known: new); add it back to keys.ring to open this value"
      )
    }))

  it.effect("opens old values after a rotation", () =>
    Effect.gen(function*() {
      const before = yield* ringOf("k1", { k1 })
      const old = yield* Crypto.seal(before, "old secret")
      const after = yield* ringOf("k2", { k1, k2 })
      const fresh = yield* Crypto.seal(after, "new secret")
      expect(Crypto.keyIdOf(old)).toBe("k1")
      expect(Crypto.keyIdOf(fresh)).toBe("k2")
      expect(text(yield* Crypto.open(after, old))).toBe("old secret")
      expect(text(yield* Crypto.open(after, fresh))).toBe("new secret")
      expect(yield* reasonOf(Crypto.open(before, fresh))).toBe("UnknownKey")
    }))

  it.effect("rejects malformed envelopes", () =>
    Effect.gen(function*() {
      const ring = yield* ringOf("k1", { k1 })
      expect(yield* reasonOf(Crypto.open(ring, "plain text"))).toBe("MalformedEnvelope")
      expect(yield* reasonOf(Crypto.open(ring, "sealed:v1:k1:abc"))).toBe("MalformedEnvelope")
      expect(yield* reasonOf(Crypto.open(ring, "sealed:v1:k1:AAAA:AAAAAAAAAAAAAAAAAAAAAA"))).toBe("MalformedEnvelope")
    }))

  it.effect("names a key of the wrong length", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ringOf("k1", { k1: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==" }))
      expect(error.reason._tag).toBe("InvalidKey")
      expect(error.message).toContain("key k1 is invalid: expected 32 bytes, got 31")
    }))

  it.effect("rejects a key that is not base64", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ringOf("k1", { k1: "not base64!" }))
      expect(error.message).toContain("key k1 is invalid: expected base64 text")
    }))

  it.effect("rejects a current id outside the ring", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ringOf("k3", { k1 }))
      expect(error.message).toContain("key k3 is invalid: the current key is not in the ring")
    }))
})

layer(Crypto.layerWebCrypto)("Crypto HMAC", (it) => {
  it.effect("matches the RFC 4231 SHA-256 vector", () =>
    Effect.gen(function*() {
      // RFC 4231, test case 2.
      const tag = yield* Crypto.hmacSha256(Redacted.make("Jefe"), "what do ya want for nothing?")
      expect(Hex.encode(tag)).toBe("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
      expect(yield* Crypto.verifyHmacSha256(Redacted.make("Jefe"), tag, "what do ya want for nothing?")).toBe(true)
      expect(yield* Crypto.verifyHmacSha256(Redacted.make("Jefe"), tag, "what do ya want for nothing!")).toBe(false)
      expect(yield* Crypto.verifyHmacSha256(Redacted.make("Jefe"), tag.slice(1), "what do ya want for nothing?")).toBe(
        false
      )
    }))
})

const secret = Redacted.make("a-jwt-secret-of-at-least-32-characters")

// The layer's TestClock is shared by the tests of a block, so times are relative to its current value.
const nowSeconds = Effect.map(Clock.currentTimeMillis, (millis) => Math.floor(millis / 1000))

layer(Crypto.layerWebCrypto)("Crypto JWT", (it) => {
  it.effect("verifies a token it signed", () =>
    Effect.gen(function*() {
      const token = yield* Crypto.signJwt(secret, { sub: "alertmanager", iss: "monitoring", aud: "pd-relay" })
      const claims = yield* Crypto.verifyJwt(secret, token, { issuer: "monitoring", audience: "pd-relay" })
      expect(claims.sub).toBe("alertmanager")
      expect(claims.iss).toBe("monitoring")
    }))

  it.effect("rejects an expired token", () =>
    Effect.gen(function*() {
      const now = yield* nowSeconds
      const token = yield* Crypto.signJwt(secret, { exp: now + 60 })
      yield* Crypto.verifyJwt(secret, token)
      yield* TestClock.adjust("60 seconds")
      const error = yield* Effect.flip(Crypto.verifyJwt(secret, token))
      expect(error.reason._tag).toBe("TokenExpired")
      expect(error.reason.httpStatus).toBe(401)
    }))

  it.effect("accepts an expired token within the tolerance", () =>
    Effect.gen(function*() {
      const now = yield* nowSeconds
      const token = yield* Crypto.signJwt(secret, { exp: now + 60 })
      yield* TestClock.adjust("65 seconds")
      const claims = yield* Crypto.verifyJwt(secret, token, { clockTolerance: "10 seconds" })
      expect(claims.exp).toBe(now + 60)
    }))

  it.effect("rejects a token before nbf", () =>
    Effect.gen(function*() {
      const now = yield* nowSeconds
      const token = yield* Crypto.signJwt(secret, { nbf: now + 120 })
      expect(yield* reasonOf(Crypto.verifyJwt(secret, token))).toBe("TokenNotYetValid")
      yield* TestClock.adjust("120 seconds")
      const claims = yield* Crypto.verifyJwt(secret, token)
      expect(claims.nbf).toBe(now + 120)
    }))

  it.effect("rejects another issuer", () =>
    Effect.gen(function*() {
      const token = yield* Crypto.signJwt(secret, { iss: "someone-else" })
      expect(yield* reasonOf(Crypto.verifyJwt(secret, token, { issuer: "monitoring" }))).toBe("IssuerMismatch")
      const untagged = yield* Crypto.signJwt(secret, {})
      expect(yield* reasonOf(Crypto.verifyJwt(secret, untagged, { issuer: "monitoring" }))).toBe("IssuerMismatch")
    }))

  it.effect("rejects another audience", () =>
    Effect.gen(function*() {
      const token = yield* Crypto.signJwt(secret, { aud: ["grafana", "other"] })
      expect(yield* reasonOf(Crypto.verifyJwt(secret, token, { audience: "pd-relay" }))).toBe("AudienceMismatch")
      const listed = yield* Crypto.signJwt(secret, { aud: ["grafana", "pd-relay"] })
      expect((yield* Crypto.verifyJwt(secret, listed, { audience: "pd-relay" })).aud).toEqual(["grafana", "pd-relay"])
    }))

  it.effect("rejects a token signed with another secret", () =>
    Effect.gen(function*() {
      const token = yield* Crypto.signJwt(Redacted.make("another-secret-of-at-least-32-chars!!"), { sub: "x" })
      expect(yield* reasonOf(Crypto.verifyJwt(secret, token))).toBe("BadSignature")
    }))

  it.effect("rejects an unsigned token", () =>
    Effect.gen(function*() {
      const header = Base64Url.encode(JSON.stringify({ alg: "none", typ: "JWT" }))
      const payload = Base64Url.encode(JSON.stringify({ sub: "x" }))
      const reason = yield* reasonOf(Crypto.verifyJwt(secret, `${header}.${payload}.`))
      expect(["BadSignature", "MalformedToken"]).toContain(reason)
    }))

  it.effect("rejects text that is not a token", () =>
    Effect.gen(function*() {
      expect(yield* reasonOf(Crypto.verifyJwt(secret, "not-a-token"))).toBe("MalformedToken")
    }))

  it.effect("requires listed claims", () =>
    Effect.gen(function*() {
      const token = yield* Crypto.signJwt(secret, { sub: "x" })
      expect(yield* reasonOf(Crypto.verifyJwt(secret, token, { requiredClaims: ["exp"] }))).toBe("MalformedToken")
    }))
})
