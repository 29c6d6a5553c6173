/**
 * The request pipeline and the routes of the simulated REST API.
 */
import { Clock, Duration, Effect } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { RestSimulator } from "../RestApi.ts"
import * as Http from "./restHttp.ts"
import type { Json, Rejection } from "./restStore.ts"
import { isObject, isRejection } from "./restStore.ts"

interface RouteInput {
  readonly params: Readonly<Record<string, string | undefined>>
  readonly query: URLSearchParams
  readonly body: unknown
  readonly requester: Json | undefined
  readonly now: number
}

interface EndpointOptions {
  readonly from?: "required" | undefined
  readonly body?: boolean | undefined
}

const windowMillis = 60_000

interface Decision {
  readonly response: Http.JsonResponse
  readonly headers: Record<string, string>
  readonly delay?: Duration.Input | undefined
}

const respond = (response: Http.JsonResponse, headers: Record<string, string>) => {
  const allHeaders = { ...headers, ...response.headers }
  if (response.status === 204 || response.body === undefined) {
    return HttpServerResponse.empty({ status: response.status, headers: allHeaders })
  }
  return HttpServerResponse.jsonUnsafe(response.body, { status: response.status, headers: allHeaders })
}

const endpoint = (
  sim: RestSimulator["Service"],
  options: EndpointOptions,
  handler: (input: RouteInput) => Http.JsonResponse
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* HttpRouter.params
    const now = yield* Clock.currentTimeMillis
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const url = new URL(request.url, "http://127.0.0.1")
    const path = url.pathname

    const decision = ((): Decision => {
      const token = Http.parseAuthorization(request.headers.authorization)
      const bucket = token ?? ""
      const window = sim.windows.get(bucket)
      const current = window === undefined || now - window.start >= windowMillis ? { start: now, count: 0 } : window
      current.count += 1
      sim.windows.set(bucket, current)
      const headers = {
        "ratelimit-limit": String(sim.rateLimit),
        "ratelimit-remaining": String(Math.max(0, sim.rateLimit - current.count)),
        "ratelimit-reset": String(Math.max(1, Math.ceil((current.start + windowMillis - now) / 1000)))
      }

      if (token === undefined || (sim.tokens !== undefined && !sim.tokens.has(token))) {
        return { response: { status: 401, body: Http.errorBody(2006, "Authentication failed") }, headers }
      }

      const fault = sim.takeFault(request.method, path)
      if (fault?._tag === "RateLimited") {
        if (!fault.headers) return { response: { status: 429, body: undefined }, headers: {} }
        return {
          response: { status: 429, body: Http.errorBody(2020, "Rate Limit Exceeded") },
          headers: {
            ...headers,
            "ratelimit-remaining": "0",
            "ratelimit-reset": String(fault.resetSeconds ?? headers["ratelimit-reset"])
          }
        }
      }
      if (fault?._tag === "Status") {
        return {
          response: { status: fault.status, body: fault.body ?? Http.errorBody(2000, "Simulated failure") },
          headers
        }
      }
      const delay = fault?._tag === "Delay" ? fault.delay : undefined

      if (current.count > sim.rateLimit) {
        return { response: { status: 429, body: Http.errorBody(2020, "Rate Limit Exceeded") }, headers }
      }

      let requester: Json | undefined
      if (options.from === "required") {
        const from = request.headers.from
        if (from === undefined || from === "") {
          return { response: Http.invalidInput("The From header is required for this request"), headers }
        }
        requester = sim.store.findUserByEmail(from)
        if (requester === undefined) {
          return { response: Http.invalidInput("The From header must be the email of a user on the account"), headers }
        }
      }

      let body: unknown = undefined
      if (options.body === true) {
        try {
          body = JSON.parse(text)
        } catch {
          return { response: Http.invalidInput("The request body is not valid JSON"), headers }
        }
      }

      return { response: handler({ params, query: url.searchParams, body, requester, now }), headers, delay }
    })()

    sim.record({
      method: request.method,
      path,
      query: Array.from(url.searchParams.entries()),
      headers: request.headers,
      body: text,
      receivedAt: now,
      status: decision.response.status
    })
    // A delayed response is computed and stored first, as on a slow server, so a
    // client that gives up meanwhile has still changed the state.
    if (decision.delay !== undefined) yield* Effect.sleep(decision.delay)
    return respond(decision.response, decision.headers)
  })

const resourceResponse = (item: Json | undefined, key: string): Http.JsonResponse =>
  item === undefined ? Http.notFound : { status: 200, body: { [key]: item } }

const storeResponse = (result: Json | Rejection, key: string, status = 200): Http.JsonResponse =>
  isRejection(result) ? Http.rejected(result) : { status, body: { [key]: result } }

const byName = (items: ReadonlyArray<Json>, query: URLSearchParams): ReadonlyArray<Json> => {
  const text = query.get("query")
  if (text === null || text === "") return items
  return items.filter((item) => String(item.name).toLowerCase().includes(text.toLowerCase()))
}

const filterIncidents = (incidents: ReadonlyArray<Json>, query: URLSearchParams): ReadonlyArray<Json> => {
  const statuses = Http.arrayParam(query, "statuses")
  const services = Http.arrayParam(query, "service_ids")
  const urgencies = Http.arrayParam(query, "urgencies")
  const users = Http.arrayParam(query, "user_ids")
  const key = query.get("incident_key")
  const since = query.get("since")
  const until = query.get("until")
  // NOTE: PagerDuty limits the list to the last month unless since/until or date_range=all are given; the simulator applies a range only when since or until is sent.
  const sinceMillis = since === null || query.get("date_range") === "all" ? undefined : Date.parse(since)
  const untilMillis = until === null || query.get("date_range") === "all" ? undefined : Date.parse(until)
  const filtered = incidents.filter((incident) => {
    if (statuses.length > 0 && !statuses.includes(incident.status as string)) return false
    if (services.length > 0 && !services.includes((incident.service as Json).id as string)) return false
    if (urgencies.length > 0 && !urgencies.includes(incident.urgency as string)) return false
    if (key !== null && incident.incident_key !== key) return false
    if (users.length > 0) {
      const assignees = (incident.assignments as Array<Json>).map((assignment) => (assignment.assignee as Json).id)
      if (!assignees.some((id) => users.includes(id as string))) return false
    }
    const created = Date.parse(incident.created_at as string)
    if (sinceMillis !== undefined && created < sinceMillis) return false
    if (untilMillis !== undefined && created >= untilMillis) return false
    return true
  })
  const sortBy = query.get("sort_by")
  if (sortBy === null) return filtered
  const [field, direction] = sortBy.split(",")[0]!.split(":")
  const sign = direction === "desc" ? -1 : 1
  const sortKey = (incident: Json) =>
    field === "created_at" ? Date.parse(incident.created_at as string) : (incident.incident_number as number)
  return filtered.slice().sort((left, right) => sign * (sortKey(left) - sortKey(right)))
}

/** The number of incidents one bulk update may carry. */
const maxBulkIncidents = 250

/** Builds the routes over one simulator state. */
export const routeList = (sim: RestSimulator["Service"]) => {
  const store = sim.store
  const requester = (input: RouteInput) => input.requester!
  return [
    HttpRouter.route(
      "GET",
      "/incidents",
      endpoint(sim, {}, ({ query }) => Http.classicPage(filterIncidents(store.incidents, query), query, "incidents"))
    ),
    HttpRouter.route(
      "POST",
      "/incidents",
      endpoint(
        sim,
        { from: "required", body: true },
        (context) => storeResponse(store.createIncident(context.body, requester(context), context.now), "incident", 201)
      )
    ),
    HttpRouter.route(
      "PUT",
      "/incidents",
      endpoint(sim, { from: "required", body: true }, (context) => {
        const updates = isObject(context.body) ? context.body.incidents : undefined
        if (!Array.isArray(updates)) return Http.invalidInput("incidents is missing")
        if (updates.length > maxBulkIncidents) {
          return {
            status: 413,
            body: Http.errorBody(2001, "Request Entity Too Large", [
              `At most ${maxBulkIncidents} incidents may be updated at a time`
            ])
          }
        }
        const results: Array<Json> = []
        for (const update of updates) {
          const id = isObject(update) && typeof update.id === "string" ? update.id : undefined
          if (id === undefined) return Http.invalidInput("every incident needs an id")
          const result = store.updateIncident(id, update, requester(context), context.now)
          if (isRejection(result)) return Http.rejected(result)
          results.push(result)
        }
        return { status: 200, body: { incidents: results } }
      })
    ),
    HttpRouter.route(
      "GET",
      "/incidents/:id",
      endpoint(sim, {}, ({ params }) => resourceResponse(store.find(store.incidents, params.id!), "incident"))
    ),
    HttpRouter.route(
      "PUT",
      "/incidents/:id",
      endpoint(sim, { from: "required", body: true }, (context) => {
        const update = isObject(context.body) ? context.body.incident : undefined
        return storeResponse(
          store.updateIncident(context.params.id!, update, requester(context), context.now),
          "incident"
        )
      })
    ),
    HttpRouter.route(
      "GET",
      "/incidents/:id/notes",
      endpoint(sim, {}, ({ params }) =>
        store.find(store.incidents, params.id!) === undefined
          ? Http.notFound
          : { status: 200, body: { notes: store.notes.get(params.id!) ?? [] } })
    ),
    HttpRouter.route(
      "POST",
      "/incidents/:id/notes",
      endpoint(
        sim,
        { from: "required", body: true },
        (context) =>
          storeResponse(store.addNote(context.params.id!, context.body, requester(context), context.now), "note")
      )
    ),
    HttpRouter.route(
      "PUT",
      "/incidents/:id/merge",
      endpoint(
        sim,
        { from: "required", body: true },
        (context) =>
          storeResponse(store.merge(context.params.id!, context.body, requester(context), context.now), "incident")
      )
    ),
    HttpRouter.route(
      "GET",
      "/incidents/:id/log_entries",
      endpoint(sim, {}, ({ params, query }) =>
        store.find(store.incidents, params.id!) === undefined
          ? Http.notFound
          : Http.classicPage(
            store.logEntries.filter((entry) => (entry.incident as Json).id === params.id),
            query,
            "log_entries"
          ))
    ),
    HttpRouter.route(
      "GET",
      "/log_entries",
      endpoint(sim, {}, ({ query }) => Http.classicPage(store.logEntries, query, "log_entries"))
    ),
    HttpRouter.route(
      "GET",
      "/log_entries/:id",
      endpoint(sim, {}, ({ params }) => resourceResponse(store.find(store.logEntries, params.id!), "log_entry"))
    ),
    HttpRouter.route(
      "GET",
      "/services",
      endpoint(sim, {}, ({ query }) => Http.classicPage(byName(store.services, query), query, "services"))
    ),
    HttpRouter.route(
      "GET",
      "/services/:id",
      endpoint(sim, {}, ({ params }) => resourceResponse(store.find(store.services, params.id!), "service"))
    ),
    HttpRouter.route(
      "GET",
      "/users",
      endpoint(sim, {}, ({ query }) => Http.classicPage(byName(store.users, query), query, "users"))
    ),
    HttpRouter.route(
      "GET",
      "/users/:id",
      endpoint(sim, {}, ({ params }) => resourceResponse(store.find(store.users, params.id!), "user"))
    ),
    HttpRouter.route(
      "GET",
      "/escalation_policies",
      endpoint(
        sim,
        {},
        ({ query }) => Http.classicPage(byName(store.escalationPolicies, query), query, "escalation_policies")
      )
    ),
    HttpRouter.route(
      "GET",
      "/escalation_policies/:id",
      endpoint(
        sim,
        {},
        ({ params }) => resourceResponse(store.find(store.escalationPolicies, params.id!), "escalation_policy")
      )
    ),
    HttpRouter.route(
      "GET",
      "/oncalls",
      endpoint(sim, {}, ({ query }) => {
        const policies = Http.arrayParam(query, "escalation_policy_ids")
        const users = Http.arrayParam(query, "user_ids")
        const onCalls = store.onCalls.filter((onCall) =>
          (policies.length === 0 || policies.includes((onCall.escalation_policy as Json).id as string)) &&
          (users.length === 0 || users.includes((onCall.user as Json).id as string))
        )
        return Http.classicPage(onCalls, query, "oncalls")
      })
    ),
    HttpRouter.route(
      "GET",
      "/priorities",
      endpoint(sim, {}, ({ query }) => Http.classicPage(store.priorities, query, "priorities"))
    ),
    HttpRouter.route(
      "GET",
      "/audit/records",
      endpoint(sim, {}, ({ query }) => Http.cursorPage(store.auditRecords, query, "records"))
    )
  ] as const
}
