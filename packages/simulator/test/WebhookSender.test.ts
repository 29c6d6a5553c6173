import * as Webhook from "@effect-pagerduty/pagerduty/Webhook"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { FetchHttpClient } from "effect/http"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import * as WebhookSender from "../src/WebhookSender.ts"

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: Buffer
}

// Starts a node:http server on 127.0.0.1 that responds to each request with the next planned status,
// where "hang" never responds. The last status repeats.
const plannedServer = (plan: ReadonlyArray<number | "hang">) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ url: string; received: Array<Received>; close: () => Promise<void> }>((resolve) => {
        const received: Array<Received> = []
        const server = createServer((request, response) => {
          const chunks: Array<Buffer> = []
          request.on("data", (chunk: Buffer) => chunks.push(chunk))
          request.on("end", () => {
            received.push({ headers: request.headers, body: Buffer.concat(chunks) })
            const status = plan[Math.min(received.length - 1, plan.length - 1)]!
            if (status === "hang") return
            response.writeHead(status).end()
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resolve({
            url: `http://127.0.0.1:${port}/hook`,
            received,
            close: () =>
              new Promise((done) => {
                server.closeAllConnections()
                server.close(() => done())
              })
          })
        })
      })
    ),
    (server) => Effect.promise(server.close)
  )

const secretA = Redacted.make("sender-secret-a")
const secretB = Redacted.make("sender-secret-b")
const layers = Layer.mergeAll(
  FetchHttpClient.layer,
  Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
)

const makeSender = (url: string, extra: Partial<WebhookSender.Options> = {}) =>
  WebhookSender.make({
    url,
    secrets: [secretA],
    retryBaseDelay: "10 millis",
    maxRetries: 3,
    timeout: "300 millis",
    ...extra
  })

describe("WebhookSender", () => {
  it("builds every documented event type from samples", () => {
    expect(WebhookSender.eventTypes).toHaveLength(31)
    for (const eventType of WebhookSender.eventTypes) {
      const envelope = WebhookSender.event(eventType)
      expect(envelope.event.event_type).toBe(eventType)
      expect(envelope.event.data).toBeDefined()
    }
    expect(() => WebhookSender.event("incident.unheard_of")).toThrow(RangeError)
  })

  it.live("sends PagerDuty's headers and a signature per secret", () =>
    Effect.gen(function*() {
      const server = yield* plannedServer([202])
      const sender = yield* makeSender(server.url, { secrets: [secretA, secretB], subscriptionId: "PSUB123" })
      const result = yield* sender.send(WebhookSender.event("incident.triggered"), { webhookId: "wh-1" })
      expect(result._tag).toBe("Delivered")
      const [request] = server.received
      expect(request!.headers["user-agent"]).toBe("PagerDuty-Webhook/V3.0")
      expect(request!.headers["content-type"]).toBe("application/json")
      expect(request!.headers["x-webhook-id"]).toBe("wh-1")
      expect(request!.headers["x-webhook-subscription"]).toBe("PSUB123")
      const signature = request!.headers["x-pagerduty-signature"] as string
      expect(signature.split(",")).toHaveLength(2)
      yield* Webhook.verify({ body: request!.body, signatureHeader: signature, secrets: [secretA] })
      yield* Webhook.verify({ body: request!.body, signatureHeader: signature, secrets: [secretB] })
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.live("retries 5xx, 429 and timeouts with one webhook id", () =>
    Effect.gen(function*() {
      const server = yield* plannedServer([500, 429, "hang", 200])
      const sender = yield* makeSender(server.url)
      const result = yield* sender.send(WebhookSender.event("incident.resolved"))
      expect(result._tag).toBe("Delivered")
      expect(result.responses).toEqual([500, 429, "timeout", 200])
      expect(new Set(server.received.map((request) => request.headers["x-webhook-id"])).size).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.live("gives up after the last retry", () =>
    Effect.gen(function*() {
      const server = yield* plannedServer([503])
      const sender = yield* makeSender(server.url, { maxRetries: 2 })
      const result = yield* sender.send(WebhookSender.event("incident.resolved"))
      expect(result._tag).toBe("Exhausted")
      expect(result.attempts).toBe(3)
      expect(yield* sender.consecutiveDrops).toBe(1)
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.live("drops other 4xx and disables after three drops", () =>
    Effect.gen(function*() {
      const server = yield* plannedServer([400, 401, 404, 202])
      const sender = yield* makeSender(server.url)
      for (const expected of [400, 401, 404]) {
        const result = yield* sender.send(WebhookSender.event("incident.acknowledged"))
        expect(result._tag).toBe("Dropped")
        expect(result.responses).toEqual([expected])
      }
      expect(yield* sender.disabled).toBe(true)
      const skipped = yield* sender.send(WebhookSender.event("incident.acknowledged"))
      expect(skipped._tag).toBe("Disabled")
      expect(server.received).toHaveLength(3)
      yield* sender.enable
      expect((yield* sender.send(WebhookSender.event("incident.acknowledged")))._tag).toBe("Delivered")
    }).pipe(Effect.scoped, Effect.provide(layers)))

  it.live("a delivery resets the drop count", () =>
    Effect.gen(function*() {
      const server = yield* plannedServer([400, 400, 202, 400])
      const sender = yield* makeSender(server.url)
      for (let i = 0; i < 4; i++) yield* sender.send(WebhookSender.event("service.updated"))
      expect(yield* sender.consecutiveDrops).toBe(1)
      expect(yield* sender.disabled).toBe(false)
    }).pipe(Effect.scoped, Effect.provide(layers)))
})
