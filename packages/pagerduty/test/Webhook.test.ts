import { NodeCrypto } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { createHmac } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Webhook from "../src/Webhook.ts"
import * as WebhookEvent from "../src/WebhookEvent.ts"

const fixtures = path.join(import.meta.dirname, "../../../test/fixtures/pagerduty/webhooks-v3")
const readJson = (name: string) => JSON.parse(fs.readFileSync(path.join(fixtures, name), "utf8"))
const vectors: Array<{
  name: string
  secret: string
  body: string
  x_pagerduty_signature: string
  expected_valid: boolean
}> = readJson("signature-vectors-go-pagerduty.json").vectors

const webCryptoMac = Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
const encoder = new TextEncoder()
const secretA = Redacted.make("lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK")
const secretB = Redacted.make("second-secret-for-rotation")

const hmacHex = (secret: string, body: Uint8Array) => createHmac("sha256", secret).update(body).digest("hex")

const body = encoder.encode(vectors[0]!.body)
const goodA = `v1=${hmacHex(Redacted.value(secretA), body)}`
const goodB = `v1=${hmacHex(Redacted.value(secretB), body)}`
const wrong = `v1=${"0".repeat(64)}`

const reasonOf = (effect: Effect.Effect<unknown, Webhook.WebhookError, Mac.Mac>) =>
  effect.pipe(
    Effect.flip,
    Effect.map((error) => error.reason._tag)
  )

describe("Webhook.verify", () => {
  for (const vector of vectors) {
    it.effect(`go-pagerduty vector "${vector.name}"`, () =>
      Effect.gen(function*() {
        const result = yield* Webhook.verify({
          body: encoder.encode(vector.body),
          signatureHeader: vector.x_pagerduty_signature,
          secrets: [Redacted.make(vector.secret)]
        }).pipe(Effect.as(true), Effect.catchTag("WebhookError", () => Effect.succeed(false)))
        expect(result).toBe(vector.expected_valid)
      }).pipe(Effect.provide(webCryptoMac)))
  }

  it("fixture body matches the vector body byte for byte", () => {
    const file = fs.readFileSync(path.join(fixtures, "go-pagerduty-test-incident.priority_updated.json"))
    expect(file.toString("utf8")).toBe(vectors[0]!.body)
  })

  it.effect("sign reproduces the go-pagerduty signature", () =>
    Effect.gen(function*() {
      const valid = vectors.find((vector) => vector.expected_valid)!
      const signature = yield* Webhook.sign(encoder.encode(valid.body), Redacted.make(valid.secret))
      expect(signature).toBe(valid.x_pagerduty_signature)
    }).pipe(Effect.provide(webCryptoMac)))

  const verifyWith = (signatureHeader: string | undefined, secrets = [secretA] as const, maxBodyBytes?: number) =>
    Webhook.verify({ body, signatureHeader, secrets: secrets as any, maxBodyBytes })

  it.effect("accepts either signature during rotation", () =>
    Effect.gen(function*() {
      yield* verifyWith(`${wrong},${goodB}`, [secretA, secretB] as any)
      yield* verifyWith(`${goodA},${wrong}`, [secretB, secretA] as any)
      yield* verifyWith(`${goodA},${goodB}`, [secretB] as any)
      expect(yield* reasonOf(verifyWith(goodA, [secretB] as any))).toBe("NoMatchingSignature")
    }).pipe(Effect.provide(webCryptoMac)))

  it.effect("tolerates spaces around entries", () =>
    Effect.gen(function*() {
      yield* verifyWith(`${wrong}, ${goodA}`)
      yield* verifyWith(`  ${goodA} ,${wrong} `)
      yield* verifyWith(`${wrong} ,\t${goodA}`)
    }).pipe(Effect.provide(webCryptoMac)))

  it.effect("accepts upper-case hex", () =>
    Effect.gen(function*() {
      yield* verifyWith(`v1=${goodA.slice(3).toUpperCase()}`)
    }).pipe(Effect.provide(webCryptoMac)))

  it.effect("ignores entries of other versions", () =>
    Effect.gen(function*() {
      yield* verifyWith(`v0=${goodA.slice(3)},v2=abc,${goodA}`)
      expect(yield* reasonOf(verifyWith(`v2=${goodA.slice(3)}`))).toBe("MalformedSignature")
    }).pipe(Effect.provide(webCryptoMac)))

  it.effect("tells the rejection reasons apart", () =>
    Effect.gen(function*() {
      expect(yield* reasonOf(verifyWith(undefined))).toBe("MissingSignature")
      expect(yield* reasonOf(verifyWith("  "))).toBe("MissingSignature")
      expect(yield* reasonOf(verifyWith("v1=xyz"))).toBe("MalformedSignature")
      expect(yield* reasonOf(verifyWith(`v1=${goodA.slice(4)}`))).toBe("MalformedSignature")
      expect(yield* reasonOf(verifyWith(wrong))).toBe("NoMatchingSignature")
      expect(yield* reasonOf(verifyWith(goodA, [secretA] as const, body.length - 1))).toBe("BodyTooLarge")
      yield* verifyWith(goodA, [secretA] as const, body.length)
    }).pipe(Effect.provide(webCryptoMac)))

  it.effect("rejection messages carry no secret", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(verifyWith(wrong))
      expect(error.message).not.toContain(Redacted.value(secretA))
      expect(error.message).toContain("none of 1 v1 signatures")
    }).pipe(Effect.provide(webCryptoMac)))

  it("rejects invalid options", () => {
    expect(() => Effect.runSync(Webhook.makeVerifier({ secrets: [] as any }).pipe(Effect.provide(webCryptoMac))))
      .toThrow(RangeError)
    expect(() =>
      Effect.runSync(Webhook.makeVerifier({ secrets: [Redacted.make("")] }).pipe(Effect.provide(webCryptoMac)))
    ).toThrow(/secrets\[0\]/)
    expect(() =>
      Effect.runSync(
        Webhook.makeVerifier({ secrets: [secretA], maxBodyBytes: 0 }).pipe(Effect.provide(webCryptoMac))
      )
    ).toThrow(/maxBodyBytes/)
  })
})

// A small seeded PRNG (mulberry32), so a failure reproduces.
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("Webhook.verify, mutations", () => {
  it.effect("rejects 100,000 mutated deliveries", () =>
    Effect.gen(function*() {
      const random = prng(20260412)
      const int = (n: number) => Math.floor(random() * n)
      const secret = Redacted.value(secretA)
      const verifier = yield* Webhook.makeVerifier({ secrets: [secretA, secretB] })
      const hexDigits = "0123456789abcdef"
      let accepted = 0
      let rejected = 0
      let controls = 0

      for (let i = 0; i < 100_000; i++) {
        const kind = i % 3
        let mutatedBody = body
        let header = goodA
        if (kind === 0) {
          // change, insert or delete one byte of the body
          const at = int(body.length)
          const op = int(3)
          if (op === 0) {
            mutatedBody = body.slice()
            mutatedBody[at] = (body[at]! + 1 + int(255)) % 256
          } else if (op === 1) {
            mutatedBody = new Uint8Array(body.length + 1)
            mutatedBody.set(body.subarray(0, at))
            mutatedBody[at] = int(256)
            mutatedBody.set(body.subarray(at), at + 1)
          } else {
            mutatedBody = new Uint8Array(body.length - 1)
            mutatedBody.set(body.subarray(0, at))
            mutatedBody.set(body.subarray(at + 1), at)
          }
        } else if (kind === 1) {
          // replace one hex digit of the signature with a digit of another value
          const hex = goodA.slice(3)
          const at = int(64)
          const current = parseInt(hex[at]!, 16)
          const replacement = hexDigits[(current + 1 + int(15)) % 16]!
          header = `v1=${hex.slice(0, at)}${replacement}${hex.slice(at + 1)}`
        } else {
          // sign with a secret that differs from the configured ones in one character
          const at = int(secret.length)
          const code = secret.charCodeAt(at)
          const replacement = String.fromCharCode(33 + ((code - 33 + 1 + int(93)) % 94))
          header = `v1=${hmacHex(secret.slice(0, at) + replacement + secret.slice(at + 1), body)}`
        }
        const ok = yield* verifier({ body: mutatedBody, signatureHeader: header }).pipe(
          Effect.as(true),
          Effect.catchTag("WebhookError", () => Effect.succeed(false))
        )
        if (ok) accepted++
        else rejected++
        if (i % 10_000 === 0) {
          // the unmutated delivery still verifies, so the loop checks a verifier that works
          yield* verifier({ body, signatureHeader: goodA })
          controls++
        }
      }
      expect(accepted).toBe(0)
      expect(rejected).toBe(100_000)
      expect(controls).toBe(10)
    }).pipe(Effect.provide(NodeCrypto.layerMac)))
})

describe("Webhook.parse", () => {
  const samples = fs.readdirSync(path.join(fixtures, "samples"))

  for (const sample of samples) {
    it.effect(`decodes sample ${sample} to its variant`, () =>
      Effect.gen(function*() {
        const raw = readJson(`samples/${sample}`)
        const event = yield* Webhook.parse(encoder.encode(JSON.stringify(raw)))
        expect(event.event_type).toBe(raw.event.event_type)
        expect(WebhookEvent.isKnown(event)).toBe(true)
        expect(event.data).toMatchObject({ type: raw.event.data.type })
      }))
  }

  for (const name of ["incident.priority_updated.json", "service.updated.json"]) {
    it.effect(`decodes documented payload ${name}`, () =>
      Effect.gen(function*() {
        const event = yield* Webhook.parse(fs.readFileSync(path.join(fixtures, name)))
        expect(WebhookEvent.isKnown(event)).toBe(true)
      }))
  }

  it.effect("decodes the go-pagerduty body with a numeric conference number", () =>
    Effect.gen(function*() {
      const event = yield* Webhook.parse(encoder.encode(vectors[0]!.body))
      if (event.event_type !== "incident.priority_updated" || !WebhookEvent.isKnown(event)) {
        expect.fail(`unexpected event type ${event.event_type}`)
      }
      const data = event.data as WebhookEvent.Incident
      expect(data.conference_bridge?.conference_number).toBe(1000)
      expect(data.incident_key).toBeUndefined()
    }))

  const eventTypes: Array<{ event_type: string; data_type: string }> = readJson("event-types.json")
  const dataSamples = readJson("event-data-types.json")

  it("knows every documented event type", () => {
    expect(eventTypes).toHaveLength(30)
    for (const { event_type } of eventTypes) expect(WebhookEvent.isEventType(event_type)).toBe(true)
    expect(WebhookEvent.isEventType("pagey.ping")).toBe(true)
  })

  const envelope = (eventType: string, data: unknown) => ({
    event: {
      id: "01DOCEXAMPLE",
      event_type: eventType,
      resource_type: eventType.split(".")[0],
      occurred_at: "2021-03-02T13:35:11.682Z",
      agent: null,
      client: { name: "PagerDuty" },
      data
    }
  })

  for (const { data_type, event_type } of eventTypes) {
    it.effect(`decodes ${event_type} with its data type`, () =>
      Effect.gen(function*() {
        const event = yield* Webhook.parse(encoder.encode(JSON.stringify(envelope(event_type, dataSamples[data_type]))))
        expect(event.event_type).toBe(event_type)
        expect(WebhookEvent.isKnown(event)).toBe(true)
        expect((event.data as { type: string }).type).toBe(data_type)
      }))
  }

  it.effect("decodes pagey.ping", () =>
    Effect.gen(function*() {
      const event = yield* Webhook.parse(encoder.encode(JSON.stringify(
        envelope("pagey.ping", { message: "Hello from your friend Pagey!", type: "ping" })
      )))
      expect(event.event_type).toBe("pagey.ping")
      expect(WebhookEvent.isKnown(event)).toBe(true)
    }))

  it.effect("accepts older and newer incident shapes", () =>
    Effect.gen(function*() {
      const incident = { ...dataSamples.incident, incident_key: null, added_later: { x: 1 } }
      delete incident.created_at
      delete incident.incident_type
      const event = yield* Webhook.parse(encoder.encode(JSON.stringify(envelope("incident.triggered", incident))))
      expect(WebhookEvent.isKnown(event)).toBe(true)
      expect((event.data as WebhookEvent.Incident).incident_key).toBeNull()
    }))

  it.effect("keeps an unknown event type with its raw data", () =>
    Effect.gen(function*() {
      const data = { anything: [1, 2, 3], type: "new_thing" }
      const event = yield* Webhook.parse(encoder.encode(JSON.stringify(envelope("incident.new_thing", data))))
      expect(WebhookEvent.isKnown(event)).toBe(false)
      expect(event.event_type).toBe("incident.new_thing")
      expect(event.data).toEqual(data)
    }))

  it.effect("tells invalid JSON from an invalid envelope", () =>
    Effect.gen(function*() {
      const invalidJson = yield* Effect.flip(Webhook.parse(encoder.encode("{\"event\":")))
      expect(invalidJson.reason._tag).toBe("InvalidJson")
      const invalidUtf8 = yield* Effect.flip(Webhook.parse(Uint8Array.from([0x7b, 0xff, 0x7d])))
      expect(invalidUtf8.reason._tag).toBe("InvalidJson")
      const notEnvelope = yield* Effect.flip(Webhook.parse(encoder.encode("{\"messages\":[]}")))
      expect(notEnvelope.reason._tag).toBe("InvalidEnvelope")
      const badKnown = yield* Effect.flip(
        Webhook.parse(encoder.encode(JSON.stringify(envelope("incident.triggered", { type: "incident" }))))
      )
      expect(badKnown.reason._tag).toBe("InvalidEnvelope")
    }))

  it.effect("verifyAndParse reads no JSON before verification", () =>
    Effect.gen(function*() {
      const garbage = encoder.encode("not json at all")
      const reason = yield* reasonOf(
        Webhook.verifyAndParse({ body: garbage, signatureHeader: wrong, secrets: [secretA] })
      )
      expect(reason).toBe("NoMatchingSignature")
      const signed = yield* Webhook.signatureHeader(garbage, [secretA])
      const parsed = yield* reasonOf(
        Webhook.verifyAndParse({ body: garbage, signatureHeader: signed, secrets: [secretA] })
      )
      expect(parsed).toBe("InvalidJson")
    }).pipe(Effect.provide(webCryptoMac)))
})
