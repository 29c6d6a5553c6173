/**
 * Runs the relay in this process and sends it one Alertmanager group twice,
 * first firing and then resolved, the way Alertmanager's webhook receiver
 * does. Prints the PagerDuty alert that the two notifications open and close.
 *
 * Run from the repository root: `node examples/relay-alertmanager.ts`
 *
 * The relay and the PagerDuty simulator it delivers to both listen on free
 * ports of 127.0.0.1. The relay's configuration is the same YAML a
 * `pd-relay serve --config FILE` would read.
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Serve from "@effect-pagerduty/relay/Serve"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeRuntime } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"

const intakeToken = "example-intake-token"
const routingKey = "example0000000000000000000000002"

// An Alertmanager webhook body (version 4) for a group of one alert.
const notification = (status: "firing" | "resolved") => ({
  version: "4",
  groupKey: "{}:{alertname=\"DiskAlmostFull\"}",
  truncatedAlerts: 0,
  status,
  receiver: "pagerduty-relay",
  groupLabels: { alertname: "DiskAlmostFull" },
  commonLabels: { alertname: "DiskAlmostFull", instance: "db-1:9100", severity: "critical" },
  commonAnnotations: { summary: "Disk on db-1 is 95% full" },
  externalURL: "http://alertmanager.example:9093",
  alerts: [{
    status,
    labels: { alertname: "DiskAlmostFull", instance: "db-1:9100", severity: "critical" },
    annotations: { summary: "Disk on db-1 is 95% full", description: "/var/lib/postgresql has 5% left" },
    startsAt: "2026-12-04T10:00:00Z",
    endsAt: status === "firing" ? "0001-01-01T00:00:00Z" : "2026-12-04T10:20:00Z",
    generatorURL: "http://prometheus.example:9090/graph?g0.expr=disk_used_ratio",
    fingerprint: "3b1c2d4e5f6a7b8c"
  }]
})

const post = (url: string, body: unknown) =>
  Effect.tryPromise(async () => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${intakeToken}` },
      body: JSON.stringify(body)
    })
    return { status: response.status, body: await response.text() }
  })

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start()

  const config = yield* Config.parse({
    env: {},
    source: "the example's configuration",
    text: [
      `pagerduty: { events_url: "${simulator.url}" }`,
      "server: { host: 127.0.0.1, port: 0 }",
      `intake: { auth: { bearer_tokens: ["${intakeToken}"] } }`,
      `routes: [{ name: databases, routing_key: "${routingKey}", source: alertmanager, default: true }]`,
      "outbox: { store: memory }"
    ].join("\n")
  })

  const listening = yield* Deferred.make<string>()
  yield* Effect.forkScoped(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
  const relayUrl = yield* Deferred.await(listening)
  yield* Console.log(`relay ${relayUrl} delivers to the simulator ${simulator.url}`)

  // The relay responds 202 once the outbox contains the event, and delivers it to PagerDuty after that.
  for (const [index, status] of (["firing", "resolved"] as const).entries()) {
    const answer = yield* post(`${relayUrl}/alertmanager`, notification(status))
    yield* Console.log(`POST /alertmanager (${status}) -> ${answer.status} ${answer.body}`)
    if (answer.status !== 202) return yield* Effect.fail(`the relay rejected the ${status} notification`)
    yield* simulator.events().pipe(
      Effect.repeat({ until: (events) => events.length > index, schedule: Schedule.spaced("50 millis") }),
      Effect.timeout("10 seconds")
    )
    const [alert] = yield* simulator.alerts()
    if (alert === undefined) return yield* Effect.fail("no alert was found in the simulator")
    yield* Console.log(`  PagerDuty alert ${alert.id}: ${alert.status}, severity ${alert.severity}`)
    yield* Console.log(`  summary   ${alert.summary}`)
    yield* Console.log(`  dedup_key ${alert.dedupKey}`)
  }

  const alerts = yield* simulator.alerts()
  if (alerts.length !== 1 || alerts[0]?.status !== "resolved") {
    return yield* Effect.fail(`expected one resolved alert, found ${alerts.map((alert) => alert.status).join(", ")}`)
  }
  yield* Console.log("relay-alertmanager finished: the group's alert was opened and resolved")
})

program.pipe(
  Effect.scoped,
  Effect.tapError((error) => Console.error(`relay-alertmanager failed: ${String(error)}`)),
  // The relay logs its start and stop at Info, which the example replaces with its own lines.
  Effect.provideService(References.MinimumLogLevel, "Warn"),
  NodeRuntime.runMain
)
