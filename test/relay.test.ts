import * as Audit from "@effect-pagerduty/pagerduty/Audit"
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Crypto from "@effect-pagerduty/pagerduty/Crypto"
import * as Serve from "@effect-pagerduty/relay/Serve"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Redacted, References, Schedule, Schema } from "effect"
import * as Digest from "effect/crypto/Digest"
import { createHmac } from "node:crypto"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const fixture = (path: string) => readFileSync(new URL(`./fixtures/pagerduty/${path}`, import.meta.url), "utf8")

const token = "relay-test-token"
const webhookSecret = "webhook-signing-secret"
const jwtSecret = "jwt-secret-of-at-least-32-characters!"
const keys = {
  db: "dbdbdbdbdbdbdbdbdbdbdbdbdbdbdb01",
  web: "webwebwebwebwebwebwebwebwebweb02",
  uptime: "uptimeuptimeuptimeuptimeuptime03"
}

interface Answer {
  readonly status: number
  readonly json: { status?: string; error?: string; message?: string; events?: Array<{ dedup_key: string }> }
  readonly headers: Headers
}

const startRelayWith = (extra: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.start()
    const config = yield* Config.parse({
      env: {},
      text: [
        `pagerduty: { events_url: "${simulator.url}" }`,
        "server: { host: 127.0.0.1, port: 0, body_limit_bytes: 65536 }",
        `intake: { auth: { bearer_tokens: ["${token}"], jwt: { secret: "${jwtSecret}", audience: pd-relay } } }`,
        "routes:",
        `  - { name: db, routing_key: "${keys.db}", default: true }`,
        `  - { name: web, routing_key: "${keys.web}", mode: alert, default_severity: warning }`,
        `  - name: uptime`,
        `    routing_key: "${keys.uptime}"`,
        "    source: generic",
        "    mode: alert",
        "    mapping: { alerts: checks, summary: title, status: { path: state, resolved: [up] }, dedupKey: [id] }",
        "outbox: { store: memory }",
        `webhooks: { secrets: ["${webhookSecret}"] }`,
        ...extra
      ].join("\n")
    })
    const listening = yield* Deferred.make<string>()
    yield* Effect.forkScoped(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
    const url = yield* Deferred.await(listening)
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      Effect.promise(async (): Promise<Answer> => {
        const response = await fetch(`${url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}`, ...headers },
          body
        })
        return { status: response.status, json: await response.json(), headers: response.headers }
      })
    return { simulator, url, post }
  })

const startRelay = startRelayWith([])

const waitForEvents = (simulator: Simulator.Handle, count: number) =>
  simulator.events().pipe(
    Effect.repeat({
      until: (events: ReadonlyArray<unknown>) => events.length >= count,
      schedule: Schedule.spaced("50 millis")
    }),
    Effect.timeout("10 seconds")
  )

const quiet = Layer.mergeAll(NodeServices.layer, Layer.succeed(References.MinimumLogLevel, "None"))

describe("relay end to end", () => {
  it.live("delivers an Alertmanager group with its SHA-256 dedup key", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const body = fixture("alertmanager/prometheus-msteams-prom_post_request.json")
      const answer = yield* post("/alertmanager", body)
      expect(answer.status).toBe(202)
      const expected = yield* Effect.promise(async () => {
        const groupKey = JSON.parse(body).groupKey as string
        const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(groupKey))
        return Buffer.from(digest).toString("hex")
      })
      expect(answer.json.events?.[0]?.dedup_key).toBe(expected)
      const events = yield* waitForEvents(simulator, 1)
      expect(events[0]?.status).toBe(202)
      const alerts = yield* simulator.alerts()
      expect(alerts[0]?.dedupKey).toBe(expected)
      expect(alerts[0]?.summary).toBe("[FIRING:1] high_memory_load (master warning)")
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("sends each route's events with its own routing key", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const grafana = fixture("grafana/grafana-docs-webhook-notifier-example.json")
      expect((yield* post("/grafana/web", grafana)).status).toBe(202)
      const events = yield* waitForEvents(simulator, 2)
      // The web route is in per-alert mode: one event per alert of the group.
      expect(events.length).toBe(2)
      const alerts = yield* simulator.alerts()
      expect(alerts.every((alert) => alert.routingKeyHash !== "")).toBe(true)
      expect(new Set(alerts.map((alert) => alert.routingKeyHash)).size).toBe(1)
      expect(alerts.map((alert) => alert.dedupKey).sort()).toEqual(["bc97ff14869b13e3", "c6eadffa33fcdf37"])
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("drops a repeat within the dedupe window", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const body = fixture("alertmanager/prometheus-msteams-prom_post_request.json")
      expect((yield* post("/alertmanager", body)).status).toBe(202)
      const second = yield* post("/alertmanager", body)
      expect(second.status).toBe(202)
      expect((second.json as { duplicates?: number }).duplicates).toBe(1)
      yield* waitForEvents(simulator, 1)
      yield* Effect.sleep("200 millis")
      expect((yield* simulator.events()).length).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("accepts Events API v2 bodies without their routing key", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const trigger = JSON.parse(fixture("events-v2/devdocs-trigger.json"))
      const answer = yield* post("/events/db", JSON.stringify(trigger))
      expect(answer.status).toBe(202)
      const events = yield* waitForEvents(simulator, 1)
      expect(events[0]?.status).toBe(202)
      const alerts = yield* simulator.alerts()
      expect(alerts[0]?.summary).toBe(trigger.payload.summary)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("answers each bad input with its status and a message", () =>
    Effect.gen(function*() {
      const { post, url } = yield* startRelay
      const valid = fixture("alertmanager/prometheus-msteams-prom_post_request.json")

      const noAuth = yield* post("/alertmanager", valid, { authorization: "" })
      expect(noAuth.status).toBe(401)
      const wrongToken = yield* post("/alertmanager", valid, { authorization: "Bearer nope" })
      expect(wrongToken.status).toBe(401)

      const unknown = yield* post("/alertmanager/payments", valid)
      expect(unknown.status).toBe(404)
      expect(unknown.json.message).toContain("\"payments\"")

      const tooLarge = yield* post("/alertmanager", JSON.stringify({ pad: "x".repeat(70_000) }))
      expect(tooLarge.status).toBe(413)

      const wrongType = yield* post("/alertmanager", valid, { "content-type": "text/plain" })
      expect(wrongType.status).toBe(415)

      const malformed = yield* post("/alertmanager", "{\"version\": \"4\",")
      expect(malformed.status).toBe(400)
      expect(malformed.json.message).toContain("malformed JSON")

      const noGroupKey = JSON.parse(valid)
      delete noGroupKey.groupKey
      const invalid = yield* post("/alertmanager", JSON.stringify(noGroupKey))
      expect(invalid.status).toBe(400)
      expect(invalid.json.message).toContain("groupKey")

      const badSeverity = yield* post(
        "/events",
        JSON.stringify({ event_action: "trigger", payload: { summary: "s", source: "h", severity: "loud" } })
      )
      expect(badSeverity.status).toBe(400)
      expect(badSeverity.json.message).toContain("severity")

      const get = yield* Effect.promise(() => fetch(`${url}/alertmanager`))
      expect(get.status).toBe(404)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("serves health and Prometheus metrics", () =>
    Effect.gen(function*() {
      const { post, url } = yield* startRelay
      expect((yield* post("/alertmanager", fixture("alertmanager/prometheus-msteams-prom_post_request.json"))).status)
        .toBe(202)
      expect((yield* post("/alertmanager", "{}", { authorization: "Bearer wrong" })).status).toBe(401)

      const ready = yield* Effect.promise(() =>
        fetch(`${url}/health/ready`).then(async (r) => [r.status, await r.json()] as const)
      )
      expect(ready[0]).toBe(200)
      expect(ready[1].checks.map((check: { name: string }) => check.name).sort()).toEqual(["intake", "outbox"])

      const live = yield* Effect.promise(() => fetch(`${url}/health/live`))
      expect(live.status).toBe(200)

      const metrics = yield* Effect.promise(() => fetch(`${url}/metrics`).then((r) => r.text()))
      expect(metrics).toMatch(/pagerduty_intake_requests_total\{[^}]*outcome="accepted"[^}]*\} [1-9]/)
      expect(metrics).toMatch(/pagerduty_intake_requests_total\{[^}]*outcome="unauthorized"[^}]*\} [1-9]/)
      expect(metrics).not.toContain(keys.db)
      yield* Effect.sleep("500 millis")
      const later = yield* Effect.promise(() => fetch(`${url}/metrics`).then((r) => r.text()))
      expect(later).toMatch(/pagerduty_outbound_requests_total\{[^}]*outcome="success"[^}]*\} [1-9]/)
      expect(later).toContain("pagerduty_outbound_request_duration_seconds_bucket")
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("accepts a valid JWT and rejects an expired one", () =>
    Effect.gen(function*() {
      const { post } = yield* startRelay
      const now = Math.floor(Date.now() / 1000)
      const sign = (claims: Record<string, Schema.Json>) =>
        Crypto.signJwt(Redacted.make(jwtSecret), claims).pipe(Effect.map(Redacted.value))
      const valid = yield* sign({ sub: "grafana", aud: "pd-relay", exp: now + 60 })
      const expired = yield* sign({ sub: "grafana", aud: "pd-relay", exp: now - 60 })
      const otherAudience = yield* sign({ sub: "grafana", aud: "someone-else", exp: now + 60 })
      const body = fixture("alertmanager/prometheus-msteams-prom_post_request.json")

      expect((yield* post("/alertmanager", body, { authorization: `Bearer ${valid}` })).status).toBe(202)
      expect((yield* post("/alertmanager", body, { authorization: `Bearer ${expired}` })).status).toBe(401)
      expect((yield* post("/alertmanager", body, { authorization: `Bearer ${otherAudience}` })).status).toBe(401)
    }).pipe(Effect.scoped, Effect.provide([quiet, Crypto.layerWebCrypto])))

  it.live("receives signed PagerDuty webhooks", () =>
    Effect.gen(function*() {
      const { url } = yield* startRelay
      const body = fixture("webhooks-v3/samples/triggered_v3.json")
      const signature = `v1=${createHmac("sha256", webhookSecret).update(body).digest("hex")}`
      const deliver = (headers: Record<string, string>) =>
        Effect.promise(() =>
          fetch(`${url}/webhooks/pagerduty`, {
            method: "POST",
            headers: { "content-type": "application/json", "x-webhook-id": "delivery-1", ...headers },
            body
          }).then((response) => response.status)
        )
      expect(yield* deliver({ "x-pagerduty-signature": signature })).toBe(202)
      expect(yield* deliver({ "x-pagerduty-signature": signature })).toBe(202)
      expect(yield* deliver({ "x-pagerduty-signature": `v1=${"0".repeat(64)}` })).toBe(401)
      expect(yield* deliver({})).toBe(401)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("stops calling PagerDuty while the circuit is open", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelayWith(["policy: { breaker: { failures: 1, open_seconds: 30 } }"])
      yield* simulator.setFaults([{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 500 } }] }])
      expect((yield* post("/alertmanager", fixture("alertmanager/prometheus-msteams-prom_post_request.json"))).status)
        .toBe(202)
      // The outbox retries after about 1 s and 3 s; the open circuit rejects both
      // retries before they reach the simulator.
      yield* Effect.sleep("4500 millis")
      const injected = yield* simulator.injections
      expect(injected.length).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("writes a verifiable audit chain without secrets", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "relay-audit-"))
      const file = join(dir, "audit.jsonl")
      const { post, simulator, url } = yield* startRelayWith([`audit: { sinks: [{ type: file, path: "${file}" }] }`])
      expect((yield* post("/alertmanager", fixture("alertmanager/prometheus-msteams-prom_post_request.json"))).status)
        .toBe(202)
      yield* waitForEvents(simulator, 1)
      const body = fixture("webhooks-v3/samples/triggered_v3.json")
      const signature = `v1=${createHmac("sha256", webhookSecret).update(body).digest("hex")}`
      const status = yield* Effect.promise(() =>
        fetch(`${url}/webhooks/pagerduty`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-webhook-id": "audit-1",
            "x-pagerduty-signature": signature
          },
          body
        }).then((response) => response.status)
      )
      expect(status).toBe(202)

      const text = yield* Effect.promise(async () => {
        for (let i = 0; i < 100; i++) {
          const content = readFileSync(file, "utf8")
          if (content.includes("webhook.received") && content.includes("event.sent")) return content
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
        return readFileSync(file, "utf8")
      })
      const actions = text.trim().split("\n").map((line) => JSON.parse(line).action)
      expect(actions).toContain("config.loaded")
      expect(actions).toContain("event.sent")
      expect(actions).toContain("webhook.received")
      for (const secret of [keys.db, keys.web, token, webhookSecret, jwtSecret]) expect(text).not.toContain(secret)
      const verified = yield* Audit.verifyFile(file)
      expect(verified._tag).toBe("Intact")
      rmSync(dir, { recursive: true, force: true })
    }).pipe(Effect.scoped, Effect.provide([quiet, Crypto.layerWebCrypto, Digest.layerWebCrypto])))

  it.live("maps generic JSON through a route's mapping", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const body = JSON.stringify({
        checks: [{ id: "api", title: "API is down", state: "down" }, { id: "db", title: "DB is slow", state: "up" }]
      })
      const answer = yield* post("/generic/uptime", body)
      expect(answer.status).toBe(202)
      expect(answer.json.events?.length).toBe(2)
      yield* waitForEvents(simulator, 2)
      const alerts = yield* simulator.alerts()
      // The check that is up resolves an alert that was never open, so only one alert exists.
      expect(alerts.length).toBe(1)
      expect(alerts[0]?.summary).toMatch(/^\[FIRING\] [0-9a-f]{16}: API is down$/)

      const unmapped = yield* post("/generic/db", body)
      expect(unmapped.status).toBe(400)
      expect(unmapped.json.message).toContain("has no mapping")
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("passes a trigger that follows a resolve of the same key", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      const trigger = JSON.stringify({
        event_action: "trigger",
        dedup_key: "flap-1",
        payload: { summary: "flapping check", source: "host-1", severity: "error" }
      })
      const resolve = JSON.stringify({ event_action: "resolve", dedup_key: "flap-1" })
      for (const body of [trigger, resolve, trigger]) {
        const answer = yield* post("/events", body)
        expect(answer.status).toBe(202)
        expect((answer.json as { duplicates?: number }).duplicates).toBe(0)
      }
      const repeat = yield* post("/events", trigger)
      expect((repeat.json as { duplicates?: number }).duplicates).toBe(1)

      yield* waitForEvents(simulator, 3)
      const alerts = yield* simulator.alerts()
      expect(alerts.map((alert) => alert.status)).toEqual(["resolved", "triggered"])
    }).pipe(Effect.scoped, Effect.provide(quiet)))

  it.live("retries a proxy's 404 and a 2xx that is not PagerDuty's", () =>
    Effect.gen(function*() {
      const { post, simulator } = yield* startRelay
      yield* simulator.setFaults([{
        path: "/v2/enqueue",
        steps: [
          { fault: { _tag: "Respond", status: 404 }, times: 1 },
          { fault: { _tag: "Respond", status: 200, body: "<html>proxy</html>" }, times: 1 }
        ]
      }])
      expect((yield* post("/alertmanager", fixture("alertmanager/prometheus-msteams-prom_post_request.json"))).status)
        .toBe(202)
      const alerts = yield* simulator.alerts().pipe(
        Effect.repeat({
          until: (found: ReadonlyArray<unknown>) => found.length === 1,
          schedule: Schedule.spaced("100 millis")
        }),
        Effect.timeout("15 seconds")
      )
      expect(alerts.length).toBe(1)
      expect((yield* simulator.injections).length).toBe(2)
    }).pipe(Effect.scoped, Effect.provide(quiet)))
})
