import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { token, withSimulator } from "./support/restServer.ts"

const client = RestClient.RestClient
const simulator = RestApi.RestSimulator

const fixtures = JSON.parse(
  readFileSync(new URL("./fixtures/pagerduty/rest/error-responses.json", import.meta.url), "utf8")
)

describe("RestClient error responses", () => {
  it.live("decodes the documented error shape", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 400, body: fixtures.error_shape.body })
      const error = yield* Effect.flip(pd.getIncident("PINC0000001"))
      expect(error.reason._tag).toBe("BadRequest")
      if (error.reason._tag !== "BadRequest") return
      expect(error.reason.status).toBe(400)
      expect(error.reason.code).toBe(2001)
      expect(error.reason.apiMessage).toBe("Error Message String")
      expect(error.reason.errors).toEqual(["human-readable error details", "more details"])
      expect(error.message).toContain("GET /incidents/PINC0000001")
      expect(error.message).toContain("code 2001")
      expect(error.message).toContain("more details")
      expect(error.reason.retryable).toBe(false)
    })))

  it.live("decodes the documented 429 with its headers", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const sample = fixtures.rate_limited_429
        yield* sim.injectFault({
          _tag: "RateLimited",
          headers: true,
          resetSeconds: Number(sample.headers["ratelimit-reset"])
        })
        const error = yield* Effect.flip(pd.getService("PSVC001"))
        expect(error.reason._tag).toBe("RateLimited")
        if (error.reason._tag !== "RateLimited") return
        expect(error.reason.code).toBe(sample.body.error.code)
        expect(error.reason.apiMessage).toBe(sample.body.error.message)
        expect(error.reason.retryAfter === undefined ? undefined : Duration.toMillis(error.reason.retryAfter)).toBe(
          20_000
        )
        expect(error.reason.limit).toBe(Number(sample.headers["ratelimit-limit"]))
        expect(error.reason.remaining).toBe(0)
        expect(error.message).toContain("retry after 20s")
      }),
      { client: { retry: false } }
    ))

  it.live("decodes the documented 404", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const error = yield* Effect.flip(pd.getUser("PNOSUCH"))
      expect(error.reason._tag).toBe("NotFound")
      if (error.reason._tag !== "NotFound") return
      expect(error.reason.code).toBe(fixtures.not_found_example.body.error.code)
      expect(error.reason.apiMessage).toBe(fixtures.not_found_example.body.error.message)
      expect(error.message).toBe(
        "GET /users/PNOSUCH was not found (404 (code 2100, Not Found)); check the id and the region"
      )
    })))

  it.live("accepts errors given as a single string", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({
        _tag: "Status",
        status: 400,
        body: { error: { message: "Invalid Input Provided", code: 2001, errors: "Title is too long" } }
      })
      const error = yield* Effect.flip(pd.createIncident({ title: "x", service: { id: "PSVC001" } }))
      expect(error.reason._tag).toBe("BadRequest")
      if (error.reason._tag !== "BadRequest") return
      expect(error.reason.errors).toEqual(["Title is too long"])
    })))

  it.live("accepts a bare array body", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 403, body: ["Access Denied", "missing incidents.write"] })
      const error = yield* Effect.flip(pd.acknowledgeIncident("PINC0000001"))
      expect(error.reason._tag).toBe("Forbidden")
      if (error.reason._tag !== "Forbidden") return
      expect(error.reason.errors).toEqual(["Access Denied", "missing incidents.write"])
      expect(error.reason.code).toBeUndefined()
    })))

  it.live("maps 402, 413 and 500 to their reasons", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const cases = [[402, "PaymentRequired"], [413, "BadRequest"], [500, "ServerError"]] as const
        for (const [status, tag] of cases) {
          yield* sim.injectFault({ _tag: "Status", status })
          const error = yield* Effect.flip(pd.getService("PSVC001"))
          expect(error.reason._tag).toBe(tag)
        }
      }),
      { client: { retry: false } }
    ))

  it.live("treats a 204 as an empty success", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 204 })
      const result = yield* pd.request("PUT", "/incidents/PINC0000001", {
        body: { incident: { type: "incident_reference", status: "acknowledged" } },
        fromHeader: "required"
      })
      expect(result).toBeUndefined()
    })))

  it.live("fails with Decode when a success body has the wrong shape", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({ _tag: "Status", status: 200, body: { service: { id: 42 } } })
      const error = yield* Effect.flip(pd.getService("PSVC001"))
      expect(error.reason._tag).toBe("Decode")
      expect(error.message).toContain("GET /services/PSVC001 returned 200")
    })))

  it.live("keeps the token out of every message", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const statuses = [400, 401, 402, 403, 404, 408, 429, 500]
        for (const status of statuses) {
          yield* sim.injectFault({ _tag: "Status", status })
          const error = yield* Effect.flip(pd.getService("PSVC001"))
          expect(error.message).not.toContain(token)
          expect(JSON.stringify(error)).not.toContain(token)
        }
      }),
      { client: { retry: false } }
    ))

  it.live("decodes the simulator's 400 for a missing From", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const error = yield* Effect.flip(pd.request("POST", "/incidents/PINC0000001/notes", {
          body: { note: { content: "no From" } },
          fromHeader: "none",
          responseSchema: Schema.Unknown
        }))
        expect(error.reason._tag).toBe("BadRequest")
        expect(error.message).toContain("From header is required")
      }),
      // This request leaves out a header the spec requires, on purpose.
      { checkContract: false }
    ))
})
