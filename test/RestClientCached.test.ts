import * as Cache from "@effect-pagerduty/pagerduty/Cache"
import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted, Stream } from "effect"
import { Digest } from "effect/crypto"
import { baseUrl, expectRequestsConform, fromEmail, serverLayer, token } from "./support/restServer.ts"

const cachedClient = (cacheLayer: Layer.Layer<Cache.Cache>, clientToken = token) =>
  Layer.unwrap(Effect.map(baseUrl, (url) =>
    RestClient.layerCached(
      { token: Redacted.make(clientToken), baseUrl: url, from: fromEmail, retry: false },
      { timeToLive: "1 minute" }
    ))).pipe(Layer.provide([NodeHttpClient.layerUndici, cacheLayer, Digest.layerWebCrypto]))

const countRequests = (path: string) =>
  Effect.gen(function*() {
    const sim = yield* RestApi.RestSimulator
    const requests = yield* sim.requests
    return requests.filter((request) => request.path === path).length
  })

describe("RestClient.layerCached", () => {
  it.live("reads a service from PagerDuty once", () =>
    Effect.gen(function*() {
      const pd = yield* RestClient.RestClient
      const first = yield* pd.getService("PSVC001")
      const second = yield* pd.getService("PSVC001")
      expect(second).toEqual(first)
      expect(yield* countRequests("/services/PSVC001")).toBe(1)
      yield* pd.getService("PSVC002")
      expect(yield* countRequests("/services/PSVC002")).toBe(1)
      yield* pd.getUser("PUSR001")
      yield* pd.getUser("PUSR001")
      expect(yield* countRequests("/users/PUSR001")).toBe(1)
      yield* pd.getEscalationPolicy("PESC001")
      yield* pd.getEscalationPolicy("PESC001")
      expect(yield* countRequests("/escalation_policies/PESC001")).toBe(1)
      const priorities = yield* Stream.runCollect(pd.listPriorities())
      const again = yield* Stream.runCollect(pd.listPriorities())
      expect(again.map((priority) => priority.name)).toEqual(priorities.map((priority) => priority.name))
      expect(yield* countRequests("/priorities")).toBe(1)
      yield* expectRequestsConform
    }).pipe(
      Effect.provide(cachedClient(Cache.layerMemory()).pipe(Layer.provideMerge(serverLayer()))),
      Effect.scoped
    ))

  it.live("does not cache incidents", () =>
    Effect.gen(function*() {
      const pd = yield* RestClient.RestClient
      yield* pd.getIncident("PINC0000001")
      yield* pd.getIncident("PINC0000001")
      expect(yield* countRequests("/incidents/PINC0000001")).toBe(2)
    }).pipe(
      Effect.provide(cachedClient(Cache.layerMemory()).pipe(Layer.provideMerge(serverLayer()))),
      Effect.scoped
    ))

  it.live("keeps the token out of cache keys", () =>
    Effect.gen(function*() {
      const keys: Array<string> = []
      const store = yield* Cache.makeStoreMemory()
      const recording = Layer.succeed(Cache.CacheStore, {
        ...store,
        get: (key: string) => {
          keys.push(key)
          return store.get(key)
        }
      })
      const cacheLayer = Cache.layer().pipe(Layer.provide(recording))
      yield* Effect.gen(function*() {
        const pd = yield* RestClient.RestClient
        yield* pd.getService("PSVC001")
      }).pipe(
        Effect.provide(cachedClient(cacheLayer).pipe(Layer.provideMerge(serverLayer()))),
        Effect.scoped
      )
      expect(keys.length).toBe(1)
      expect(keys[0]).toMatch(/^pagerduty-rest:[0-9a-f]{32}:service:PSVC001$/)
      expect(keys[0]).not.toContain(token)
    }))

  it.live("reads directly when the cache store fails", () =>
    Effect.gen(function*() {
      const failing = new Cache.CacheError({
        reason: new Cache.StoreUnavailable({ operation: "get", cause: new Error("store down") })
      })
      const broken = Layer.succeed(Cache.CacheStore, {
        get: () => Effect.fail(failing),
        set: () => Effect.fail(failing),
        setIfAbsent: () => Effect.fail(failing),
        delete: () => Effect.fail(failing)
      })
      const logged: Array<unknown> = []
      const collect = Logger.layer([Logger.make(({ message }) => logged.push(message))])
      yield* Effect.gen(function*() {
        const pd = yield* RestClient.RestClient
        const service = yield* pd.getService("PSVC001")
        expect(service.id).toBe("PSVC001")
      }).pipe(
        Effect.provide(
          cachedClient(Cache.layer().pipe(Layer.provide(broken))).pipe(Layer.provideMerge(serverLayer()))
        ),
        Effect.provide(collect),
        Effect.scoped
      )
      expect(logged.length).toBe(1)
      expect(String(logged[0])).toContain("RestClient cache failed")
    }))

  it.live("separates entries of different tokens", () =>
    Effect.gen(function*() {
      const url = yield* baseUrl
      const sim = yield* RestApi.RestSimulator
      const makeClient = (clientToken: string) =>
        RestClient.makeCached({ token: Redacted.make(clientToken), baseUrl: url, retry: false })
      const first = yield* makeClient(token)
      const second = yield* makeClient("second-token")
      yield* first.getService("PSVC001")
      yield* second.getService("PSVC001")
      yield* first.getService("PSVC001")
      const tokens = (yield* sim.requests).map((request) => request.headers.authorization)
      expect(tokens).toEqual([`Token token=${token}`, "Token token=second-token"])
    }).pipe(
      Effect.provide(Layer.mergeAll(NodeHttpClient.layerUndici, Cache.layerMemory(), Digest.layerWebCrypto)),
      Effect.provide(serverLayer({ tokens: [token, "second-token"] })),
      Effect.scoped
    ))
})
