import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Schema } from "effect"
import * as Digest from "effect/crypto/Digest"
import { createHash } from "node:crypto"
import * as Format from "../src/Format.ts"
import * as GenericSource from "../src/GenericSource.ts"
import * as Sources from "../src/Sources.ts"

const uptime = GenericSource.make({
  name: "uptime-checker",
  alerts: "checks",
  summary: "title",
  description: { path: "detail", default: "no detail" },
  status: { path: "state", resolved: ["up", "recovered"] },
  severity: { path: "priority", map: { P1: "critical", P2: "error" }, default: "warning" },
  labels: { check: "id", region: { path: "region", default: "global" } },
  annotations: { runbook: "links.runbook" },
  startsAt: "since",
  dedupKey: ["id"]
})

const body = {
  checks: [
    { id: "api-health", region: "eu", title: "API down", state: "down", priority: "P1", since: "2026-12-01T10:00:00Z" },
    { id: "web-health", title: "Web slow", state: "degraded", links: { runbook: "https://runbooks.example/web" } }
  ]
}

describe("GenericSource", () => {
  it.effect("maps fields, defaults and labels", () =>
    Effect.gen(function*() {
      const group = yield* uptime(body)
      const [api, web] = group.alerts
      expect(api?.summary).toBe("API down")
      expect(api?.description).toBe("no detail")
      expect(api?.labels).toEqual({ check: "api-health", region: "eu" })
      expect(web?.labels).toEqual({ check: "web-health", region: "global" })
      expect(web?.annotations).toEqual({ runbook: "https://runbooks.example/web" })
      expect(api?.startsAt).toEqual(DateTime.makeUnsafe("2026-12-01T10:00:00Z"))
    }))

  it.effect("maps severities through the severity map", () =>
    Effect.gen(function*() {
      const group = yield* uptime(body)
      expect(group.alerts.map((alert) => alert.severity)).toEqual(["critical", "warning"])
    }))

  it.effect("reads resolved values from the status field", () =>
    Effect.gen(function*() {
      const group = yield* uptime({ checks: [{ id: "api-health", title: "API down", state: "recovered" }] })
      expect(group.alerts[0]?.status).toBe("resolved")
      expect(group.status).toBe("resolved")
    }))

  it.effect("fingerprints the dedup-key fields", () =>
    Effect.gen(function*() {
      const group = yield* uptime(body)
      expect(group.alerts[0]?.fingerprint).toBe(Sources.fingerprint({ id: "api-health" }))
    }))

  it.effect("keys the group by mapping name and fingerprints", () =>
    Effect.gen(function*() {
      const group = yield* uptime(body)
      const fingerprints = group.alerts.map((alert) => alert.fingerprint).sort()
      expect(group.groupKey).toBe(`uptime-checker:${fingerprints.join(",")}`)
      expect(group.alerts[1]?.group?.key).toBe(group.groupKey)
    }))

  it.effect("formats a generic group with its mapped summary", () =>
    Effect.gen(function*() {
      const group = yield* uptime(body)
      const event = yield* Format.groupEvent(group)
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.payload.summary).toBe("[FIRING:2] API down (and 1 more)")
      expect(event.payload.severity).toBe("critical")
      expect(event.dedup_key).toBe(createHash("sha256").update(group.groupKey).digest("hex"))
    }).pipe(Effect.provide(Digest.layerWebCrypto)))

  it.effect("names the mapping and field of a missing value", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(uptime({ checks: [{ id: "x", state: "down" }] }))
      expect(error.reason._tag).toBe("MappingFailed")
      expect(error.message).toContain("\"uptime-checker\"")
      expect(error.message).toContain("summary (path title)")
    }))

  it.effect("requires every dedup-key field", () =>
    Effect.gen(function*() {
      const strict = GenericSource.make({ name: "strict", summary: "title", dedupKey: ["id", "region"] })
      const error = yield* Effect.flip(strict({ id: "a", title: "t" }))
      expect(error.message).toContain("dedupKey.1 (path region)")
    }))

  it.effect("rejects an object where a string belongs", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(uptime({ checks: [{ id: { nested: true }, title: "t" }] }))
      expect(error.message).toContain("labels.check (path id)")
      expect(error.message).toContain("got an object")
    }))

  it.effect("rejects a payload without the alerts array", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(uptime({ checks: "none" }))
      expect(error.message).toContain("alerts (path checks)")
    }))

  it.effect("rejects an invalid start time", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(uptime({ checks: [{ id: "x", title: "t", since: "soon" }] }))
      expect(error.message).toContain("startsAt (path since)")
    }))

  it.effect("reads the whole payload as one alert without an alerts path", () =>
    Effect.gen(function*() {
      const single = GenericSource.make({ name: "single", summary: "message", groupKey: "incident.key" })
      const group = yield* single({ message: "Queue backed up", incident: { key: "queue-7" } })
      expect(group.groupKey).toBe("queue-7")
      expect(group.alerts.length).toBe(1)
      expect(group.alerts[0]?.status).toBe("firing")
    }))

  it("throws a RangeError for an invalid path", () => {
    expect(() => GenericSource.make({ name: "broken", summary: "a..b" })).toThrow(RangeError)
    expect(() => GenericSource.make({ name: "broken", summary: "a..b" })).toThrow("summary")
  })

  it.effect("decodes a mapping from configuration data", () =>
    Effect.gen(function*() {
      const mapping = yield* Schema.decodeUnknownEffect(GenericSource.Mapping)({
        name: "from-config",
        summary: { path: "title", default: "untitled" },
        dedupKey: ["id"]
      })
      const group = yield* GenericSource.make(mapping)({ id: "1" })
      expect(group.alerts[0]?.summary).toBe("untitled")
    }))
})
