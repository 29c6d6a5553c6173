import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Metric, Ref, Schedule, Schema, Stream } from "effect"
import * as Digest from "effect/crypto/Digest"
import * as HttpRouter from "effect/http/HttpRouter"
import { TestClock } from "effect/testing"
import * as Cache from "../src/Cache.ts"
import * as Pipeline from "../src/Pipeline.ts"
import * as Sources from "../src/Sources.ts"
import { capturedWebhook, readShared } from "./fixtures.ts"

const services = Layer.mergeAll(Digest.layerWebCrypto, Cache.layerMemory())

const alertmanagerToEvents = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
  Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
  Pipeline.andThen(Pipeline.format())
)

const msteams = () => JSON.parse(readShared("alertmanager/prometheus-msteams-prom_post_request.json"))

describe("Pipeline composition", () => {
  it.effect("runs decode, transform and format in order", () =>
    Effect.gen(function*() {
      const events = yield* Pipeline.run(alertmanagerToEvents, capturedWebhook("memory-firing"))
      expect(events.length).toBe(1)
      expect(events[0]?.event_action).toBe("trigger")
    }).pipe(Effect.provide(services)))

  it.effect("names the composed stages", () =>
    Effect.sync(() => {
      expect(alertmanagerToEvents.name).toBe("decode > transform > format")
    }))

  it.effect("fails with the decode stage's error on a wrong payload", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Pipeline.run(alertmanagerToEvents, { version: "4", alerts: "none" }))
      expect(error._tag).toBe("PipelineError")
      expect(error.message).toContain("decode")
    }).pipe(Effect.provide(services)))

  it.effect("drops inputs that a filter rejects", () =>
    Effect.gen(function*() {
      const onlyDb = alertmanagerToEvents.pipe(
        Pipeline.andThen(Pipeline.filter((event) => event.dedup_key === "none"))
      )
      expect(yield* Pipeline.run(onlyDb, capturedWebhook("memory-firing"))).toEqual([])
    }).pipe(Effect.provide(services)))

  it.effect("fans out one group into its alerts", () =>
    Effect.gen(function*() {
      const perAlert = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
        Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
        Pipeline.andThen(Pipeline.expand((group) => Effect.succeed(group.alerts))),
        Pipeline.andThen(Pipeline.map((alert) => alert.fingerprint))
      )
      const fingerprints = yield* Pipeline.run(perAlert, capturedWebhook("memory-firing"))
      expect(fingerprints).toEqual(["df5917da2645f34e", "68887ab8f7b102c4"])
    }))

  it.effect("formats one event per alert in alert mode", () =>
    Effect.gen(function*() {
      const perAlert = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
        Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
        Pipeline.andThen(Pipeline.format({ mode: "alert" }))
      )
      const events = yield* Pipeline.run(perAlert, capturedWebhook("memory-firing"))
      expect(events.map((event) => event.dedup_key)).toEqual(["df5917da2645f34e", "68887ab8f7b102c4"])
    }).pipe(Effect.provide(services)))
})

describe("Pipeline.runStream", () => {
  it.effect("reports a failing item and goes on", () =>
    Effect.gen(function*() {
      const inputs = [capturedWebhook("memory-firing"), { version: "3" }, msteams()]
      const results = yield* Stream.fromIterable(inputs).pipe(
        Pipeline.runStream(alertmanagerToEvents),
        Stream.runCollect
      )
      expect(results.map((result) => result._tag)).toEqual(["Emitted", "Failed", "Emitted"])
      const failed = results[1]
      if (failed?._tag !== "Failed") throw new Error("expected a failed item")
      expect(failed.error._tag).toBe("PipelineError")
      expect(failed.input).toEqual({ version: "3" })
    }).pipe(Effect.provide(services)))

  it.effect("keeps input order with concurrency", () =>
    Effect.gen(function*() {
      const slow = Pipeline.transform((n: number) => Effect.as(Effect.sleep(`${10 - n} millis`), n * 2))
      const fiber = yield* Stream.fromIterable([1, 2, 3]).pipe(
        Pipeline.runStream(slow, { concurrency: 3 }),
        Stream.runCollect,
        Effect.forkChild
      )
      yield* TestClock.adjust("1 second")
      const results = yield* Fiber.join(fiber)
      expect(results.map((result) => result._tag === "Emitted" ? result.outputs : [])).toEqual([[2], [4], [6]])
    }))
})

describe("Pipeline.dedupe", () => {
  const deduped = alertmanagerToEvents.pipe(Pipeline.andThen(Pipeline.dedupe({ window: "5 minutes" })))

  it.effect("drops a repeat within the window", () =>
    Effect.gen(function*() {
      const first = yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      yield* TestClock.adjust("4 minutes")
      const second = yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      expect(first.length).toBe(1)
      expect(second.length).toBe(0)
    }).pipe(Effect.provide(services)))

  it.effect("passes a repeat once the window has passed", () =>
    Effect.gen(function*() {
      yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      yield* TestClock.adjust("5 minutes")
      const again = yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      expect(again.length).toBe(1)
    }).pipe(Effect.provide(services)))

  it.effect("passes the same key with another action", () =>
    Effect.gen(function*() {
      yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      const resolved = yield* Pipeline.run(deduped, capturedWebhook("memory-resolved"))
      expect(resolved.map((event) => event.event_action)).toEqual(["resolve"])
    }).pipe(Effect.provide(services)))

  it.effect("passes the same key and action with other content", () =>
    Effect.gen(function*() {
      yield* Pipeline.run(deduped, capturedWebhook("memory-firing"))
      const changed = capturedWebhook("memory-firing") as any
      changed.alerts[0].annotations.description = "memory > 99%"
      const events = yield* Pipeline.run(deduped, changed)
      expect(events.length).toBe(1)
    }).pipe(Effect.provide(services)))
})

describe("Pipeline.dedupeWith", () => {
  it.effect("deletes the key when a later stage fails", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const flakyDelivery = Pipeline.deliver((event: { readonly dedup_key?: string | undefined }) =>
        Effect.flatMap(
          Ref.updateAndGet(attempts, (count) => count + 1),
          (count) => count === 1 ? Effect.fail("outbox unavailable" as const) : Effect.succeed(event.dedup_key)
        )
      )
      const relay = alertmanagerToEvents.pipe(
        Pipeline.andThen(Pipeline.dedupeWith(flakyDelivery, { window: "5 minutes" }))
      )
      const failed = yield* Effect.flip(Pipeline.run(relay, capturedWebhook("memory-firing")))
      const retried = yield* Pipeline.run(relay, capturedWebhook("memory-firing"))
      const repeated = yield* Pipeline.run(relay, capturedWebhook("memory-firing"))
      expect(failed).toBe("outbox unavailable")
      expect(retried.length).toBe(1)
      expect(repeated.length).toBe(0)
    }).pipe(Effect.provide(services)))

  it("rejects a window that is not positive", () => {
    expect(() => Pipeline.dedupe({ window: 0 })).toThrow(RangeError)
  })
})

describe("Pipeline.policy", () => {
  it.effect("retries a failing stage under the user's policy", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const flaky = Pipeline.deliver((n: number) =>
        Effect.flatMap(
          Ref.updateAndGet(attempts, (count) => count + 1),
          (count) => count < 3 ? Effect.fail("unavailable" as const) : Effect.succeed(n)
        )
      )
      const retried = Pipeline.policy(flaky, (effect) => Effect.retry(effect, Schedule.recurs(5)))
      expect(yield* Pipeline.run(retried, 7)).toEqual([7])
      expect(yield* Ref.get(attempts)).toBe(3)
    }))
})

describe("Pipeline taps", () => {
  it.effect("records each run in the audit sink", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<Array<string>>([])
      const audited = Pipeline.filter((n: number) => n > 1).pipe(
        Pipeline.audit((entry) =>
          Ref.update(entries, (all) => [...all, `${entry._tag}:${entry._tag === "Emitted" ? entry.outputs.length : 0}`])
        )
      )
      yield* Pipeline.run(audited, 1)
      yield* Pipeline.run(audited, 2)
      expect(yield* Ref.get(entries)).toEqual(["Emitted:0", "Emitted:1"])
    }))

  it.effect("records a failed run in the audit sink", () =>
    Effect.gen(function*() {
      const entries = yield* Ref.make<Array<unknown>>([])
      const audited = Pipeline.transform((_: number) => Effect.fail("boom")).pipe(
        Pipeline.audit((entry) => Ref.update(entries, (all) => [...all, entry._tag === "Failed" ? entry.error : null]))
      )
      yield* Effect.flip(Pipeline.run(audited, 1))
      expect(yield* Ref.get(entries)).toEqual(["boom"])
    }))

  it.effect("counts runs by outcome", () =>
    Effect.gen(function*() {
      const counted = Pipeline.filter((n: number) => n > 1).pipe(Pipeline.metrics("counting-test"))
      yield* Pipeline.run(counted, 1)
      yield* Pipeline.run(counted, 2)
      yield* Pipeline.run(counted, 3)
      const emitted = yield* Metric.value(
        Metric.withAttributes(Pipeline.runsTotal, { pipeline: "counting-test", outcome: "emitted" })
      )
      const dropped = yield* Metric.value(
        Metric.withAttributes(Pipeline.runsTotal, { pipeline: "counting-test", outcome: "dropped" })
      )
      expect(emitted.count).toBe(2)
      expect(dropped.count).toBe(1)
    }))

  it.effect("passes values through a tap stage", () =>
    Effect.gen(function*() {
      const seen = yield* Ref.make<Array<number>>([])
      const tapped = Pipeline.identity<number>().pipe(
        Pipeline.andThen(Pipeline.tap((n: number) => Ref.update(seen, (all) => [...all, n])))
      )
      expect(yield* Pipeline.run(tapped, 4)).toEqual([4])
      expect(yield* Ref.get(seen)).toEqual([4])
    }))
})

describe("Pipeline.toHttpHandler", () => {
  const post = async (body: string) => {
    const app = HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(alertmanagerToEvents)).pipe(
      HttpRouter.provideRequest(services)
    )
    const { dispose, handler } = HttpRouter.toWebHandler(app, { disableLogger: true })
    try {
      const response = await handler(
        new Request("http://127.0.0.1/alertmanager", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body
        })
      )
      return { status: response.status, body: await response.json() }
    } finally {
      await dispose()
    }
  }

  it("accepts a valid payload with 202", async () => {
    const response = await post(JSON.stringify(capturedWebhook("memory-firing")))
    expect(response.status).toBe(202)
    expect(response.body).toEqual({ status: "accepted", emitted: 1 })
  })

  it("rejects a body that is not JSON with 400", async () => {
    const response = await post("{not json")
    expect(response.status).toBe(400)
    expect(response.body.error).toBe("InvalidJson")
  })

  it("answers a decode failure with its classified status", async () => {
    const response = await post(JSON.stringify({ version: "4" }))
    expect(response.status).toBe(400)
    expect(response.body.reason).toBe("InvalidInput")
  })
})

describe("Pipeline.decode", () => {
  it.effect("decodes with any schema", () =>
    Effect.gen(function*() {
      const numbers = Pipeline.decode(Schema.Struct({ n: Schema.Number }))
      expect(yield* Pipeline.run(numbers, { n: 1 })).toEqual([{ n: 1 }])
    }))
})
