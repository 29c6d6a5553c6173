// A pipeline from Alertmanager webhooks to the Events API, run over a Stream of bodies and
// served as an HTTP route. Events go to a simulator on 127.0.0.1:8081.
// Run with: node docs/snippets/pipeline.ts <alertmanager-webhook.json>...
import { Alert, Cache, EventsClient, EventsV2, Pipeline, Sources } from "@effect-pagerduty/pagerduty"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Redacted, Stream } from "effect"
import { Digest } from "effect/crypto"
import { HttpRouter } from "effect/http"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"

const routingKey = Redacted.make("R0000000000000000000000000000004")

const send = (event: EventsV2.AlertEvent) => EventsClient.EventsClient.use((client) => client.send(routingKey, event))

// Pipeline<unknown, EventsV2.Accepted,
//   SourceError | EventsV2Error | EventsClientError | CacheError, Digest | EventsClient | Cache>
const toPagerDuty = Pipeline.transform(Sources.alertmanager, "alertmanager").pipe(
  Pipeline.andThen(Pipeline.filter((group: Alert.AlertGroup) => group.receiver !== "blackhole")),
  Pipeline.andThen(Pipeline.format({ mode: "group", defaultSeverity: "warning" })),
  Pipeline.andThen(Pipeline.dedupeWith(Pipeline.deliver(send), { window: "5 minutes" })),
  Pipeline.metrics("alertmanager")
)

// Over a Stream: one result per body, and a failed body does not end the stream.
const fromFiles = Stream.fromIterable(process.argv.slice(2)).pipe(
  Stream.map((file): unknown => JSON.parse(readFileSync(file, "utf8"))),
  Pipeline.runStream(toPagerDuty, { concurrency: 4 }),
  Stream.runForEach((result) =>
    result._tag === "Emitted"
      ? Console.log(`sent ${result.outputs.length} event(s)`)
      : Console.log(`failed: ${result.error.message}`)
  )
)

// Behind a route: 202 with the number of outputs, or the error's status from Errors.classify.
const Routes = HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(toPagerDuty))
const Server = HttpRouter.serve(Routes).pipe(
  Layer.provide(NodeHttpServer.layer(createServer, { host: "127.0.0.1", port: Number(process.env["PORT"] ?? 8090) }))
)

const Live = Layer.mergeAll(
  Cache.layerMemory({ capacity: 10_000 }),
  Digest.layerWebCrypto,
  EventsClient.layer({ baseUrl: process.env["PD_EVENTS_URL"] ?? "http://127.0.0.1:8081" }).pipe(
    Layer.provide(NodeHttpClient.layerUndici)
  )
)

const program = Effect.gen(function*() {
  yield* fromFiles
  if (process.env["SERVE"] === "1") yield* Layer.launch(Server)
})

NodeRuntime.runMain(Effect.provide(program, Live))
