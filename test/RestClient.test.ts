import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted, Schema, Stream } from "effect"
import { fromEmail, token, withSimulator } from "./support/restServer.ts"

const client = RestClient.RestClient
const simulator = RestApi.RestSimulator

describe("RestClient incidents", () => {
  it.live("creates an incident with From and the versioned Accept", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      const incident = yield* pd.createIncident({
        title: "Disk full on db-1",
        service: { id: "PSVC001" },
        urgency: "high",
        body: { details: { used: "98%" } },
        incident_key: "disk-db-1"
      })
      expect(incident.title).toBe("Disk full on db-1")
      expect(incident.status).toBe("triggered")
      expect(incident.service?.id).toBe("PSVC001")
      const [request] = yield* sim.requests
      expect(request?.method).toBe("POST")
      expect(request?.headers.from).toBe(fromEmail)
      expect(request?.headers.accept).toBe("application/vnd.pagerduty+json;version=2")
      expect(request?.headers.authorization).toBe(`Token token=${token}`)
      expect(request?.headers["content-type"]).toBe("application/json")
      expect(JSON.parse(request!.body).incident.service).toEqual({ id: "PSVC001", type: "service_reference" })
    })))
})

describe("RestClient incident updates", () => {
  it.live("acknowledges and resolves with a resolution note", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const created = yield* pd.createIncident({ title: "Queue backlog", service: { id: "PSVC002" } })
      const acknowledged = yield* pd.acknowledgeIncident(created.id)
      expect(acknowledged.status).toBe("acknowledged")
      const resolved = yield* pd.resolveIncident(created.id, { resolution: "Drained the queue" })
      expect(resolved.status).toBe("resolved")
      const entries = yield* Stream.runCollect(pd.listIncidentLogEntries(created.id))
      expect(entries.map((entry) => entry.type)).toEqual([
        "trigger_log_entry",
        "acknowledge_log_entry",
        "resolve_log_entry"
      ])
      expect(entries[2]?.note).toBe("Drained the queue")
    })))

  it.live("gets an incident by id", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const incident = yield* pd.getIncident("PINC0000002", { include: ["services"] })
      expect(incident.id).toBe("PINC0000002")
      expect(incident.incident_number).toBe(2)
    })))

  it.live("lists incidents filtered by status and service", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const incidents = yield* Stream.runCollect(
        pd.listIncidents({ statuses: ["triggered"], serviceIds: ["PSVC001"], sortBy: ["created_at:desc"], limit: 5 })
      )
      expect(incidents.length).toBeGreaterThan(0)
      expect(incidents.every((incident) => incident.status === "triggered")).toBe(true)
      expect(incidents.every((incident) => incident.service?.id === "PSVC001")).toBe(true)
      const numbers = incidents.map((incident) => incident.incident_number ?? 0)
      expect(numbers).toEqual(numbers.slice().sort((a, b) => b - a))
    })))

  it.live("splits a bulk update into requests of at most 250", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const ids = sim.store.incidents.slice(0, 600).map((incident) => incident.id as string)
        const updated = yield* pd.updateIncidents(ids.map((id) => ({ id, status: "resolved" as const })))
        expect(updated.length).toBe(600)
        expect(updated.every((incident) => incident.status === "resolved")).toBe(true)
        const puts = (yield* sim.requests).filter((request) => request.method === "PUT")
        expect(puts.map((request) => JSON.parse(request.body).incidents.length)).toEqual([250, 250, 100])
      }),
      { simulator: { incidents: 600 } }
    ))

  it.live("adds and lists notes", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const note = yield* pd.createIncidentNote("PINC0000001", "Failing over to the replica")
      expect(note.content).toBe("Failing over to the replica")
      expect(note.user?.id).toBe("PUSR001")
      const notes = yield* pd.listIncidentNotes("PINC0000001")
      expect(notes.map((item) => item.content)).toEqual(["Failing over to the replica"])
    })))

  it.live("merges incidents and resolves the sources", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const target = yield* pd.createIncident({ title: "Target", service: { id: "PSVC003" } })
      const source = yield* pd.createIncident({ title: "Source", service: { id: "PSVC003" } })
      const merged = yield* pd.mergeIncidents(target.id, [source.id])
      expect(merged.id).toBe(target.id)
      const after = yield* pd.getIncident(source.id)
      expect(after.status).toBe("resolved")
    })))

  it.live("sends a priority by name in an update", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const updated = yield* pd.updateIncident("PINC0000001", { priority: "P2", urgency: "low" })
      expect(updated.priority?.summary).toBe("P2")
      expect(updated.urgency).toBe("low")
    })))
})

describe("RestClient reads", () => {
  it.live("reads services, users, escalation policies, priorities and on-calls", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const services = yield* Stream.runCollect(pd.listServices({ query: "pay" }))
      expect(services.map((service) => service.name)).toEqual(["Payments worker"])
      const service = yield* pd.getService("PSVC001")
      expect(service.escalation_policy?.id).toBe("PESC001")
      const users = yield* Stream.runCollect(pd.listUsers({ limit: 2 }))
      expect(users.length).toBe(5)
      const user = yield* pd.getUser("PUSR002")
      expect(user.email).toBe("grace@example.com")
      const policies = yield* Stream.runCollect(pd.listEscalationPolicies())
      expect(policies.map((policy) => policy.id)).toEqual(["PESC001", "PESC002"])
      const policy = yield* pd.getEscalationPolicy("PESC002")
      expect(policy.escalation_rules?.length).toBe(2)
      const priorities = yield* Stream.runCollect(pd.listPriorities())
      expect(priorities.map((priority) => priority.name)).toEqual(["P1", "P2", "P3", "P4", "P5"])
      const onCalls = yield* Stream.runCollect(pd.listOnCalls({ escalationPolicyIds: ["PESC001"] }))
      expect(onCalls.map((onCall) => onCall.escalation_level)).toEqual([1, 2])
    })))

  it.live("reads log entries across the account", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const entries = yield* Stream.runCollect(pd.listLogEntries({ limit: 100, isOverview: false }))
      expect(entries.length).toBeGreaterThanOrEqual(120)
      const entry = yield* pd.getLogEntry(entries[0]!.id)
      expect(entry.id).toBe(entries[0]!.id)
    })))

  it.live("reads every audit record through cursors", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      const records = yield* Stream.runCollect(pd.listAuditRecords({ limit: 10 }))
      expect(records.length).toBe(57)
      expect(new Set(records.map((record) => record.id)).size).toBe(57)
      const requests = yield* sim.requests
      expect(requests.length).toBe(6)
      expect(requests.every((request) => request.status === 200)).toBe(true)
    })))

  it.live("sends other endpoints through request", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const body = yield* pd.request("GET", "/priorities", {
        query: { limit: 2 },
        responseSchema: Schema.Struct({ priorities: Schema.Array(Schema.Struct({ id: Schema.String })) })
      })
      expect(body.priorities.map((priority) => priority.id)).toEqual(["PPRI001", "PPRI002"])
      const services = yield* Stream.runCollect(pd.paginate("/services", {
        key: "services",
        itemSchema: Schema.Struct({ id: Schema.String, name: Schema.String }),
        limit: 3
      }))
      expect(services.length).toBe(4)
    })))
})

describe("RestClient authentication", () => {
  it.live("sends an OAuth token as Bearer", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        yield* pd.getService("PSVC001")
        const [request] = yield* sim.requests
        expect(request?.headers.authorization).toBe(`Bearer ${token}`)
      }),
      { client: { tokenType: "oauth" } }
    ))

  it.live("fails with Unauthorized for a token the server rejects", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const error = yield* Effect.flip(pd.getService("PSVC001"))
        expect(error.reason._tag).toBe("Unauthorized")
        expect(error.message).toContain("GET /services/PSVC001")
        expect(error.message).toContain("code 2006")
        expect(error.message).not.toContain("wrong-token-value")
      }),
      { client: { token: Redacted.make("wrong-token-value") } }
    ))

  it.live("fails without sending when no From is configured", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const error = yield* Effect.flip(pd.createIncident({ title: "No From", service: { id: "PSVC001" } }))
        expect(error.reason._tag).toBe("MissingFrom")
        expect(yield* sim.requests).toEqual([])
      }),
      { client: { from: undefined } }
    ))

  it.live("uses the From passed to the call", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const note = yield* pd.createIncidentNote("PINC0000001", "From the call", { from: "grace@example.com" })
        expect(note.user?.id).toBe("PUSR002")
      }),
      { client: { from: undefined } }
    ))
})
