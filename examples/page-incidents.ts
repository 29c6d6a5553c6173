/**
 * Reads PagerDuty's REST API v2 with the REST client: every incident through
 * classic (offset) pagination as a `Stream`, then a new incident with a note.
 *
 * Run from the repository root: `node examples/page-incidents.ts`
 *
 * The REST API is the simulator's, started on a free port of 127.0.0.1 with
 * 120 seeded incidents, services and users.
 */
import * as Pagination from "@effect-pagerduty/pagerduty/Pagination"
import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestResources from "@effect-pagerduty/pagerduty/RestResources"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

// The simulator accepts any well-formed token. A real one comes from PagerDuty's API Access Keys page.
const token = Redacted.make("example-rest-api-token")
// REST writes need the email of a user on the account as `From`, and the simulator seeds this user.
const from = "ada@example.com"

const IncidentPage = Schema.Struct({ incidents: Schema.Array(RestResources.Incident), more: Schema.Boolean })

const tour = Effect.gen(function*() {
  const pd = yield* RestClient.RestClient

  // Pagination.classic turns one page request into a stream of every record. It sends limit
  // and offset, follows `more`, and never requests records past 10,000, which PagerDuty rejects.
  let pages = 0
  const incidents = Pagination.classic(({ limit, offset }) => {
    pages += 1
    return Effect.map(
      pd.request("GET", "/incidents", { query: { limit, offset }, responseSchema: IncidentPage }),
      (page) => ({ items: page.incidents, more: page.more })
    )
  }, { limit: 25 })
  const all = yield* Stream.runCollect(incidents)
  yield* Console.log(`read ${all.length} incidents in ${pages} pages of up to 25`)
  for (const incident of all.slice(0, 3)) {
    yield* Console.log(`  #${incident.incident_number} [${incident.status}] ${incident.title}`)
  }

  // `listIncidents` is the same stream with typed filters. A stream is lazy, so taking
  // 3 triggered incidents requests only the first page.
  const triggered = yield* Stream.runCollect(Stream.take(pd.listIncidents({ statuses: ["triggered"] }), 3))
  yield* Console.log(
    `first triggered incidents: ${triggered.map((incident) => `#${incident.incident_number}`).join(", ")}`
  )

  // Writes: an incident on the first service, and a note on it.
  const [service] = yield* Stream.runCollect(Stream.take(pd.listServices(), 1))
  if (service === undefined) return yield* Effect.fail("the account has no service")
  const created = yield* pd.createIncident({
    title: "Checkout latency above 2 s",
    service: { id: service.id },
    urgency: "high",
    body: { details: "p99 latency of checkout has been above 2 s for 10 minutes" }
  })
  yield* Console.log(`created incident #${created.incident_number} ${created.id} on service ${service.name}`)
  const note = yield* pd.createIncidentNote(created.id, "Rolled back the 14:02 deploy; watching latency.")
  yield* Console.log(`added note ${note.id}: ${note.content}`)

  const notes = yield* pd.listIncidentNotes(created.id)
  if (notes.length !== 1) return yield* Effect.fail(`expected 1 note on ${created.id}, found ${notes.length}`)
  yield* Console.log("page-incidents finished: incidents listed, one created with a note")
})

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.start({ routes: [RestApi.layer()] })
  yield* Console.log(`PagerDuty simulator (REST API): ${simulator.url}`)
  const Rest = RestClient.layer({ token, baseUrl: simulator.url, from }).pipe(Layer.provide(NodeHttpClient.layerUndici))
  yield* Effect.provide(tour, Rest)
})

program.pipe(
  Effect.scoped,
  Effect.tapError((error) => Console.error(`page-incidents failed: ${String(error)}`)),
  NodeRuntime.runMain
)
