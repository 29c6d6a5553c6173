/**
 * `pnpm demo`: the relay's main job on this machine, end to end.
 *
 * Starts the PagerDuty simulator and the relay on free loopback ports, posts
 * real Alertmanager and Grafana webhook payloads from the project's test data
 * to the relay's intake, waits until the simulator holds every event, and
 * prints the alerts it holds. Exits with status 1 if any step fails.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import * as Serve from "./Serve.ts"

const fixture = (path: string): unknown =>
  JSON.parse(readFileSync(fileURLToPath(new URL(`../../../test/fixtures/pagerduty/${path}`, import.meta.url)), "utf8"))

/** The resolved Alertmanager group of the fixture, as it looked while it fired. */
const firingVersionOf = (resolved: any): unknown => ({
  ...resolved,
  status: "firing",
  alerts: resolved.alerts.map((alert: any) => ({ ...alert, status: "firing", endsAt: "0001-01-01T00:00:00Z" }))
})

const token = "demo-intake-token"
const routingKey = "demo0000000000000000000000000001"

const payloads = (() => {
  const resolvedGroup = fixture("alertmanager/pythonwebhook-resolved-k8s.json")
  return [
    {
      path: "/alertmanager",
      label: "Alertmanager group without status or fingerprint",
      body: fixture("alertmanager/prometheus-msteams-prom_post_request.json")
    },
    { path: "/alertmanager", label: "Alertmanager group, firing", body: firingVersionOf(resolvedGroup) },
    {
      path: "/grafana",
      label: "Grafana notification",
      body: fixture("grafana/grafana-docs-webhook-notifier-example.json")
    },
    { path: "/alertmanager", label: "the same Alertmanager group, resolved", body: resolvedGroup }
  ]
})()

const post = (url: string, body: unknown) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(body)
    })
    return { status: response.status, body: await response.text() }
  })

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start()
  yield* Console.log(`PagerDuty simulator: ${simulator.url}`)

  const config = yield* Config.parse({
    env: {},
    text: [
      `pagerduty: { events_url: "${simulator.url}" }`,
      "server: { host: 127.0.0.1, port: 0 }",
      `intake: { auth: { bearer_tokens: ["${token}"] } }`,
      `routes: [{ name: demo, routing_key: "${routingKey}", default: true }]`,
      "outbox: { store: memory }"
    ].join("\n")
  })

  const listening = yield* Deferred.make<string>()
  const relay = yield* Effect.forkChild(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
  const relayUrl = yield* Deferred.await(listening)
  yield* Console.log(`relay intake:        ${relayUrl}\n`)

  for (const payload of payloads) {
    const answer = yield* post(`${relayUrl}${payload.path}`, payload.body)
    yield* Console.log(`POST ${payload.path} (${payload.label}) -> ${answer.status} ${answer.body}`)
    if (answer.status !== 202) return yield* Effect.fail(`the relay rejected a payload with ${answer.status}`)
  }

  // Four events: three triggers and the resolve of the group that fired.
  const delivered = yield* simulator.events().pipe(
    Effect.repeat({
      until: (events: ReadonlyArray<unknown>) => events.length >= payloads.length,
      schedule: Schedule.spaced("100 millis")
    }),
    Effect.timeoutOrElse({
      duration: Duration.seconds(15),
      orElse: () => Effect.fail("timed out waiting for delivery")
    })
  )

  const alerts = yield* simulator.alerts()
  yield* Console.log(`\nThe simulator received ${delivered.length} events and holds ${alerts.length} alerts:\n`)
  for (const alert of alerts) {
    yield* Console.log(`dedup_key ${alert.dedupKey}`)
    yield* Console.log(`  status ${alert.status}, severity ${alert.severity}`)
    yield* Console.log(`  summary ${alert.summary}\n`)
  }

  const resolved = alerts.filter((alert) => alert.status === "resolved").length
  const triggered = alerts.filter((alert) => alert.status === "triggered").length
  if (alerts.length !== 3 || resolved !== 1 || triggered !== 2) {
    return yield* Effect.fail(`expected 2 triggered and 1 resolved alert, found ${triggered} and ${resolved}`)
  }
  yield* Fiber.interrupt(relay)
  yield* Console.log("demo finished: every accepted alert reached the simulator")
})

Effect.scoped(program).pipe(
  Effect.tapError((error) => Console.error(`demo failed: ${String(error)}`)),
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  Effect.provide([NodeServices.layer, Logger.layer([Logger.consolePretty()])]),
  NodeRuntime.runMain
)
