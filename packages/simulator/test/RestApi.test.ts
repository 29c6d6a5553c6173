import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { HttpClient, HttpClientRequest, HttpServer } from "effect/http"
import { baseUrl, fromEmail, serverLayer, token } from "../../../test/support/restServer.ts"
import * as RestApi from "../src/RestApi.ts"

const auth = `Token token=${token}`

const send = (
  method: "GET" | "POST" | "PUT",
  path: string,
  options?: { readonly headers?: Record<string, string>; readonly body?: unknown }
) =>
  Effect.gen(function*() {
    const url = yield* baseUrl
    const client = yield* HttpClient.HttpClient
    let request = HttpClientRequest.make(method)(url + path, {
      headers: { accept: "application/vnd.pagerduty+json;version=2", ...options?.headers }
    })
    if (options?.body !== undefined) request = HttpClientRequest.bodyJsonUnsafe(request, options.body)
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, json: text === "" ? undefined : JSON.parse(text) }
  })

const run = <A, E>(
  body: Effect.Effect<A, E, HttpClient.HttpClient | RestApi.RestSimulator | HttpServer.HttpServer>,
  options?: RestApi.Options
) => body.pipe(Effect.provide(serverLayer(options)), Effect.provide(NodeHttpClient.layerUndici), Effect.scoped)

describe("RestApi authentication", () => {
  it.live("rejects an Authorization header in the wrong format", () =>
    run(Effect.gen(function*() {
      for (const header of [`Bearer`, token, `Token ${token}`, `token token=${token}`]) {
        const response = yield* send("GET", "/services", { headers: { authorization: header } })
        expect(response.status).toBe(401)
        expect(response.json.error.code).toBe(2006)
      }
      const missing = yield* send("GET", "/services")
      expect(missing.status).toBe(401)
    })))

  it.live("accepts API and OAuth formats", () =>
    run(Effect.gen(function*() {
      const api = yield* send("GET", "/services", { headers: { authorization: auth } })
      expect(api.status).toBe(200)
      const oauth = yield* send("GET", "/services", { headers: { authorization: `Bearer ${token}` } })
      expect(oauth.status).toBe(200)
    })))

  it.live("rejects a token it does not know", () =>
    run(Effect.gen(function*() {
      const response = yield* send("GET", "/users", { headers: { authorization: "Token token=other" } })
      expect(response.status).toBe(401)
    })))
})

describe("RestApi rate limits", () => {
  it.live("sends ratelimit headers on every response", () =>
    run(Effect.gen(function*() {
      const answers = [
        yield* send("GET", "/services", { headers: { authorization: auth } }),
        yield* send("GET", "/services/PNOSUCH", { headers: { authorization: auth } }),
        yield* send("GET", "/services", { headers: { authorization: "wrong" } })
      ]
      expect(answers.map((answer) => answer.status)).toEqual([200, 404, 401])
      for (const answer of answers) {
        expect(answer.headers["ratelimit-limit"]).toBe("960")
        expect(Number(answer.headers["ratelimit-remaining"])).toBeGreaterThan(900)
        expect(Number(answer.headers["ratelimit-reset"])).toBeGreaterThan(0)
      }
      expect(answers[1]!.headers["ratelimit-remaining"]).toBe("958")
    })))

  it.live("returns 429 once the window is used up", () =>
    run(
      Effect.gen(function*() {
        const statuses: Array<number> = []
        for (let index = 0; index < 4; index++) {
          const response = yield* send("GET", "/priorities", { headers: { authorization: auth } })
          statuses.push(response.status)
          if (response.status === 429) {
            expect(response.json).toEqual({ error: { message: "Rate Limit Exceeded", code: 2020 } })
            expect(response.headers["ratelimit-remaining"]).toBe("0")
          }
        }
        expect(statuses).toEqual([200, 200, 200, 429])
      }),
      { rateLimit: 3 }
    ))

  it.live("injects a 429 without headers or body", () =>
    run(Effect.gen(function*() {
      const sim = yield* RestApi.RestSimulator
      yield* sim.injectFault({ _tag: "RateLimited", headers: false })
      const response = yield* send("GET", "/priorities", { headers: { authorization: auth } })
      expect(response.status).toBe(429)
      expect(response.headers["ratelimit-reset"]).toBeUndefined()
      expect(response.json).toBeUndefined()
    })))
})

describe("RestApi incidents", () => {
  it.live("requires From to create an incident", () =>
    run(Effect.gen(function*() {
      const body = { incident: { type: "incident", title: "x", service: { id: "PSVC001", type: "service_reference" } } }
      const missing = yield* send("POST", "/incidents", { headers: { authorization: auth }, body })
      expect(missing.status).toBe(400)
      const unknown = yield* send("POST", "/incidents", {
        headers: { authorization: auth, from: "nobody@example.com" },
        body
      })
      expect(unknown.status).toBe(400)
      const created = yield* send("POST", "/incidents", { headers: { authorization: auth, from: fromEmail }, body })
      expect(created.status).toBe(201)
      expect(created.json.incident.status).toBe("triggered")
    })))

  it.live("rejects a second open incident with the same key", () =>
    run(Effect.gen(function*() {
      const body = {
        incident: {
          type: "incident",
          title: "x",
          incident_key: "k1",
          service: { id: "PSVC001", type: "service_reference" }
        }
      }
      const headers = { authorization: auth, from: fromEmail }
      expect((yield* send("POST", "/incidents", { headers, body })).status).toBe(201)
      const duplicate = yield* send("POST", "/incidents", { headers, body })
      expect(duplicate.status).toBe(400)
      expect(duplicate.json.error.errors).toEqual([
        "Open incident with matching dedup key already exists on this service"
      ])
    })))

  it.live("returns 413 for a bulk update over 250", () =>
    run(
      Effect.gen(function*() {
        const sim = yield* RestApi.RestSimulator
        const incidents = sim.store.incidents.slice(0, 251).map((incident) => ({
          id: incident.id,
          type: "incident_reference",
          status: "resolved"
        }))
        const headers = { authorization: auth, from: fromEmail }
        const tooMany = yield* send("PUT", "/incidents", { headers, body: { incidents } })
        expect(tooMany.status).toBe(413)
        const allowed = yield* send("PUT", "/incidents", { headers, body: { incidents: incidents.slice(0, 250) } })
        expect(allowed.status).toBe(200)
        expect(allowed.json.incidents.length).toBe(250)
      }),
      { incidents: 300 }
    ))

  it.live("requires From on updates, notes and merges", () =>
    run(Effect.gen(function*() {
      const headers = { authorization: auth }
      const update = yield* send("PUT", "/incidents/PINC0000001", {
        headers,
        body: { incident: { type: "incident_reference", status: "acknowledged" } }
      })
      const note = yield* send("POST", "/incidents/PINC0000001/notes", { headers, body: { note: { content: "x" } } })
      const merge = yield* send("PUT", "/incidents/PINC0000001/merge", {
        headers,
        body: { source_incidents: [{ id: "PINC0000004", type: "incident_reference" }] }
      })
      expect([update.status, note.status, merge.status]).toEqual([400, 400, 400])
    })))
})

describe("RestApi pagination", () => {
  it.live("rejects offset plus limit past 10,000", () =>
    run(
      Effect.gen(function*() {
        const headers = { authorization: auth }
        const last = yield* send("GET", "/incidents?offset=9900&limit=100", { headers })
        expect(last.status).toBe(200)
        const past = yield* send("GET", "/incidents?offset=9901&limit=100", { headers })
        expect(past.status).toBe(400)
        expect(past.json.error.code).toBe(2001)
      }),
      { incidents: 5 }
    ))

  it.live("caps limit at 100 and reports total on request", () =>
    run(Effect.gen(function*() {
      const response = yield* send("GET", "/incidents?limit=500&total=true", { headers: { authorization: auth } })
      expect(response.json.limit).toBe(100)
      expect(response.json.incidents.length).toBe(100)
      expect(response.json.total).toBe(120)
      expect(response.json.more).toBe(true)
      const without = yield* send("GET", "/incidents", { headers: { authorization: auth } })
      expect(without.json.total).toBeNull()
      expect(without.json.limit).toBe(25)
    })))

  it.live("rejects a cursor that was not URL-encoded", () =>
    run(Effect.gen(function*() {
      const headers = { authorization: auth }
      const first = yield* send("GET", "/audit/records?limit=5", { headers })
      const cursor = first.json.next_cursor as string
      const encoded = yield* send("GET", `/audit/records?limit=5&cursor=${encodeURIComponent(cursor)}`, { headers })
      expect(encoded.status).toBe(200)
      expect(encoded.json.records[0].id).toBe("PAUD000006")
      const raw = yield* send("GET", `/audit/records?limit=5&cursor=${cursor}`, { headers })
      expect(raw.status).toBe(400)
    })))
})

describe("RestApi options", () => {
  it("rejects a negative seed size", () => {
    expect(() => RestApi.makeSimulator({ incidents: -1 })).toThrow(RangeError)
  })
})
