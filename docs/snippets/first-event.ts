// Sends one trigger and its resolve to a PagerDuty simulator on 127.0.0.1:8081.
// Run with: node docs/snippets/first-event.ts
import { EventsClient } from "@effect-pagerduty/pagerduty"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted } from "effect"

// Any 32 characters: the simulator accepts every well-formed routing key.
const routingKey = Redacted.make(process.env["PD_ROUTING_KEY"] ?? "R0000000000000000000000000000001")

const program = Effect.gen(function*() {
  const events = yield* EventsClient.EventsClient
  const accepted = yield* events.send(routingKey, {
    event_action: "trigger",
    dedup_key: "db-1/disk",
    payload: { summary: "disk full on db-1", source: "db-1", severity: "critical" }
  })
  yield* Console.log(`accepted: ${accepted.status}, dedup_key ${accepted.dedup_key}`)
  yield* events.send(routingKey, { event_action: "resolve", dedup_key: "db-1/disk" })
})

const EventsLive = EventsClient.layer({ baseUrl: process.env["PD_EVENTS_URL"] ?? "http://127.0.0.1:8081" }).pipe(
  Layer.provide(NodeHttpClient.layerUndici)
)

program.pipe(
  Effect.catchTag("EventsClientError", (error) => Console.error(`not sent: ${error.message}`)),
  Effect.provide(EventsLive),
  NodeRuntime.runMain
)
