import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Deferred, Effect, Layer, References, Schedule } from "effect"
import { readFileSync } from "node:fs"
import * as Serve from "../src/Serve.ts"
import * as Telemetry from "../src/Telemetry.ts"

const payload = readFileSync(
  new URL("../../../test/fixtures/pagerduty/alertmanager/prometheus-msteams-prom_post_request.json", import.meta.url),
  "utf8"
)

describe("relay tracing", () => {
  it.live("links the delivery span to the intake span", () => {
    const exporter = new InMemorySpanExporter()
    const processor = new SimpleSpanProcessor(exporter)
    return Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const config = yield* Config.parse({
        env: {},
        text: [
          `pagerduty: { events_url: "${simulator.url}" }`,
          "server: { host: 127.0.0.1, port: 0 }",
          "intake: { auth: { bearer_tokens: [trace-token] } }",
          "routes: [{ name: traced, routing_key: tracedtracedtracedtracedtraced01 }]",
          "outbox: { store: memory }"
        ].join("\n")
      })
      const listening = yield* Deferred.make<string>()
      yield* Effect.forkScoped(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
      const url = yield* Deferred.await(listening)

      const status = yield* Effect.promise(() =>
        fetch(`${url}/alertmanager`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer trace-token" },
          body: payload
        }).then((response) => response.status)
      )
      expect(status).toBe(202)

      const spans = yield* Effect.sync(() => exporter.getFinishedSpans()).pipe(
        Effect.repeat({
          until: (finished) => finished.some((span) => span.name === "pd-relay.deliver"),
          schedule: Schedule.spaced("50 millis")
        }),
        Effect.timeout("10 seconds")
      )
      const deliver = spans.find((span) => span.name === "pd-relay.deliver")!
      const intake = spans.find((span) => span.name.includes("POST") && span.attributes["http.route"] !== undefined)
        ?? spans.find((span) => span.name.includes("POST"))
      expect(intake).toBeDefined()
      expect(deliver.links.length).toBe(1)
      expect(deliver.links[0]!.context.traceId).toBe(intake!.spanContext().traceId)
      expect(deliver.attributes["pagerduty.route"]).toBe("traced")
      // The delivery runs in its own trace: it is linked, not a child of the intake request.
      expect(deliver.spanContext().traceId).not.toBe(intake!.spanContext().traceId)
      for (const span of spans) expect(JSON.stringify(span.attributes)).not.toContain("tracedtracedtraced")
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.mergeAll(
        Telemetry.layerWith({ spanProcessor: processor, serviceName: "pd-relay-test" }),
        NodeServices.layer,
        Layer.succeed(References.MinimumLogLevel, "None")
      ))
    )
  })
})
