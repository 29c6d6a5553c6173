import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Simulator from "../src/Simulator.ts"
import { fixture, post, routingKey, trigger, withKey } from "./support.ts"

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

const enqueue = (simulator: Simulator.Handle, body: unknown) => post(`${simulator.url}/v2/enqueue`, body)
const changeEnqueue = (simulator: Simulator.Handle, body: unknown) => post(`${simulator.url}/v2/change/enqueue`, body)

type Body = Record<string, any>

const valid = (): Body => ({
  routing_key: routingKey,
  event_action: "trigger",
  dedup_key: "disk/db-1",
  payload: { summary: "Disk 95% full", source: "db-1.example.com", severity: "warning" }
})

const withPayload = (change: (payload: Body) => void): Body => {
  const body = valid()
  change(body.payload)
  return body
}

const alertRules: ReadonlyArray<readonly [string, () => unknown, string]> = [
  ["routing_key missing", () => ({ ...valid(), routing_key: undefined }), "'routing_key' is missing or blank"],
  [
    "routing_key of 31 characters",
    () => ({ ...valid(), routing_key: routingKey.slice(1) }),
    "Length of 'routing_key' is incorrect (should be 32 characters)"
  ],
  [
    "routing_key of 33 characters",
    () => ({ ...valid(), routing_key: routingKey + "0" }),
    "Length of 'routing_key' is incorrect (should be 32 characters)"
  ],
  ["event_action missing", () => ({ ...valid(), event_action: undefined }), "'event_action' is missing or blank"],
  [
    "event_action outside the enum",
    () => ({ ...valid(), event_action: "escalate" }),
    "'event_action' must be one of trigger, acknowledge, resolve"
  ],
  [
    "payload.summary missing",
    () => withPayload((payload) => delete payload.summary),
    "'payload.summary' is missing or blank"
  ],
  [
    "payload.summary of 1025 characters",
    () => withPayload((payload) => (payload.summary = "s".repeat(1025))),
    "'payload.summary' is too long (maximum is 1024 characters)"
  ],
  [
    "payload.source missing",
    () => withPayload((payload) => delete payload.source),
    "'payload.source' is missing or blank"
  ],
  [
    "payload.severity missing",
    () => withPayload((payload) => delete payload.severity),
    "'payload.severity' is missing or blank"
  ],
  [
    "payload.severity outside the enum",
    () => withPayload((payload) => (payload.severity = "fatal")),
    "'payload.severity' must be one of critical, error, warning, info"
  ],
  [
    "dedup_key of 256 characters",
    () => ({ ...valid(), dedup_key: "d".repeat(256) }),
    "'dedup_key' is too long (maximum is 255 characters)"
  ],
  [
    "acknowledge without dedup_key",
    () => ({ routing_key: routingKey, event_action: "acknowledge" }),
    "'dedup_key' is missing or blank (it is required for acknowledge)"
  ],
  [
    "resolve without dedup_key",
    () => ({ routing_key: routingKey, event_action: "resolve" }),
    "'dedup_key' is missing or blank (it is required for resolve)"
  ],
  [
    "image src over plain HTTP",
    () => ({ ...valid(), images: [{ src: "http://example.com/graph.png" }] }),
    "'images[0].src' must be an HTTPS URL"
  ],
  [
    "image without src",
    () => ({ ...valid(), images: [{ href: "https://example.com/" }] }),
    "'images[0].src' is missing or blank"
  ],
  [
    "link without href",
    () => ({ ...valid(), links: [{ href: "https://example.com/" }, { text: "runbook" }] }),
    "'links[1].href' is missing or blank"
  ],
  [
    "timestamp that is not a date",
    () => withPayload((payload) => (payload.timestamp = "yesterday")),
    "'payload.timestamp' is not a valid ISO 8601 date-time with a UTC offset"
  ],
  [
    "timestamp with month 13",
    () => withPayload((payload) => (payload.timestamp = "2015-13-17T08:42:58Z")),
    "'payload.timestamp' is not a valid ISO 8601 date-time with a UTC offset"
  ],
  [
    "timestamp without offset",
    () => withPayload((payload) => (payload.timestamp = "2015-07-17T08:42:58")),
    "'payload.timestamp' is not a valid ISO 8601 date-time with a UTC offset"
  ]
]

const changeRules: ReadonlyArray<readonly [string, () => unknown, string]> = [
  [
    "routing_key missing",
    () => ({ ...withKey("devdocs-change-event.json"), routing_key: undefined }),
    "'routing_key' is missing or blank"
  ],
  [
    "routing_key of the wrong length",
    () => fixture("devdocs-change-event.json"),
    "Length of 'routing_key' is incorrect (should be 32 characters)"
  ],
  [
    "payload.summary missing",
    () => ({ ...withKey("devdocs-change-event.json"), payload: { source: "ci" } }),
    "'payload.summary' is missing or blank"
  ],
  [
    "payload.summary of 1025 characters",
    () => ({ ...withKey("devdocs-change-event.json"), payload: { summary: "s".repeat(1025) } }),
    "'payload.summary' is too long (maximum is 1024 characters)"
  ],
  [
    "timestamp that is not a date",
    () => ({
      ...withKey("devdocs-change-event.json"),
      payload: { summary: "deploy", timestamp: "2020-02-30T00:00:00Z" }
    }),
    "'payload.timestamp' is not a valid ISO 8601 date-time with a UTC offset"
  ],
  [
    "link without href",
    () => ({ ...withKey("devdocs-change-event.json"), links: [{ text: "build" }] }),
    "'links[0].href' is missing or blank"
  ],
  [
    "image src over plain HTTP",
    () => ({ ...withKey("devdocs-change-event.json"), images: [{ src: "http://example.com/a.png" }] }),
    "'images[0].src' must be an HTTPS URL"
  ]
]

describe("EventsApi alert events", () => {
  for (const [name, body, error] of alertRules) {
    it.live(`rejects ${name}`, () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.start()
        const reply = yield* enqueue(simulator, body())
        expect(reply.status).toBe(400)
        expect(reply.json.status).toBe("invalid event")
        expect(reply.json.message).toBe("Event object is invalid")
        expect(reply.json.errors).toEqual([error])
      }))
  }

  it.live("lists every broken rule", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, { routing_key: "short", event_action: "trigger" })
      expect(reply.status).toBe(400)
      expect(reply.json.errors).toEqual([
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is missing or blank"
      ])
    }))

  it.live("rejects a body that is not JSON", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, "{\"routing_key\":")
      expect(reply.status).toBe(400)
      expect(reply.json).toEqual({
        status: "invalid event",
        message: "Event object is invalid",
        errors: ["JSON parse error"]
      })
    }))

  it.live("rejects a JSON array", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, [valid()])
      expect(reply.status).toBe(400)
      expect(reply.json.errors).toEqual(["JSON value is not an object"])
    }))

  it.live("rejects a body over 512,000 bytes", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const body = withPayload((payload) => (payload.custom_details = { padding: "" }))
      const overhead = JSON.stringify(body).length
      body.payload.custom_details.padding = "x".repeat(512_001 - overhead)
      expect(JSON.stringify(body).length).toBe(512_001)
      const reply = yield* enqueue(simulator, body)
      expect(reply.status).toBe(400)
      expect(reply.json.errors).toEqual(["Event object is too large (maximum is 512000 bytes)"])
    }))

  it.live("accepts a body of exactly 512,000 bytes", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const body = withPayload((payload) => (payload.custom_details = { padding: "" }))
      const overhead = JSON.stringify(body).length
      body.payload.custom_details.padding = "x".repeat(512_000 - overhead)
      const reply = yield* enqueue(simulator, body)
      expect(reply.status).toBe(202)
    }))

  it.live("rejects a body over the read limit", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ eventsApi: { maxReadBytes: 600_000 } })
      const reply = yield* enqueue(simulator, "x".repeat(700_000))
      expect(reply.status).toBe(400)
      expect(reply.json.errors).toEqual(["Event object is too large (maximum is 512000 bytes)"])
      const [event] = yield* simulator.events()
      expect(event?.body.byteLength).toBe(0)
    }))

  it.live("counts summary length in code points", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const summary = "🔥".repeat(1024)
      expect(summary.length).toBe(2048)
      const reply = yield* enqueue(simulator, withPayload((payload) => (payload.summary = summary)))
      expect(reply.status).toBe(202)
    }))

  it.live("accepts a dedup_key of 255 characters", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const dedupKey = "d".repeat(255)
      const reply = yield* enqueue(simulator, { ...valid(), dedup_key: dedupKey })
      expect(reply.status).toBe(202)
      expect(reply.json.dedup_key).toBe(dedupKey)
    }))

  it.live("accepts RFC 3339 and basic-offset timestamps", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      for (const timestamp of ["2015-07-17T08:42:58.315+0000", "2015-07-17T08:42:58Z", "2015-07-17T10:42:58+02:00"]) {
        const reply = yield* enqueue(simulator, withPayload((payload) => (payload.timestamp = timestamp)))
        expect(reply.status, timestamp).toBe(202)
      }
    }))

  it.live("answers 202 with the given dedup_key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const documented = fixture("responses.json").responses[0].body
      const reply = yield* enqueue(simulator, fixture("openapi-enqueue-example.json"))
      expect(reply.status).toBe(202)
      expect(reply.json).toEqual({ status: documented.status, message: documented.message, dedup_key: "srv01/mysql" })
      expect(reply.headers.get("content-type")).toContain("application/json")
    }))

  it.live("generates a UUID dedup_key for a trigger without one", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const first = yield* enqueue(simulator, trigger(undefined))
      const second = yield* enqueue(simulator, trigger(undefined))
      expect(first.status).toBe(202)
      expect(first.json.dedup_key).toMatch(uuidV4)
      expect(second.json.dedup_key).toMatch(uuidV4)
      expect(second.json.dedup_key).not.toBe(first.json.dedup_key)
      const alerts = yield* simulator.alerts()
      expect(alerts.map((alert) => alert.dedupKey)).toEqual([first.json.dedup_key, second.json.dedup_key])
    }))

  it.live("generates a dedup_key for a blank one", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, { ...valid(), dedup_key: "  " })
      expect(reply.status).toBe(202)
      expect(reply.json.dedup_key).toMatch(uuidV4)
    }))

  it.live("generated dedup_key resolves its alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const opened = yield* enqueue(simulator, trigger(undefined))
      const resolved = yield* enqueue(simulator, {
        routing_key: routingKey,
        event_action: "resolve",
        dedup_key: opened.json.dedup_key
      })
      expect(resolved.json.dedup_key).toBe(opened.json.dedup_key)
      const [alert] = yield* simulator.alerts()
      expect(alert?.status).toBe("resolved")
    }))

  it.live("answers the documented error to the docs' example key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const documented = fixture("responses.json").responses[3].body
      const reply = yield* enqueue(simulator, fixture("devdocs-trigger.json"))
      expect(reply.status).toBe(400)
      expect(reply.json).toEqual(documented)
    }))

  it.live("accepts the docs' trigger, acknowledge and resolve", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const opened = yield* enqueue(simulator, { ...withKey("devdocs-trigger.json"), dedup_key: "dedupkeyhere" })
      const acknowledged = yield* enqueue(simulator, withKey("devdocs-acknowledge.json"))
      const resolved = yield* enqueue(simulator, withKey("devdocs-resolve.json"))
      expect([opened.status, acknowledged.status, resolved.status]).toEqual([202, 202, 202])
      const [alert] = yield* simulator.alerts()
      expect(alert?.status).toBe("resolved")
      expect(alert?.summary).toBe("Example alert on host1.example.com")
      expect(alert?.severity).toBe("info")
      expect(alert?.client).toBe("Sample Monitoring Service")
    }))

  it.live("answers 404 to GET", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* Effect.promise(() => fetch(`${simulator.url}/v2/enqueue`).then((r) => r.status))
      expect(reply).toBe(404)
    }))
})

describe("EventsApi change events", () => {
  for (const [name, body, error] of changeRules) {
    it.live(`rejects ${name}`, () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.start()
        const reply = yield* changeEnqueue(simulator, body())
        expect(reply.status).toBe(400)
        expect(reply.json.status).toBe("invalid event")
        expect(reply.json.errors).toEqual([error])
      }))
  }

  it.live("rejects a change event without payload", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* changeEnqueue(simulator, { routing_key: routingKey })
      expect(reply.status).toBe(400)
      expect(reply.json.errors).toEqual(["'payload' is missing", "'payload.summary' is missing or blank"])
    }))

  for (const name of ["openapi-change-build-change-event.json", "openapi-change-git-change-event.json"]) {
    it.live(`accepts the spec example ${name}`, () =>
      Effect.gen(function*() {
        const simulator = yield* Simulator.start()
        const reply = yield* changeEnqueue(simulator, fixture(name))
        expect(reply.status).toBe(202)
        expect(reply.json).toEqual({ status: "success", message: "Change event processed" })
        expect(reply.json).not.toHaveProperty("dedup_key")
      }))
  }

  it.live("stores a change event without opening an alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* changeEnqueue(simulator, withKey("devdocs-change-event.json"))
      expect(reply.status).toBe(202)
      const events = yield* simulator.events({ endpoint: "change" })
      expect(events.map((event) => event.outcome)).toEqual(["accepted"])
      expect(yield* simulator.alerts()).toEqual([])
    }))

  it.live("accepts a change event with only a summary", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* changeEnqueue(simulator, { routing_key: routingKey, payload: { summary: "deploy 42" } })
      expect(reply.status).toBe(202)
    }))
})
