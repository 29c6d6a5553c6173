/**
 * Receives PagerDuty v3 webhooks with typed handlers. The receiver verifies
 * each delivery's signature, responds 202 at once, drops redeliveries of the
 * same `X-Webhook-Id`, and runs the handler for the event's type in the
 * background. The simulator's webhook sender plays PagerDuty's part.
 *
 * Run from the repository root: `node examples/receive-webhooks.ts`
 *
 * The receiver listens on a free port of 127.0.0.1, and the sender posts to it.
 */
import * as WebhookReceiver from "@effect-pagerduty/pagerduty/WebhookReceiver"
import * as WebhookSender from "@effect-pagerduty/simulator/WebhookSender"
import { NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Effect from "effect/Effect"
import * as HttpRouter from "effect/http/HttpRouter"
import * as HttpServer from "effect/http/HttpServer"
import * as Layer from "effect/Layer"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import { createServer } from "node:http"

// The signing secret PagerDuty shows once when the webhook subscription is created.
const signingSecret = Redacted.make("example-webhook-signing-secret")

const program = Effect.gen(function*() {
  // Each handler run reports here, so the example can wait for the background runs.
  const handled = yield* Queue.unbounded<string>()

  // `on` types `event.data` for the event type: here an incident, with its title and number.
  const handlers = WebhookReceiver.handlers()
    .on("incident.triggered", (event) =>
      Effect.andThen(
        Console.log(`handler: incident #${event.data.number} triggered: ${event.data.title}`),
        Queue.offer(handled, event.event_type)
      ))
    .on("incident.acknowledged", (event) =>
      Effect.andThen(
        Console.log(`handler: incident #${event.data.number} acknowledged`),
        Queue.offer(handled, event.event_type)
      ))

  // One worker runs the handlers, so they run in the order the deliveries were queued.
  const Receiver = WebhookReceiver.layerMemory({ secrets: [signingSecret], handlers, concurrency: 1 })
  const Server = HttpRouter.serve(WebhookReceiver.layerRoute, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(Receiver),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )
  // The server runs until the example's scope closes.
  const server = Context.get(yield* Layer.build(Server), HttpServer.HttpServer)
  const url = `${HttpServer.formatAddress(server.address)}/webhooks/pagerduty`
  yield* Console.log(`webhook receiver: ${url}`)

  const pagerDuty = yield* WebhookSender.make({ url, secrets: [signingSecret] })
  const deliver = (label: string, sender: WebhookSender.Sender, envelope: WebhookSender.Envelope, webhookId: string) =>
    Effect.gen(function*() {
      const result = yield* sender.send(envelope, { webhookId })
      yield* Console.log(`delivery ${label}: ${result._tag}, responses ${result.responses.join(", ")}`)
      return result
    })

  const triggered = WebhookSender.event("incident.triggered")
  yield* deliver("incident.triggered", pagerDuty, triggered, "delivery-1")
  // PagerDuty may deliver an event twice. The receiver responds 202 again but runs no handler.
  yield* deliver("incident.triggered again", pagerDuty, triggered, "delivery-1")
  yield* deliver("incident.acknowledged", pagerDuty, WebhookSender.event("incident.acknowledged"), "delivery-2")

  // A sender with the wrong secret gets 401, and PagerDuty would drop that delivery.
  const forger = yield* WebhookSender.make({ url, secrets: [Redacted.make("not-the-signing-secret")] })
  const forged = yield* deliver("with a wrong signature", forger, triggered, "delivery-3")
  if (forged._tag !== "Dropped") return yield* Effect.fail("a delivery with a wrong signature was accepted")

  const runs = [yield* Queue.take(handled), yield* Queue.take(handled)]
  if (runs.join(" ") !== "incident.triggered incident.acknowledged") {
    return yield* Effect.fail(`expected the triggered handler, then the acknowledged one, got ${runs.join(", ")}`)
  }
  yield* Console.log("receive-webhooks finished: two events handled once each, the forged delivery rejected")
})

program.pipe(
  Effect.scoped,
  Effect.provide([NodeHttpClient.layerUndici, Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))]),
  Effect.tapError((error) => Console.error(`receive-webhooks failed: ${String(error)}`)),
  NodeRuntime.runMain
)
