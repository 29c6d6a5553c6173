/**
 * The inputs of the REST client's operations: request bodies without the
 * `type` fields the client adds, and the filters of each list.
 */
import type { DateTime, Schema } from "effect"
import type * as RestResources from "../RestResources.ts"
import type { FromRequirement, Query } from "./restTransport.ts"

/** A date-time query value: an ISO 8601 string or a `DateTime`. */
export type DateInput = string | DateTime.DateTime

/** Options shared by operations that send the `From` header. */
export interface FromOptions {
  /** The email of a user on the account; overrides the client's `from` option. */
  readonly from?: string | undefined
}

/** Options of a classic paginated list. */
export interface ListOptions {
  /** Records per page, 1 to 100. */
  readonly limit?: number | undefined
  /** The offset to start from. */
  readonly offset?: number | undefined
  /** The behaviour at the 10,000-record limit; see `Pagination.classic`. */
  readonly onLimitReached?: "fail" | "end" | undefined
  /** Asks PagerDuty to fill in `total`. */
  readonly total?: boolean | undefined
}

/** The body of `POST /incidents`, without the `type` fields the client adds. */
export interface CreateIncident {
  readonly title: string
  readonly service: { readonly id: string }
  readonly urgency?: RestResources.Urgency | undefined
  /**
   * NOTE: the REST spec's schema types `details` as an object, while its own
   * example and the developer docs send a string; both are accepted here.
   */
  readonly body?: { readonly details: string | Readonly<Record<string, unknown>> } | undefined
  readonly incident_key?: string | undefined
  readonly priority?: { readonly id: string } | undefined
  /** At most one assignee is supported; cannot be combined with `escalation_policy`. */
  readonly assignments?: ReadonlyArray<{ readonly assignee: { readonly id: string } }> | undefined
  readonly escalation_policy?: { readonly id: string } | undefined
  readonly incident_type?: { readonly name: string } | undefined
  readonly conference_bridge?: {
    readonly conference_number?: string | undefined
    readonly conference_url?: string | undefined
  } | undefined
}

/** The fields of `PUT /incidents/{id}`, without the `type` fields the client adds. */
export interface IncidentUpdate {
  readonly status?: RestResources.IncidentStatus | undefined
  /** Used only when resolving: added to the resolve log entry as a note. */
  readonly resolution?: string | undefined
  readonly title?: string | undefined
  /** A priority reference, or the name of a priority. */
  readonly priority?: { readonly id: string } | string | undefined
  readonly escalation_level?: number | undefined
  readonly assignments?: ReadonlyArray<{ readonly assignee: { readonly id: string } }> | undefined
  readonly escalation_policy?: { readonly id: string } | undefined
  readonly urgency?: RestResources.Urgency | undefined
  readonly incident_type?: { readonly name: string } | undefined
}

/** One incident of a bulk `PUT /incidents`. */
export interface BulkIncidentUpdate extends IncidentUpdate {
  readonly id: string
}

/** Filters of `GET /incidents`. */
export interface IncidentFilters extends ListOptions {
  readonly statuses?: ReadonlyArray<RestResources.IncidentStatus> | undefined
  readonly serviceIds?: ReadonlyArray<string> | undefined
  readonly teamIds?: ReadonlyArray<string> | undefined
  readonly userIds?: ReadonlyArray<string> | undefined
  readonly urgencies?: ReadonlyArray<RestResources.Urgency> | undefined
  readonly incidentKey?: string | undefined
  /** Ignores `since` and `until` and searches every date. */
  readonly dateRange?: "all" | undefined
  readonly since?: DateInput | undefined
  readonly until?: DateInput | undefined
  /** Up to two sort fields, e.g. `["created_at:desc"]`. */
  readonly sortBy?: ReadonlyArray<string> | undefined
  readonly include?: ReadonlyArray<string> | undefined
  readonly timeZone?: string | undefined
}

/** Filters of `GET /log_entries` and `GET /incidents/{id}/log_entries`. */
export interface LogEntryFilters extends ListOptions {
  readonly since?: DateInput | undefined
  readonly until?: DateInput | undefined
  readonly isOverview?: boolean | undefined
  readonly include?: ReadonlyArray<string> | undefined
  readonly teamIds?: ReadonlyArray<string> | undefined
  readonly timeZone?: string | undefined
}

/** Filters of lists that take a name `query` and `team_ids[]` (services, users, escalation policies). */
export interface NamedFilters extends ListOptions {
  readonly query?: string | undefined
  readonly teamIds?: ReadonlyArray<string> | undefined
  readonly include?: ReadonlyArray<string> | undefined
}

/** Filters of `GET /oncalls`. */
export interface OnCallFilters extends ListOptions {
  readonly userIds?: ReadonlyArray<string> | undefined
  readonly escalationPolicyIds?: ReadonlyArray<string> | undefined
  readonly scheduleIds?: ReadonlyArray<string> | undefined
  readonly since?: DateInput | undefined
  readonly until?: DateInput | undefined
  /** Returns only the earliest on-call per user, policy and level. */
  readonly earliest?: boolean | undefined
  readonly include?: ReadonlyArray<string> | undefined
  readonly timeZone?: string | undefined
}

/** Filters of `GET /audit/records`. */
export interface AuditRecordFilters {
  readonly limit?: number | undefined
  readonly since?: DateInput | undefined
  readonly until?: DateInput | undefined
  readonly rootResourceTypes?: ReadonlyArray<string> | undefined
  readonly actions?: ReadonlyArray<string> | undefined
}

/** Options of the generic `request`. */
export interface RequestOptions<A> {
  readonly query?: Query | undefined
  readonly body?: unknown
  /** Decodes the response body; `Schema.Unknown` when absent. An empty body decodes as `undefined`. */
  readonly responseSchema?: Schema.Codec<A, unknown> | undefined
  /**
   * Whether the `From` header is sent: `"required"` fails early without one,
   * `"optional"` sends it when one is configured. Defaults to `"none"` for GET
   * and HEAD, `"optional"` otherwise.
   */
  readonly fromHeader?: FromRequirement | undefined
  readonly from?: string | undefined
  /** Whether 5xx, timeouts and transport failures may be retried; defaults to HTTP method semantics. */
  readonly idempotent?: boolean | undefined
}

/** Options of a generic classic paginated list. */
export interface PaginateOptions<A> extends ListOptions {
  /** The root key of the collection in the response, e.g. `"incidents"`. */
  readonly key: string
  readonly itemSchema: Schema.Codec<A, unknown>
  readonly query?: Query | undefined
}

/** Options of a generic cursor paginated list. */
export interface PaginateCursorOptions<A> {
  readonly key: string
  readonly itemSchema: Schema.Codec<A, unknown>
  readonly query?: Query | undefined
  readonly limit?: number | undefined
}
