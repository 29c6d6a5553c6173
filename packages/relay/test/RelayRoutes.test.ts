import { NodeHttpServer } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Ref } from "effect"
import { HttpClient, HttpClientRequest, HttpRouter } from "effect/http"
import * as RelayRoutes from "../src/RelayRoutes.ts"

const received: Array<{ source: string; route: string; body: unknown; principal: string }> = []

const TestIngress = Layer.succeed(RelayRoutes.Ingress)({
  routes: ["db", "web"],
  defaultRoute: "db",
  sourceOf: (route) => route === "web" ? "grafana" : undefined,
  accept: (source, route, body, principal) =>
    Effect.sync(() => {
      received.push({ source, route, body, principal })
      return { route, events: [{ dedup_key: "k", event_action: "trigger" }], duplicates: 0 }
    })
})

const Settings = Layer.effect(RelayRoutes.IntakeSettings)(Effect.gen(function*() {
  return {
    credentials: {
      bearerTokens: [Redacted.make("s3cret-token")],
      basic: [{ username: "am", password: Redacted.make("pa:ss") }]
    },
    insecureNoAuth: false,
    bodyLimitBytes: 1024,
    accepting: yield* Ref.make(true)
  }
}))

const ServerLayer = HttpRouter.serve(RelayRoutes.layer, { disableLogger: true }).pipe(
  Layer.provide([TestIngress, Settings]),
  Layer.provideMerge(NodeHttpServer.layerTest)
)

const post = (path: string, body: string, headers: Record<string, string>) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.post(path).pipe(
        HttpClientRequest.bodyText(body, "application/json"),
        HttpClientRequest.setHeaders(headers)
      )
    )
    const json = (yield* response.json) as { status: string; error?: string; message?: string }
    return { status: response.status, json, headers: response.headers }
  })

const bearer = { authorization: "Bearer s3cret-token" }

describe("RelayRoutes", () => {
  it.effect("accepts an authenticated alert on the default route", () =>
    Effect.gen(function*() {
      received.length = 0
      const answer = yield* post("/alertmanager", "{\"version\":\"4\"}", bearer)
      expect(answer.status).toBe(202)
      expect(answer.json.status).toBe("accepted")
      expect(received).toEqual([{ source: "alertmanager", route: "db", body: { version: "4" }, principal: "bearer" }])
    }).pipe(Effect.provide(ServerLayer)))

  it.effect("picks a route by name and accepts basic auth", () =>
    Effect.gen(function*() {
      received.length = 0
      const basic = { authorization: `Basic ${btoa("am:pa:ss")}` }
      const answer = yield* post("/grafana/web", "{}", basic)
      expect(answer.status).toBe(202)
      expect(received[0]?.route).toBe("web")
      expect(received[0]?.principal).toBe("basic:am")
    }).pipe(Effect.provide(ServerLayer)))

  it.effect("answers 401 for missing and wrong credentials", () =>
    Effect.gen(function*() {
      const missing = yield* post("/events", "{}", {})
      expect(missing.status).toBe(401)
      expect(missing.json.error).toBe("Unauthorized")
      const wrongToken = yield* post("/events", "{}", { authorization: "Bearer s3cret-tokem" })
      expect(wrongToken.status).toBe(401)
      const wrongPassword = yield* post("/events", "{}", { authorization: `Basic ${btoa("am:pass")}` })
      expect(wrongPassword.status).toBe(401)
      const wrongScheme = yield* post("/events", "{}", { authorization: "Digest abc" })
      expect(wrongScheme.status).toBe(401)
      expect(wrongScheme.headers["www-authenticate"]).toContain("Bearer")
    }).pipe(Effect.provide(ServerLayer)))

  it.effect("answers 404 naming an unknown route", () =>
    Effect.gen(function*() {
      const answer = yield* post("/alertmanager/nope", "{}", bearer)
      expect(answer.status).toBe(404)
      expect(answer.json.message).toContain("\"nope\"")
      expect(answer.json.message).toContain("db, web")
    }).pipe(Effect.provide(ServerLayer)))

  it.effect("answers 413, 415 and 400 for bad bodies", () =>
    Effect.gen(function*() {
      const large = yield* post("/events", JSON.stringify({ x: "a".repeat(2000) }), bearer)
      expect(large.status).toBe(413)
      expect(large.json.message).toContain("1024 bytes")

      const client = yield* HttpClient.HttpClient
      const text = yield* client.execute(
        HttpClientRequest.post("/events").pipe(
          HttpClientRequest.bodyText("{}", "text/plain"),
          HttpClientRequest.setHeaders(bearer)
        )
      )
      expect(text.status).toBe(415)

      const malformed = yield* post("/events", "{\"a\":", bearer)
      expect(malformed.status).toBe(400)
      expect(malformed.json.message).toContain("malformed JSON")
    }).pipe(Effect.provide(ServerLayer)))

  it.effect("answers 503 with Retry-After once shutdown begins", () =>
    Effect.gen(function*() {
      const settings = yield* RelayRoutes.IntakeSettings
      yield* Ref.set(settings.accepting, false)
      const answer = yield* post("/events", "{}", bearer)
      expect(answer.status).toBe(503)
      expect(answer.headers["retry-after"]).toBe("5")
    }).pipe(Effect.provide(Layer.merge(ServerLayer, Settings))))

  it.effect("answers 400 when a route takes another source", () =>
    Effect.gen(function*() {
      const answer = yield* post("/alertmanager/web", "{}", bearer)
      expect(answer.status).toBe(400)
      expect(answer.json.message).toContain("post to /grafana/web")
    }).pipe(Effect.provide(ServerLayer)))
})
