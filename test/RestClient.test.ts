import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
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
