import { DateTime, Effect, Schema, Stream } from "effect"
import type { HttpMethod } from "effect/http"
import * as Pagination from "../Pagination.ts"
import type * as RestClientError from "../RestClientError.ts"
import * as RestResources from "../RestResources.ts"
import type {
  AuditRecordFilters,
  BulkIncidentUpdate,
  CreateIncident,
  DateInput,
  FromOptions,
  IncidentFilters,
  IncidentUpdate,
  ListOptions,
  LogEntryFilters,
  NamedFilters,
  OnCallFilters,
  PaginateCursorOptions,
  PaginateOptions,
  RequestOptions
} from "./restInputs.ts"
import type { Call, Query } from "./restTransport.ts"
import { defaultIdempotent } from "./restTransport.ts"

type Execute = <A>(call: Call<A>) => Effect.Effect<A, RestClientError.RestClientError>

const formatDate = (value: DateInput | undefined): string | undefined => {
  if (value === undefined || typeof value === "string") return value
  return DateTime.formatIso(value)
}

const idPath = (prefix: string, id: string, suffix = "") => `${prefix}/${encodeURIComponent(id)}${suffix}`

/** The largest number of incidents one `PUT /incidents` may carry. */
export const maxBulkIncidents = 250

const wrapped = <S extends Schema.Top>(key: string, schema: S) => Schema.Struct({ [key]: schema })

const classicPage = <A>(key: string, item: Schema.Codec<A, unknown>) =>
  Schema.Struct({ ...RestResources.ClassicPageFields, [key]: Schema.Array(item) }) as unknown as Schema.Codec<
    { readonly more?: boolean | undefined } & Record<string, ReadonlyArray<A>>,
    unknown
  >

const cursorPage = <A>(key: string, item: Schema.Codec<A, unknown>) =>
  Schema.Struct({ ...RestResources.CursorPageFields, [key]: Schema.Array(item) }) as unknown as Schema.Codec<
    { readonly next_cursor?: string | null | undefined } & Record<string, ReadonlyArray<A>>,
    unknown
  >

const unwrap = <A>(
  execute: Execute,
  key: string,
  item: Schema.Codec<A, unknown>,
  call: Omit<Call<unknown>, "schema">
) =>
  Effect.map(
    execute({ ...call, schema: wrapped(key, item) as unknown as Schema.Codec<Record<string, A>, unknown> }),
    (body) => body[key] as A
  )

const references = (ids: ReadonlyArray<{ readonly assignee: { readonly id: string } }> | undefined) =>
  ids?.map(({ assignee }) => ({ assignee: { id: assignee.id, type: "user_reference" } }))

const updateFields = (update: IncidentUpdate) => ({
  status: update.status,
  resolution: update.resolution,
  title: update.title,
  priority: typeof update.priority === "string"
    ? update.priority
    : update.priority && { id: update.priority.id, type: "priority_reference" },
  escalation_level: update.escalation_level,
  assignments: references(update.assignments),
  escalation_policy: update.escalation_policy &&
    { id: update.escalation_policy.id, type: "escalation_policy_reference" },
  urgency: update.urgency,
  incident_type: update.incident_type
})

const createBody = (input: CreateIncident) => ({
  incident: {
    type: "incident",
    title: input.title,
    service: { id: input.service.id, type: "service_reference" },
    urgency: input.urgency,
    body: input.body && { type: "incident_body", details: input.body.details },
    incident_key: input.incident_key,
    priority: input.priority && { id: input.priority.id, type: "priority_reference" },
    assignments: references(input.assignments),
    escalation_policy: input.escalation_policy &&
      { id: input.escalation_policy.id, type: "escalation_policy_reference" },
    incident_type: input.incident_type,
    conference_bridge: input.conference_bridge
  }
})

/** Builds the typed operations on top of one executor. */
export const makeOperations = (execute: Execute) => {
  const request = <A = unknown>(
    method: HttpMethod.HttpMethod,
    path: string,
    options?: RequestOptions<A>
  ): Effect.Effect<A, RestClientError.RestClientError> =>
    execute({
      method,
      path,
      query: options?.query,
      body: options?.body,
      from: options?.fromHeader ?? (method === "GET" || method === "HEAD" ? "none" : "optional"),
      fromValue: options?.from,
      idempotent: options?.idempotent ?? defaultIdempotent(method),
      schema: options?.responseSchema ?? (Schema.Unknown as unknown as Schema.Codec<A, unknown>)
    })

  const paginate = <A>(
    path: string,
    options: PaginateOptions<A>
  ): Stream.Stream<A, RestClientError.RestClientError | Pagination.PaginationError> => {
    const schema = classicPage(options.key, options.itemSchema)
    return Pagination.classic(
      ({ limit, offset }) =>
        Effect.map(
          execute({
            method: "GET",
            path,
            query: { ...options.query, limit, offset, total: options.total },
            idempotent: true,
            schema
          }),
          (page) => ({ items: page[options.key] ?? [], more: page.more === true })
        ),
      options
    )
  }

  const paginateCursor = <A>(
    path: string,
    options: PaginateCursorOptions<A>
  ): Stream.Stream<A, RestClientError.RestClientError | Pagination.PaginationError> => {
    const schema = cursorPage(options.key, options.itemSchema)
    return Pagination.cursor(
      ({ cursor, limit }) =>
        Effect.map(
          execute({ method: "GET", path, query: { ...options.query, limit, cursor }, idempotent: true, schema }),
          (page) => ({ items: page[options.key] ?? [], nextCursor: page.next_cursor })
        ),
      { limit: options.limit }
    )
  }

  const get = <A>(path: string, key: string, schema: Schema.Codec<A, unknown>, query?: Query) =>
    unwrap(execute, key, schema, { method: "GET", path, query, idempotent: true })

  const updateIncident = (id: string, update: IncidentUpdate, options?: FromOptions) =>
    unwrap(execute, "incident", RestResources.Incident, {
      method: "PUT",
      path: idPath("/incidents", id),
      body: { incident: { type: "incident_reference", ...updateFields(update) } },
      from: "required",
      fromValue: options?.from,
      idempotent: true
    })

  const updateIncidentsChunk = (chunk: ReadonlyArray<BulkIncidentUpdate>, options?: FromOptions) =>
    unwrap(execute, "incidents", Schema.Array(RestResources.Incident), {
      method: "PUT",
      path: "/incidents",
      body: {
        incidents: chunk.map((update) => ({ id: update.id, type: "incident_reference", ...updateFields(update) }))
      },
      from: "required",
      fromValue: options?.from,
      idempotent: true
    })

  return {
    request,
    paginate,
    paginateCursor,

    createIncident: (input: CreateIncident, options?: FromOptions) =>
      unwrap(execute, "incident", RestResources.Incident, {
        method: "POST",
        path: "/incidents",
        body: createBody(input),
        from: "required",
        fromValue: options?.from,
        idempotent: false
      }),

    getIncident: (id: string, options?: { readonly include?: ReadonlyArray<string> | undefined }) =>
      get(idPath("/incidents", id), "incident", RestResources.Incident, { "include[]": options?.include }),

    listIncidents: (filters?: IncidentFilters) =>
      paginate("/incidents", {
        ...filters,
        key: "incidents",
        itemSchema: RestResources.Incident,
        query: {
          "statuses[]": filters?.statuses,
          "service_ids[]": filters?.serviceIds,
          "team_ids[]": filters?.teamIds,
          "user_ids[]": filters?.userIds,
          "urgencies[]": filters?.urgencies,
          "include[]": filters?.include,
          incident_key: filters?.incidentKey,
          date_range: filters?.dateRange,
          since: formatDate(filters?.since),
          until: formatDate(filters?.until),
          sort_by: filters?.sortBy?.join(","),
          time_zone: filters?.timeZone
        }
      }),

    updateIncident,

    acknowledgeIncident: (id: string, options?: FromOptions) => updateIncident(id, { status: "acknowledged" }, options),

    resolveIncident: (id: string, options?: FromOptions & { readonly resolution?: string | undefined }) =>
      updateIncident(id, { status: "resolved", resolution: options?.resolution }, options),

    updateIncidents: (updates: ReadonlyArray<BulkIncidentUpdate>, options?: FromOptions) => {
      const chunks: Array<ReadonlyArray<BulkIncidentUpdate>> = []
      for (let index = 0; index < updates.length; index += maxBulkIncidents) {
        chunks.push(updates.slice(index, index + maxBulkIncidents))
      }
      return Effect.map(
        Effect.forEach(chunks, (chunk) => updateIncidentsChunk(chunk, options)),
        (results) => results.flat()
      )
    },

    listIncidentNotes: (id: string) =>
      get(idPath("/incidents", id, "/notes"), "notes", Schema.Array(RestResources.Note)),

    createIncidentNote: (id: string, content: string, options?: FromOptions) =>
      unwrap(execute, "note", RestResources.Note, {
        method: "POST",
        path: idPath("/incidents", id, "/notes"),
        body: { note: { content } },
        from: "required",
        fromValue: options?.from,
        idempotent: false
      }),

    mergeIncidents: (targetId: string, sourceIds: ReadonlyArray<string>, options?: FromOptions) =>
      unwrap(execute, "incident", RestResources.Incident, {
        method: "PUT",
        path: idPath("/incidents", targetId, "/merge"),
        body: { source_incidents: sourceIds.map((id) => ({ id, type: "incident_reference" })) },
        from: "required",
        fromValue: options?.from,
        // A merge that reached PagerDuty cannot be repeated: the sources are resolved by then.
        idempotent: false
      }),

    listLogEntries: (filters?: LogEntryFilters) =>
      paginate("/log_entries", {
        ...filters,
        key: "log_entries",
        itemSchema: RestResources.LogEntry,
        query: logEntryQuery(filters)
      }),

    listIncidentLogEntries: (id: string, filters?: Omit<LogEntryFilters, "teamIds">) =>
      paginate(idPath("/incidents", id, "/log_entries"), {
        ...filters,
        key: "log_entries",
        itemSchema: RestResources.LogEntry,
        query: logEntryQuery(filters)
      }),

    getLogEntry: (id: string, options?: { readonly include?: ReadonlyArray<string> | undefined }) =>
      get(idPath("/log_entries", id), "log_entry", RestResources.LogEntry, { "include[]": options?.include }),

    listServices: (filters?: NamedFilters) =>
      paginate("/services", { ...filters, key: "services", itemSchema: RestResources.Service, query: named(filters) }),

    getService: (id: string) => get(idPath("/services", id), "service", RestResources.Service),

    listUsers: (filters?: NamedFilters) =>
      paginate("/users", { ...filters, key: "users", itemSchema: RestResources.User, query: named(filters) }),

    getUser: (id: string) => get(idPath("/users", id), "user", RestResources.User),

    listEscalationPolicies: (filters?: NamedFilters & { readonly userIds?: ReadonlyArray<string> | undefined }) =>
      paginate("/escalation_policies", {
        ...filters,
        key: "escalation_policies",
        itemSchema: RestResources.EscalationPolicy,
        query: { ...named(filters), "user_ids[]": filters?.userIds }
      }),

    getEscalationPolicy: (id: string) =>
      get(idPath("/escalation_policies", id), "escalation_policy", RestResources.EscalationPolicy),

    listOnCalls: (filters?: OnCallFilters) =>
      paginate("/oncalls", {
        ...filters,
        key: "oncalls",
        itemSchema: RestResources.OnCall,
        query: {
          "user_ids[]": filters?.userIds,
          "escalation_policy_ids[]": filters?.escalationPolicyIds,
          "schedule_ids[]": filters?.scheduleIds,
          "include[]": filters?.include,
          since: formatDate(filters?.since),
          until: formatDate(filters?.until),
          earliest: filters?.earliest,
          time_zone: filters?.timeZone
        }
      }),

    listPriorities: (options?: ListOptions) =>
      paginate("/priorities", { ...options, key: "priorities", itemSchema: RestResources.Priority }),

    listAuditRecords: (filters?: AuditRecordFilters) =>
      paginateCursor("/audit/records", {
        key: "records",
        itemSchema: RestResources.AuditRecord,
        limit: filters?.limit,
        query: {
          since: formatDate(filters?.since),
          until: formatDate(filters?.until),
          "root_resource_types[]": filters?.rootResourceTypes,
          "actions[]": filters?.actions
        }
      })
  }
}

const logEntryQuery = (filters: LogEntryFilters | undefined): Query => ({
  since: formatDate(filters?.since),
  until: formatDate(filters?.until),
  is_overview: filters?.isOverview,
  "include[]": filters?.include,
  "team_ids[]": filters?.teamIds,
  time_zone: filters?.timeZone
})

const named = (filters: NamedFilters | undefined): Query => ({
  query: filters?.query,
  "team_ids[]": filters?.teamIds,
  "include[]": filters?.include
})

/** The operations a `RestClient` offers. */
export type Operations = ReturnType<typeof makeOperations>
