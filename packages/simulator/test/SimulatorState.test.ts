import { describe, expect, it } from "@effect/vitest"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as Simulator from "../src/Simulator.ts"
import { action, otherRoutingKey, post, routingKey, trigger } from "./support.ts"

const enqueue = (simulator: Simulator.Handle, body: unknown, headers?: Record<string, string>) =>
  post(`${simulator.url}/v2/enqueue`, body, headers)

describe("SimulatorState", () => {
  it.live("trigger opens a triggered alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      const [alert, ...rest] = yield* simulator.alerts()
      expect(rest).toEqual([])
      expect(alert?.status).toBe("triggered")
      expect(alert?.dedupKey).toBe("cpu/db-1")
      expect(alert?.summary).toBe("CPU high on db-1")
      expect(alert?.severity).toBe("critical")
      expect(alert?.source).toBe("db-1.example.com")
      expect(alert?.triggerCount).toBe(1)
      expect(Redacted.value(alert!.routingKey)).toBe(routingKey)
    }))

  it.live("repeated trigger updates the open alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      yield* enqueue(simulator, trigger("cpu/db-1", routingKey, "CPU still high on db-1"))
      const alerts = yield* simulator.alerts()
      expect(alerts).toHaveLength(1)
      expect(alerts[0]?.summary).toBe("CPU still high on db-1")
      expect(alerts[0]?.triggerCount).toBe(2)
      const events = yield* simulator.events()
      expect(events.map((event) => event.transition)).toEqual(["created", "repeated"])
    }))

  it.live("acknowledge then resolve closes the alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      const acknowledged = yield* enqueue(simulator, action("acknowledge", "cpu/db-1"))
      expect(acknowledged.json).toEqual({ status: "success", message: "Event processed", dedup_key: "cpu/db-1" })
      expect((yield* simulator.alerts())[0]?.status).toBe("acknowledged")
      yield* enqueue(simulator, action("resolve", "cpu/db-1"))
      const [alert] = yield* simulator.alerts()
      expect(alert?.status).toBe("resolved")
      expect(alert?.acknowledgedAt).toBeDefined()
      expect(alert?.resolvedAt).toBeDefined()
      expect(alert?.eventSequences).toEqual([1, 2, 3])
    }))

  it.live("trigger on an acknowledged alert keeps it acknowledged", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      yield* enqueue(simulator, action("acknowledge", "cpu/db-1"))
      yield* enqueue(simulator, trigger("cpu/db-1"))
      const [alert] = yield* simulator.alerts()
      expect(alert?.status).toBe("acknowledged")
      expect(alert?.triggerCount).toBe(2)
    }))

  it.live("resolve without an open alert is dropped", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, action("resolve", "never-triggered"))
      expect(reply.status).toBe(202)
      expect(reply.json.dedup_key).toBe("never-triggered")
      expect(yield* simulator.alerts()).toEqual([])
      const [event] = yield* simulator.events()
      expect(event?.outcome).toBe("dropped")
      expect(event?.alertId).toBeUndefined()
    }))

  it.live("acknowledge without an open alert is dropped", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const reply = yield* enqueue(simulator, action("acknowledge", "never-triggered"))
      expect(reply.status).toBe(202)
      expect(yield* simulator.alerts()).toEqual([])
      expect((yield* simulator.events())[0]?.outcome).toBe("dropped")
    }))

  it.live("acknowledge after resolve is dropped", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      yield* enqueue(simulator, action("resolve", "cpu/db-1"))
      yield* enqueue(simulator, action("acknowledge", "cpu/db-1"))
      expect((yield* simulator.alerts())[0]?.status).toBe("resolved")
      expect((yield* simulator.events()).map((event) => event.outcome)).toEqual(["accepted", "accepted", "dropped"])
    }))

  it.live("trigger after resolve opens a new alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      yield* enqueue(simulator, action("resolve", "cpu/db-1"))
      yield* enqueue(simulator, trigger("cpu/db-1"))
      const alerts = yield* simulator.alerts({ dedupKey: "cpu/db-1" })
      expect(alerts.map((alert) => alert.status)).toEqual(["resolved", "triggered"])
      expect(alerts[0]?.id).not.toBe(alerts[1]?.id)
      expect(alerts[1]?.triggerCount).toBe(1)
    }))

  it.live("another routing key cannot touch the alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      const foreign = yield* enqueue(simulator, action("resolve", "cpu/db-1", otherRoutingKey))
      expect(foreign.status).toBe(202)
      const alerts = yield* simulator.alerts()
      expect(alerts.map((alert) => alert.status)).toEqual(["triggered"])
      expect((yield* simulator.events())[1]?.outcome).toBe("dropped")
    }))

  it.live("same dedup_key under another routing key is another alert", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("cpu/db-1"))
      yield* enqueue(simulator, trigger("cpu/db-1", otherRoutingKey))
      yield* enqueue(simulator, action("acknowledge", "cpu/db-1", otherRoutingKey))
      const mine = yield* simulator.alerts({ routingKey })
      const theirs = yield* simulator.alerts({ routingKey: Redacted.make(otherRoutingKey) })
      expect(mine.map((alert) => [alert.status, alert.triggerCount])).toEqual([["triggered", 1]])
      expect(theirs.map((alert) => [alert.status, alert.triggerCount])).toEqual([["acknowledged", 1]])
    }))

  it.live("keeps raw bytes, headers and arrival order", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const before = yield* DateTime.now
      const raw = `{ "routing_key": "${routingKey}",\n  "event_action": "resolve", "dedup_key": "a" }\n`
      yield* enqueue(simulator, raw, { "x-request-id": "first" })
      yield* enqueue(simulator, "not json", { "x-request-id": "second" })
      yield* enqueue(simulator, trigger("b"), { "x-request-id": "third" })
      const after = yield* DateTime.now
      const events = yield* simulator.events()
      expect(events.map((event) => event.sequence)).toEqual([1, 2, 3])
      expect(events.map((event) => event.headers["x-request-id"])).toEqual(["first", "second", "third"])
      expect(new TextDecoder().decode(events[0]!.body)).toBe(raw)
      expect(new TextDecoder().decode(events[1]!.body)).toBe("not json")
      expect(events.map((event) => event.outcome)).toEqual(["dropped", "invalid", "accepted"])
      const times = events.map((event) => DateTime.toEpochMillis(event.receivedAt))
      expect(times).toEqual([...times].sort((a, b) => a - b))
      expect(times[0]).toBeGreaterThanOrEqual(DateTime.toEpochMillis(before))
      expect(times[2]).toBeLessThanOrEqual(DateTime.toEpochMillis(after))
    }))

  it.live("filters events by routing key and outcome", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("a"))
      yield* enqueue(simulator, trigger("b", otherRoutingKey))
      yield* enqueue(simulator, action("resolve", "nothing"))
      const mine = yield* simulator.events({ routingKey })
      expect(mine.map((event) => event.dedupKey)).toEqual(["a", "nothing"])
      const dropped = yield* simulator.events({ outcome: "dropped" })
      expect(dropped.map((event) => event.dedupKey)).toEqual(["nothing"])
    }))

  it.live("publishes alert changes", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const stream = yield* simulator.subscribe
      const collected = yield* stream.pipe(Stream.take(3), Stream.runCollect, Effect.forkChild)
      yield* enqueue(simulator, trigger("a"))
      yield* enqueue(simulator, action("resolve", "nothing"))
      yield* enqueue(simulator, action("acknowledge", "a"))
      yield* enqueue(simulator, action("resolve", "a"))
      const changes = yield* Fiber.join(collected)
      expect(Array.from(changes, (change) => change.transition)).toEqual(["created", "acknowledged", "resolved"])
      expect(Array.from(changes, (change) => change.alert.status)).toEqual(["triggered", "acknowledged", "resolved"])
    }))

  it.live("reset forgets events and alerts", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* enqueue(simulator, trigger("a"))
      yield* simulator.reset
      expect(yield* simulator.events()).toEqual([])
      expect(yield* simulator.alerts()).toEqual([])
      yield* enqueue(simulator, action("resolve", "a"))
      expect((yield* simulator.events())[0]?.outcome).toBe("dropped")
    }))
})
