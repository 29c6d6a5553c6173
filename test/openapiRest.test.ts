import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { findOperation, validateRequest } from "./support/openapiRest.ts"

const valid = {
  method: "POST",
  path: "/incidents",
  query: [],
  headers: {
    authorization: "Token token=abc",
    accept: "application/vnd.pagerduty+json;version=2",
    "content-type": "application/json",
    from: "ada@example.com"
  },
  body: JSON.stringify({
    incident: { type: "incident", title: "x", service: { id: "PSVC001", type: "service_reference" } }
  })
}

describe("openapiRest validator", () => {
  it("accepts a conforming request", () => {
    expect(validateRequest(valid)).toEqual([])
  })

  it("reports a missing From", () => {
    const { from: _from, ...headers } = valid.headers
    expect(validateRequest({ ...valid, headers })).toEqual(["POST /incidents: required header From is missing"])
  })

  it("reports a wrong Authorization format", () => {
    const problems = validateRequest({ ...valid, headers: { ...valid.headers, authorization: "abc" } })
    expect(problems).toEqual([`POST /incidents: Authorization is missing or not "Token token=…" / "Bearer …"`])
  })

  it("reports a body that breaks the schema", () => {
    const problems = validateRequest({ ...valid, body: JSON.stringify({ incident: { type: "other", title: "x" } }) })
    expect(problems.length).toBe(1)
    expect(problems[0]).toContain("must have required property 'service'")
    expect(problems[0]).toContain("must be equal to one of the allowed values")
  })

  it("reports unknown query parameters and bad values", () => {
    const base = { ...valid, method: "GET", body: "", headers: { authorization: "Token token=abc", accept: "x" } }
    expect(validateRequest({ ...base, query: [["statuses[]", "open"]] })[0]).toContain("query statuses[]=open")
    expect(validateRequest({ ...base, query: [["limt", "5"]] })).toEqual([
      "GET /incidents: query parameter limt is not declared by the spec"
    ])
    expect(validateRequest({ ...base, query: [["limit", "five"]] })[0]).toContain("must be integer")
  })

  it("reports a body on an operation without one", () => {
    const request = { ...valid, method: "GET", path: "/priorities" }
    expect(validateRequest(request)).toContain("GET /priorities: the operation takes no body but one was sent")
  })

  it("reports a path or method the spec lacks", () => {
    expect(validateRequest({ ...valid, path: "/nothing" })).toEqual([
      "POST /nothing: no path template in the spec matches"
    ])
    expect(validateRequest({ ...valid, method: "PATCH" })).toEqual([
      "PATCH /incidents: /incidents has no PATCH operation"
    ])
  })

  it("prefers literal path segments over parameters", () => {
    expect(findOperation("GET", "/incidents/PX1")?.template).toBe("/incidents/{id}")
    expect(findOperation("GET", "/incidents/count")?.template).toBe("/incidents/count")
  })

  it("flags the spec's own create example, whose details is a string", () => {
    const example = readFileSync(
      new URL("./fixtures/pagerduty/rest/openapi-create-incident-request.json", import.meta.url),
      "utf8"
    )
    const problems = validateRequest({ ...valid, body: example })
    expect(problems).toEqual(["POST /incidents: body /incident/body/details must be object"])
  })
})
