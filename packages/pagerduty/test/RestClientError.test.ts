import { describe, expect, it } from "@effect/vitest"
import { Duration } from "effect"
import { readFileSync } from "node:fs"
import * as Errors from "../src/Errors.ts"
import { failedBeforeSending, parseErrorBody, reasonFromResponse } from "../src/internal/restResponse.ts"
import * as RestClientError from "../src/RestClientError.ts"

const fixtures = JSON.parse(
  readFileSync(new URL("../../../test/fixtures/pagerduty/rest/error-responses.json", import.meta.url), "utf8")
)

const request = { method: "GET", path: "/incidents/PX" }

describe("parseErrorBody", () => {
  it("reads the documented shape", () => {
    expect(parseErrorBody(JSON.stringify(fixtures.error_shape.body))).toEqual({
      code: 2001,
      apiMessage: "Error Message String",
      errors: ["human-readable error details", "more details"]
    })
  })

  it("reads the 429 and 404 examples", () => {
    expect(parseErrorBody(JSON.stringify(fixtures.rate_limited_429.body))).toEqual({
      code: 2020,
      apiMessage: "Rate Limit Exceeded",
      errors: []
    })
    expect(parseErrorBody(JSON.stringify(fixtures.not_found_example.body))).toEqual({
      code: 2100,
      apiMessage: "Not Found",
      errors: []
    })
  })

  it("accepts errors as a single string", () => {
    expect(parseErrorBody(`{"error":{"code":2001,"message":"Invalid","errors":"bad title"}}`).errors).toEqual([
      "bad title"
    ])
  })

  it("accepts errors as an object of field messages", () => {
    const body = { error: { message: "Invalid Request", code: 2001, errors: { "event.since": ["too far", "bad"] } } }
    expect(parseErrorBody(JSON.stringify(body)).errors).toEqual(["event.since: too far", "event.since: bad"])
  })

  it("accepts a bare array", () => {
    expect(parseErrorBody(`["one", {"two": 2}]`)).toEqual({ errors: ["one", `{"two":2}`] })
  })

  it("accepts plain text and empty bodies", () => {
    expect(parseErrorBody("Bad Gateway")).toEqual({ apiMessage: "Bad Gateway", errors: [] })
    expect(parseErrorBody("")).toEqual({ errors: [] })
    expect(parseErrorBody(`{"error":"Forbidden"}`)).toEqual({ apiMessage: "Forbidden", errors: [] })
  })
})

describe("reasonFromResponse", () => {
  const cases = [
    [400, "BadRequest"],
    [401, "Unauthorized"],
    [402, "PaymentRequired"],
    [403, "Forbidden"],
    [404, "NotFound"],
    [408, "Timeout"],
    [409, "BadRequest"],
    [413, "BadRequest"],
    [429, "RateLimited"],
    [500, "ServerError"],
    [503, "ServerError"]
  ] as const
  for (const [status, tag] of cases) {
    it(`maps ${status} to ${tag}`, () => {
      expect(reasonFromResponse(request, status, {}, "")._tag).toBe(tag)
    })
  }

  it("reads ratelimit headers on a 429", () => {
    const sample = fixtures.rate_limited_429
    const reason = reasonFromResponse(request, 429, sample.headers, JSON.stringify(sample.body))
    expect(reason._tag).toBe("RateLimited")
    if (reason._tag !== "RateLimited") return
    expect(reason.retryAfter).toBeDefined()
    expect(Duration.toMillis(reason.retryAfter!)).toBe(20_000)
    expect(reason.limit).toBe(960)
    expect(reason.remaining).toBe(0)
    expect(reason.code).toBe(2020)
  })

  it("ignores an invalid ratelimit-reset", () => {
    for (const value of ["soon", "-1", "Thu, 01 Jan 2026 00:00:00 GMT"]) {
      const reason = reasonFromResponse(request, 429, { "ratelimit-reset": value }, "")
      expect(reason._tag === "RateLimited" && reason.retryAfter).toBeUndefined()
    }
  })

  it("classifies reasons through the error model", () => {
    const error = new RestClientError.RestClientError({ reason: reasonFromResponse(request, 429, {}, "") })
    expect(Errors.classify(error)).toEqual({ retryable: true, httpStatus: 503, logLevel: "Warn" })
    expect(Errors.isPagerDutyError(error)).toBe(true)
    expect(error.message).toContain("the response gave no ratelimit-reset")
  })
})

describe("failedBeforeSending", () => {
  it("finds a refused connection in the cause chain", () => {
    expect(failedBeforeSending({ message: "fetch failed", cause: { code: "ECONNREFUSED" } })).toBe(true)
    expect(failedBeforeSending({ code: "ENOTFOUND" })).toBe(true)
  })

  it("treats a reset connection as possibly sent", () => {
    expect(failedBeforeSending({ code: "ECONNRESET" })).toBe(false)
    expect(failedBeforeSending(new Error("socket hang up"))).toBe(false)
  })
})
