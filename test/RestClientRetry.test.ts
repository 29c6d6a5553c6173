import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { createServer } from "node:net"
import { fromEmail, token, withSimulator } from "./support/restServer.ts"

const client = RestClient.RestClient
const simulator = RestApi.RestSimulator

describe("RestClient retries", () => {
  it.live("waits for ratelimit-reset after a 429", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "RateLimited", headers: true, resetSeconds: 1 })
      const service = yield* pd.getService("PSVC001")
      expect(service.id).toBe("PSVC001")
      const requests = yield* sim.requests
      expect(requests.map((request) => request.status)).toEqual([429, 200])
      expect(requests[1]!.receivedAt - requests[0]!.receivedAt).toBeGreaterThanOrEqual(950)
    })))

  it.live("retries a 429 without headers with backoff", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "RateLimited", headers: false }, { times: 2 })
      const incident = yield* pd.createIncident({ title: "After two 429s", service: { id: "PSVC001" } })
      expect(incident.title).toBe("After two 429s")
      expect((yield* sim.requests).map((request) => request.status)).toEqual([429, 429, 201])
    })))

  it.live("reports RateLimited once retries run out", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        yield* sim.injectFault({ _tag: "RateLimited", headers: true, resetSeconds: 0 }, { times: 5 })
        const error = yield* Effect.flip(pd.getUser("PUSR001"))
        expect(error.reason._tag).toBe("RateLimited")
        if (error.reason._tag !== "RateLimited") return
        expect(error.reason.code).toBe(2020)
        expect(error.reason.limit).toBe(960)
        expect(error.reason.remaining).toBe(0)
        expect((yield* sim.requests).length).toBe(2)
      }),
      { client: { retry: { times: 1, base: "5 millis" } } }
    ))

  it.live("retries a 5xx on an idempotent GET", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 503 }, { times: 2 })
      const user = yield* pd.getUser("PUSR001")
      expect(user.id).toBe("PUSR001")
      expect((yield* sim.requests).map((request) => request.status)).toEqual([503, 503, 200])
    })))

  it.live("retries a 5xx on a PUT update", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 500 }, { method: "PUT" })
      const incident = yield* pd.acknowledgeIncident("PINC0000001")
      expect(incident.status).toBe("acknowledged")
      expect((yield* sim.requests).map((request) => request.status)).toEqual([500, 200])
    })))

  it.live("does not retry a 5xx on incident creation", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 502 })
      const error = yield* Effect.flip(pd.createIncident({ title: "Once only", service: { id: "PSVC001" } }))
      expect(error.reason._tag).toBe("ServerError")
      expect((yield* sim.requests).length).toBe(1)
    })))

  it.live("does not retry a 5xx on a merge", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 500 })
      const error = yield* Effect.flip(pd.mergeIncidents("PINC0000001", ["PINC0000004"]))
      expect(error.reason._tag).toBe("ServerError")
      expect((yield* sim.requests).length).toBe(1)
    })))

  it.live("retries a GET that timed out", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        yield* sim.injectFault({ _tag: "Delay", delay: "1 second" })
        const incident = yield* pd.getIncident("PINC0000003")
        expect(incident.id).toBe("PINC0000003")
        expect((yield* sim.requests).length).toBe(2)
      }),
      { client: { timeout: "200 millis" } }
    ))

  it.live("does not retry a note that timed out", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        yield* sim.injectFault({ _tag: "Delay", delay: "500 millis" })
        const error = yield* Effect.flip(pd.createIncidentNote("PINC0000001", "Slow note"))
        expect(error.reason._tag).toBe("Timeout")
        // The server still stores the note after the client gave up: a retry would have added it twice.
        yield* Effect.sleep("600 millis")
        expect(sim.store.notes.get("PINC0000001")?.length).toBe(1)
      }),
      { client: { timeout: "100 millis" } }
    ))

  it.live("calls the rate-limit wrapper once per attempt", () => {
    let attempts = 0
    return withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        yield* sim.injectFault({ _tag: "Status", status: 500 })
        yield* pd.getService("PSVC002")
        expect(attempts).toBe(2)
      }),
      {
        client: {
          rateLimit: (attempt) =>
            Effect.suspend(() => {
              attempts += 1
              return attempt
            })
        }
      }
    )
  })
})

const closedPort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
)

describe("RestClient transport failures", () => {
  it.live("retries a create refused before connecting", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      let attempts = 0
      const layer = RestClient.layer({
        token: Redacted.make(token),
        baseUrl: `http://127.0.0.1:${port}`,
        from: fromEmail,
        retry: { times: 2, base: "5 millis" },
        rateLimit: (attempt) =>
          Effect.suspend(() => {
            attempts += 1
            return attempt
          })
      }).pipe(Layer.provide(NodeHttpClient.layerUndici))
      const error = yield* Effect.flip(
        Effect.flatMap(client, (pd) => pd.createIncident({ title: "Refused", service: { id: "PSVC001" } })).pipe(
          Effect.provide(layer)
        )
      )
      expect(error.reason._tag).toBe("Transport")
      if (error.reason._tag !== "Transport") return
      expect(error.reason.stage).toBe("connect")
      expect(error.reason.description).toContain("ECONNREFUSED")
      expect(attempts).toBe(3)
      expect(error.message).toContain("POST /incidents")
    }))
})
