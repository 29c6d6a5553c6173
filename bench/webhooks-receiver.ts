// Serves WebhookReceiver's route on 127.0.0.1 for bench/webhooks.ts, with a handler that does nothing.
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import * as WebhookReceiver from "@effect-pagerduty/pagerduty/WebhookReceiver"
import { NodeCrypto, NodeHttpServer } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { PersistedQueue } from "effect/persistence"
import { createServer } from "node:http"

const listen = (routes: Layer.Layer<never, never, HttpRouter.HttpRouter>) =>
  new Promise<number>((resolve) => {
    const server = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
      Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
    )
    Effect.runFork(
      Effect.gen(function*() {
        const address = (yield* HttpServer.HttpServer).address as { readonly port: number }
        resolve(address.port)
        yield* Effect.never
      }).pipe(Effect.provide(server))
    )
  })

// The framework's own cost: a route on the same server that reads the body and responds 202.
export const serveEmptyRoute = () =>
  listen(
    HttpRouter.add(
      "POST",
      "/webhooks/pagerduty",
      (request) => Effect.as(Effect.orDie(request.arrayBuffer), HttpServerResponse.empty({ status: 202 }))
    )
  )

export const serveReceiver = (secret: string, mac: "node" | "webcrypto") => {
  const handlers = WebhookReceiver.handlers().onAny(() => Effect.void)
  const receiver = WebhookReceiver.layer({ secrets: [Redacted.make(secret)], handlers }).pipe(
    Layer.provide([
      Cache.layerMemory({ capacity: 1_000_000 }),
      PersistedQueue.layer.pipe(Layer.provide(PersistedQueue.layerStoreMemory)),
      mac === "node" ? NodeCrypto.layerMac : Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
    ])
  )
  return listen(WebhookReceiver.layerRoute.pipe(Layer.provide(receiver)))
}
