import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import { responseExamples } from "../../../test/support/openapiRest.ts"
import * as RestResources from "../src/RestResources.ts"

// Each covered operation, the root key of its response and the schema the client decodes it with.
const operations = [
  ["get", "/incidents", "incidents", Schema.Array(RestResources.Incident)],
  ["put", "/incidents", "incidents", Schema.Array(RestResources.Incident)],
  ["post", "/incidents", "incident", RestResources.Incident],
  ["get", "/incidents/{id}", "incident", RestResources.Incident],
  ["put", "/incidents/{id}", "incident", RestResources.Incident],
  ["get", "/incidents/{id}/notes", "notes", Schema.Array(RestResources.Note)],
  ["post", "/incidents/{id}/notes", "note", RestResources.Note],
  ["put", "/incidents/{id}/merge", "incident", RestResources.Incident],
  ["get", "/incidents/{id}/log_entries", "log_entries", Schema.Array(RestResources.LogEntry)],
  ["get", "/log_entries", "log_entries", Schema.Array(RestResources.LogEntry)],
  ["get", "/log_entries/{id}", "log_entry", RestResources.LogEntry],
  ["get", "/services", "services", Schema.Array(RestResources.Service)],
  ["get", "/services/{id}", "service", RestResources.Service],
  ["get", "/users", "users", Schema.Array(RestResources.User)],
  ["get", "/users/{id}", "user", RestResources.User],
  ["get", "/escalation_policies", "escalation_policies", Schema.Array(RestResources.EscalationPolicy)],
  ["get", "/escalation_policies/{id}", "escalation_policy", RestResources.EscalationPolicy],
  ["get", "/oncalls", "oncalls", Schema.Array(RestResources.OnCall)],
  ["get", "/priorities", "priorities", Schema.Array(RestResources.Priority)],
  ["get", "/audit/records", "records", Schema.Array(RestResources.AuditRecord)]
] as const

describe("RestResources", () => {
  for (const [method, path, key, schema] of operations) {
    it(`decodes the spec's example of ${method.toUpperCase()} ${path}`, () => {
      const status = method === "post" && path === "/incidents" ? "201" : "200"
      const examples = responseExamples(method, path, status)
      expect(examples.length).toBeGreaterThan(0)
      for (const example of examples) {
        const body = example as Record<string, unknown>
        const decoded = Schema.decodeUnknownSync(schema as Schema.Codec<unknown, unknown>)(body[key])
        expect(decoded).toBeDefined()
        const first = Array.isArray(decoded) ? decoded[0] : decoded
        const source = Array.isArray(body[key]) ? (body[key] as Array<unknown>)[0] : body[key]
        if (first !== undefined && typeof first === "object" && first !== null && "id" in first) {
          expect((first as { id: unknown }).id).toBe((source as { id: unknown }).id)
        }
      }
    })
  }

  it("keeps the known fields of an incident and drops the rest", () => {
    const [example] = responseExamples("get", "/incidents/{id}", "200") as Array<{ incident: unknown }>
    const incident = Schema.decodeUnknownSync(RestResources.Incident)(example!.incident)
    expect(incident.status).toBe("acknowledged")
    expect(incident.service?.id).toBe("PIJ90N7")
    expect(incident.incident_number).toBe(1234)
    expect("pending_actions" in incident).toBe(false)
  })

  it("rejects an incident without an id", () => {
    expect(() => Schema.decodeUnknownSync(RestResources.Incident)({ type: "incident" })).toThrow()
  })
})
