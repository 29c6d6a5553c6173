/**
 * Checks every request the relay sends to the Events API against PagerDuty's
 * published OpenAPI spec, for each source and mode of the relay's intake, fed
 * with the payloads in the fixtures.
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Serve from "@effect-pagerduty/relay/Serve"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, References } from "effect"
import { readFileSync } from "node:fs"
import { validateRequestBody } from "../support/openapi.ts"

const spec = "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json"
const fixture = (path: string) => readFileSync(new URL(`../fixtures/pagerduty/${path}`, import.meta.url), "utf8")
const token = "contract-intake-token"

const quiet = Layer.mergeAll(NodeServices.layer, Layer.succeed(References.MinimumLogLevel, "None"))

/** The intake path and the fixture posted to it. */
const requests: ReadonlyArray<readonly [string, string]> = [
  ["/alertmanager/group", "alertmanager/prometheus-msteams-prom_post_request.json"],
  ["/alertmanager/group", "alertmanager/pythonwebhook-resolved-k8s.json"],
  ["/alertmanager/alert", "alertmanager/prometheus-msteams-prom_post_request.json"],
  ["/alertmanager/alert", "alertmanager/pythonwebhook-resolved-k8s.json"],
  ["/grafana/group", "grafana/grafana-docs-webhook-notifier-example.json"],
  ["/grafana/alert", "grafana/grafana-docs-webhook-notifier-example.json"],
  ["/events/group", "events-v2/devdocs-trigger.json"],
  ["/events/group", "events-v2/openapi-enqueue-example.json"],
  ["/events/group", "events-v2/devdocs-acknowledge.json"],
  ["/events/group", "events-v2/devdocs-resolve.json"]
]

describe("relay requests against the Events API spec", () => {
  it.live("validate for every source and mode", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ rateLimit: false })
      const config = yield* Config.parse({
        env: {},
        text: [
          `pagerduty: { events_url: "${simulator.url}" }`,
          "server: { host: 127.0.0.1, port: 0 }",
          `intake: { auth: { bearer_tokens: ["${token}"] } }`,
          "routes:",
          "  - { name: group, routing_key: \"groupgroupgroupgroupgroupgroup01\", mode: group }",
          "  - { name: alert, routing_key: \"alertalertalertalertalertalert02\", mode: alert }",
          "outbox: { store: memory }"
        ].join("\n")
      })
      const listening = yield* Deferred.make<string>()
      yield* Effect.forkScoped(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
      const url = yield* Deferred.await(listening)

      let expected = 0
      for (const [path, file] of requests) {
        const answer = yield* Effect.promise(async () => {
          const response = await fetch(`${url}${path}`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: fixture(file)
          })
          return { status: response.status, json: await response.json() as { events?: Array<unknown> } }
        })
        expect(answer.status, `${path} ${file}`).toBe(202)
        expected += answer.json.events?.length ?? 0
      }

      // Every fixture turns into at least one event.
      expect(expected).toBeGreaterThanOrEqual(requests.length)
      const until = performance.now() + 10_000
      let received = yield* simulator.events()
      while (received.length < expected && performance.now() < until) {
        yield* Effect.sleep("50 millis")
        received = yield* simulator.events()
      }
      expect(received.length).toBe(expected)

      const decoder = new TextDecoder()
      for (const event of received) {
        const body = JSON.parse(decoder.decode(event.body))
        const errors = validateRequestBody({ spec, path: "/enqueue", method: "post", body })
        expect(errors, `${body.event_action} ${body.dedup_key}`).toEqual([])
        expect(event.status, `${body.event_action} ${body.dedup_key}`).toBe(202)
      }
    }).pipe(Effect.scoped, Effect.provide(quiet)))
})
