/**
 * Interoperability with a real Prometheus Alertmanager. One receiver sends
 * each notification both as a webhook and through Alertmanager's own
 * PagerDuty notifier. The event formatted from the webhook must carry the
 * same identity and text as the event that Alertmanager sent itself.
 */
import * as Format from "@effect-pagerduty/pagerduty/Format"
import * as Sources from "@effect-pagerduty/pagerduty/Sources"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Digest from "effect/crypto/Digest"
import { createServer, type Server } from "node:http"
import { type Alertmanager, startAlertmanager } from "./support/alertmanager.ts"

interface Captured {
  readonly webhooks: Array<any>
  readonly events: Array<any>
}

const startSink = async (): Promise<{ server: Server; port: number; captured: Captured }> => {
  const captured: Captured = { webhooks: [], events: [] }
  const server = createServer((request, response) => {
    let body = ""
    request.on("data", (chunk) => (body += String(chunk)))
    request.on("end", () => {
      if (request.url === "/webhook") captured.webhooks.push(JSON.parse(body))
      if (request.url === "/enqueue") captured.events.push(JSON.parse(body))
      response.writeHead(request.url === "/enqueue" ? 202 : 200, { "content-type": "application/json" })
      response.end(request.url === "/enqueue" ? "{\"status\":\"success\"}" : "")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return { server, port, captured }
}

const config = (port: number) => `
route:
  receiver: web.hook
  group_by: [alertname]
  group_wait: 500ms
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="db"']
      receiver: web.hook
      group_by: [alertname, team]
receivers:
  - name: web.hook
    webhook_configs:
      - url: http://127.0.0.1:${port}/webhook
        send_resolved: true
    pagerduty_configs:
      - routing_key: 0123456789abcdef0123456789abcdef
        url: http://127.0.0.1:${port}/enqueue
        send_resolved: true
`

const waitFor = async (condition: () => boolean, what: string, alertmanager: Alertmanager) => {
  const until = performance.now() + 20_000
  while (!condition()) {
    if (performance.now() > until) {
      throw new Error(`timed out waiting for ${what}; Alertmanager output:\n${alertmanager.logs()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const alerts = [
  { labels: { alertname: "HighMemory", instance: "node-1", job: "nodes", severity: "warning" } },
  { labels: { alertname: "HighMemory", instance: "node-2", job: "nodes", severity: "critical" } },
  { labels: { alertname: "DiskFull", team: "db", instance: "db-1" }, annotations: { summary: "disk > 95% & rising" } }
]

const formatted = (webhook: unknown) =>
  Effect.runPromise(
    Effect.flatMap(Sources.alertmanager(webhook), (group) => Format.groupEvent(group)).pipe(
      Effect.provide(Digest.layerWebCrypto)
    )
  )

const pairs = async (captured: Captured, action: "trigger" | "resolve") => {
  const result: Array<{ webhook: any; event: any }> = []
  for (const event of captured.events.filter((event) => event.event_action === action)) {
    const status = action === "trigger" ? "firing" : "resolved"
    for (const webhook of captured.webhooks.filter((webhook) => webhook.status === status)) {
      const ours = await formatted(webhook)
      if (ours.dedup_key === event.dedup_key) result.push({ webhook, event })
    }
  }
  return result
}

// startAlertmanager fails with an install hint when the binary is missing.
describe("Format against a real Alertmanager", () => {
  it.live("matches Alertmanager's own PagerDuty events", () =>
    Effect.promise(async () => {
      const sink = await startSink()
      const alertmanager = await startAlertmanager(config(sink.port))
      try {
        await alertmanager.postAlerts(alerts)
        await waitFor(
          () => sink.captured.events.length >= 2 && sink.captured.webhooks.length >= 2,
          "2 firing notifications",
          alertmanager
        )
        const past = { startsAt: "2026-01-01T00:00:00Z", endsAt: "2026-01-01T00:05:00Z" }
        await alertmanager.postAlerts(alerts.map((alert) => ({ ...alert, ...past })))
        await waitFor(
          () => sink.captured.events.filter((event) => event.event_action === "resolve").length >= 2,
          "2 resolve notifications",
          alertmanager
        )

        const firing = await pairs(sink.captured, "trigger")
        expect(firing.length).toBe(2)
        for (const { event, webhook } of firing) {
          const ours = await formatted(webhook)
          if (ours.event_action !== "trigger") throw new Error("expected a trigger")
          expect(ours.payload.summary).toBe(event.payload.summary)
          expect(ours.client).toBe(event.client)
          expect(ours.client_url).toBe(event.client_url)
          expect(ours.payload.source).toBe(event.payload.source)
        }

        const resolved = await pairs(sink.captured, "resolve")
        expect(resolved.length).toBe(2)
        for (const { event, webhook } of resolved) {
          const ours = await formatted(webhook)
          expect(ours.event_action).toBe("resolve")
          expect(Format.subject(await Effect.runPromise(Sources.alertmanager(webhook)))).toBe(event.payload.summary)
        }
      } finally {
        await alertmanager.stop()
        await new Promise((resolve) => sink.server.close(resolve))
      }
    }))
})
