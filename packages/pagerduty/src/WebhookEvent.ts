/**
 * Schemas of PagerDuty v3 webhook payloads: the `{"event": {...}}` envelope
 * and the `data` of every documented event type, as a union discriminated by
 * `event_type`.
 *
 * The schemas accept what real deliveries carry: fields PagerDuty adds later
 * are ignored (and dropped from the decoded value), fields missing from older
 * payloads (`incident_key`, `created_at`, `reopened_at`, `incident_type`) are
 * optional, `incident_key` may be `null`, and `conference_number` may be a
 * number. An event type this module does not know decodes to an
 * {@link UnknownEvent} carrying the raw `data`, so a new PagerDuty event type
 * is never rejected.
 *
 * @example
 * ```ts
 * import { WebhookEvent } from "@effect-pagerduty/pagerduty"
 * import { Schema } from "effect"
 *
 * declare const body: string
 *
 * const { event } = Schema.decodeUnknownSync(WebhookEvent.Envelope)(JSON.parse(body))
 * const title = WebhookEvent.isKnown(event) && event.event_type === "incident.triggered" ? event.data.title : undefined
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Schema from "effect/Schema"

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * A reference to another PagerDuty resource (`user_reference`,
 * `service_reference`, ...).
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
 * The client that caused an event, such as `{"name": "PagerDuty"}` or the
 * `client`/`client_url` of an Events API v2 trigger.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Client = Schema.Struct({
  name: Schema.String,
  url: OptionalString
})

/**
 * `data` of the incident events (`incident.triggered`, `incident.resolved`, ...).
 *
 * @since 0.1.0
 * @category schemas
 */
export const Incident = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident"),
  self: Schema.String,
  html_url: Schema.String,
  number: Schema.Number,
  status: Schema.String,
  incident_key: OptionalString,
  created_at: Schema.optional(Schema.String),
  reopened_at: OptionalString,
  title: Schema.String,
  incident_type: Schema.optional(Schema.NullOr(Schema.Struct({ name: Schema.String }))),
  service: Reference,
  assignees: Schema.Array(Reference),
  escalation_policy: Schema.optional(Schema.NullOr(Reference)),
  teams: Schema.Array(Reference),
  priority: Schema.NullOr(Reference),
  urgency: Schema.String,
  conference_bridge: Schema.optional(Schema.NullOr(Schema.Struct({
    // a string in PagerDuty's documentation, the number 1000 in go-pagerduty's test payload
    conference_number: Schema.optional(Schema.NullOr(Schema.Union([Schema.String, Schema.Number]))),
    conference_url: OptionalString
  }))),
  resolve_reason: Schema.optional(Schema.NullOr(Schema.Unknown))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Incident = typeof Incident.Type

/**
 * `data` of `incident.annotated`: the note added to an incident.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentNote = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident_note"),
  incident: Reference,
  content: Schema.String,
  trimmed: Schema.optional(Schema.Boolean)
})

/**
 * `data` of `incident.conference_bridge.updated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentConferenceBridge = Schema.Struct({
  type: Schema.Literal("incident_conference_bridge"),
  incident: Reference,
  conference_numbers: Schema.optional(Schema.Array(Schema.Struct({
    label: OptionalString,
    number: Schema.Union([Schema.String, Schema.Number])
  }))),
  conference_url: OptionalString
})

/**
 * A custom field value of an incident or a service.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FieldValue = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  type: Schema.optional(Schema.String),
  data_type: Schema.optional(Schema.String),
  field_type: Schema.optional(Schema.String),
  namespace: Schema.optional(Schema.String),
  value: Schema.Unknown
})

/**
 * `data` of `incident.custom_field_values.updated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentFieldValues = Schema.Struct({
  type: Schema.Literal("incident_field_values"),
  incident: Reference,
  custom_fields: Schema.Array(FieldValue),
  changed_custom_fields: Schema.optional(Schema.Array(FieldValue))
})

/**
 * `data` of `incident.responder.added` and `incident.responder.replied`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentResponder = Schema.Struct({
  type: Schema.Literal("incident_responder"),
  incident: Reference,
  user: Schema.optional(Schema.NullOr(Reference)),
  escalation_policy: Schema.optional(Schema.NullOr(Reference)),
  message: OptionalString,
  state: Schema.String
})

/**
 * `data` of `incident.role.assigned`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentRoleAssignment = Schema.Struct({
  type: Schema.Literal("incident_role_assignment"),
  incident_role_assignments: Schema.Array(Schema.Struct({
    id: Schema.String,
    type: Schema.optional(Schema.String),
    assignee: Schema.NullOr(Reference),
    old_assignee: Schema.optional(Schema.NullOr(Reference)),
    incident: Reference,
    role: Reference,
    status: Schema.optional(Schema.String)
  }))
})

/**
 * `data` of `incident.status_update_published`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentStatusUpdate = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident_status_update"),
  incident: Reference,
  message: Schema.String,
  trimmed: Schema.optional(Schema.Boolean)
})

/**
 * `data` of `incident.task.created`, `.updated` and `.completed`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentTask = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident_task"),
  name: Schema.String,
  description: OptionalString,
  summary: OptionalString,
  status: Schema.String,
  assignees: Schema.optional(Schema.Array(Reference)),
  incident: Reference
})

/**
 * `data` of `incident.action_invocation.created`, `.updated` and `.terminated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentActionInvocation = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident_action_invocation"),
  self: OptionalString,
  html_url: OptionalString,
  incident: Reference,
  action: Reference,
  state: Schema.String
})

/**
 * `data` of `incident.workflow.started` and `incident.workflow.completed`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IncidentWorkflowInstance = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("incident_workflow_instance"),
  summary: OptionalString,
  incident_workflow: Reference,
  workflow_trigger: Schema.optional(Schema.NullOr(Reference)),
  incident: Reference,
  service: Schema.optional(Schema.NullOr(Reference))
})

/**
 * `data` of `service.created`, `service.updated` and `service.deleted`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Service = Schema.Struct({
  id: Schema.String,
  type: Schema.Literal("service"),
  summary: OptionalString,
  self: OptionalString,
  html_url: OptionalString,
  alert_creation: Schema.optional(Schema.String),
  teams: Schema.optional(Schema.Array(Reference))
})

/**
 * `data` of `service.custom_field_values.updated`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ServiceFieldValues = Schema.Struct({
  type: Schema.Literal("service_field_values"),
  service: Reference,
  custom_fields: Schema.Array(FieldValue),
  changed_custom_fields: Schema.optional(Schema.Array(FieldValue))
})

/**
 * `data` of `pagey.ping`, the test event of `POST /webhook_subscriptions/{id}/ping`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Ping = Schema.Struct({
  type: Schema.Literal("ping"),
  message: Schema.String
})

/**
 * Every documented event type with the schema of its `data`, plus `pagey.ping`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const dataSchemas = {
  "incident.acknowledged": Incident,
  "incident.delegated": Incident,
  "incident.escalated": Incident,
  "incident.incident_type.changed": Incident,
  "incident.priority_updated": Incident,
  "incident.reassigned": Incident,
  "incident.reopened": Incident,
  "incident.resolved": Incident,
  "incident.service_updated": Incident,
  "incident.triggered": Incident,
  "incident.unacknowledged": Incident,
  "incident.annotated": IncidentNote,
  "incident.conference_bridge.updated": IncidentConferenceBridge,
  "incident.custom_field_values.updated": IncidentFieldValues,
  "incident.responder.added": IncidentResponder,
  "incident.responder.replied": IncidentResponder,
  "incident.role.assigned": IncidentRoleAssignment,
  "incident.status_update_published": IncidentStatusUpdate,
  "incident.task.completed": IncidentTask,
  "incident.task.created": IncidentTask,
  "incident.task.updated": IncidentTask,
  "incident.action_invocation.created": IncidentActionInvocation,
  "incident.action_invocation.terminated": IncidentActionInvocation,
  "incident.action_invocation.updated": IncidentActionInvocation,
  "incident.workflow.started": IncidentWorkflowInstance,
  "incident.workflow.completed": IncidentWorkflowInstance,
  "service.created": Service,
  "service.custom_field_values.updated": ServiceFieldValues,
  "service.deleted": Service,
  "service.updated": Service,
  "pagey.ping": Ping
} as const

/**
 * An event type this module decodes into a typed variant.
 *
 * @since 0.1.0
 * @category models
 */
export type EventType = keyof typeof dataSchemas

/**
 * The known event types.
 *
 * @since 0.1.0
 * @category constants
 */
export const eventTypes: ReadonlyArray<EventType> = Object.keys(dataSchemas) as Array<EventType>

const knownEventTypes: ReadonlySet<string> = new Set(eventTypes)

/**
 * Checks whether `eventType` is one of the {@link eventTypes}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isEventType = (eventType: string): eventType is EventType => knownEventTypes.has(eventType)

const commonFields = {
  id: Schema.String,
  resource_type: Schema.String,
  occurred_at: Schema.String,
  agent: Schema.NullOr(Reference),
  client: Schema.NullOr(Client)
}

const variant = <T extends EventType>(eventType: T) =>
  Schema.Struct({ ...commonFields, event_type: Schema.Literal(eventType), data: dataSchemas[eventType] })

type Variants = { readonly [T in EventType]: ReturnType<typeof variant<T>> }

const variants = Object.fromEntries(
  eventTypes.map((eventType) => [eventType, variant(eventType)])
) as unknown as Variants

/**
 * The schema of the `event` object of each known event type.
 *
 * @since 0.1.0
 * @category schemas
 */
export const eventSchemas: Variants = variants

/**
 * The event of a known type `T`, with `data` typed by it.
 *
 * @since 0.1.0
 * @category models
 */
export type Event<T extends EventType = EventType> = { readonly [K in T]: Variants[K]["Type"] }[T]

/**
 * An event of a type this module does not know, with its `data` left as
 * decoded JSON.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UnknownEvent = Schema.Struct({
  ...commonFields,
  event_type: Schema.String.check(
    Schema.makeFilter((eventType) => !knownEventTypes.has(eventType) || `expected an unknown event type`)
  ),
  data: Schema.Unknown
})

/**
 * @since 0.1.0
 * @category models
 */
export type UnknownEvent = typeof UnknownEvent.Type

/**
 * Any event: a known variant or an {@link UnknownEvent}.
 *
 * @since 0.1.0
 * @category models
 */
export type AnyEvent = Event | UnknownEvent

/**
 * The `event` object of a delivery: the union of every known variant and
 * {@link UnknownEvent}, discriminated by `event_type`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const WebhookEvent: Schema.Codec<AnyEvent, unknown> = Schema.Union([
  ...eventTypes.map((eventType) => variants[eventType]),
  UnknownEvent
  // the members come from a mapped array, so the union's own type is too wide to name the variants
]) as unknown as Schema.Codec<AnyEvent, unknown>

/**
 * The body of a delivery, `{"event": {...}}`. PagerDuty sends one event per
 * delivery.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Envelope = Schema.Struct({ event: WebhookEvent })

/**
 * @since 0.1.0
 * @category models
 */
export type Envelope = typeof Envelope.Type

/**
 * Checks whether an event is of a known type, narrowing it to {@link Event}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isKnown = (event: AnyEvent): event is Event => knownEventTypes.has(event.event_type)
