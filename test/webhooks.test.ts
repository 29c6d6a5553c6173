import * as WebhookEvent from "@effect-pagerduty/pagerduty/WebhookEvent"
import * as WebhookReceiver from "@effect-pagerduty/pagerduty/WebhookReceiver"
import * as WebhookSender from "@effect-pagerduty/simulator/WebhookSender"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Queue, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { FetchHttpClient, HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import { createServer } from "node:http"

const secret = Redacted.make("end-to-end-secret")
const quietLogs = Logger.layer([])
const clientLayers = Layer.mergeAll(
  FetchHttpClient.layer,
  Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
)

// Responds 500 to the first `failures` requests of /flaky, then hands them to the receiver.
const flakyRoute = (failures: number) =>
  HttpRouter.use((router) =>
    Effect.gen(function*() {
      const receiver = yield* WebhookReceiver.WebhookReceiver
      let seen = 0
      yield* router.add(
        "POST",
        "/flaky",
        (request) =>
          ++seen <= failures ? Effect.succeed(HttpServerResponse.empty({ status: 500 })) : receiver.handle(request)
      )
    })
  )

const serve = <R>(handlers: WebhookReceiver.Handlers<R>) =>
  HttpRouter.serve(Layer.mergeAll(WebhookReceiver.layerRoute, flakyRoute(2)), {
    disableLogger: true,
    disableListenLog: true
  }).pipe(
    Layer.provide(WebhookReceiver.layerMemory({ secrets: [secret], handlers })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(quietLogs)
  )

const baseUrl = Effect.map(Effect.service(HttpServer.HttpServer), (server) => {
  const address = server.address as { readonly port: number }
  return `http://127.0.0.1:${address.port}`
})

describe("webhooks from the simulator to a handler", () => {
  it.live("every event type reaches its handler once", () =>
    Effect.gen(function*() {
      const seen = yield* Queue.unbounded<WebhookEvent.AnyEvent>()
      const handlers = WebhookReceiver.handlers()
        .on("incident.triggered", (event) => Queue.offer(seen, event))
        .onAny((event) => event.event_type === "incident.triggered" ? Effect.void : Queue.offer(seen, event))
      yield* Effect.gen(function*() {
        const url = `${yield* baseUrl}/webhooks/pagerduty`
        const sender = yield* WebhookSender.make({ url, secrets: [secret], retryBaseDelay: "10 millis" })
        for (const eventType of WebhookSender.eventTypes) {
          const result = yield* sender.send(WebhookSender.event(eventType), { webhookId: `e2e-${eventType}` })
          expect(result._tag, eventType).toBe("Delivered")
          expect(result.responses).toEqual([202])
        }
        const again = yield* sender.send(WebhookSender.event("incident.resolved"), {
          webhookId: "e2e-incident.resolved"
        })
        expect(again._tag).toBe("Delivered")

        const received: Array<string> = []
        for (let i = 0; i < WebhookSender.eventTypes.length; i++) {
          const event = yield* Queue.take(seen)
          expect(WebhookEvent.isKnown(event), event.event_type).toBe(true)
          received.push(event.event_type)
        }
        expect(received.sort()).toEqual([...WebhookSender.eventTypes].sort())
        yield* Effect.sleep("50 millis")
        expect(yield* Queue.size(seen)).toBe(0)
      }).pipe(Effect.provide(serve(handlers)))
    }).pipe(Effect.provide(clientLayers)))

  it.live("a 500 from the receiver is retried and handled once", () =>
    Effect.gen(function*() {
      const seen = yield* Queue.unbounded<string>()
      const handlers = WebhookReceiver.handlers().on("incident.acknowledged", (event) => Queue.offer(seen, event.id))
      yield* Effect.gen(function*() {
        const url = `${yield* baseUrl}/flaky`
        const sender = yield* WebhookSender.make({ url, secrets: [secret], retryBaseDelay: "10 millis" })
        const result = yield* sender.send(WebhookSender.event("incident.acknowledged", { id: "ACK1" }))
        expect(result._tag).toBe("Delivered")
        expect(result.responses).toEqual([500, 500, 202])
        expect(yield* Queue.take(seen)).toBe("ACK1")
      }).pipe(Effect.provide(serve(handlers)))
    }).pipe(Effect.provide(clientLayers)))

  it.live("a 400 is dropped and three drops disable the sender", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const url = `${yield* baseUrl}/webhooks/pagerduty`
        const sender = yield* WebhookSender.make({ url, secrets: [secret], retryBaseDelay: "10 millis" })
        // signed correctly, but an incident without its fields is not a valid envelope
        const invalid = WebhookSender.event("incident.triggered", { data: { type: "incident" } })
        for (let i = 0; i < 3; i++) {
          const result = yield* sender.send(invalid)
          expect(result._tag).toBe("Dropped")
          expect(result.responses).toEqual([400])
        }
        expect(yield* sender.disabled).toBe(true)
      }).pipe(Effect.provide(serve(WebhookReceiver.handlers())))
    }).pipe(Effect.provide(clientLayers)))

  it.live("a wrong secret gets 401 and is dropped", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const url = `${yield* baseUrl}/webhooks/pagerduty`
        const sender = yield* WebhookSender.make({
          url,
          secrets: [Redacted.make("stale")],
          retryBaseDelay: "10 millis"
        })
        const result = yield* sender.send(WebhookSender.event("incident.triggered"))
        expect(result._tag).toBe("Dropped")
        expect(result.responses).toEqual([401])
      }).pipe(Effect.provide(serve(WebhookReceiver.handlers())))
    }).pipe(Effect.provide(clientLayers)))

  it.live("rotation: either of two signatures is accepted", () =>
    Effect.gen(function*() {
      yield* Effect.gen(function*() {
        const url = `${yield* baseUrl}/webhooks/pagerduty`
        const sender = yield* WebhookSender.make({
          url,
          secrets: [Redacted.make("the-new-secret"), secret],
          retryBaseDelay: "10 millis"
        })
        const result = yield* sender.send(WebhookSender.event("pagey.ping"))
        expect(result._tag).toBe("Delivered")
      }).pipe(Effect.provide(serve(WebhookReceiver.handlers())))
    }).pipe(Effect.provide(clientLayers)))
})
