import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import * as Simulator from "../src/Simulator.ts"
import { action, otherRoutingKey, post, request, routingKey, trigger } from "./support.ts"

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex")

const enqueue = (simulator: Simulator.Handle, body: unknown) => post(`${simulator.url}/v2/enqueue`, body)

describe("ControlApi", () => {
  it.live("reports health", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* request(`${simulator.url}/_sim/health`)
      expect(reply.status).toBe(200)
      expect(reply.json).toEqual({ status: "ok" })
    }))

  it.live("lists events without the routing key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const body = JSON.stringify(trigger("disk/db-1"))
      yield* enqueue(simulator, body)
      const reply = yield* request(`${simulator.url}/_sim/events`)
      expect(reply.text).not.toContain(routingKey)
      const [event] = reply.json.events
      expect(event.sequence).toBe(1)
      expect(event.outcome).toBe("accepted")
      expect(event.status).toBe(202)
      expect(event.dedup_key).toBe("disk/db-1")
      expect(event.routing_key_hash).toBe(sha256(routingKey))
      expect(event.routing_key_last4).toBe(routingKey.slice(-4))
      expect(event.body.routing_key).toBe(`****${routingKey.slice(-4)}`)
      expect(event.body.payload.summary).toBe("CPU high on db-1")
      expect(event.body_bytes).toBe(Buffer.byteLength(body))
      expect(event.body_sha256).toBe(sha256(body))
      expect(Number.isNaN(Date.parse(event.received_at))).toBe(false)
    }))

  it.live("filters events by routing key hash", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("mine"))
      yield* enqueue(simulator, trigger("theirs", otherRoutingKey))
      const reply = yield* request(`${simulator.url}/_sim/events?routing_key_hash=${sha256(otherRoutingKey)}`)
      expect(reply.json.events.map((event: any) => event.dedup_key)).toEqual(["theirs"])
    }))

  it.live("filters events by outcome and endpoint", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("a"))
      yield* enqueue(simulator, action("resolve", "nothing"))
      yield* post(`${simulator.url}/v2/change/enqueue`, { routing_key: routingKey, payload: { summary: "deploy" } })
      const dropped = yield* request(`${simulator.url}/_sim/events?outcome=dropped`)
      const changes = yield* request(`${simulator.url}/_sim/events?endpoint=change`)
      expect(dropped.json.events.map((event: any) => event.dedup_key)).toEqual(["nothing"])
      expect(changes.json.events.map((event: any) => event.sequence)).toEqual([3])
    }))

  it.live("rejects an unknown filter value", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* request(`${simulator.url}/_sim/events?outcome=lost`)
      expect(reply.status).toBe(400)
      expect(reply.json.status).toBe("invalid request")
    }))

  it.live("lists alerts with full dedup key and masked routing key", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const dedupKey = "k".repeat(255)
      yield* enqueue(simulator, trigger(dedupKey))
      yield* enqueue(simulator, action("acknowledge", dedupKey))
      const reply = yield* request(`${simulator.url}/_sim/alerts`)
      expect(reply.text).not.toContain(routingKey)
      const [alert] = reply.json.alerts
      expect(alert.dedup_key).toBe(dedupKey)
      expect(alert.status).toBe("acknowledged")
      expect(alert.severity).toBe("critical")
      expect(alert.summary).toBe("CPU high on db-1")
      expect(alert.routing_key_hash).toBe(sha256(routingKey))
      expect(alert.routing_key_last4).toBe(routingKey.slice(-4))
      expect(alert).not.toHaveProperty("routing_key")
    }))

  it.live("filters alerts by status", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("open"))
      yield* enqueue(simulator, trigger("closed"))
      yield* enqueue(simulator, action("resolve", "closed"))
      const reply = yield* request(`${simulator.url}/_sim/alerts?status=resolved`)
      expect(reply.json.alerts.map((alert: any) => alert.dedup_key)).toEqual(["closed"])
    }))

  it.live("sets, lists and clears faults", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const script = { path: "/v2/enqueue", steps: [{ fault: { _tag: "Respond", status: 500 }, times: 1 }] }
      const set = yield* post(`${simulator.url}/_sim/faults`, { scripts: [script] })
      expect(set.status).toBe(200)
      expect(set.json.scripts).toEqual([script])
      const faulted = yield* enqueue(simulator, trigger("a"))
      expect(faulted.status).toBe(500)
      const listed = yield* request(`${simulator.url}/_sim/faults`)
      expect(listed.json.injections.map((injection: any) => injection.fault.status)).toEqual([500])
      yield* post(`${simulator.url}/_sim/faults`, {
        scripts: [{ ...script, steps: [{ fault: script.steps[0]!.fault }] }]
      })
      const cleared = yield* request(`${simulator.url}/_sim/faults?path=/v2/enqueue`, { method: "DELETE" })
      expect(cleared.json.scripts).toEqual([])
      const passed = yield* enqueue(simulator, trigger("a"))
      expect(passed.status).toBe(202)
    }))

  it.live("rejects an invalid fault script", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const bad = yield* post(`${simulator.url}/_sim/faults`, {
        scripts: [{ path: "/v2/enqueue", steps: [{ fault: { _tag: "Explode" } }] }]
      })
      const notJson = yield* post(`${simulator.url}/_sim/faults`, "{")
      expect(bad.status).toBe(400)
      expect(notJson.status).toBe(400)
      expect((yield* request(`${simulator.url}/_sim/faults`)).json.scripts).toEqual([])
    }))

  it.live("reset clears events, alerts and rate-limit windows", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start({
        rateLimit: { limit: 1 },
        faults: [{ path: "/v2/change/enqueue", steps: [{ fault: { _tag: "Respond", status: 500 } }] }]
      })
      yield* enqueue(simulator, trigger("a"))
      const limited = yield* enqueue(simulator, trigger("a"))
      expect(limited.status).toBe(429)
      const reset = yield* post(`${simulator.url}/_sim/reset`, "")
      expect(reset.status).toBe(200)
      expect((yield* request(`${simulator.url}/_sim/events`)).json.events).toEqual([])
      expect((yield* request(`${simulator.url}/_sim/alerts`)).json.alerts).toEqual([])
      const again = yield* enqueue(simulator, trigger("a"))
      expect(again.status).toBe(202)
      expect((yield* request(`${simulator.url}/_sim/faults`)).json.scripts).toHaveLength(1)
    }))
})
