/**
 * A pipeline served over a real HTTP socket on 127.0.0.1: Alertmanager's
 * webhook body goes in, and the dedupe window and error statuses come out
 * as the route's responses.
 */
import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import * as Pipeline from "@effect-pagerduty/pagerduty/Pipeline"
import * as Sources from "@effect-pagerduty/pagerduty/Sources"
import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Ref } from "effect"
import * as Digest from "effect/crypto/Digest"
import { HttpRouter, HttpServer } from "effect/http"
import { readFileSync } from "node:fs"
import { createServer } from "node:http"

const webhook = readFileSync(
  new URL("../packages/pagerduty/test/fixtures/alertmanager-0.25/memory-firing.webhook.json", import.meta.url),
  "utf8"
)

const serve = (delivered: Ref.Ref<Array<string>>) => {
  const relay = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
    Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
    Pipeline.andThen(Pipeline.format()),
    Pipeline.andThen(Pipeline.dedupeWith(
      Pipeline.deliver((event: { readonly dedup_key?: string | undefined }) =>
        Ref.update(delivered, (all) => [...all, event.dedup_key ?? ""])
      ),
      { window: "5 minutes" }
    ))
  )
  return HttpRouter.serve(
    HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(relay)).pipe(
      HttpRouter.provideRequest(Layer.mergeAll(Digest.layerWebCrypto, Cache.layerMemory()))
    ),
    { disableLogger: true, disableListenLog: true }
  ).pipe(Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })))
}

const post = (body: string) =>
  Effect.gen(function*() {
    const server = yield* HttpServer.HttpServer
    const { port } = server.address as { readonly port: number }
    return yield* Effect.promise(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/alertmanager`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body
      })
      return { status: response.status, body: await response.json() }
    })
  })

describe("Pipeline behind an HTTP route", () => {
  it.live("accepts a webhook once and drops its repeat", () =>
    Effect.gen(function*() {
      const delivered = yield* Ref.make<Array<string>>([])
      yield* Effect.gen(function*() {
        const first = yield* post(webhook)
        const repeat = yield* post(webhook)
        expect(first).toEqual({ status: 202, body: { status: "accepted", emitted: 1 } })
        expect(repeat).toEqual({ status: 202, body: { status: "accepted", emitted: 0 } })
      }).pipe(Effect.provide(serve(delivered)))
      expect((yield* Ref.get(delivered)).length).toBe(1)
    }))

  it.live("answers an invalid webhook with 400", () =>
    Effect.gen(function*() {
      const delivered = yield* Ref.make<Array<string>>([])
      const response = yield* post(JSON.stringify({ version: "4", status: "firing" })).pipe(
        Effect.provide(serve(delivered))
      )
      expect(response.status).toBe(400)
      expect(response.body.reason).toBe("InvalidInput")
    }))
})
