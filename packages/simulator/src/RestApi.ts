/**
 * A subset of PagerDuty's REST API v2 as `effect/http` routes: incidents
 * (create, list, get, update, bulk update, notes, merge, log entries), log
 * entries, services, users, escalation policies, on-calls, priorities and
 * audit records, over seeded data.
 *
 * Behaviour follows PagerDuty's documentation. `Authorization` must be
 * `Token token=…` or `Bearer …`, and any other format gets 401. `From` is
 * required where the spec requires it (400 without it). Classic pagination
 * caps `limit` at 100 and rejects `offset + limit > 10000` with 400.
 * `/audit/records` is cursor paginated. A bulk update of more than 250
 * incidents gets 413. Every answer carries `ratelimit-limit`,
 * `ratelimit-remaining` and `ratelimit-reset` for a fixed one-minute window
 * per token. Faults (429s with or without those headers, other statuses,
 * delays) can be injected through {@link RestSimulator}.
 *
 * @example
 * ```ts
 * import { RestApi } from "@effect-pagerduty/simulator"
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { createServer } from "node:http"
 *
 * const Server = HttpRouter.serve(RestApi.routes).pipe(
 *   Layer.provideMerge(RestApi.layerSimulator({ incidents: 500 })),
 *   Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Http from "./internal/restHttp.ts"
import type { Json, Rejection } from "./internal/restStore.ts"
import { isObject, isRejection, RestStore } from "./internal/restStore.ts"

/**
 * A fault to answer with instead of the normal response.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | {
    /** A 429; without `headers`, it carries no `ratelimit-*` headers and no body, as PagerDuty may send. */
    readonly _tag: "RateLimited"
    readonly headers: boolean
    readonly resetSeconds?: number | undefined
  }
  | { readonly _tag: "Status"; readonly status: number; readonly body?: unknown }
  | { readonly _tag: "Delay"; readonly delay: Duration.Input }

/**
 * Which requests a fault applies to, and how many times.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultOptions {
  /** How many matching requests get the fault; defaults to 1. */
  readonly times?: number | undefined
  readonly method?: string | undefined
  /** An exact URL path such as `/incidents`. */
  readonly path?: string | undefined
}

/**
 * A request as it arrived, for contract checks in tests.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly receivedAt: number
  readonly status: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The tokens accepted; any well-formed token is accepted when absent. */
  readonly tokens?: ReadonlyArray<string> | undefined
  /** Seeded incidents; defaults to 120. */
  readonly incidents?: number | undefined
  /** Seeded audit records; defaults to 57. */
  readonly auditRecords?: number | undefined
  /** Requests per minute per token before 429; defaults to 960, PagerDuty's REST limit. */
  readonly rateLimit?: number | undefined
  /** The creation time of the first seeded incident, in epoch milliseconds; defaults to 2026-01-01T00:00:00Z. */
  readonly startMillis?: number | undefined
}

interface PendingFault {
  readonly fault: Fault
  remaining: number
  readonly method: string | undefined
  readonly path: string | undefined
}

interface Window {
  start: number
  count: number
}

/**
 * The simulator's state and controls.
 *
 * @since 0.1.0
 * @category services
 */
export class RestSimulator extends Context.Service<RestSimulator, {
  readonly store: RestStore
  readonly rateLimit: number
  readonly tokens: ReadonlySet<string> | undefined
  /** Answers matching requests with a fault before any other check except authentication. */
  readonly injectFault: (fault: Fault, options?: FaultOptions) => Effect.Effect<void>
  /** Every request received so far, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** @internal */
  readonly takeFault: (method: string, path: string) => Fault | undefined
  /** @internal */
  readonly record: (request: RecordedRequest) => void
  /** @internal */
  readonly windows: Map<string, Window>
}>()("@effect-pagerduty/simulator/RestSimulator") {}

/**
 * Builds the simulator's state with seeded data.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSimulator = (options?: Options): RestSimulator["Service"] => {
  const incidents = options?.incidents ?? 120
  const auditRecords = options?.auditRecords ?? 57
  const rateLimit = options?.rateLimit ?? 960
  for (const [name, value] of [["incidents", incidents], ["auditRecords", auditRecords], ["rateLimit", rateLimit]]) {
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(`RestApi: ${name} must be a non-negative integer, got ${value}`)
    }
  }
  const store = new RestStore({
    incidents,
    auditRecords,
    startMillis: options?.startMillis ?? Date.UTC(2026, 0, 1)
  })
  const faults: Array<PendingFault> = []
  const recorded: Array<RecordedRequest> = []
  return {
    store,
    rateLimit,
    tokens: options?.tokens === undefined ? undefined : new Set(options.tokens),
    injectFault: (fault, faultOptions) =>
      Effect.sync(() => {
        faults.push({
          fault,
          remaining: faultOptions?.times ?? 1,
          method: faultOptions?.method,
          path: faultOptions?.path
        })
      }),
    requests: Effect.sync(() => recorded.slice()),
    clearRequests: Effect.sync(() => {
      recorded.length = 0
    }),
    takeFault: (method, path) => {
      const index = faults.findIndex((pending) =>
        pending.remaining > 0 &&
        (pending.method === undefined || pending.method === method) &&
        (pending.path === undefined || pending.path === path)
      )
      if (index < 0) return undefined
      const pending = faults[index]!
      pending.remaining -= 1
      if (pending.remaining === 0) faults.splice(index, 1)
      return pending.fault
    },
    record: (request) => {
      recorded.push(request)
    },
    windows: new Map()
  }
}

/**
 * The simulator's state as a layer, to share between the routes and a test.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulator = (options?: Options): Layer.Layer<RestSimulator> =>
  Layer.sync(RestSimulator, () => makeSimulator(options))

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

const respond = (answer: Http.Answer, headers: Record<string, string>) =>
  answer.status === 204
    ? HttpServerResponse.empty({ status: 204, headers: { ...headers, ...answer.headers } })
    : HttpServerResponse.jsonUnsafe(answer.body, { status: answer.status, headers: { ...headers, ...answer.headers } })

const endpoint = (
  sim: RestSimulator["Service"],
  options: EndpointOptions,
  handler: (input: RouteInput) => Http.Answer
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* HttpRouter.params
    const now = yield* Clock.currentTimeMillis
    const text = yield* Effect.orElseSucceed(request.text, () => "")
    const url = new URL(request.url, "http://127.0.0.1")
    const path = url.pathname

    const answer = yield* Effect.gen(function*(): Effect.fn.Return<
      { readonly answer: Http.Answer; readonly headers: Record<string, string> }
    > {
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
        return { answer: { status: 401, body: Http.errorBody(2006, "Authentication failed") }, headers }
      }

      const fault = sim.takeFault(request.method, path)
      if (fault?._tag === "RateLimited") {
        if (!fault.headers) return { answer: { status: 429, body: undefined }, headers: {} }
        return {
          answer: { status: 429, body: Http.errorBody(2020, "Rate Limit Exceeded") },
          headers: {
            ...headers,
            "ratelimit-remaining": "0",
            "ratelimit-reset": String(fault.resetSeconds ?? headers["ratelimit-reset"])
          }
        }
      }
      if (fault?._tag === "Status") {
        return {
          answer: { status: fault.status, body: fault.body ?? Http.errorBody(2000, "Simulated failure") },
          headers
        }
      }
      if (fault?._tag === "Delay") yield* Effect.sleep(fault.delay)

      if (current.count > sim.rateLimit) {
        return { answer: { status: 429, body: Http.errorBody(2020, "Rate Limit Exceeded") }, headers }
      }

      let requester: Json | undefined
      if (options.from === "required") {
        const from = request.headers.from
        if (from === undefined || from === "") {
          return { answer: Http.invalidInput("The From header is required for this request"), headers }
        }
        requester = sim.store.findUserByEmail(from)
        if (requester === undefined) {
          return { answer: Http.invalidInput("The From header must be the email of a user on the account"), headers }
        }
      }

      let body: unknown = undefined
      if (options.body === true) {
        try {
          body = JSON.parse(text)
        } catch {
          return { answer: Http.invalidInput("The request body is not valid JSON"), headers }
        }
      }

      return { answer: handler({ params, query: url.searchParams, body, requester, now }), headers }
    })

    sim.record({
      method: request.method,
      path,
      query: Array.from(url.searchParams.entries()),
      headers: request.headers,
      body: text,
      receivedAt: now,
      status: answer.answer.status
    })
    return respond(answer.answer, answer.headers)
  })

const one = (item: Json | undefined, key: string): Http.Answer =>
  item === undefined ? Http.notFound : { status: 200, body: { [key]: item } }

const storeAnswer = (result: Json | Rejection, key: string, status = 200): Http.Answer =>
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

const routeList = (sim: RestSimulator["Service"]) => {
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
        (context) => storeAnswer(store.createIncident(context.body, requester(context), context.now), "incident", 201)
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
      endpoint(sim, {}, ({ params }) => one(store.find(store.incidents, params.id!), "incident"))
    ),
    HttpRouter.route(
      "PUT",
      "/incidents/:id",
      endpoint(sim, { from: "required", body: true }, (context) => {
        const update = isObject(context.body) ? context.body.incident : undefined
        return storeAnswer(
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
          storeAnswer(store.addNote(context.params.id!, context.body, requester(context), context.now), "note")
      )
    ),
    HttpRouter.route(
      "PUT",
      "/incidents/:id/merge",
      endpoint(
        sim,
        { from: "required", body: true },
        (context) =>
          storeAnswer(store.merge(context.params.id!, context.body, requester(context), context.now), "incident")
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
      endpoint(sim, {}, ({ params }) => one(store.find(store.logEntries, params.id!), "log_entry"))
    ),
    HttpRouter.route(
      "GET",
      "/services",
      endpoint(sim, {}, ({ query }) => Http.classicPage(byName(store.services, query), query, "services"))
    ),
    HttpRouter.route(
      "GET",
      "/services/:id",
      endpoint(sim, {}, ({ params }) => one(store.find(store.services, params.id!), "service"))
    ),
    HttpRouter.route(
      "GET",
      "/users",
      endpoint(sim, {}, ({ query }) => Http.classicPage(byName(store.users, query), query, "users"))
    ),
    HttpRouter.route(
      "GET",
      "/users/:id",
      endpoint(sim, {}, ({ params }) => one(store.find(store.users, params.id!), "user"))
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
      endpoint(sim, {}, ({ params }) => one(store.find(store.escalationPolicies, params.id!), "escalation_policy"))
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

/**
 * The REST routes, to mount on an `HttpRouter`; they read the
 * {@link RestSimulator} state from context.
 *
 * @since 0.1.0
 * @category layers
 */
export const routes: Layer.Layer<never, never, HttpRouter.HttpRouter | RestSimulator> = HttpRouter.use((router) =>
  Effect.gen(function*() {
    const sim = yield* RestSimulator
    yield* router.addAll(routeList(sim))
  })
)

/**
 * The REST routes together with fresh simulator state.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<RestSimulator, never, HttpRouter.HttpRouter> =>
  Layer.provideMerge(routes, layerSimulator(options))
