import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { Redacted } from "effect"
import * as Digest from "effect/crypto/Digest"
import { createHash } from "node:crypto"
import { validateRequestBody } from "../../../test/support/openapi.ts"
import * as Alert from "../src/Alert.ts"
import * as EventsV2 from "../src/EventsV2.ts"
import * as Format from "../src/Format.ts"
import * as Sources from "../src/Sources.ts"
import { capturedEvent, capturedPairs, capturedWebhook, readShared, sharedAlertmanagerFixtures } from "./fixtures.ts"

const sha256Hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex")

const withDigest = <A, E>(effect: Effect.Effect<A, E, Digest.Digest>) => Effect.provide(effect, Digest.layerWebCrypto)

const grafanaExample = () => JSON.parse(readShared("grafana/grafana-docs-webhook-notifier-example.json"))

describe("Format.groupEvent", () => {
  for (const name of sharedAlertmanagerFixtures()) {
    it.effect(`keys ${name} by the SHA-256 of its groupKey`, () =>
      withDigest(Effect.gen(function*() {
        const payload = JSON.parse(readShared(name))
        const event = yield* Format.groupEvent(yield* Sources.alertmanager(payload))
        expect(event.dedup_key).toBe(sha256Hex(payload.groupKey))
      })))
  }

  for (const name of capturedPairs) {
    it.effect(`matches Alertmanager's dedup_key and action for ${name}`, () =>
      withDigest(Effect.gen(function*() {
        const expected = capturedEvent(name)
        const event = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook(name)))
        expect(event.dedup_key).toBe(expected.dedup_key)
        expect(event.event_action).toBe(expected.event_action)
      })))

    it.effect(`renders Alertmanager's summary for ${name}`, () =>
      Effect.gen(function*() {
        const group = yield* Sources.alertmanager(capturedWebhook(name))
        expect(Format.subject(group)).toBe(capturedEvent(name).payload.summary)
      }))
  }

  it.effect("renders [FIRING:2] with the extra common labels", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(capturedWebhook("memory-firing"))
      expect(Format.subject(group)).toBe("[FIRING:2] high_memory_load (docker_nodes master)")
    }))

  it.effect("renders the subject Grafana's own template produced", () =>
    Effect.gen(function*() {
      const payload = grafanaExample()
      const group = yield* Sources.grafana(payload)
      expect(Format.subject(group)).toBe(payload.title)
    }))

  it.effect("ends the subject with a space when no extra common labels exist", () =>
    Effect.gen(function*() {
      const payload = capturedWebhook("memory-firing") as any
      payload.commonLabels = { alertname: "high_memory_load" }
      const group = yield* Sources.alertmanager(payload)
      expect(Format.subject(group)).toBe("[FIRING:2] high_memory_load ")
    }))

  it.effect("builds client and client_url like Alertmanager", () =>
    withDigest(Effect.gen(function*() {
      const expected = capturedEvent("memory-firing")
      const event = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook("memory-firing")))
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.client).toBe(expected.client)
      expect(event.client_url).toBe(expected.client_url)
      expect(event.payload.source).toBe(expected.payload.source)
    })))

  it.effect("sends Alertmanager's custom_details keys", () =>
    withDigest(Effect.gen(function*() {
      const event = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook("memory-firing")))
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      const details = event.payload.custom_details as any
      expect(Object.keys(details).sort()).toEqual(Object.keys(capturedEvent("memory-firing").payload.custom_details))
      expect(details.num_firing).toBe(2)
      expect(details.num_resolved).toBe(0)
      expect(details.firing[0].fingerprint).toBe("df5917da2645f34e")
      expect(details.firing[0].endsAt).toBe("0001-01-01T00:00:00Z")
    })))

  it.effect("turns a group from trigger to resolve under one key", () =>
    withDigest(Effect.gen(function*() {
      const firing = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook("memory-firing")))
      const resolved = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook("memory-resolved")))
      expect(firing.event_action).toBe("trigger")
      expect(resolved).toEqual({ event_action: "resolve", dedup_key: firing.dedup_key })
    })))

  it.effect("keeps triggering while one alert of the group fires", () =>
    withDigest(Effect.gen(function*() {
      const payload = capturedWebhook("memory-firing") as any
      payload.alerts[0].status = "resolved"
      payload.status = "firing"
      const event = yield* Format.groupEvent(yield* Sources.alertmanager(payload))
      expect(event.event_action).toBe("trigger")
      expect(Format.subject(yield* Sources.alertmanager(payload))).toMatch(/^\[FIRING:1\] /)
    })))

  it.effect("takes the highest severity among firing alerts", () =>
    withDigest(Effect.gen(function*() {
      const event = yield* Format.groupEvent(yield* Sources.alertmanager(capturedWebhook("memory-firing")))
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.payload.severity).toBe("critical")
    })))

  it.effect("ignores the severity of resolved alerts", () =>
    withDigest(Effect.gen(function*() {
      const payload = capturedWebhook("memory-firing") as any
      payload.alerts[1].status = "resolved"
      const event = yield* Format.groupEvent(yield* Sources.alertmanager(payload))
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.payload.severity).toBe("warning")
    })))

  it.effect("falls back to the configured severity without labels", () =>
    withDigest(Effect.gen(function*() {
      const group = yield* Sources.grafana(grafanaExample())
      const event = yield* Format.groupEvent(group, { defaultSeverity: "info" })
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.payload.severity).toBe("info")
    })))

  it.effect("links Grafana groups to the external URL", () =>
    withDigest(Effect.gen(function*() {
      const payload = grafanaExample()
      const event = yield* Format.groupEvent(yield* Sources.grafana(payload))
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.dedup_key).toBe(sha256Hex(payload.groupKey))
      expect(event.links).toEqual([{ href: "https://play.grafana.org/", text: "External URL" }])
      expect(event.client).toBe("Grafana")
      expect(event.client_url).toBe("https://play.grafana.org/")
    })))

  it.effect("hashes a group key of any shape", () =>
    withDigest(Effect.gen(function*() {
      const key = "test-z7uo5xq2"
      expect(yield* Format.groupDedupKey(key)).toBe(sha256Hex(key))
    })))
})

describe("Format output", () => {
  const groups = () =>
    Effect.gen(function*() {
      const fromShared = []
      for (const name of sharedAlertmanagerFixtures()) {
        fromShared.push(yield* Sources.alertmanager(JSON.parse(readShared(name))))
      }
      const captured = []
      for (const name of capturedPairs) captured.push(yield* Sources.alertmanager(capturedWebhook(name)))
      return [...fromShared, ...captured, yield* Sources.grafana(grafanaExample())]
    })

  it.effect("passes EventsV2.prepare in both modes", () =>
    withDigest(Effect.gen(function*() {
      for (const group of yield* groups()) {
        for (const mode of ["group", "alert"] as const) {
          for (const event of yield* Format.events(group, { mode })) {
            const prepared = yield* EventsV2.prepare(event)
            expect(prepared.adjustments).toEqual([])
          }
        }
      }
    })))

  it.effect("encodes requests that PagerDuty's OpenAPI spec accepts", () =>
    withDigest(Effect.gen(function*() {
      const routingKey = Redacted.make("0123456789abcdef0123456789abcdef")
      for (const group of yield* groups()) {
        for (const mode of ["group", "alert"] as const) {
          for (const event of yield* Format.events(group, { mode })) {
            const body = JSON.parse(EventsV2.encodeRequest(routingKey, (yield* EventsV2.prepare(event)).event))
            const errors = validateRequestBody({
              spec: "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json",
              path: "/enqueue",
              method: "post",
              body
            })
            expect(errors).toEqual([])
          }
        }
      }
    })))
})

describe("Format.alertEvent", () => {
  it.effect("keys each alert by its fingerprint", () =>
    withDigest(Effect.gen(function*() {
      const group = yield* Sources.alertmanager(capturedWebhook("memory-firing"))
      const events = yield* Format.events(group, { mode: "alert" })
      expect(events.map((event) => event.dedup_key)).toEqual(["df5917da2645f34e", "68887ab8f7b102c4"])
    })))

  it.effect("gives each alert its own severity and summary", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(capturedWebhook("memory-firing"))
      const event = Format.alertEvent(group.alerts[0] as Alert.Alert)
      if (event.event_action !== "trigger") throw new Error("expected a trigger")
      expect(event.payload.severity).toBe("warning")
      expect(event.payload.summary).toBe("[FIRING] high_memory_load: Server High Memory usage")
      expect(event.links?.[0]).toEqual({ href: "http://prometheus.example/graph?g0.expr=up&g0.tab=1", text: "Source" })
    }))

  it.effect("resolves a resolved alert", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(capturedWebhook("memory-resolved"))
      expect(Format.alertEvent(group.alerts[0] as Alert.Alert)).toEqual({
        event_action: "resolve",
        dedup_key: "df5917da2645f34e"
      })
    }))
})

describe("Format links and images", () => {
  const grafanaAlert = (overrides: Record<string, unknown>) =>
    Effect.gen(function*() {
      const payload = grafanaExample()
      payload.alerts = [{ ...payload.alerts[0], ...overrides }]
      const group = yield* Sources.grafana(payload)
      return group.alerts[0] as Alert.Alert
    })

  it.effect("keeps https images and drops others", () =>
    Effect.gen(function*() {
      const secure = Format.alertEvent(yield* grafanaAlert({ imageURL: "https://grafana.example/render/1.png" }))
      const plain = Format.alertEvent(yield* grafanaAlert({ imageURL: "http://grafana.example/render/1.png" }))
      if (secure.event_action !== "trigger" || plain.event_action !== "trigger") throw new Error("expected triggers")
      expect(secure.images).toEqual([{ src: "https://grafana.example/render/1.png", alt: "Alert image" }])
      expect(plain.images).toBeUndefined()
    }))

  it.effect("links only an absolute generator URL", () =>
    Effect.gen(function*() {
      const relative = Format.alertEvent(yield* grafanaAlert({ generatorURL: "/graph?g0.expr=up" }))
      if (relative.event_action !== "trigger") throw new Error("expected a trigger")
      expect(relative.links?.map((link) => link.text)).toEqual(["Silence"])
    }))
})

describe("Format.queryEscape", () => {
  it("escapes like Go's url.QueryEscape", () => {
    expect(Format.queryEscape("web\\.hook")).toBe("web%5C.hook")
    expect(Format.queryEscape("team a/b*(c)")).toBe("team+a%2Fb%2A%28c%29")
  })
})
