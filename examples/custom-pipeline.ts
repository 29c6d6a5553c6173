/**
 * Builds an alert pipeline of your own from `Pipeline` stages and runs it
 * over a stream of raw payloads, as a consumer of a message queue would. The
 * stages decode the JSON text, turn the Alertmanager webhook into an alert
 * group, drop the staging environment, format Events API v2 events, drop
 * repeats within a window, and deliver to PagerDuty with the Events client.
 * Each item gets its own result, so the malformed one fails alone and the
 * stream goes on.
 *
 * Run from the repository root: `node examples/custom-pipeline.ts`
 *
 * Events go to the PagerDuty simulator, started on a free port of 127.0.0.1.
 */
import * as Alert from "@effect-pagerduty/pagerduty/Alert"
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import type * as EventsV2 from "@effect-pagerduty/pagerduty/EventsV2"
import * as Pipeline from "@effect-pagerduty/pagerduty/Pipeline"
import * as Sources from "@effect-pagerduty/pagerduty/Sources"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Digest from "effect/crypto/Digest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const routingKey = Redacted.make("example0000000000000000000000004")

// An Alertmanager webhook body (version 4) with one alert, as JSON text.
const webhook = (options: { readonly status: "firing" | "resolved"; readonly env: string }) =>
  JSON.stringify({
    version: "4",
    groupKey: `{}:{alertname="HighLatency", env="${options.env}"}`,
    status: options.status,
    receiver: "pagerduty",
    groupLabels: { alertname: "HighLatency", env: options.env },
    commonLabels: { alertname: "HighLatency", env: options.env, service: "checkout", severity: "warning" },
    commonAnnotations: { summary: "p99 latency of checkout above 2 s" },
    externalURL: "http://alertmanager.example:9093",
    alerts: [{
      status: options.status,
      labels: { alertname: "HighLatency", env: options.env, service: "checkout", severity: "warning" },
      annotations: { summary: "p99 latency of checkout above 2 s" },
      startsAt: "2026-12-04T09:00:00Z",
      endsAt: options.status === "firing" ? "0001-01-01T00:00:00Z" : "2026-12-04T09:30:00Z",
      fingerprint: `latency-${options.env}`
    }]
  })

const payloads: ReadonlyArray<readonly [label: string, body: string]> = [
  ["production firing", webhook({ status: "firing", env: "production" })],
  ["staging firing", webhook({ status: "firing", env: "staging" })],
  ["truncated JSON", webhook({ status: "firing", env: "production" }).slice(0, 40)],
  ["production firing, repeated", webhook({ status: "firing", env: "production" })],
  ["production resolved", webhook({ status: "resolved", env: "production" })]
]

// The delivery stage: sends one event and reports what PagerDuty accepted.
const sendToPagerDuty = (event: EventsV2.Trigger | EventsV2.Resolve) =>
  EventsClient.EventsClient.use((events) =>
    Effect.map(events.send(routingKey, event), (accepted) => ({
      action: event.event_action,
      dedupKey: accepted.dedup_key ?? "(none)"
    }))
  )

// The type states every error and service of the stages:
// Pipeline<unknown, { action, dedupKey },
//   PipelineError | SourceError | EventsV2Error | CacheError | EventsClientError,
//   Digest | Cache | EventsClient>
const pipeline = Pipeline.decode(Schema.fromJsonString(Schema.Unknown), "parse-json").pipe(
  Pipeline.andThen(Pipeline.transform(Sources.alertmanager, "alertmanager")),
  Pipeline.andThen(Pipeline.filter((group: Alert.AlertGroup) => group.groupLabels.env !== "staging", "skip-staging")),
  Pipeline.andThen(Pipeline.format({ defaultSeverity: "warning" })),
  // Deletes the dedupe key again when delivery fails, so a retry of the same payload is not dropped.
  Pipeline.andThen(Pipeline.dedupeWith(Pipeline.deliver(sendToPagerDuty), { window: "5 minutes" }))
)

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start()
  yield* Console.log(`PagerDuty simulator: ${simulator.url}`)

  const Services = Layer.mergeAll(
    Cache.layerMemory(),
    Digest.layerWebCrypto,
    EventsClient.layer({ baseUrl: simulator.url }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  )

  const results = yield* Stream.fromIterable(payloads.map(([, body]) => body)).pipe(
    Pipeline.runStream(pipeline),
    Stream.runCollect,
    Effect.provide(Services)
  )
  // Results keep the order of the stream's items.
  for (const [index, result] of results.entries()) {
    const outcome = result._tag === "Failed"
      ? `failed with ${result.error._tag}: ${result.error.message}`
      : result.outputs.length === 0
      ? "dropped (filtered out, or a repeat within the dedupe window)"
      : result.outputs.map((output) => `delivered ${output.action} ${output.dedupKey.slice(0, 12)}…`).join(", ")
    yield* Console.log(`item ${index + 1} (${payloads[index]?.[0]}): ${outcome}`)
  }

  const alerts = yield* simulator.alerts()
  const failed = results.filter((result) => result._tag === "Failed").length
  yield* Console.log(`the simulator has ${alerts.length} alert(s): ${alerts.map((alert) => alert.status).join(", ")}`)
  if (failed !== 1 || alerts.length !== 1 || alerts[0]?.status !== "resolved") {
    return yield* Effect.fail(`expected one failed item and one resolved alert, got ${failed} and ${alerts.length}`)
  }
  yield* Console.log("custom-pipeline finished: 5 items, 2 delivered, 2 dropped, 1 failed")
})

program.pipe(
  Effect.scoped,
  Effect.tapError((error) => Console.error(`custom-pipeline failed: ${String(error)}`)),
  NodeRuntime.runMain
)
