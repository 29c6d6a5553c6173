/**
 * Schemas of the REST API v2 resources that `RestClient` reads, following
 * PagerDuty's OpenAPI spec.
 *
 * The schemas are lenient. Fields PagerDuty may omit are optional, and fields
 * the spec marks nullable accept `null`. Fields a schema does not name are
 * accepted and dropped during decoding. To keep the whole object, call
 * `RestClient.request` with a schema of your own (for example
 * `Schema.Record(Schema.String, Schema.Unknown)`).
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Schema } from "effect"

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * A reference to another resource (`service_reference`, `user_reference`, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Reference = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString
})

/**
 * @since 0.1.0
 * @category models
 */
export type Reference = typeof Reference.Type

/**
 * The status of an incident.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentStatus = Schema.Literals(["triggered", "acknowledged", "resolved"])

/**
 * @since 0.1.0
 * @category models
 */
export type IncidentStatus = typeof IncidentStatus.Type

/**
 * The urgency of an incident.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Urgency = Schema.Literals(["high", "low"])

/**
 * @since 0.1.0
 * @category models
 */
export type Urgency = typeof Urgency.Type

/**
 * An incident (`GET /incidents/{id}`, `GET /incidents`, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Incident = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  incident_number: Schema.optional(Schema.Number),
  title: Schema.optional(Schema.String),
  created_at: Schema.optional(Schema.String),
  updated_at: OptionalString,
  status: Schema.optional(IncidentStatus),
  incident_key: OptionalString,
  service: Schema.optional(Reference),
  assignments: Schema.optional(Schema.Array(Schema.Struct({
    at: OptionalString,
    assignee: Reference
  }))),
  acknowledgements: Schema.optional(Schema.Array(Schema.Struct({
    at: OptionalString,
    acknowledger: Reference
  }))),
  assigned_via: OptionalString,
  last_status_change_at: OptionalString,
  last_status_change_by: Schema.optional(Schema.NullOr(Reference)),
  resolved_at: OptionalString,
  first_trigger_log_entry: Schema.optional(Schema.NullOr(Reference)),
  escalation_policy: Schema.optional(Schema.NullOr(Reference)),
  teams: Schema.optional(Schema.Array(Reference)),
  priority: Schema.optional(Schema.NullOr(Reference)),
  urgency: Schema.optional(Urgency),
  resolve_reason: Schema.optional(Schema.NullOr(Schema.Unknown)),
  alert_counts: Schema.optional(Schema.Struct({
    all: Schema.Number,
    triggered: Schema.Number,
    resolved: Schema.Number
  })),
  incident_type: Schema.optional(Schema.NullOr(Schema.Struct({ name: Schema.String }))),
  conference_bridge: Schema.optional(Schema.NullOr(Schema.Struct({
    conference_number: OptionalString,
    conference_url: OptionalString
  }))),
  body: Schema.optional(Schema.Struct({
    type: Schema.optional(Schema.String),
    details: Schema.optional(Schema.NullOr(Schema.Union([Schema.String, Schema.Record(Schema.String, Schema.Unknown)])))
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Incident = typeof Incident.Type

/**
 * A note on an incident.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Note = Schema.Struct({
  id: Schema.String,
  content: Schema.String,
  created_at: Schema.optional(Schema.String),
  updated_at: OptionalString,
  user: Schema.optional(Schema.NullOr(Reference)),
  channel: Schema.optional(Schema.Struct({
    type: OptionalString,
    summary: OptionalString
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Note = typeof Note.Type

/**
 * A log entry: one event in an incident's timeline (`trigger_log_entry`,
 * `acknowledge_log_entry`, `annotate_log_entry`, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const LogEntry = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  created_at: Schema.String,
  agent: Schema.optional(Schema.NullOr(Reference)),
  channel: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  incident: Schema.optional(Reference),
  service: Schema.optional(Reference),
  teams: Schema.optional(Schema.Array(Reference)),
  note: Schema.optional(Schema.String),
  event_details: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})

/**
 * @since 0.1.0
 * @category models
 */
export type LogEntry = typeof LogEntry.Type

/**
 * A service.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Service = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  description: OptionalString,
  status: Schema.optional(Schema.String),
  created_at: Schema.optional(Schema.String),
  auto_resolve_timeout: Schema.optional(Schema.NullOr(Schema.Number)),
  acknowledgement_timeout: Schema.optional(Schema.NullOr(Schema.Number)),
  alert_creation: Schema.optional(Schema.String),
  escalation_policy: Schema.optional(Reference),
  teams: Schema.optional(Schema.Array(Reference)),
  integrations: Schema.optional(Schema.Array(Reference))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Service = typeof Service.Type

/**
 * A user.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  email: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  time_zone: OptionalString,
  color: OptionalString,
  role: Schema.optional(Schema.String),
  description: OptionalString,
  job_title: OptionalString,
  teams: Schema.optional(Schema.Array(Reference)),
  contact_methods: Schema.optional(Schema.Array(Reference)),
  notification_rules: Schema.optional(Schema.Array(Reference))
})

/**
 * @since 0.1.0
 * @category models
 */
export type User = typeof User.Type

/**
 * An escalation policy with its rules.
 *
 * @since 0.1.0
 * @category schemas
 */
export const EscalationPolicy = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  description: OptionalString,
  num_loops: Schema.optional(Schema.Number),
  on_call_handoff_notifications: Schema.optional(Schema.String),
  escalation_rules: Schema.optional(Schema.Array(Schema.Struct({
    id: Schema.optional(Schema.String),
    escalation_delay_in_minutes: Schema.Number,
    targets: Schema.Array(Reference)
  }))),
  services: Schema.optional(Schema.Array(Reference)),
  teams: Schema.optional(Schema.Array(Reference))
})

/**
 * @since 0.1.0
 * @category models
 */
export type EscalationPolicy = typeof EscalationPolicy.Type

/**
 * An on-call entry: who is on call for which escalation policy and level,
 * and from when to when (`null` for permanent entries).
 *
 * @since 0.1.0
 * @category schemas
 */
export const OnCall = Schema.Struct({
  user: Schema.optional(Reference),
  schedule: Schema.optional(Schema.NullOr(Reference)),
  escalation_policy: Reference,
  escalation_level: Schema.Number,
  start: OptionalString,
  end: OptionalString
})

/**
 * @since 0.1.0
 * @category models
 */
export type OnCall = typeof OnCall.Type

/**
 * An incident priority (P1, P2, …).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Priority = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  summary: OptionalString,
  self: OptionalString,
  description: OptionalString
})

/**
 * @since 0.1.0
 * @category models
 */
export type Priority = typeof Priority.Type

/**
 * An audit record (`GET /audit/records`, cursor paginated).
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuditRecord = Schema.Struct({
  id: Schema.String,
  execution_time: Schema.String,
  action: Schema.String,
  execution_context: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  actors: Schema.optional(Schema.Array(Schema.Record(Schema.String, Schema.Unknown))),
  method: Schema.optional(Schema.Struct({
    type: Schema.String,
    truncated_token: OptionalString
  })),
  root_resource: Schema.optional(Schema.Struct({
    id: Schema.String,
    type: Schema.String,
    summary: OptionalString
  })),
  details: Schema.optional(Schema.Unknown)
})

/**
 * @since 0.1.0
 * @category models
 */
export type AuditRecord = typeof AuditRecord.Type

/**
 * The pagination fields of a classic page; `more` is treated as `false` when
 * absent.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ClassicPageFields = {
  limit: Schema.optional(Schema.Number),
  offset: Schema.optional(Schema.Number),
  more: Schema.optional(Schema.Boolean),
  total: Schema.optional(Schema.NullOr(Schema.Number))
}

/**
 * The pagination fields of a cursor page.
 *
 * @since 0.1.0
 * @category schemas
 */
export const CursorPageFields = {
  limit: Schema.optional(Schema.Number),
  next_cursor: Schema.optional(Schema.NullOr(Schema.String))
}
