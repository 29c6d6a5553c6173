// Sends events through the Events API policy (sliding-window rate limit, circuit breaker, bulkhead)
// to a simulator on 127.0.0.1:8081, with the policy's state in memory.
// Run with: node docs/snippets/policy-events.ts
import * as Policy from "@effect-pagerduty/pagerduty/Policy"
import * as PolicyStore from "@effect-pagerduty/pagerduty/PolicyStore"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted, Stream } from "effect"
import { Digest } from "effect/crypto"
import { HttpClient, HttpClientRequest } from "effect/http"

const routingKey = Redacted.make("R0000000000000000000000000000003")

const program = Effect.gen(function*() {
  // 3 events in any 10 seconds, so the fourth send below waits for a slot.
  const guard = yield* Policy.make(Policy.events({ rateLimit: { limit: 3, window: "10 seconds" } }))
  yield* guard.transitions.pipe(
    Stream.runForEach((transition) => Console.log(`breaker ${transition.from} -> ${transition.to}`)),
    Effect.forkScoped
  )

  // The key is a hash of the routing key, so routes that share a key share its limit and breaker.
  const key = yield* Policy.keyOf(routingKey)
  const guarded = guard.client(yield* HttpClient.HttpClient, { key, route: "platform" })

  for (const n of [1, 2, 3, 4]) {
    const started = Date.now()
    const response = yield* guarded.execute(
      HttpClientRequest.post(`${process.env["PD_EVENTS_URL"] ?? "http://127.0.0.1:8081"}/v2/enqueue`).pipe(
        HttpClientRequest.bodyJsonUnsafe({
          routing_key: Redacted.value(routingKey),
          event_action: "trigger",
          dedup_key: `policy-demo-${n}`,
          payload: { summary: `policy demo ${n}`, source: "docs", severity: "info" }
        })
      )
    )
    yield* Console.log(`event ${n}: ${response.status} after ${Date.now() - started} ms`)
  }
})

const Live = Layer.mergeAll(PolicyStore.layerMemory, NodeHttpClient.layerUndici, Digest.layerWebCrypto)

NodeRuntime.runMain(Effect.provide(Effect.scoped(program), Live))
