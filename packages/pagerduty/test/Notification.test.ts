import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Redacted } from "effect"
import { createHash } from "node:crypto"
import { validateRequestBody } from "../../../test/support/openapi.ts"
import * as EventsV2 from "../src/EventsV2.ts"
import * as Notification from "../src/Notification.ts"

const base = Notification.make({ summary: "disk full on db-1", source: "db-1", severity: "critical" })

const problemsOf = (self: Notification.Notification) =>
  Effect.gen(function*() {
    const error = yield* Effect.flip(Notification.build(self))
    expect(error).toBeInstanceOf(Notification.NotificationError)
    return error.reason._tag === "InvalidFields" ? error.reason.problems : []
  })

describe("Notification.build", () => {
  it.effect("builds a rich trigger", () =>
    Effect.gen(function*() {
      const event = yield* base.pipe(
        Notification.link("https://grafana.example/d/disk", "Dashboard"),
        Notification.image("https://grafana.example/render/disk.png", { alt: "disk usage" }),
        Notification.customDetail("free_bytes", 1024),
        Notification.client("Grafana", "https://grafana.example"),
        Notification.component("postgres"),
        Notification.group("storage"),
        Notification.eventClass("disk"),
        Notification.dedupKey("db-1/disk"),
        Notification.timestamp("2026-03-01T10:00:00+0100"),
        Notification.build
      )
      expect(event).toEqual({
        event_action: "trigger",
        dedup_key: "db-1/disk",
        payload: {
          summary: "disk full on db-1",
          source: "db-1",
          severity: "critical",
          timestamp: DateTime.makeUnsafe("2026-03-01T09:00:00Z"),
          component: "postgres",
          group: "storage",
          class: "disk",
          custom_details: { free_bytes: 1024 }
        },
        links: [{ href: "https://grafana.example/d/disk", text: "Dashboard" }],
        images: [{ src: "https://grafana.example/render/disk.png", alt: "disk usage" }],
        client: "Grafana",
        client_url: "https://grafana.example/"
      })
    }))

  it.effect("builds requests PagerDuty's OpenAPI spec accepts", () =>
    Effect.gen(function*() {
      const event = yield* base.pipe(
        Notification.link("https://runbooks.example/disk"),
        Notification.image("https://grafana.example/x.png", { href: "https://grafana.example" }),
        Notification.customDetails({ nested: { list: [1, "two", null] } }),
        Notification.build
      )
      const body = JSON.parse(EventsV2.encodeRequest(Redacted.make("0123456789abcdef0123456789abcdef"), event))
      const errors = validateRequestBody({
        spec: "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json",
        path: "/enqueue",
        method: "post",
        body
      })
      expect(errors).toEqual([])
    }))

  it.effect("leaves the original unchanged", () =>
    Effect.gen(function*() {
      const linked = base.pipe(Notification.link("https://a.example"))
      expect(base.links).toEqual([])
      expect(linked.links).toHaveLength(1)
      expect(Object.isFrozen(linked)).toBe(true)
      expect(Notification.isNotification(linked)).toBe(true)
    }))

  it.effect("collects every invalid field", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf(
        Notification.make({
          summary: "\u0000\u202E ",
          source: "",
          severity: "urgent" as EventsV2.Severity,
          dedupKey: "  ",
          timestamp: "yesterday",
          clientUrl: "javascript:alert(1)"
        }).pipe(
          Notification.link("/relative"),
          Notification.image("http://grafana.example/x.png"),
          Notification.customDetail("count", 10n)
        )
      )
      expect(problems.map((problem) => problem.field)).toEqual([
        "dedup_key",
        "payload.summary",
        "payload.source",
        "payload.severity",
        "payload.timestamp",
        "payload.custom_details.count",
        "links[0].href",
        "images[0].src",
        "client_url"
      ])
    }))

  it.effect("names the value and what to do", () =>
    Effect.gen(function*() {
      const [problem] = yield* problemsOf(base.pipe(Notification.image("http://x.example/a.png")))
      expect(problem?.message).toBe(
        "images[0].src (value \"http://x.example/a.png\"): must be an absolute https URL; PagerDuty shows no other images"
      )
    }))

  it.effect("truncates long values in problems", () =>
    Effect.gen(function*() {
      const [problem] = yield* problemsOf(base.pipe(Notification.link("x".repeat(5000))))
      expect(problem?.value).toBe(JSON.stringify("x".repeat(63) + "…"))
    }))

  it.effect("keeps hostile characters out of problems", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Notification.build(base.pipe(Notification.link("a\u202E\r\nb"))))
      expect(error.message).not.toMatch(/[\u202E\r\n]/)
    }))

  it.effect("sanitises text fields", () =>
    Effect.gen(function*() {
      const event = yield* Notification.make({
        summary: "disk\u0000 full\r\n<script>\u202E",
        source: "db-1\u200B",
        severity: "error",
        customDetails: { "note\n": "line 1\r\nline 2\u0007" }
      }).pipe(Notification.build)
      expect(event.payload.summary).toBe("disk full <script>")
      expect(event.payload.source).toBe("db-1")
      expect(event.payload.custom_details).toEqual({ note: "line 1\nline 2" })
    }))

  it.effect("reports circular custom details", () =>
    Effect.gen(function*() {
      const loop: Record<string, unknown> = {}
      loop.self = loop
      const problems = yield* problemsOf(base.pipe(Notification.customDetail("loop", loop)))
      expect(problems.map((problem) => problem.field)).toEqual(["payload.custom_details.loop.self"])
    }))

  it.effect("truncates a long summary to 1024 code points", () =>
    Effect.gen(function*() {
      const prepared = yield* Notification.prepare(base.pipe(Notification.summary("\u{1F525}".repeat(2000))))
      expect([...prepared.event.payload.summary]).toHaveLength(1024)
      expect(prepared.adjustments.map((adjustment) => adjustment._tag)).toEqual(["SummaryTruncated"])
    }))
})

describe("Notification.acknowledge", () => {
  it.effect("hashes a long key as the trigger does", () =>
    Effect.gen(function*() {
      const key = "k".repeat(300)
      const trigger = yield* Notification.build(base.pipe(Notification.dedupKey(key)))
      const ack = yield* Notification.acknowledge(key)
      const resolve = yield* Notification.resolve(key)
      const hash = createHash("sha256").update(key).digest("hex")
      expect(trigger.dedup_key).toBe(hash)
      expect(ack).toEqual({ event_action: "acknowledge", dedup_key: hash })
      expect(resolve).toEqual({ event_action: "resolve", dedup_key: hash })
    }))

  it.effect("rejects a blank key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Notification.resolve(" "))
      expect(error.message).toBe(
        "the notification has 1 invalid field: dedup_key (value \" \"): must be a non-blank string that identifies the alert"
      )
    }))
})
