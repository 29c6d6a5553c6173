// The program that test/packaging.test.ts runs in a fresh project where the
// packed packages are installed. It decodes and prepares an event, sends it
// with the EventsClient to an in-process simulator and prints, as one JSON
// line, the client's response and the alerts the simulator stored.
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as EventsV2 from "@effect-pagerduty/pagerduty/EventsV2"
import { Simulator } from "@effect-pagerduty/simulator"
import { Effect, Layer, Redacted, Schema } from "effect"
import { Digest } from "effect/crypto"
import { FetchHttpClient } from "effect/http"

const routingKey = Redacted.make("0123456789abcdef0123456789abcdef")

// A summary over PagerDuty's 1024 code points, so that `prepare` has to truncate it.
const summary = `Disk full on db-1: ${"x".repeat(1100)}`

const program = Effect.gen(function*() {
  const event = yield* Schema.decodeUnknownEffect(EventsV2.Trigger)({
    event_action: "trigger",
    dedup_key: "db-1/disk",
    payload: { summary, source: "db-1", severity: "critical" }
  })
  const prepared = yield* EventsV2.prepare(event)
  const simulator = yield* Simulator.start()
  const accepted = yield* EventsClient.EventsClient.use((client) => client.send(routingKey, prepared.event)).pipe(
    Effect.provide(EventsClient.layer({ baseUrl: simulator.url, retry: false }))
  )
  const alerts = yield* simulator.alerts()
  return {
    adjustments: prepared.adjustments.map((adjustment) => adjustment._tag),
    accepted,
    alerts: alerts.map((alert) => ({
      dedupKey: alert.dedupKey,
      status: alert.status,
      severity: alert.severity,
      summaryCodePoints: [...alert.summary].length,
      summaryEnd: alert.summary.slice(-1)
    }))
  }
}).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(Digest.layerWebCrypto, FetchHttpClient.layer)))

const result = await Effect.runPromise(program)
process.stdout.write(JSON.stringify(result) + "\n")
