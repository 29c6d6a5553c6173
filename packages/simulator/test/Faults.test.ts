import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as TestClock from "effect/testing/TestClock"
import * as Faults from "../src/Faults.ts"
import * as Simulator from "../src/Simulator.ts"
import { post, rawPost, request, trigger } from "./support.ts"

const unavailable: Faults.Fault = { _tag: "Respond", status: 503 }

const tags = (faults: Faults.Faults["Service"], count: number, path = "/v2/enqueue") =>
  Effect.forEach(Array.from({ length: count }), () => Effect.map(faults.next("POST", path), (fault) => fault._tag))

describe("Faults scripts", () => {
  it.effect("applies a step for the next N requests", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{ path: "/v2/enqueue", steps: [{ fault: unavailable, times: 2 }] }])
      expect(yield* tags(faults, 4)).toEqual(["Respond", "Respond", "PassThrough", "PassThrough"])
    }))

  it.effect("runs steps in order", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        steps: [
          { fault: { _tag: "PassThrough" }, times: 1 },
          { fault: unavailable, times: 1 },
          { fault: { _tag: "Disconnect" }, times: 1 }
        ]
      }])
      expect(yield* tags(faults, 4)).toEqual(["PassThrough", "Respond", "Disconnect", "PassThrough"])
    }))

  it.effect("applies a step for D seconds", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        steps: [{ fault: unavailable, seconds: 10 }, { fault: { _tag: "Delay", millis: 5 }, seconds: 5 }]
      }])
      expect(yield* tags(faults, 2)).toEqual(["Respond", "Respond"])
      yield* TestClock.adjust("9999 millis")
      expect(yield* tags(faults, 1)).toEqual(["Respond"])
      yield* TestClock.adjust("1 millis")
      expect(yield* tags(faults, 1)).toEqual(["Delay"])
      yield* TestClock.adjust("5 seconds")
      expect(yield* tags(faults, 1)).toEqual(["PassThrough"])
    }))

  it.effect("skips several timed steps at once", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        steps: [{ fault: unavailable, seconds: 1 }, { fault: { _tag: "Disconnect" }, seconds: 1 }, {
          fault: { _tag: "Respond", status: 500 },
          times: 1
        }]
      }])
      yield* TestClock.adjust("2500 millis")
      expect(yield* tags(faults, 2)).toEqual(["Respond", "PassThrough"])
      const [injection] = yield* faults.injections
      expect(injection?.fault).toEqual({ _tag: "Respond", status: 500 })
    }))

  it.effect("lasts until replaced without times or seconds", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{ path: "/v2/enqueue", steps: [{ fault: unavailable }] }])
      yield* TestClock.adjust("1 hour")
      expect(yield* tags(faults, 3)).toEqual(["Respond", "Respond", "Respond"])
      yield* faults.set([{ path: "/v2/enqueue", steps: [] }])
      expect(yield* tags(faults, 1)).toEqual(["PassThrough"])
    }))

  it.effect("repeats when asked", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        repeat: true,
        steps: [{ fault: unavailable, times: 1 }, { fault: { _tag: "PassThrough" }, times: 1 }]
      }])
      expect(yield* tags(faults, 4)).toEqual(["Respond", "PassThrough", "Respond", "PassThrough"])
    }))

  it.effect("repeats timed steps across a long gap", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        repeat: true,
        steps: [{ fault: unavailable, seconds: 10 }, { fault: { _tag: "PassThrough" }, seconds: 5 }]
      }])
      yield* TestClock.adjust("1 hour")
      expect(yield* tags(faults, 1)).toEqual(["Respond"])
      yield* TestClock.adjust("12 seconds")
      expect(yield* tags(faults, 1)).toEqual(["PassThrough"])
      yield* TestClock.adjust("150 seconds")
      expect(yield* tags(faults, 1)).toEqual(["PassThrough"])
      yield* TestClock.adjust("3 seconds")
      expect(yield* tags(faults, 1)).toEqual(["Respond"])
    }))

  it.effect("draws probability from the seed", () =>
    Effect.gen(function*() {
      const script = (seed: number): Faults.Script => ({
        path: "/v2/enqueue",
        seed,
        steps: [{ fault: unavailable, probability: 0.5 }]
      })
      const first = yield* tags(yield* Faults.make([script(7)]), 40)
      const again = yield* tags(yield* Faults.make([script(7)]), 40)
      const other = yield* tags(yield* Faults.make([script(8)]), 40)
      expect(again).toEqual(first)
      expect(other).not.toEqual(first)
      expect(first).toContain("Respond")
      expect(first).toContain("PassThrough")
    }))

  it.effect("never fires at probability 0 and always at 1", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([
        { path: "/never", steps: [{ fault: unavailable, probability: 0 }] },
        { path: "/always", steps: [{ fault: unavailable, probability: 1 }] }
      ])
      expect(new Set(yield* tags(faults, 20, "/never"))).toEqual(new Set(["PassThrough"]))
      expect(new Set(yield* tags(faults, 20, "/always"))).toEqual(new Set(["Respond"]))
    }))

  it.effect("counts requests that the probability spares", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{
        path: "/v2/enqueue",
        steps: [{ fault: unavailable, times: 3, probability: 0 }]
      }, {
        path: "/v2/change/enqueue",
        steps: []
      }])
      yield* tags(faults, 3)
      yield* faults.set([{
        path: "/v2/enqueue",
        steps: [{ fault: unavailable, times: 3, probability: 0 }, {
          fault: unavailable,
          times: 1
        }]
      }])
      expect(yield* tags(faults, 4)).toEqual(["PassThrough", "PassThrough", "PassThrough", "Respond"])
    }))

  it.effect("prefers the exact path over the wildcard", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([
        { path: "*", steps: [{ fault: unavailable }] },
        { path: "/v2/enqueue", steps: [{ fault: { _tag: "Disconnect" } }] }
      ])
      expect(yield* tags(faults, 1, "/v2/enqueue")).toEqual(["Disconnect"])
      expect(yield* tags(faults, 1, "/incidents")).toEqual(["Respond"])
    }))

  it.effect("set replaces only the named paths and clear removes them", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([
        { path: "/a", steps: [{ fault: unavailable }] },
        { path: "/b", steps: [{ fault: unavailable }] }
      ])
      yield* faults.set([{ path: "/a", steps: [{ fault: { _tag: "Disconnect" } }] }])
      expect(yield* tags(faults, 1, "/a")).toEqual(["Disconnect"])
      expect(yield* tags(faults, 1, "/b")).toEqual(["Respond"])
      yield* faults.clear("/a")
      expect(yield* tags(faults, 1, "/a")).toEqual(["PassThrough"])
      yield* faults.clear()
      expect(yield* faults.scripts).toEqual([])
    }))

  it.effect("records injected faults but not pass-throughs", () =>
    Effect.gen(function*() {
      const faults = yield* Faults.make([{ path: "/v2/enqueue", steps: [{ fault: unavailable, times: 1 }] }])
      yield* tags(faults, 3)
      const injections = yield* faults.injections
      expect(injections.map((injection) => [injection.method, injection.path, injection.fault._tag])).toEqual([
        ["POST", "/v2/enqueue", "Respond"]
      ])
    }))

  it("rejects an invalid script", () => {
    const script = { path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 700 } }] } as any
    expect(() => Faults.layer([script])).toThrow(RangeError)
    expect(() => Faults.layer([{ path: "/x", steps: [{ fault: unavailable, probability: 2 }] }])).toThrow(
      /fault script for path "\/x" is invalid/
    )
  })
})

describe("Faults over HTTP", () => {
  it.live("responds with the scripted status, body and headers", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{
          path: "/v2/enqueue",
          steps: [{
            fault: { _tag: "Respond", status: 503, body: { status: "unavailable" }, headers: { "x-fault": "yes" } },
            times: 1
          }]
        }]
      })
      const faulted = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      const passed = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect(faulted.status).toBe(503)
      expect(faulted.json).toEqual({ status: "unavailable" })
      expect(faulted.headers.get("x-fault")).toBe("yes")
      expect(passed.status).toBe(202)
    }))

  it.live("sends a string body as text", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 502, body: "Bad Gateway" } }] }]
      })
      const reply = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect(reply.status).toBe(502)
      expect(reply.text).toBe("Bad Gateway")
      expect(reply.headers.get("content-type")).toContain("text/plain")
    }))

  it.live("does not ingest a faulted event", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: unavailable, times: 1 }] }]
      })
      yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect(yield* simulator.events()).toEqual([])
      expect(yield* simulator.alerts()).toEqual([])
      expect((yield* simulator.injections).map((injection) => injection.path)).toEqual(["/v2/enqueue"])
    }))

  it.live("adds latency before the real answer", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Delay", millis: 300 }, times: 1 }] }]
      })
      const started = performance.now()
      const reply = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      const elapsed = performance.now() - started
      expect(reply.status).toBe(202)
      expect(elapsed).toBeGreaterThanOrEqual(290)
      expect((yield* simulator.alerts()).length).toBe(1)
    }))

  it.live("delays a scripted response", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 504, delayMillis: 200 } }] }]
      })
      const started = performance.now()
      const reply = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      const elapsed = performance.now() - started
      expect(reply.status).toBe(504)
      expect(elapsed).toBeGreaterThanOrEqual(190)
    }))

  it.live("resets the connection", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Disconnect", mode: "reset" }, times: 1 }] }]
      })
      const end = yield* rawPost(simulator.url, "/v2/enqueue", JSON.stringify(trigger("a")))
      expect(end.received).toBe("")
      expect(end.error).toBe("ECONNRESET")
      expect(yield* simulator.events()).toEqual([])
    }))

  it.live("closes the connection without an answer", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Disconnect", mode: "close" }, times: 1 }] }]
      })
      const end = yield* rawPost(simulator.url, "/v2/enqueue", JSON.stringify(trigger("a")))
      expect(end.received).toBe("")
      expect(end.error).toBeUndefined()
      const next = yield* rawPost(simulator.url, "/v2/enqueue", JSON.stringify(trigger("a")))
      expect(next.received).toMatch(/^HTTP\/1\.1 202 /)
    }))

  it.live("makes fetch fail on a dropped connection", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Disconnect" }, times: 1 }] }]
      })
      const outcome = yield* Effect.promise(() =>
        fetch(`${simulator.url}/v2/enqueue`, { method: "POST", body: JSON.stringify(trigger("a")) }).then(
          (response) => `status ${response.status}`,
          (error: Error) => error.name
        )
      )
      expect(outcome).toBe("TypeError")
    }))

  it.live("never faults the control API", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({ faults: [{ path: "*", steps: [{ fault: unavailable }] }] })
      const health = yield* request(`${simulator.url}/_sim/health`)
      const events = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect(health.status).toBe(200)
      expect(events.status).toBe(503)
    }))

  it.live("applies faults set at runtime", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const before = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      yield* simulator.setFaults([{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 500 } }] }])
      const during = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      yield* simulator.clearFaults()
      const after = yield* post(`${simulator.url}/v2/enqueue`, trigger("a"))
      expect([before.status, during.status, after.status]).toEqual([202, 500, 202])
    }))

  it.live("faults a path that has no route", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        faults: [{ path: "/incidents", steps: [{ fault: { _tag: "Respond", status: 429 } }] }]
      })
      const reply = yield* request(`${simulator.url}/incidents`)
      expect(reply.status).toBe(429)
    }))
})
