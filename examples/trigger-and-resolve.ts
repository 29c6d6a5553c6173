/**
 * Sends one alert through its life with the Events API v2 client: trigger,
 * acknowledge, resolve. After each step it prints the status of the alert as
 * the PagerDuty simulator stores it.
 *
 * Run from the repository root: `node examples/trigger-and-resolve.ts`
 *
 * Everything runs on this machine: the example starts the simulator on a free
 * port of 127.0.0.1 and points the client at it with `baseUrl`.
 */
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"

// An Events API v2 integration key has 32 characters, and the simulator accepts any key of that length.
const routingKey = Redacted.make("example0000000000000000000000001")

const lifecycle = (simulator: Simulator.Handle) =>
  Effect.gen(function*() {
    const events = yield* EventsClient.EventsClient

    const printStatus = (step: string, dedupKey: string) =>
      Effect.gen(function*() {
        const [alert] = yield* simulator.alerts({ dedupKey })
        if (alert === undefined) {
          return yield* Effect.fail(`no alert with dedup_key ${dedupKey} was found in the simulator`)
        }
        yield* Console.log(`${step.padEnd(11)} -> alert ${alert.id} is ${alert.status}`)
        return alert.status
      })

    // A trigger without a dedup_key gets a random one, which the response contains.
    const triggered = yield* events.send(routingKey, {
      event_action: "trigger",
      payload: { summary: "disk 95% full on db-1", source: "db-1", severity: "critical", component: "postgres" }
    })
    const dedupKey = triggered.dedup_key
    if (dedupKey === undefined) return yield* Effect.fail("the Events API returned no dedup_key")
    yield* Console.log(`dedup_key ${dedupKey}`)
    yield* printStatus("trigger", dedupKey)

    yield* events.send(routingKey, { event_action: "acknowledge", dedup_key: dedupKey })
    yield* printStatus("acknowledge", dedupKey)

    yield* events.send(routingKey, { event_action: "resolve", dedup_key: dedupKey })
    const final = yield* printStatus("resolve", dedupKey)
    if (final !== "resolved") return yield* Effect.fail(`expected the alert to be resolved, found ${final}`)
  })

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start()
  yield* Console.log(`PagerDuty simulator: ${simulator.url}`)

  // `EventsClient.layer` takes SHA-256 and UUIDs from WebCrypto, so only the HTTP client is provided here.
  const Events = EventsClient.layer({ baseUrl: simulator.url }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  yield* Effect.provide(lifecycle(simulator), Events)
  yield* Console.log("trigger-and-resolve finished: the alert was triggered, acknowledged and resolved")
})

program.pipe(
  Effect.scoped,
  Effect.tapError((error) => Console.error(`trigger-and-resolve failed: ${String(error)}`)),
  NodeRuntime.runMain
)
