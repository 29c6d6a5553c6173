import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, Logger, Metric, Queue, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { HttpRouter, HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import * as fs from "node:fs"
import { createServer } from "node:http"
import * as path from "node:path"
import * as Webhook from "../src/Webhook.ts"
import type * as WebhookEvent from "../src/WebhookEvent.ts"
import * as WebhookReceiver from "../src/WebhookReceiver.ts"

const fixtures = path.join(import.meta.dirname, "../../../test/fixtures/pagerduty/webhooks-v3")
const triggered = fs.readFileSync(path.join(fixtures, "samples/triggered_v3.json"))
const annotated = fs.readFileSync(path.join(fixtures, "samples/annotated_v3.json"))
const secret = Redacted.make("receiver-test-secret")
const macLayer = Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))

interface LogLine {
  readonly level: string
  readonly message: unknown
  readonly cause: string
}

const captureLogs = (lines: Array<LogLine>) =>
  Logger.layer([
    Logger.make((options) => {
      lines.push({ level: options.logLevel, message: options.message, cause: String(options.cause) })
    })
  ])

const receiverLayer = <R>(
  handlers: WebhookReceiver.Handlers<R>,
  logs: Array<LogLine> = [],
  extra: Partial<WebhookReceiver.Options<R>> = {}
) =>
  WebhookReceiver.layerMemory({ secrets: [secret], handlers, ...extra }).pipe(
    Layer.provide(captureLogs(logs)),
    Layer.provideMerge(Layer.succeed(Metric.MetricRegistry)(new Map()))
  )

const delivery = (body: Uint8Array, webhookId: string) =>
  Effect.map(Webhook.signatureHeader(body, [secret]), (signature) => ({
    body,
    headers: { "x-pagerduty-signature": signature, "x-webhook-id": webhookId }
  }))

const countOf = (attributes: Record<string, string>) =>
  Effect.map(Metric.value(Metric.withAttributes(WebhookReceiver.deliveries, attributes)), (state) => state.count)

describe("WebhookReceiver.receive", () => {
  it.effect("runs the typed handler once per delivery id", () =>
    Effect.gen(function*() {
      const seen = yield* Queue.unbounded<string>()
      const handlers = WebhookReceiver.handlers().on(
        "incident.triggered",
        (event) => Queue.offer(seen, event.data.title)
      )
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        const first = yield* receiver.receive(yield* delivery(triggered, "delivery-1"))
        const again = yield* receiver.receive(yield* delivery(triggered, "delivery-1"))
        expect(first._tag).toBe("Queued")
        expect(again._tag).toBe("Duplicate")
        expect(yield* Queue.take(seen)).toBe("Test Incident 3")
        yield* Effect.yieldNow
        expect(yield* Queue.size(seen)).toBe(0)
        expect(yield* countOf({ outcome: "verified" })).toBe(1)
        expect(yield* countOf({ outcome: "duplicate" })).toBe(1)
      }).pipe(Effect.provide(receiverLayer(handlers)))
    }).pipe(Effect.provide(macLayer)))

  it.effect("queues concurrent duplicates once", () =>
    Effect.gen(function*() {
      const runs = yield* Queue.unbounded<string>()
      const handlers = WebhookReceiver.handlers().onAny((event) => Queue.offer(runs, event.id))
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        const input = yield* delivery(triggered, "burst")
        const outcomes = yield* Effect.forEach(Array.from({ length: 10 }), () => receiver.receive(input), {
          concurrency: "unbounded"
        })
        expect(outcomes.filter((outcome) => outcome._tag === "Queued")).toHaveLength(1)
        expect(yield* Queue.take(runs)).toBe("01BZYIL05THJDFF2Y08X9SVMTU")
        yield* Effect.repeat(Effect.yieldNow, { times: 10 })
        expect(yield* Queue.size(runs)).toBe(0)
      }).pipe(Effect.provide(receiverLayer(handlers)))
    }).pipe(Effect.provide(macLayer)))

  it.effect("remembers delivery ids for 48 hours", () =>
    Effect.gen(function*() {
      const handlers = WebhookReceiver.handlers()
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        const input = yield* delivery(annotated, "kept")
        expect((yield* receiver.receive(input))._tag).toBe("Queued")
        yield* TestClock.adjust("47 hours")
        expect((yield* receiver.receive(input))._tag).toBe("Duplicate")
      }).pipe(Effect.provide(receiverLayer(handlers)))
    }).pipe(Effect.provide(macLayer)))

  it.effect("answers before a slow handler finishes", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const handlers = WebhookReceiver.handlers().on(
        "incident.triggered",
        () => Effect.andThen(Deferred.succeed(started, undefined), Effect.never)
      )
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        expect((yield* receiver.receive(yield* delivery(triggered, "slow-1")))._tag).toBe("Queued")
        yield* Deferred.await(started)
        expect((yield* receiver.receive(yield* delivery(triggered, "slow-2")))._tag).toBe("Queued")
      }).pipe(Effect.provide(receiverLayer(handlers, [], { concurrency: 1 })))
    }).pipe(Effect.provide(macLayer)))

  it.effect("logs a failing handler once with its cause", () =>
    Effect.gen(function*() {
      const logs: Array<LogLine> = []
      const failed = yield* Deferred.make<void>()
      const handlers = WebhookReceiver.handlers()
        .on("incident.annotated", () => Effect.fail("handler exploded"))
        .onAny(() => Effect.void)
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        yield* receiver.receive(yield* delivery(annotated, "failing"))
        const failures = Metric.withAttributes(WebhookReceiver.handlerRuns, {
          outcome: "failed",
          eventType: "incident.annotated"
        })
        while ((yield* Metric.value(failures)).count === 0) yield* Effect.yieldNow
        yield* Deferred.succeed(failed, undefined)
        const errors = logs.filter((line) => line.level === "Error")
        expect(errors).toHaveLength(1)
        expect(errors[0]!.cause).toContain("handler exploded")
      }).pipe(Effect.provide(receiverLayer(handlers, logs)))
    }).pipe(Effect.provide(macLayer)))

  it.effect("routes unknown event types to onUnknown", () =>
    Effect.gen(function*() {
      const seen = yield* Queue.unbounded<WebhookEvent.UnknownEvent>()
      const handlers = WebhookReceiver.handlers()
        .on("incident.triggered", () => Effect.die("not this one"))
        .onUnknown((event) => Queue.offer(seen, event))
      const raw = JSON.parse(triggered.toString("utf8"))
      raw.event.event_type = "incident.something_new"
      const body = new TextEncoder().encode(JSON.stringify(raw))
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        yield* receiver.receive(yield* delivery(body, "unknown-1"))
        const event = yield* Queue.take(seen)
        expect(event.event_type).toBe("incident.something_new")
        expect((event.data as { title: string }).title).toBe("Test Incident 3")
      }).pipe(Effect.provide(receiverLayer(handlers)))
    }).pipe(Effect.provide(macLayer)))

  it.effect("rejected deliveries are counted by reason", () =>
    Effect.gen(function*() {
      const logs: Array<LogLine> = []
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        const bad = yield* receiver.receive({ body: triggered, headers: { "x-pagerduty-signature": "v1=00" } })
        expect(bad._tag).toBe("Rejected")
        yield* receiver.receive({ body: triggered, headers: {} })
        expect(yield* countOf({ outcome: "rejected", reason: "MalformedSignature" })).toBe(1)
        expect(yield* countOf({ outcome: "rejected", reason: "MissingSignature" })).toBe(1)
        expect(JSON.stringify(logs)).not.toContain(Redacted.value(secret))
        expect(JSON.stringify(logs)).not.toContain("Test Incident 3")
      }).pipe(Effect.provide(receiverLayer(WebhookReceiver.handlers(), logs)))
    }).pipe(Effect.provide(macLayer)))

  it("rejects a dedupe time to live under 48 hours", () => {
    expect(() =>
      Effect.runSync(
        Effect.scoped(Layer.build(
          WebhookReceiver.layerMemory({
            secrets: [secret],
            handlers: WebhookReceiver.handlers(),
            dedupeTimeToLive: "47 hours"
          })
        ))
      )
    ).toThrow(/dedupeTimeToLive/)
  })

  it("rejects a second handler for one event type", () => {
    const handlers = WebhookReceiver.handlers().on("incident.resolved", () => Effect.void)
    expect(() => handlers.on("incident.resolved", () => Effect.void)).toThrow(RangeError)
  })
})

const serverLayer = <R>(handlers: WebhookReceiver.Handlers<R>, extra: Partial<WebhookReceiver.Options<R>> = {}) =>
  HttpRouter.serve(WebhookReceiver.layerRoute, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provide(receiverLayer(handlers, [], { maxBodyBytes: 4096, ...extra })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provide(captureLogs([]))
  )

const baseUrl = Effect.map(Effect.service(HttpServer.HttpServer), (server) => {
  const address = server.address as { readonly port: number }
  return `http://127.0.0.1:${address.port}/webhooks/pagerduty`
})

const post = (url: string, body: Uint8Array | string, headers: Record<string, string>) =>
  Effect.promise(() =>
    fetch(url, { method: "POST", body: body as BodyInit, headers: { "content-type": "application/json", ...headers } })
  )
    .pipe(Effect.map((response) => response.status))

describe("WebhookReceiver route over HTTP", () => {
  it.live("answers 202, 401, 400 and 413", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const signature = yield* Webhook.signatureHeader(triggered, [secret])
      expect(yield* post(url, triggered, { "x-pagerduty-signature": signature, "x-webhook-id": "http-1" })).toBe(202)
      expect(yield* post(url, triggered, { "x-pagerduty-signature": signature, "x-webhook-id": "http-1" })).toBe(202)
      expect(yield* post(url, triggered, { "x-pagerduty-signature": `v1=${"0".repeat(64)}` })).toBe(401)
      expect(yield* post(url, triggered, {})).toBe(401)
      const notJson = new TextEncoder().encode("{not json")
      const notJsonSignature = yield* Webhook.signatureHeader(notJson, [secret])
      expect(yield* post(url, notJson, { "x-pagerduty-signature": notJsonSignature })).toBe(400)
      const large = new Uint8Array(5000).fill(32)
      const largeSignature = yield* Webhook.signatureHeader(large, [secret])
      expect(yield* post(url, large, { "x-pagerduty-signature": largeSignature })).toBe(413)
    }).pipe(Effect.provide(serverLayer(WebhookReceiver.handlers())), Effect.provide(macLayer)))

  it.live("answers the configured status for a bad signature", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      expect(yield* post(url, triggered, { "x-pagerduty-signature": `v1=${"0".repeat(64)}` })).toBe(503)
    }).pipe(Effect.provide(serverLayer(WebhookReceiver.handlers(), { rejectStatus: 503 }))))

  it.live("answers 202 while a handler is still running", () =>
    Effect.gen(function*() {
      const release = yield* Deferred.make<void>()
      const started = yield* Deferred.make<void>()
      const handlers = WebhookReceiver.handlers().onAny(() =>
        Effect.andThen(Deferred.succeed(started, undefined), Deferred.await(release))
      )
      yield* Effect.gen(function*() {
        const url = yield* baseUrl
        const signature = yield* Webhook.signatureHeader(triggered, [secret])
        const status = yield* post(url, triggered, { "x-pagerduty-signature": signature, "x-webhook-id": "slow" })
        expect(status).toBe(202)
        yield* Deferred.await(started)
        expect(yield* Deferred.isDone(release)).toBe(false)
        yield* Deferred.succeed(release, undefined)
      }).pipe(Effect.provide(serverLayer(handlers)))
    }).pipe(Effect.provide(macLayer)))
})
