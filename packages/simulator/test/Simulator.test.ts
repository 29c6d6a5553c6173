import { describe, expect, it } from "@effect/vitest"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { HttpRouter, HttpServer, HttpServerResponse } from "effect/http"
import * as Layer from "effect/Layer"
import * as Simulator from "../src/Simulator.ts"
import * as SimulatorState from "../src/SimulatorState.ts"
import { post, request, trigger } from "./support.ts"

// A route group of the kind other modules mount: it reads the simulator's state at build time.
const alertCountRoute: Simulator.Routes = HttpRouter.use(Effect.fnUntraced(function*(router) {
  const state = yield* SimulatorState.SimulatorState
  let resets = 0
  yield* state.onReset(Effect.sync(() => void resets++))
  yield* router.add(
    "GET",
    "/test/alert-count",
    Effect.map(state.alerts(), (alerts) => HttpServerResponse.jsonUnsafe({ alerts: alerts.length, resets }))
  )
}))

describe("Simulator", () => {
  it.live("listens on 127.0.0.1 on a free port", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      expect(simulator.host).toBe("127.0.0.1")
      expect(simulator.port).toBeGreaterThan(0)
      expect(simulator.url).toBe(`http://127.0.0.1:${simulator.port}`)
    }))

  it.live("stops listening when its scope closes", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(Effect.map(Simulator.start(), (simulator) => simulator.url))
      const outcome = yield* Effect.promise(() =>
        fetch(`${url}/_sim/health`).then(() => "answered", (error: Error) => error.name)
      )
      expect(outcome).toBe("TypeError")
    }))

  it.live("serves mounted route groups", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ routes: [alertCountRoute] })
      yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      const reply = yield* request(`${simulator.url}/test/alert-count`)
      expect(reply.json).toEqual({ alerts: 1, resets: 0 })
      yield* post(`${simulator.url}/_sim/reset`, "")
      const afterReset = yield* request(`${simulator.url}/test/alert-count`)
      expect(afterReset.json).toEqual({ alerts: 0, resets: 1 })
    }))

  it.live("faults mounted routes too", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        routes: [alertCountRoute],
        faults: [{ path: "/test/alert-count", steps: [{ fault: { _tag: "Respond", status: 503 }, times: 1 }] }]
      })
      const faulted = yield* request(`${simulator.url}/test/alert-count`)
      const passed = yield* request(`${simulator.url}/test/alert-count`)
      expect(faulted.status).toBe(503)
      expect(passed.status).toBe(200)
    }))

  it.live("runs two simulators side by side", () =>
    Effect.gen(function*() {
      const first = yield* Simulator.start()
      const second = yield* Simulator.start()
      yield* post(`${first.url}/v2/enqueue`, trigger("a"))
      expect(first.port).not.toBe(second.port)
      expect((yield* first.alerts()).length).toBe(1)
      expect((yield* second.alerts()).length).toBe(0)
    }))

  it.live("gives mounted routes the server address", () =>
    Effect.gen(function*() {
      const addressRoute = HttpRouter.use(Effect.fnUntraced(function*(router) {
        const server = yield* HttpServer.HttpServer
        yield* router.add("GET", "/test/address", HttpServerResponse.text(HttpServer.formatAddress(server.address)))
      }))
      const simulator = yield* Simulator.start({ routes: [addressRoute] })
      const reply = yield* request(`${simulator.url}/test/address`)
      expect(reply.text).toBe(simulator.url)
    }))

  it.live("fails with a mounted group's error", () =>
    Effect.gen(function*() {
      const failing = Layer.effectDiscard(Effect.fail("route group failed" as const))
      const exit = yield* Effect.exit(Effect.scoped(Simulator.start({ routes: [failing] })))
      expect(exit).toEqual(Exit.fail("route group failed"))
    }))

  it.live("reads its settings from configuration", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Simulator.layerConfig()).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({ PD_SIMULATOR_EVENTS_PER_MINUTE: "1" })))
      )
      const simulator = Context.get(context, Simulator.Simulator)
      const first = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      const second = yield* post(`${simulator.url}/v2/enqueue`, trigger("b"))
      expect(simulator.host).toBe("127.0.0.1")
      expect([first.status, second.status]).toEqual([202, 429])
    }))

  it("rejects an invalid port", () => {
    expect(() => Simulator.layer({ port: 70_000 })).toThrow(
      /simulator option "port" must be an integer from 0 to 65535, got 70000/
    )
    expect(() => Simulator.layer({ host: " " })).toThrow(RangeError)
  })
})
