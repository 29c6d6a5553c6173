import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Layer, Redacted, Tracer } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { validateRequestBody } from "../../../test/support/openapi.ts"
import * as Errors from "../src/Errors.ts"
import * as EventsClient from "../src/EventsClient.ts"
import type * as EventsV2 from "../src/EventsV2.ts"
import * as Retry from "../src/Retry.ts"

const spec = "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json"
const key = "e93facc04764012d7bfb002500d5d1a6"
const routingKey = Redacted.make(key)
const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: IncomingMessage["headers"]
  readonly body: string
  readonly receivedAt: number
}

interface Reply {
  readonly status?: number
  readonly headers?: Record<string, string>
  readonly body?: unknown
  /** Leaves the request unanswered until the server closes. */
  readonly hang?: boolean
}

const accepted = (dedupKey?: string): Reply => ({
  status: 202,
  body: { status: "success", message: "Event processed", ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }) }
})

// A loopback HTTP server that records every request and responds with
// `reply(request, index)`. It is closed, hanging connections included, when
// the scope ends.
const startServer = (reply: (request: Recorded, index: number) => Reply) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly url: string; readonly requests: Array<Recorded>; readonly close: () => Promise<void> }>(
        (resolve) => {
          const requests: Array<Recorded> = []
          const server = createServer((request: IncomingMessage, response: ServerResponse) => {
            const chunks: Array<Buffer> = []
            request.on("data", (chunk: Buffer) => chunks.push(chunk))
            request.on("end", () => {
              const recorded: Recorded = {
                method: request.method ?? "",
                url: request.url ?? "",
                headers: request.headers,
                body: Buffer.concat(chunks).toString("utf8"),
                receivedAt: Date.now()
              }
              requests.push(recorded)
              const answer = reply(recorded, requests.length - 1)
              if (answer.hang === true) return
              response.writeHead(answer.status ?? 202, { "content-type": "application/json", ...answer.headers })
              response.end(answer.body === undefined ? "" : JSON.stringify(answer.body))
            })
          })
          server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo
            resolve({
              url: `http://127.0.0.1:${port}`,
              requests,
              close: () =>
                new Promise<void>((done) => {
                  server.closeAllConnections()
                  server.close(() => done())
                })
            })
          })
        }
      )
    ),
    (server) => Effect.promise(server.close)
  )

const fastRetry = Retry.schedule<EventsClient.EventsClientError>({ baseDelay: "10 millis", maxAttempts: 3 })

const withClient = <A, E>(
  baseUrl: string,
  options: EventsClient.SendOptions,
  use: (client: EventsClient.EventsClient["Service"]) => Effect.Effect<A, E>
) =>
  Effect.gen(function*() {
    const client = yield* EventsClient.EventsClient
    return yield* use(client)
  }).pipe(
    Effect.provide(
      EventsClient.layer({ baseUrl, retry: fastRetry, ...options }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    )
  )

const trigger = (dedupKey?: string): EventsV2.Trigger => ({
  event_action: "trigger",
  ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }),
  payload: { summary: "disk full on db-1", source: "db-1", severity: "critical" }
})

const expectValidBody = (path: "/enqueue" | "/change/enqueue", body: string) =>
  expect(validateRequestBody({ spec, path, method: "post", body: JSON.parse(body) })).toEqual([])

describe("EventsClient.send", () => {
  it.live("sends a trigger and decodes the 202", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted("db-1/disk"))
      const result = yield* withClient(server.url, {}, (client) => client.send(routingKey, trigger("db-1/disk")))
      expect(result).toEqual({ status: "success", message: "Event processed", dedup_key: "db-1/disk" })
      expect(server.requests).toHaveLength(1)
      const [request] = server.requests
      expect(request?.method).toBe("POST")
      expect(request?.url).toBe("/v2/enqueue")
      expect(request?.headers["content-type"]).toContain("application/json")
      expect(request?.url).not.toContain(key)
      expect(JSON.stringify(request?.headers)).not.toContain(key)
      expect(JSON.parse(request!.body)).toMatchObject({ routing_key: key, event_action: "trigger" })
      expectValidBody("/enqueue", request!.body)
    })))

  it.live("gives a trigger without dedup_key a UUID", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted())
      const result = yield* withClient(server.url, {}, (client) => client.send(routingKey, trigger()))
      const sent = JSON.parse(server.requests[0]!.body).dedup_key
      expect(sent).toMatch(uuidV4)
      expect(result.dedup_key).toBe(sent)
    })))

  it.live("retries a timed-out trigger without a second alert", () =>
    Effect.scoped(Effect.gen(function*() {
      // The first attempt reaches the server but gets no response in time, as
      // when PagerDuty accepts an event and the response is lost.
      const server = yield* startServer((_, index) => index === 0 ? { hang: true } : accepted())
      const result = yield* withClient(
        server.url,
        { timeout: "300 millis" },
        (client) => client.send(routingKey, trigger())
      )
      expect(server.requests).toHaveLength(2)
      const [first, second] = server.requests
      expect(second?.body).toBe(first?.body)
      const dedupKeys = new Set(server.requests.map((request) => JSON.parse(request.body).dedup_key))
      expect(dedupKeys.size).toBe(1)
      expect(result.dedup_key).toBe(JSON.parse(first!.body).dedup_key)
    })))

  it.live("sends identical bytes on every retry", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer((_, index) => index < 2 ? { status: 503 } : accepted())
      const event: EventsV2.Trigger = {
        ...trigger(),
        payload: { ...trigger().payload, custom_details: { z: 1, a: { y: [1, 2], b: "é😀" } } }
      }
      yield* withClient(server.url, {}, (client) => client.send(routingKey, event))
      expect(server.requests).toHaveLength(3)
      const bodies = server.requests.map((request) => request.body)
      expect(bodies[1]).toBe(bodies[0])
      expect(bodies[2]).toBe(bodies[0])
      expectValidBody("/enqueue", bodies[0]!)
    })))

  it.live("waits for Retry-After on a 429", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer((_, index) =>
        index === 0 ? { status: 429, headers: { "retry-after": "1" } } : accepted()
      )
      yield* withClient(server.url, {}, (client) => client.send(routingKey, trigger("k")))
      expect(server.requests).toHaveLength(2)
      const gap = server.requests[1]!.receivedAt - server.requests[0]!.receivedAt
      expect(gap).toBeGreaterThanOrEqual(990)
    })))

  const rateLimitCases: ReadonlyArray<readonly [string, Record<string, string>, (seconds: number) => boolean]> = [
    ["Retry-After seconds", { "retry-after": "7" }, (seconds) => seconds === 7],
    ["Retry-After date", { "retry-after": new Date(Date.now() + 20_000).toUTCString() }, (s) => s > 15 && s <= 20],
    ["ratelimit-reset", { "ratelimit-reset": "2.5" }, (seconds) => seconds === 2.5],
    ["Retry-After over ratelimit-reset", { "retry-after": "3", "ratelimit-reset": "9" }, (seconds) => seconds === 3],
    ["garbage Retry-After", { "retry-after": "later", "ratelimit-reset": "4" }, (seconds) => seconds === 4]
  ]
  for (const [name, headers, check] of rateLimitCases) {
    it.live(`reads the wait from ${name}`, () =>
      Effect.scoped(Effect.gen(function*() {
        const server = yield* startServer(() => ({ status: 429, headers }))
        const error = yield* withClient(server.url, { retry: false }, (client) =>
          Effect.flip(client.send(routingKey, trigger("k"))))
        expect(error.reason._tag).toBe("RateLimited")
        const retryAfter = error.reason._tag === "RateLimited" ? error.reason.retryAfter : undefined
        expect(retryAfter).toBeDefined()
        expect(check(Duration.toSeconds(retryAfter!))).toBe(true)
      })))
  }

  it.live("reports no wait for a bare 429", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 429 }))
      const error = yield* withClient(server.url, { retry: false }, (client) =>
        Effect.flip(client.send(routingKey, trigger("k"))))
      expect(error.reason._tag).toBe("RateLimited")
      expect((error.reason as EventsClient.RateLimited).retryAfter).toBeUndefined()
    })))

  const statusCases: ReadonlyArray<readonly [number, string, boolean]> = [
    [400, "InvalidEvent", false],
    [401, "UnexpectedStatus", false],
    [403, "UnexpectedStatus", false],
    [404, "UnexpectedStatus", false],
    [408, "UnexpectedStatus", true],
    [413, "UnexpectedStatus", false],
    [429, "RateLimited", true],
    [500, "ServerError", true],
    [502, "ServerError", true],
    [503, "ServerError", true]
  ]
  for (const [status, tag, retried] of statusCases) {
    it.live(`classifies ${status} as ${tag}${retried ? ", retried" : ""}`, () =>
      Effect.scoped(Effect.gen(function*() {
        const server = yield* startServer(() => ({
          status,
          body: status === 400
            ? {
              status: "invalid event",
              message: "Event object is invalid",
              errors: ["Description is missing or blank"]
            }
            : { error: "x" }
        }))
        const error = yield* withClient(server.url, {}, (client) => Effect.flip(client.send(routingKey, trigger("k"))))
        expect(error.reason._tag).toBe(tag)
        expect(Errors.classify(error).retryable).toBe(retried)
        expect(server.requests).toHaveLength(retried ? 3 : 1)
      })))
  }

  it.live("carries PagerDuty's errors on a 400", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({
        status: 400,
        body: {
          status: "invalid event",
          message: "Event object is invalid",
          errors: ["'payload.severity' is missing or blank"]
        }
      }))
      const error = yield* withClient(server.url, {}, (client) => Effect.flip(client.send(routingKey, trigger("db-1"))))
      expect(error.reason._tag).toBe("InvalidEvent")
      expect((error.reason as EventsClient.InvalidEvent).errors).toEqual([
        "'payload.severity' is missing or blank"
      ])
      expect(error.message).toContain("'payload.severity' is missing or blank")
      expect(error.message).toContain(`POST ${server.url}/v2/enqueue`)
      expect(error.message).toContain(`"db-1"`)
      expect(error.message).not.toContain(key)
    })))

  it.live("removes an echoed routing key from errors", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({
        status: 400,
        body: { status: "invalid event", message: `unknown key ${key}`, errors: [`routing_key ${key} not found`] }
      }))
      const error = yield* withClient(server.url, {}, (client) => Effect.flip(client.send(routingKey, trigger("k"))))
      expect(error.message).toContain("unknown key <routing key>")
      expect(error.message).not.toContain(key)
      expect(JSON.stringify(error.reason)).not.toContain(key)
    })))

  it.live("honours Retry-After on a 503", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer((_, index) =>
        index === 0 ? { status: 503, headers: { "retry-after": "1" } } : accepted()
      )
      yield* withClient(server.url, {}, (client) => client.send(routingKey, trigger("k")))
      expect(server.requests).toHaveLength(2)
      const gap = server.requests[1]!.receivedAt - server.requests[0]!.receivedAt
      expect(gap).toBeGreaterThanOrEqual(990)
    })))

  it.live("classifies a refused connection as Transport", () =>
    Effect.gen(function*() {
      // Bind a port, then close it, so nothing listens there.
      const url = yield* Effect.scoped(Effect.map(startServer(() => accepted()), (server) => server.url))
      const error = yield* withClient(url, {}, (client) => Effect.flip(client.send(routingKey, trigger("k"))))
      expect(error.reason._tag).toBe("Transport")
      expect(Errors.classify(error).retryable).toBe(true)
      expect(error.message).toContain(`POST ${url}/v2/enqueue`)
      expect(error.message).not.toContain(key)
    }))

  it.live("classifies a slow answer as a retried Timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ hang: true }))
      const error = yield* withClient(
        server.url,
        { timeout: "100 millis" },
        (client) => Effect.flip(client.send(routingKey, trigger("k")))
      )
      expect(error.reason._tag).toBe("Timeout")
      expect((error.reason as EventsClient.Timeout).scope).toBe("attempt")
      expect(server.requests).toHaveLength(3)
    })))

  it.live("stops at the deadline", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ hang: true }))
      const error = yield* withClient(
        server.url,
        { timeout: "5 seconds", deadline: "200 millis" },
        (client) => Effect.flip(client.send(routingKey, trigger("k")))
      )
      expect(error.reason._tag).toBe("Timeout")
      expect((error.reason as EventsClient.Timeout).scope).toBe("deadline")
      expect(server.requests).toHaveLength(1)
    })))

  it.live("keeps the last failure at the deadline", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 429, headers: { "retry-after": "20" } }))
      const error = yield* withClient(
        server.url,
        { retry: Retry.schedule({ maxDelay: "1 minute" }), deadline: "300 millis" },
        (client) => Effect.flip(client.send(routingKey, trigger("k")))
      )
      expect(error.reason._tag).toBe("RateLimited")
      expect(server.requests).toHaveLength(1)
    })))

  it.live("makes one attempt with retry false", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 503 }))
      const error = yield* withClient(server.url, { retry: false }, (client) =>
        Effect.flip(client.send(routingKey, trigger("k"))))
      expect(error.reason._tag).toBe("ServerError")
      expect(server.requests).toHaveLength(1)
    })))

  it.live("lets a send override the retry policy", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 503 }))
      yield* withClient(
        server.url,
        {},
        (client) => Effect.flip(client.send(routingKey, trigger("k"), { retry: false }))
      )
      expect(server.requests).toHaveLength(1)
    })))

  it.live("never retries a permanent failure under a custom schedule", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 404 }))
      const always = Retry.schedule<EventsClient.EventsClientError>({ isRetryable: () => true, baseDelay: 0 })
      yield* withClient(server.url, { retry: always }, (client) => Effect.flip(client.send(routingKey, trigger("k"))))
      expect(server.requests).toHaveLength(1)
    })))

  it.live("rejects a bad routing key before sending", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted())
      const error = yield* withClient(server.url, {}, (client) =>
        Effect.flip(client.send(Redacted.make("short-key"), trigger("k"))))
      expect(error._tag).toBe("EventsV2Error")
      expect(error.message).not.toContain("short-key")
      expect(server.requests).toHaveLength(0)
    })))

  it.live("sends acknowledge and resolve with the trigger's key", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted())
      const longKey = "alertmanager/" + "g".repeat(300)
      yield* withClient(server.url, {}, (client) =>
        Effect.gen(function*() {
          yield* client.send(routingKey, trigger(longKey))
          yield* client.send(routingKey, { event_action: "acknowledge", dedup_key: longKey })
          yield* client.send(routingKey, { event_action: "resolve", dedup_key: longKey })
        }))
      const bodies = server.requests.map((request) => JSON.parse(request.body))
      expect(bodies.map((body) => body.event_action)).toEqual(["trigger", "acknowledge", "resolve"])
      expect(new Set(bodies.map((body) => body.dedup_key)).size).toBe(1)
      expect(bodies[0].dedup_key).toMatch(/^[0-9a-f]{64}$/)
      for (const request of server.requests) expectValidBody("/enqueue", request.body)
    })))

  it.live("fails with Decode on an unreadable 202", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => ({ status: 202, body: ["not", "an", "object"] }))
      const error = yield* withClient(server.url, {}, (client) => Effect.flip(client.send(routingKey, trigger("k"))))
      expect(error.reason._tag).toBe("Decode")
      expect(server.requests).toHaveLength(1)
    })))
})

describe("EventsClient spans", () => {
  it.live("spans record action and outcome", () =>
    Effect.scoped(Effect.gen(function*() {
      const spans: Array<Tracer.NativeSpan> = []
      const tracer = Tracer.make({
        span(options) {
          const span = new Tracer.NativeSpan(options)
          spans.push(span)
          return span
        }
      })
      const server = yield* startServer((_, index) => index === 0 ? { status: 400, body: {} } : accepted())
      yield* withClient(server.url, {}, (client) =>
        Effect.gen(function*() {
          yield* Effect.flip(client.send(routingKey, trigger("k")))
          yield* client.send(routingKey, { event_action: "resolve", dedup_key: "k" })
        })).pipe(Effect.provideService(Tracer.Tracer, tracer))

      const sends = spans.filter((span) => span.name === "EventsClient.send")
      expect(sends.map((span) => span.attributes.get("pagerduty.event.action"))).toEqual(["trigger", "resolve"])
      expect(sends.map((span) => span.attributes.get("pagerduty.outcome"))).toEqual(["InvalidEvent", "accepted"])
      for (const span of spans) {
        expect(JSON.stringify([...span.attributes.entries()])).not.toContain(key)
      }
    })))
})

describe("EventsClient.sendChange", () => {
  it.live("posts to /v2/change/enqueue", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted())
      const result = yield* withClient(server.url, {}, (client) =>
        client.sendChange(routingKey, {
          payload: { summary: "deployed api v2.3", source: "ci", custom_details: { commit: "abc123" } },
          links: [{ href: "https://ci.example.com/builds/42", text: "build" }]
        }))
      expect(result.status).toBe("success")
      expect(server.requests[0]?.url).toBe("/v2/change/enqueue")
      expectValidBody("/change/enqueue", server.requests[0]!.body)
    })))
})

describe("EventsClient.layer", () => {
  it("requires region or baseUrl", () => {
    expect(() => EventsClient.layer({} as EventsClient.Options)).toThrow(RangeError)
    expect(() => EventsClient.layer({ region: "us", baseUrl: "http://127.0.0.1:1" } as unknown as EventsClient.Options))
      .toThrow("not both")
    expect(() => EventsClient.layer({ baseUrl: "not a url" })).toThrow("baseUrl")
    expect(() => EventsClient.layer({ region: "ap" } as unknown as EventsClient.Options)).toThrow("region")
  })

  it("rejects credentials in baseUrl without showing them", () => {
    const make = () => EventsClient.layer({ baseUrl: "http://proxyuser:s3cretpw@127.0.0.1:1" })
    expect(make).toThrow("must not contain a user or password")
    try {
      make()
    } catch (error) {
      expect(String(error)).not.toContain("s3cretpw")
    }
  })

  it("knows the region hosts", () => {
    expect(EventsClient.regionBaseUrls.us).toBe("https://events.pagerduty.com")
    expect(EventsClient.regionBaseUrls.eu).toBe("https://events.eu.pagerduty.com")
  })

  it.live("reads its base URL from config", () =>
    Effect.scoped(Effect.gen(function*() {
      const server = yield* startServer(() => accepted())
      const provider = ConfigProvider.fromUnknown({
        PAGERDUTY_EVENTS_BASE_URL: server.url,
        PAGERDUTY_EVENTS_TIMEOUT: "2 seconds"
      })
      yield* Effect.gen(function*() {
        const client = yield* EventsClient.EventsClient
        yield* client.send(routingKey, trigger("k"))
      }).pipe(
        Effect.provide(
          EventsClient.layerConfig().pipe(
            Layer.provide(NodeHttpClient.layerUndici),
            Layer.provide(ConfigProvider.layer(provider))
          )
        )
      )
      expect(server.requests).toHaveLength(1)
    })))

  it.effect("fails config without region or base URL", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Effect.gen(function*() {
          yield* EventsClient.EventsClient
        }).pipe(
          Effect.provide(
            EventsClient.layerConfig().pipe(
              Layer.provide(NodeHttpClient.layerUndici),
              Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({})))
            )
          )
        )
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(String(exit)).toContain("PAGERDUTY_EVENTS_REGION")
    }))
})
