/**
 * Serves the simulator's REST routes on 127.0.0.1 (port 0) for one test and
 * checks, when the test ends, that every request it received conforms to the
 * REST spec.
 */
import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { NodeHttpClient, NodeHttpServer } from "@effect/platform-node"
import { expect } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { createServer } from "node:http"
import { validateRequest } from "./openapiRest.ts"

/** The token the tests send; the simulator accepts it. */
export const token = "sim-token-0123456789"

/** The email of a seeded user, valid as `From`. */
export const fromEmail = "ada@example.com"

/** The simulator's routes on a fresh server, with its state in context. */
export const serverLayer = (options?: RestApi.Options) =>
  HttpRouter.serve(RestApi.routes, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(RestApi.layerSimulator({ tokens: [token], ...options })),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
  )

/** The base URL of the server in context. */
export const baseUrl = HttpServer.addressFormattedWith((url) => Effect.succeed(url))

/** Fails the test with every request that departs from the REST spec. */
export const expectRequestsConform = Effect.gen(function*() {
  const sim = yield* RestApi.RestSimulator
  const requests = yield* sim.requests
  const problems = requests.flatMap((request) => validateRequest(request))
  expect(problems).toEqual([])
  return requests.length
})

/** A client pointed at the server in context; retries use short delays. */
export const clientLayer = (options?: Partial<RestClient.Options>) =>
  Layer.unwrap(Effect.map(baseUrl, (url) =>
    RestClient.layer({
      token: Redacted.make(token),
      baseUrl: url,
      from: fromEmail,
      retry: { times: 3, base: "5 millis", maxDelay: "2 seconds" },
      ...options
    }))).pipe(Layer.provide(NodeHttpClient.layerUndici))

/**
 * Runs a test body with a fresh simulator and a client, then checks that all
 * requests the simulator received conform to the spec.
 */
export const withSimulator = <A, E>(
  body: Effect.Effect<A, E, RestClient.RestClient | RestApi.RestSimulator | HttpServer.HttpServer>,
  options?: {
    readonly simulator?: RestApi.Options | undefined
    readonly client?: Partial<RestClient.Options> | undefined
    readonly checkContract?: boolean | undefined
  }
) =>
  Effect.gen(function*() {
    const result = yield* body
    if (options?.checkContract !== false) yield* expectRequestsConform
    return result
  }).pipe(
    Effect.provide(clientLayer(options?.client).pipe(Layer.provideMerge(serverLayer(options?.simulator)))),
    Effect.scoped
  )
