import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigProvider, Duration, Effect, Exit, Layer, Redacted, Schedule } from "effect"
import { HttpClient, HttpClientResponse } from "effect/http"
import { retrySchedule } from "../src/internal/restTransport.ts"
import * as RestClient from "../src/RestClient.ts"
import * as RestClientError from "../src/RestClientError.ts"

const token = Redacted.make("secret-token")

// An HttpClient that must never be called: building the client alone sends nothing.
const unusedClient = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request) => Effect.die(new Error(`unexpected request ${request.url}`)))
)

const build = (options: RestClient.Options) => Effect.provide(RestClient.make(options), unusedClient)

describe("RestClient options", () => {
  it.effect("requires a region or a base URL", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(build({ token }))
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain("region or baseUrl is required")
    }))

  it.effect("rejects both a region and a base URL", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(build({ token, region: "eu", baseUrl: "http://127.0.0.1:1" }))
      expect(String(exit)).toContain("not both")
    }))

  it.effect("rejects an invalid base URL, timeout and token", () =>
    Effect.gen(function*() {
      expect(String(yield* Effect.exit(build({ token, baseUrl: "api.pagerduty.com" })))).toContain(
        "absolute http(s) URL"
      )
      expect(String(yield* Effect.exit(build({ token, region: "us", timeout: 0 })))).toContain("timeout")
      expect(String(yield* Effect.exit(build({ token: Redacted.make(" "), region: "us" })))).toContain("token is empty")
      expect(String(yield* Effect.exit(build({ token, region: "us", retry: { times: -1 } })))).toContain("retry.times")
    }))

  it.effect("builds for each region without sending", () =>
    Effect.gen(function*() {
      const us = yield* build({ token, region: "us" })
      const eu = yield* build({ token, region: "eu" })
      expect(typeof us.getIncident).toBe("function")
      expect(typeof eu.listIncidents).toBe("function")
      expect(RestClient.regionBaseUrls).toEqual({
        us: "https://api.pagerduty.com",
        eu: "https://api.eu.pagerduty.com"
      })
    }))

  it.effect("sends to the chosen region's host", () =>
    Effect.gen(function*() {
      const urls: Array<string> = []
      const recording = Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) =>
          Effect.sync(() => {
            urls.push(request.url)
            return HttpClientResponse.fromWeb(request, new Response(`{"priorities":[],"more":false}`))
          })
        )
      )
      const pd = yield* Effect.provide(RestClient.make({ token, region: "eu" }), recording)
      yield* pd.request("GET", "/priorities")
      expect(urls).toEqual(["https://api.eu.pagerduty.com/priorities"])
    }))
})

describe("RestClient.layerConfig", () => {
  it.effect("reads options from Config", () =>
    Effect.gen(function*() {
      const urls: Array<string> = []
      const headers: Array<string | undefined> = []
      const recording = Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make((request) =>
          Effect.sync(() => {
            urls.push(request.url)
            headers.push(request.headers.authorization)
            return HttpClientResponse.fromWeb(
              request,
              new Response(`{"service":{"id":"P1","type":"service","name":"x"}}`)
            )
          })
        )
      )
      const layer = RestClient.layerConfig({
        token: Config.Redacted("PAGERDUTY_TOKEN"),
        region: Config.Literals(["us", "eu"], "PAGERDUTY_REGION"),
        tokenType: Config.succeed("oauth" as const)
      }).pipe(
        Layer.provide(recording),
        Layer.provide(
          ConfigProvider.layer(ConfigProvider.fromUnknown({ PAGERDUTY_TOKEN: "from-config", PAGERDUTY_REGION: "eu" }))
        )
      )
      const service = yield* Effect.gen(function*() {
        const pd = yield* RestClient.RestClient
        return yield* pd.getService("P1")
      }).pipe(Effect.provide(layer))
      expect(service.id).toBe("P1")
      expect(urls).toEqual(["https://api.eu.pagerduty.com/services/P1"])
      expect(headers).toEqual(["Bearer from-config"])
    }))

  it.effect("fails when the token is missing", () =>
    Effect.gen(function*() {
      const layer = RestClient.layerConfig({
        token: Config.Redacted("PAGERDUTY_TOKEN"),
        region: Config.succeed("us" as const)
      })
        .pipe(Layer.provide(unusedClient), Layer.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({}))))
      const exit = yield* Effect.exit(Layer.build(layer))
      expect(exit._tag).toBe("Failure")
      expect(String(exit)).toContain("PAGERDUTY_TOKEN")
    }))
})

describe("RestClient retry schedule", () => {
  const settings = { times: 3, base: Duration.millis(100), maxDelay: Duration.seconds(30) }

  const failure = (reason: RestClientError.RestClientErrorReason) => new RestClientError.RestClientError({ reason })

  const rateLimited = (retryAfter: Duration.Duration | undefined) =>
    failure(new RestClientError.RateLimited({ method: "GET", path: "/x", status: 429, errors: [], retryAfter }))

  const serverError = failure(new RestClientError.ServerError({ method: "POST", path: "/x", status: 502, errors: [] }))

  // The delay before the first retry, or undefined when the schedule stops.
  const firstDelay = (input: RestClientError.RestClientError, idempotent = true) =>
    Effect.gen(function*() {
      const step = yield* Schedule.toStep(retrySchedule(settings, idempotent))
      const exit = yield* Effect.exit(step(0, input))
      return Exit.isSuccess(exit) ? Duration.toMillis(exit.value[1]) : undefined
    })

  it.effect("waits at least ratelimit-reset", () =>
    Effect.gen(function*() {
      expect(yield* firstDelay(rateLimited(Duration.seconds(20)))).toBe(20_000)
    }))

  it.effect("gives up when ratelimit-reset passes maxDelay", () =>
    Effect.gen(function*() {
      expect(yield* firstDelay(rateLimited(Duration.seconds(300)))).toBeUndefined()
    }))

  it.effect("backs off without a hint", () =>
    Effect.gen(function*() {
      const delay = yield* firstDelay(rateLimited(undefined))
      expect(delay).toBeGreaterThanOrEqual(80)
      expect(delay).toBeLessThanOrEqual(120)
    }))

  it.effect("retries a 5xx only when idempotent", () =>
    Effect.gen(function*() {
      expect(yield* firstDelay(serverError, true)).toBeDefined()
      expect(yield* firstDelay(serverError, false)).toBeUndefined()
      expect(yield* firstDelay(rateLimited(undefined), false)).toBeDefined()
    }))
})
