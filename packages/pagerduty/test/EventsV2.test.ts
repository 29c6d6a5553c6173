import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Exit, Redacted, Schema } from "effect"
import { Digest, SecureRandom } from "effect/crypto"
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { validateRequestBody } from "../../../test/support/openapi.ts"
import * as EventsV2 from "../src/EventsV2.ts"

const spec = "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json"
const fixture = (name: string): unknown => JSON.parse(readFileSync(`test/fixtures/pagerduty/events-v2/${name}`, "utf8"))

const routingKey = Redacted.make("e93facc04764012d7bfb002500d5d1a6")
const prepare = <E extends EventsV2.Event>(event: E) =>
  EventsV2.prepare(event).pipe(Effect.provide(Digest.layerWebCrypto))
const prepareFailure = (event: unknown) => Effect.flip(prepare(event as EventsV2.Event))

type Removed = typeof EventsV2.CustomDetailsRemoved.Type

const codePoints = (text: string) => [...text].length
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")
const bytes = (text: string) => Buffer.byteLength(text, "utf8")

const trigger = (
  overrides: Partial<EventsV2.Trigger> = {},
  payload: Partial<EventsV2.Payload> = {}
): EventsV2.Trigger => ({
  event_action: "trigger",
  ...overrides,
  payload: { summary: "disk full on db-1", source: "db-1", severity: "critical", ...payload }
})

const expectValidEnqueue = (body: string) =>
  expect(validateRequestBody({ spec, path: "/enqueue", method: "post", body: JSON.parse(body) })).toEqual([])

describe("EventsV2.normalizeSeverity", () => {
  const cases: ReadonlyArray<readonly [string | null | undefined, EventsV2.Severity]> = [
    ["critical", "critical"],
    ["CRIT", "critical"],
    ["fatal", "critical"],
    ["Emergency", "critical"],
    ["alert", "critical"],
    ["p1", "critical"],
    [" error ", "error"],
    ["err", "error"],
    ["high", "error"],
    ["major", "error"],
    ["P2", "error"],
    ["warning", "warning"],
    ["warn", "warning"],
    ["medium", "warning"],
    ["minor", "warning"],
    ["p3", "warning"],
    ["info", "info"],
    ["low", "info"],
    ["informational", "info"],
    ["notice", "info"],
    ["debug", "info"],
    ["ok", "info"],
    ["p4", "info"],
    ["p5", "info"],
    ["bogus", "error"],
    ["", "error"],
    [null, "error"],
    [undefined, "error"]
  ]
  for (const [input, expected] of cases) {
    it(`maps ${JSON.stringify(input)} to ${expected}`, () => {
      expect(EventsV2.normalizeSeverity(input)).toBe(expected)
    })
  }

  it("uses the given fallback", () => {
    expect(EventsV2.normalizeSeverity("bogus", "warning")).toBe("warning")
    expect(EventsV2.normalizeSeverity(undefined, "info")).toBe("info")
  })

  it("accepts only the four severities in the schema", () => {
    expect(Schema.is(EventsV2.Severity)("critical")).toBe(true)
    expect(Schema.is(EventsV2.Severity)("crit")).toBe(false)
  })
})

describe("EventsV2.prepare summary", () => {
  const family = "\u{1F468}\u200D\u{1F469}\u200D\u{1F467}\u200D\u{1F466}" // 7 code points, one grapheme
  const cases: ReadonlyArray<{ readonly name: string; readonly summary: string; readonly expected: string }> = [
    { name: "1024 ASCII kept", summary: "a".repeat(1024), expected: "a".repeat(1024) },
    { name: "1025 ASCII cut", summary: "a".repeat(1025), expected: "a".repeat(1023) + "…" },
    { name: "emoji ending at 1024 kept", summary: "a".repeat(1022) + "😀😀", expected: "a".repeat(1022) + "😀😀" },
    { name: "emoji at 1023 kept whole", summary: "a".repeat(1022) + "😀😀x", expected: "a".repeat(1022) + "😀…" },
    { name: "emoji across the cut dropped", summary: "a".repeat(1023) + "😀b", expected: "a".repeat(1023) + "…" },
    {
      name: "ZWJ sequence across the cut",
      summary: "a".repeat(1020) + family + "tail",
      expected: "a".repeat(1020) + "…"
    },
    {
      name: "ZWJ sequence before the cut",
      summary: "a".repeat(1016) + family + "tail",
      expected: "a".repeat(1016) + family + "…"
    },
    { name: "combining mark across the cut", summary: "a".repeat(1022) + "e\u0301x", expected: "a".repeat(1022) + "…" },
    {
      name: "stacked marks kept whole",
      summary: "a".repeat(1019) + "o\u0308\u0301\u0323yz",
      expected: "a".repeat(1019) + "o\u0308\u0301\u0323…"
    }
  ]

  for (const { expected, name, summary } of cases) {
    it.effect(name, () =>
      Effect.gen(function*() {
        const { adjustments, event } = yield* prepare(trigger({}, { summary }))
        const result = event.payload.summary
        expect(result).toBe(expected)
        expect(codePoints(result)).toBeLessThanOrEqual(1024)
        expect(loneSurrogate.test(result)).toBe(false)
        const truncated = adjustments.some((adjustment) => adjustment._tag === "SummaryTruncated")
        expect(truncated).toBe(result !== summary)
      }))
  }

  it.effect("truncates change event summaries", () =>
    Effect.gen(function*() {
      const { event } = yield* prepare({ payload: { summary: "é".repeat(2000) } })
      expect(event.payload.summary).toBe("é".repeat(1023) + "…")
    }))
})

describe("EventsV2.prepare dedup_key", () => {
  it.effect("keeps a 255-character key", () =>
    Effect.gen(function*() {
      const key = "k".repeat(255)
      const { adjustments, event } = yield* prepare(trigger({ dedup_key: key }))
      expect(event.dedup_key).toBe(key)
      expect(adjustments).toEqual([])
    }))

  it.effect("hashes a 256-character key", () =>
    Effect.gen(function*() {
      const key = "k".repeat(256)
      const { adjustments, event } = yield* prepare(trigger({ dedup_key: key }))
      expect(event.dedup_key).toBe(sha256(key))
      expect(adjustments).toEqual([{ _tag: "DedupKeyHashed", originalLength: 256, dedupKey: sha256(key) }])
    }))

  it.effect("hashes acknowledge and resolve the same", () =>
    Effect.gen(function*() {
      const key = "group/" + "x".repeat(400)
      const triggered = yield* prepare(trigger({ dedup_key: key }))
      const acknowledged = yield* prepare({ event_action: "acknowledge", dedup_key: key })
      const resolved = yield* prepare({ event_action: "resolve", dedup_key: key })
      expect(acknowledged.event.dedup_key).toBe(triggered.event.dedup_key)
      expect(resolved.event.dedup_key).toBe(triggered.event.dedup_key)
      expect(triggered.event.dedup_key).toMatch(/^[0-9a-f]{64}$/)
    }))

  it.effect("leaves a hashed key unchanged on a second prepare", () =>
    Effect.gen(function*() {
      const first = yield* prepare(trigger({ dedup_key: "z".repeat(300) }))
      const second = yield* prepare(first.event)
      expect(second.event).toEqual(first.event)
      expect(second.adjustments).toEqual([])
    }))
})

describe("EventsV2.assignDedupKey", () => {
  const assign = <E extends EventsV2.AlertEvent>(event: E) =>
    EventsV2.assignDedupKey(event).pipe(Effect.provide(SecureRandom.layerWebCrypto))

  it.effect("gives a keyless trigger a UUID", () =>
    Effect.gen(function*() {
      const first = yield* assign(trigger())
      const second = yield* assign(trigger())
      expect(first.dedup_key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/)
      expect(second.dedup_key).not.toBe(first.dedup_key)
    }))

  it.effect("keeps an existing key", () =>
    Effect.gen(function*() {
      const keyed = yield* assign(trigger({ dedup_key: "db-1/disk" }))
      expect(keyed.dedup_key).toBe("db-1/disk")
      const resolve = yield* assign({ event_action: "resolve", dedup_key: "db-1/disk" } as const)
      expect(resolve).toEqual({ event_action: "resolve", dedup_key: "db-1/disk" })
    }))
})

describe("EventsV2.prepare size", () => {
  it.effect("shrinks a 600 kB event below 512,000 bytes", () =>
    Effect.gen(function*() {
      const event = trigger({ dedup_key: "big" }, {
        custom_details: { logs: "l".repeat(350_000), trace: "t".repeat(250_000), host: "db-1" }
      })
      expect(bytes(EventsV2.encodeRequest(routingKey, event))).toBeGreaterThan(600_000)

      const { adjustments, event: fitted } = yield* prepare(event)
      const body = EventsV2.encodeRequest(routingKey, fitted)
      expect(bytes(body)).toBeLessThanOrEqual(512_000)
      expect(Object.keys(fitted.payload.custom_details ?? {}).sort()).toEqual([
        "host",
        "removed_custom_details",
        "trace"
      ])
      expect(fitted.payload.custom_details?.[EventsV2.removedKeysEntry]).toContain("logs")
      expect(adjustments).toHaveLength(1)
      const removed = adjustments[0] as Removed
      expect(removed._tag).toBe("CustomDetailsRemoved")
      expect(removed.keys).toEqual(["logs"])
      expect(removed.bytesAfter).toBe(bytes(body))
      expectValidEnqueue(body)
    }))

  it.effect("removes several values, largest first", () =>
    Effect.gen(function*() {
      const details: Record<string, string> = {}
      for (let index = 0; index < 10; index++) details[`part${index}`] = "p".repeat(60_000 + index)
      const { adjustments, event } = yield* prepare(trigger({}, { custom_details: details }))
      const removed = adjustments[0] as Removed
      expect(removed._tag).toBe("CustomDetailsRemoved")
      expect(removed.keys).toEqual(["part9", "part8"])
      expect(bytes(EventsV2.encodeRequest(routingKey, event))).toBeLessThanOrEqual(512_000)
    }))

  it.effect("keeps an event of exactly 512,000 bytes", () =>
    Effect.gen(function*() {
      const base = trigger({}, { custom_details: { pad: "" } })
      const padding = 512_000 - bytes(EventsV2.encodeRequest(routingKey, base))
      const exact = trigger({}, { custom_details: { pad: "p".repeat(padding) } })
      expect(bytes(EventsV2.encodeRequest(routingKey, exact))).toBe(512_000)
      const kept = yield* prepare(exact)
      expect(kept.adjustments).toEqual([])

      const over = trigger({}, { custom_details: { pad: "p".repeat(padding + 1) } })
      const shrunk = yield* prepare(over)
      expect(shrunk.adjustments.map((adjustment) => adjustment._tag)).toEqual(["CustomDetailsRemoved"])
    }))

  it.effect("fails when removing custom_details is not enough", () =>
    Effect.gen(function*() {
      const links = Array.from(
        { length: 600 },
        (_, index) => ({ href: `https://example.com/${index}/${"x".repeat(1000)}` })
      )
      const error = yield* prepareFailure(trigger({ links }, { custom_details: { note: "n".repeat(1000) } }))
      expect(error.reason._tag).toBe("TooLarge")
      expect((error.reason as EventsV2.TooLarge).bytes).toBeGreaterThan(512_000)
      expect(error.message).toContain("512000-byte limit")
    }))
})

describe("EventsV2.prepare validation", () => {
  const cases: ReadonlyArray<{ readonly name: string; readonly event: unknown; readonly field: string }> = [
    { name: "blank summary", event: trigger({}, { summary: "  " }), field: "payload.summary" },
    {
      name: "missing source",
      event: { event_action: "trigger", payload: { summary: "s", severity: "info" } },
      field: "payload.source"
    },
    {
      name: "unknown severity",
      event: trigger({}, { severity: "crit" as EventsV2.Severity }),
      field: "payload.severity"
    },
    { name: "missing payload", event: { event_action: "trigger" }, field: "payload" },
    { name: "http image", event: trigger({ images: [{ src: "http://example.com/a.png" }] }), field: "images[0].src" },
    { name: "link without href", event: trigger({ links: [{ text: "x" } as EventsV2.Link] }), field: "links[0].href" },
    {
      name: "client on acknowledge",
      event: { event_action: "acknowledge", dedup_key: "k", client: "x" },
      field: "client"
    },
    {
      name: "client_url on resolve",
      event: { event_action: "resolve", dedup_key: "k", client_url: "https://x" },
      field: "client_url"
    },
    { name: "acknowledge without key", event: { event_action: "acknowledge" }, field: "dedup_key" },
    { name: "empty dedup_key", event: trigger({ dedup_key: "" }), field: "dedup_key" },
    { name: "unknown action", event: { event_action: "snooze", dedup_key: "k" }, field: "event_action" },
    {
      name: "bigint detail",
      event: trigger({}, { custom_details: { n: BigInt(1) } }),
      field: "payload.custom_details"
    },
    {
      name: "array details",
      event: trigger({}, { custom_details: [] as unknown as EventsV2.CustomDetails }),
      field: "payload.custom_details"
    },
    {
      name: "string timestamp",
      event: trigger({}, { timestamp: "2026-01-01" as unknown as DateTime.Utc }),
      field: "payload.timestamp"
    },
    { name: "change without summary", event: { payload: {} }, field: "payload.summary" }
  ]

  for (const { event, field, name } of cases) {
    it.effect(`rejects ${name}`, () =>
      Effect.gen(function*() {
        const error = yield* prepareFailure(event)
        expect(error.reason._tag).toBe("InvalidField")
        expect((error.reason as EventsV2.InvalidField).field).toBe(field)
        expect(error.message).toContain(field)
      }))
  }

  it.effect("shortens long values in messages", () =>
    Effect.gen(function*() {
      const error = yield* prepareFailure(trigger({ images: [{ src: "http://" + "x".repeat(5000) }] }))
      expect(error.message.length).toBeLessThan(300)
    }))

  it.effect("accepts a full trigger", () =>
    Effect.gen(function*() {
      const event = trigger({
        dedup_key: "db-1/disk",
        links: [{ href: "https://runbooks.example.com/disk", text: "runbook" }],
        images: [{ src: "https://charts.example.com/disk.png", href: "https://charts.example.com", alt: "disk" }],
        client: "Prometheus",
        client_url: "https://prometheus.example.com"
      }, {
        timestamp: DateTime.makeUnsafe("2026-01-02T03:04:05.678Z"),
        component: "postgres",
        group: "db",
        class: "disk"
      })
      const { adjustments, event: prepared } = yield* prepare(event)
      expect(prepared).toEqual(event)
      expect(adjustments).toEqual([])
    }))
})

describe("EventsV2.validateRoutingKey", () => {
  const cases: ReadonlyArray<readonly [string, string, boolean]> = [
    ["a service key", "e93facc04764012d7bfb002500d5d1a6", true],
    ["a ruleset key", "R0123456789ABCDEFGHIJKLMNOPQRSTU", true],
    ["31 characters", "e93facc04764012d7bfb002500d5d1a", false],
    ["33 characters", "e93facc04764012d7bfb002500d5d1a66", false],
    ["a leading space", " e93facc04764012d7bfb002500d5d1a6", false],
    ["an empty key", "", false]
  ]
  for (const [name, key, valid] of cases) {
    it.effect(`${valid ? "accepts" : "rejects"} ${name}`, () =>
      Effect.gen(function*() {
        const exit = yield* Effect.exit(EventsV2.validateRoutingKey(Redacted.make(key)))
        expect(Exit.isSuccess(exit)).toBe(valid)
        if (Exit.isFailure(exit)) {
          const message = String(exit.cause)
          expect(message).toContain(`${key.length} characters`)
          if (key.length > 0) expect(message).not.toContain(key.trim())
        }
      }))
  }
})

describe("EventsV2.encodeRequest", () => {
  it("writes keys in a fixed order without whitespace", () => {
    const body = EventsV2.encodeRequest(
      routingKey,
      trigger({ dedup_key: "k", client: "c", links: [{ text: "t", href: "https://l" }] }, {
        timestamp: DateTime.makeUnsafe("2015-07-17T08:42:58.315Z"),
        class: "disk",
        custom_details: { b: 1, a: { d: [1, { z: 1, y: 2 }], c: null } }
      })
    )
    expect(body).toBe(
      `{"routing_key":"e93facc04764012d7bfb002500d5d1a6","event_action":"trigger","dedup_key":"k",` +
        `"payload":{"summary":"disk full on db-1","source":"db-1","severity":"critical",` +
        `"timestamp":"2015-07-17T08:42:58.315Z","class":"disk","custom_details":{"a":{"c":null,"d":[1,{"y":2,"z":1}]},"b":1}},` +
        `"links":[{"href":"https://l","text":"t"}],"client":"c"}`
    )
  })

  it("gives identical bytes for reordered details", () => {
    const first = EventsV2.encodeRequest(routingKey, trigger({}, { custom_details: { x: 1, y: { p: 1, q: 2 } } }))
    const second = EventsV2.encodeRequest(routingKey, trigger({}, { custom_details: { y: { q: 2, p: 1 }, x: 1 } }))
    expect(second).toBe(first)
  })

  it("writes only action and key for resolve", () => {
    const resolve = { event_action: "resolve", dedup_key: "k", payload: { summary: "x" } } as EventsV2.Resolve
    expect(EventsV2.encodeRequest(routingKey, resolve)).toBe(
      `{"routing_key":"e93facc04764012d7bfb002500d5d1a6","event_action":"resolve","dedup_key":"k"}`
    )
  })

  it("encodes change events for /change/enqueue", () => {
    const body = EventsV2.encodeRequest(routingKey, {
      payload: { summary: "deployed v2", source: "ci", timestamp: DateTime.makeUnsafe(0) },
      links: [{ href: "https://ci.example.com/1" }]
    })
    expect(body).toBe(
      `{"routing_key":"e93facc04764012d7bfb002500d5d1a6","payload":{"summary":"deployed v2","source":"ci",` +
        `"timestamp":"1970-01-01T00:00:00.000Z"},"links":[{"href":"https://ci.example.com/1"}]}`
    )
    expect(validateRequestBody({ spec, path: "/change/enqueue", method: "post", body: JSON.parse(body) })).toEqual([])
  })

  it("produces bodies the OpenAPI spec accepts", () => {
    const events: ReadonlyArray<EventsV2.AlertEvent> = [
      trigger(),
      trigger(
        { dedup_key: "k", images: [{ src: "https://i.example.com/a.png" }], client_url: "https://c.example.com" },
        {
          timestamp: DateTime.makeUnsafe(1_700_000_000_000),
          custom_details: { a: 1 }
        }
      ),
      { event_action: "acknowledge", dedup_key: "k" },
      { event_action: "resolve", dedup_key: "k" }
    ]
    for (const event of events) expectValidEnqueue(EventsV2.encodeRequest(routingKey, event))
  })

  it("fails the contract check for a wrong action", () => {
    const body = { routing_key: "x", event_action: "snooze" }
    expect(validateRequestBody({ spec, path: "/enqueue", method: "post", body })).not.toEqual([])
  })
})

describe("EventsV2 schemas", () => {
  const decodeTimestamp = Schema.decodeUnknownExit(EventsV2.Timestamp)
  const timestampCases: ReadonlyArray<readonly [unknown, string | undefined]> = [
    ["2015-07-17T08:42:58.315+0000", "2015-07-17T08:42:58.315Z"],
    ["2015-07-17T08:42:58Z", "2015-07-17T08:42:58.000Z"],
    ["2015-07-17T10:42:58.315+02:00", "2015-07-17T08:42:58.315Z"],
    ["2015-07-17T08:42:58", undefined],
    ["2015-07-17", undefined],
    ["yesterday", undefined],
    [DateTime.makeUnsafe("2015-07-17T08:42:58.315Z"), "2015-07-17T08:42:58.315Z"]
  ]
  for (const [input, expected] of timestampCases) {
    it(`decodes timestamp ${String(input)}`, () => {
      const exit = decodeTimestamp(input)
      expect(Exit.isSuccess(exit)).toBe(expected !== undefined)
      if (Exit.isSuccess(exit)) expect(EventsV2.formatTimestamp(exit.value)).toBe(expected)
    })
  }

  it("decodes the documented trigger with its routing key redacted", () => {
    const decoded = Schema.decodeUnknownSync(EventsV2.AlertEventRequest)(fixture("devdocs-trigger.json"))
    expect(decoded.event_action).toBe("trigger")
    expect(Redacted.value(decoded.routing_key)).toBe("samplekeyhere")
    expect(String(decoded.routing_key)).not.toContain("samplekeyhere")
  })

  it("decodes documented acknowledge and change events", () => {
    const acknowledge = Schema.decodeUnknownSync(EventsV2.AlertEventRequest)(fixture("devdocs-acknowledge.json"))
    expect(acknowledge.event_action).toBe("acknowledge")
    const change = Schema.decodeUnknownSync(EventsV2.ChangeEventRequest)(fixture("devdocs-change-event.json"))
    expect(change.payload.summary).toContain("Build Success")
  })

  it("decodes documented responses leniently", () => {
    const responses = (fixture("responses.json") as {
      responses: ReadonlyArray<{ status: unknown; body: unknown }>
    }).responses
    for (const { body, status } of responses) {
      if (status === 202) expect(Schema.is(EventsV2.Accepted)(body)).toBe(true)
      if (status === 400 && typeof body === "object" && body !== null) {
        const rejected = Schema.decodeUnknownSync(EventsV2.Rejected)(body)
        expect(rejected.errors.length).toBeGreaterThan(0)
      }
    }
    const extra = Schema.decodeUnknownSync(EventsV2.Accepted)({ status: "success", extra: 1 })
    expect(extra).toEqual({ status: "success" })
    const bare = Schema.decodeUnknownSync(EventsV2.Rejected)({
      status: "invalid event",
      message: "Event object is invalid"
    })
    expect(bare.errors).toEqual([])
  })

  it("rejects http images when decoding", () => {
    const image = Schema.decodeUnknownExit(EventsV2.Image)({ src: "http://example.com/a.png" })
    expect(Exit.isFailure(image)).toBe(true)
  })
})
