import { NodeHttpServer, NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Deferred, Duration, Effect, Layer, Logger, Metric, Queue, Redacted } from "effect"
import { Mac, SecureRandom } from "effect/crypto"
import { HttpRouter, HttpServer } from "effect/http"
import { PersistedQueue, Redis } from "effect/persistence"
import { TestClock } from "effect/testing"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import { createServer } from "node:http"
import * as path from "node:path"
import * as Cache from "../src/Cache.ts"
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

  it.effect("responds before a slow handler finishes", () =>
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
  it.live("responds 202, 401, 400 and 413", () =>
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

  it.live("responds the configured status to a bad signature", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      expect(yield* post(url, triggered, { "x-pagerduty-signature": `v1=${"0".repeat(64)}` })).toBe(503)
    }).pipe(Effect.provide(serverLayer(WebhookReceiver.handlers(), { rejectStatus: 503 }))))

  it.live("responds 202 while a handler still runs", () =>
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

describe("WebhookReceiver with Redis stores", () => {
  const prefix = `effect-pagerduty-test:receiver:${process.pid}:${Date.now()}:`
  const redis = NodeRedis.layer({ url: "redis://127.0.0.1:6379" })

  const deleteTestKeys = Effect.gen(function*() {
    const client = yield* Redis.Redis
    let cursor = "0"
    do {
      const [next, keys] = yield* client.send<[string, Array<string>]>("SCAN", cursor, "MATCH", `${prefix}*`)
      cursor = next
      if (keys.length > 0) yield* client.send("DEL", ...keys)
    } while (cursor !== "0")
  })

  const redisReceiver = <R>(handlers: WebhookReceiver.Handlers<R>, lockExpiration: Duration.Input = "30 seconds") =>
    WebhookReceiver.layer({ secrets: [secret], handlers }).pipe(
      Layer.provide([
        Cache.layer().pipe(Layer.provide(Cache.layerStoreRedis({ prefix: `${prefix}cache:` }))),
        PersistedQueue.layer.pipe(
          Layer.provide(
            PersistedQueue.layerStoreRedis({ prefix: `${prefix}queue:`, pollInterval: "50 millis", lockExpiration })
          )
        ),
        macLayer
      ]),
      Layer.provide(captureLogs([]))
    )

  it.live("an event queued before a shutdown is handled after it", () =>
    Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const stuck = WebhookReceiver.handlers().onAny(() =>
        Effect.andThen(Deferred.succeed(started, undefined), Effect.never)
      )
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        const outcome = yield* receiver.receive(yield* delivery(triggered, "durable-1"))
        expect(outcome._tag).toBe("Queued")
        yield* Deferred.await(started)
      }).pipe(Effect.provide(redisReceiver(stuck)))

      const seen = yield* Queue.unbounded<string>()
      const recording = WebhookReceiver.handlers().onAny((event) => Queue.offer(seen, event.id))
      yield* Effect.gen(function*() {
        const receiver = yield* WebhookReceiver.WebhookReceiver
        expect(yield* Queue.take(seen)).toBe("01BZYIL05THJDFF2Y08X9SVMTU")
        const again = yield* receiver.receive(yield* delivery(triggered, "durable-1"))
        expect(again._tag).toBe("Duplicate")
      }).pipe(Effect.provide(redisReceiver(recording)))
    }).pipe(
      Effect.ensuring(Effect.orDie(deleteTestKeys)),
      Effect.provide(redis),
      Effect.provide(macLayer)
    ), 30_000)

  it.live("an event queued before a crash is handled after it", () =>
    Effect.gen(function*() {
      const crashPrefix = `${prefix}crash:`
      const child = spawnSync(process.execPath, [
        path.join(import.meta.dirname, "fixtures/crash-receiver.ts"),
        crashPrefix
      ], {
        encoding: "utf8",
        timeout: 30_000
      })
      expect(child.signal).toBe("SIGKILL")
      expect(child.stdout).toContain("Queued")
      expect(child.stdout).toContain("handler started")

      const seen = yield* Queue.unbounded<string>()
      const recording = WebhookReceiver.handlers().onAny((event) => Queue.offer(seen, event.id))
      const receiverAfterCrash = WebhookReceiver.layer({ secrets: [secret], handlers: recording }).pipe(
        Layer.provide([
          Cache.layer().pipe(Layer.provide(Cache.layerStoreRedis({ prefix: `${crashPrefix}cache:` }))),
          PersistedQueue.layer.pipe(
            Layer.provide(
              PersistedQueue.layerStoreRedis({
                prefix: `${crashPrefix}queue:`,
                pollInterval: "50 millis",
                lockExpiration: "1 second",
                lockRefreshInterval: "200 millis"
              })
            )
          ),
          macLayer
        ]),
        Layer.provide(captureLogs([]))
      )
      yield* Effect.gen(function*() {
        yield* WebhookReceiver.WebhookReceiver
        expect(yield* Queue.take(seen)).toBe("01BZYIL05THJDFF2Y08X9SVMTU")
      }).pipe(Effect.provide(receiverAfterCrash))
    }).pipe(
      Effect.ensuring(Effect.orDie(deleteTestKeys)),
      Effect.provide(redis),
      Effect.provide(macLayer)
    ), 60_000)
})

describe("WebhookReceiver.layerConfig", () => {
  it.effect("reads the current and previous secrets", () =>
    Effect.gen(function*() {
      const previous = Redacted.make("the-previous-secret")
      const receiver = WebhookReceiver.layerConfig({ handlers: WebhookReceiver.handlers() }).pipe(
        Layer.provide([
          Cache.layerMemory(),
          PersistedQueue.layer.pipe(Layer.provide(PersistedQueue.layerStoreMemory)),
          macLayer,
          ConfigProvider.layer(ConfigProvider.fromUnknown({
            PAGERDUTY_WEBHOOK_SECRET: "a-new-secret",
            PAGERDUTY_WEBHOOK_SECRET_PREVIOUS: Redacted.value(previous)
          })),
          captureLogs([])
        ])
      )
      yield* Effect.gen(function*() {
        const service = yield* WebhookReceiver.WebhookReceiver
        const body = annotated
        const signature = yield* Webhook.signatureHeader(body, [previous])
        const outcome = yield* service.receive({ body, headers: { "x-pagerduty-signature": signature } })
        expect(outcome._tag).toBe("Queued")
      }).pipe(Effect.provide(receiver))
    }).pipe(Effect.provide(macLayer)))
})
