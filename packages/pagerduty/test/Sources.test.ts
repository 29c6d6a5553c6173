import { describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Exit } from "effect"
import * as Errors from "../src/Errors.ts"
import * as Sources from "../src/Sources.ts"
import { capturedPairs, capturedWebhook, readLocal, readShared } from "./fixtures.ts"

const k8sResolved = () => JSON.parse(readShared("alertmanager/pythonwebhook-resolved-k8s.json"))
const msteams = () => JSON.parse(readShared("alertmanager/prometheus-msteams-prom_post_request.json"))
const grafanaExample = () => JSON.parse(readShared("grafana/grafana-docs-webhook-notifier-example.json"))

const failureOf = <A>(effect: Effect.Effect<A, Sources.SourceError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(effect)
    if (Exit.isSuccess(exit)) throw new Error("expected a failure")
    const error = exit.cause.reasons[0]
    if (error?._tag !== "Fail") throw new Error("expected a typed failure")
    return error.error
  })

describe("Sources.alertmanager", () => {
  it.effect("unescapes the regex-escaped receiver", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(k8sResolved())
      expect(group.receiver).toBe("web.hook")
      expect(group.receiverRaw).toBe("web\\.hook")
    }))

  it.effect("reads a resolved group with truncatedAlerts", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(k8sResolved())
      expect(group.status).toBe("resolved")
      expect(group.truncatedAlerts).toBe(0)
      expect(group.alerts[0]?.status).toBe("resolved")
      expect(group.alerts[0]?.group?.key).toBe("{}:{alertname=\"Deployment\"}")
      expect(group.alerts[0]?.endsAt).toEqual(DateTime.makeUnsafe("2022-07-29T11:17:27.300Z"))
    }))

  it.effect("computes fingerprints equal to the fixtures' own", () =>
    Effect.gen(function*() {
      const payloads = [k8sResolved(), ...capturedPairs.map(capturedWebhook)] as Array<any>
      let compared = 0
      for (const payload of payloads) {
        for (const alert of payload.alerts) {
          expect(Sources.fingerprint(alert.labels)).toBe(alert.fingerprint)
          compared++
        }
      }
      expect(compared).toBe(6)
    }))

  it("fingerprints an empty label set as the FNV-1a offset basis", () => {
    expect(Sources.fingerprint({})).toBe("cbf29ce484222325")
  })

  it.effect("takes the group status for alerts without one", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(msteams())
      expect(group.alerts[0]?.status).toBe("firing")
      expect(group.status).toBe("firing")
    }))

  it.effect("computes a fingerprint for alerts without one", () =>
    Effect.gen(function*() {
      const payload = msteams()
      const group = yield* Sources.alertmanager(payload)
      expect(payload.alerts[0].fingerprint).toBeUndefined()
      expect(group.alerts[0]?.fingerprint).toBe(Sources.fingerprint(payload.alerts[0].labels))
      expect(group.alerts[0]?.fingerprint).toMatch(/^[0-9a-f]{16}$/)
    }))

  it.effect("treats Go's zero endsAt as unset and parses nanosecond startsAt", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(msteams())
      expect(group.alerts[0]?.endsAt).toBeUndefined()
      expect(group.alerts[0]?.startsAt).toEqual(DateTime.makeUnsafe("2018-03-07T11:33:21.873Z"))
      expect(group.alerts[0]?.generatorURL).toBeUndefined()
    }))

  it.effect("decodes Go's \\u0026 escapes", () =>
    Effect.gen(function*() {
      const raw = readLocal("alertmanager-0.25/memory-firing.webhook.json")
      expect(raw).toContain("\\u0026 rising")
      const group = yield* Sources.alertmanager(JSON.parse(raw))
      expect(group.alerts[0]?.description).toBe("memory > 90% & rising")
      expect(group.alerts[0]?.generatorURL).toBe("http://prometheus.example/graph?g0.expr=up&g0.tab=1")
    }))

  it.effect("keeps notification_reason and routeLabels", () =>
    Effect.gen(function*() {
      const payload = {
        ...(capturedWebhook("memory-firing") as object),
        notification_reason: "new alerts added",
        routeLabels: { team: "infra" }
      }
      const group = yield* Sources.alertmanager(payload)
      expect(group.notificationReason).toBe("new alerts added")
      expect(group.routeLabels).toEqual({ team: "infra" })
    }))

  it.effect("fills summary parts and severity from labels and annotations", () =>
    Effect.gen(function*() {
      const group = yield* Sources.alertmanager(capturedWebhook("memory-firing"))
      const alert = group.alerts[1]
      expect(alert?.name).toBe("high_memory_load")
      expect(alert?.summary).toBe("Server High Memory usage")
      expect(alert?.severity).toBe("critical")
      expect(alert?.source).toBe("alertmanager")
    }))

  it.effect("rejects another webhook version", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(Sources.alertmanager({ ...msteams(), version: "3" }))
      expect(error.reason._tag).toBe("UnsupportedVersion")
      expect(error.message).toContain("\"3\"")
      expect(Errors.classify(error).httpStatus).toBe(400)
    }))

  it.effect("rejects a payload without alerts", () =>
    Effect.gen(function*() {
      const { alerts: _, ...payload } = msteams()
      const error = yield* failureOf(Sources.alertmanager(payload))
      expect(error.reason._tag).toBe("InvalidPayload")
      expect(error.message).toContain("alerts")
    }))

  it.effect("names the field of an invalid time", () =>
    Effect.gen(function*() {
      const payload = msteams()
      payload.alerts[0].startsAt = "yesterday"
      const error = yield* failureOf(Sources.alertmanager(payload))
      expect(error.reason._tag).toBe("InvalidPayload")
      expect(error.message).toContain("alerts[0].startsAt")
    }))
})

describe("Sources.grafana", () => {
  it.effect("reads Grafana's documented example", () =>
    Effect.gen(function*() {
      const group = yield* Sources.grafana(grafanaExample())
      expect(group.source).toBe("grafana")
      expect(group.title).toBe("[FIRING:2]  (blue)")
      expect(group.alerts.length).toBe(2)
      expect(group.status).toBe("firing")
    }))

  it.effect("keeps the fingerprint Grafana sent", () =>
    Effect.gen(function*() {
      const group = yield* Sources.grafana(grafanaExample())
      // The documented example's labels were edited after it was generated, so
      // its fingerprints do not match the labels and must be kept as sent.
      expect(group.alerts[0]?.fingerprint).toBe("c6eadffa33fcdf37")
    }))

  it.effect("turns Grafana's URLs and values into links and details", () =>
    Effect.gen(function*() {
      const group = yield* Sources.grafana(grafanaExample())
      const alert = group.alerts[0]
      expect(alert?.links.map((link) => link.text)).toEqual(["Silence"])
      expect(alert?.details).toEqual({ values: { B: 44.23943737541908, C: 1 } })
      expect(alert?.generatorURL).toBe("https://play.grafana.org/alerting/1afz29v7z/edit")
    }))

  it.effect("rejects an Alertmanager payload", () =>
    Effect.gen(function*() {
      const error = yield* failureOf(Sources.grafana(msteams()))
      expect(error.reason._tag).toBe("UnsupportedVersion")
    }))
})
