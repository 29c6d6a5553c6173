/**
 * Plain text and Markdown renderings of incidents (REST API), alerts and
 * alert groups, and v3 webhook events, for chat messages and ticket sync.
 *
 * Every value from PagerDuty or a monitoring tool is treated as hostile.
 * Control and bidirectional characters are removed, and one-line fields lose
 * their line breaks and are cut to `maxLineLength` code points. In Markdown
 * every character that could start a link, emphasis, HTML or a block is
 * escaped, so a summary such as `[click](https://evil.example)` or
 * `<script>` shows as typed. Only absolute http and https URLs become links.
 *
 * @example
 * ```ts
 * import { Render } from "@effect-pagerduty/pagerduty"
 *
 * Render.incidentMarkdown({ id: "PT4KHLK", type: "incident", incident_number: 1234, title: "disk full" })
 * // "**\\#1234 disk full**"
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as DateTime from "effect/DateTime"
import type * as Alert from "./Alert.ts"
import * as Format from "./Format.ts"
import * as Document from "./internal/renderDocument.ts"
import type * as RestResources from "./RestResources.ts"
import type * as WebhookEvent from "./WebhookEvent.ts"

/**
 * Options of every rendering. An option that is not a whole number in range
 * throws a `RangeError` naming it.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** Maximum length of a one-line value, in code points. Default 512. */
  readonly maxLineLength?: number | undefined
  /** Maximum length of a multi-line body (a description, a note), in code points. Default 4000. */
  readonly maxBodyLength?: number | undefined
  /** Maximum number of alerts listed for a group; the rest are counted. Default 20. */
  readonly maxAlerts?: number | undefined
}

const wholeNumberOption = (name: string, value: number | undefined, fallback: number, min: number): number => {
  if (value === undefined) return fallback
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`Render: option ${name} must be a whole number of at least ${min}, got ${value}`)
  }
  return value
}

// Invalid options throw a RangeError naming the option.
const limitsOf = (options: Options): Document.Limits => ({
  maxLineLength: wholeNumberOption("maxLineLength", options.maxLineLength, 512, 1),
  maxBodyLength: wholeNumberOption("maxBodyLength", options.maxBodyLength, 4000, 1)
})

type Text = string | null | undefined

const plain = (text: Text): ReadonlyArray<Document.Inline> | undefined =>
  text === null || text === undefined ? undefined : [{ text }]

const linked = (text: Text, url: Text): ReadonlyArray<Document.Inline> | undefined =>
  text === null || text === undefined ? undefined : [{ text, url }]

const reference = (ref: RestResources.Reference | null | undefined) =>
  ref === null || ref === undefined ? undefined : linked(ref.summary ?? ref.id, ref.html_url)

const references = (refs: ReadonlyArray<RestResources.Reference>): ReadonlyArray<Document.Inline> | undefined =>
  refs.length === 0 ? undefined : [{ text: refs.map((ref) => ref.summary ?? ref.id).join(", ") }]

const time = (value: DateTime.Utc | undefined): Text => value === undefined ? undefined : DateTime.formatIso(value)

const incidentTitle = (number: number | undefined, title: string): ReadonlyArray<Document.Inline> =>
  number === undefined ? [{ text: title }] : [{ text: `#${number} ${title}` }]

// -----------------------------------------------------------------------------
// incidents
// -----------------------------------------------------------------------------

const incidentDocument = (incident: RestResources.Incident): Document.Document => {
  const title = incident.title ?? incident.summary ?? incident.id
  const details = incident.body?.details
  return {
    title: [{ ...incidentTitle(incident.incident_number, title)[0]!, url: incident.html_url }],
    fields: [
      { label: "Status", value: plain(incident.status) },
      { label: "Urgency", value: plain(incident.urgency) },
      { label: "Priority", value: reference(incident.priority) },
      { label: "Service", value: reference(incident.service) },
      { label: "Assigned to", value: references((incident.assignments ?? []).map((a) => a.assignee)) },
      { label: "Escalation policy", value: reference(incident.escalation_policy) },
      { label: "Created", value: plain(incident.created_at) },
      { label: "Incident key", value: plain(incident.incident_key) }
    ],
    body: typeof details === "string" ? details : undefined
  }
}

/**
 * Renders a REST API incident as plain text: `#<number> <title> <url>`, then
 * status, urgency, priority, service, assignees, escalation policy, creation
 * time and incident key, then the incident body's details when they are text.
 *
 * @since 0.1.0
 * @category incidents
 */
export const incidentText = (incident: RestResources.Incident, options: Options = {}): string =>
  Document.toText(incidentDocument(incident), limitsOf(options))

/**
 * Renders a REST API incident as Markdown: the same parts as
 * {@link incidentText}, with the title linked to the incident.
 *
 * @since 0.1.0
 * @category incidents
 */
export const incidentMarkdown = (incident: RestResources.Incident, options: Options = {}): string =>
  Document.toMarkdown(incidentDocument(incident), limitsOf(options))

// -----------------------------------------------------------------------------
// alerts
// -----------------------------------------------------------------------------

const labelItems = (labels: Alert.Labels): ReadonlyArray<ReadonlyArray<Document.Inline>> =>
  Object.keys(labels).sort().map((name) => [{ text: `${name}=${labels[name]}` }])

const alertDocument = (alert: Alert.Alert): Document.Document => ({
  title: [{ text: Format.alertSubject(alert), url: alert.generatorURL }],
  fields: [
    { label: "Severity", value: plain(alert.severity) },
    { label: "Started", value: plain(time(alert.startsAt)) },
    { label: "Ended", value: plain(time(alert.endsAt)) },
    { label: "Fingerprint", value: plain(alert.fingerprint) }
  ],
  body: alert.summary === undefined ? undefined : alert.description,
  lists: [
    { heading: "Labels", items: labelItems(alert.labels) },
    { heading: "Links", items: alert.links.map((link) => [{ text: link.text ?? link.href, url: link.href }]) }
  ]
})

/**
 * Renders an alert as plain text: the summary line of `Format.alertSubject`
 * with the generator URL, severity, start and end times, fingerprint, the
 * description, the labels and the links.
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertText = (alert: Alert.Alert, options: Options = {}): string =>
  Document.toText(alertDocument(alert), limitsOf(options))

/**
 * Renders an alert as Markdown, with the same parts as {@link alertText}.
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertMarkdown = (alert: Alert.Alert, options: Options = {}): string =>
  Document.toMarkdown(alertDocument(alert), limitsOf(options))

const groupDocument = (group: Alert.AlertGroup, options: Options): Document.Document => {
  const maxAlerts = wholeNumberOption("maxAlerts", options.maxAlerts, 20, 0)
  const listed = group.alerts.slice(0, maxAlerts)
  return {
    title: [{ text: Format.subject(group), url: group.externalURL }],
    fields: [
      { label: "Receiver", value: plain(group.receiver) },
      { label: "Firing", value: plain(String(group.firing.length)) },
      { label: "Resolved", value: plain(String(group.resolved.length)) },
      { label: "Truncated alerts", value: group.truncatedAlerts > 0 ? plain(String(group.truncatedAlerts)) : undefined }
    ],
    lists: [{
      heading: "Alerts",
      items: listed.map((alert) => [{ text: Format.alertSubject(alert), url: alert.generatorURL }]),
      omitted: group.alerts.length - listed.length
    }]
  }
}

/**
 * Renders an alert group as plain text: Alertmanager's summary line with the
 * external URL, the receiver, the firing and resolved counts, and one line
 * per alert (at most `maxAlerts`).
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertGroupText = (group: Alert.AlertGroup, options: Options = {}): string =>
  Document.toText(groupDocument(group, options), limitsOf(options))

/**
 * Renders an alert group as Markdown, with the same parts as
 * {@link alertGroupText}.
 *
 * @since 0.1.0
 * @category alerts
 */
export const alertGroupMarkdown = (group: Alert.AlertGroup, options: Options = {}): string =>
  Document.toMarkdown(groupDocument(group, options), limitsOf(options))

// -----------------------------------------------------------------------------
// webhook events
// -----------------------------------------------------------------------------

/**
 * Turns an event type into words: `incident.priority_updated` becomes
 * `Incident priority updated`.
 *
 * @since 0.1.0
 * @category webhook events
 */
export const eventTypeLabel = (eventType: string): string => {
  const words = eventType.split(/[._]+/).filter((word) => word !== "").join(" ")
  return words.charAt(0).toUpperCase() + words.slice(1)
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null

// The incident a webhook event concerns: the `data` itself for incident
// events, `data.incident` for notes, responders, tasks and the like.
const subjectOf = (event: WebhookEvent.AnyEvent): Document.Inline | undefined => {
  const data: unknown = event.data
  if (!isRecord(data)) return undefined
  if (data.type === "incident" && typeof data.title === "string") {
    const number = typeof data.number === "number" ? data.number : undefined
    return { text: incidentTitle(number, data.title)[0]!.text, url: data.html_url as Text }
  }
  const incident = data.incident
  if (isRecord(incident) && typeof incident.id === "string") {
    return {
      text: typeof incident.summary === "string" ? incident.summary : incident.id,
      url: incident.html_url as Text
    }
  }
  const summary = data.summary ?? data.name
  return typeof summary === "string" ? { text: summary, url: data.html_url as Text } : undefined
}

const text = (value: unknown): Text => typeof value === "string" ? value : undefined

const dataFields = (data: Record<string, unknown>): ReadonlyArray<Document.Field> => {
  const ref = (value: unknown) => isRecord(value) ? reference(value as RestResources.Reference) : undefined
  const refs = (value: unknown) =>
    Array.isArray(value) ? references(value.filter(isRecord) as Array<RestResources.Reference>) : undefined
  return [
    { label: "Status", value: plain(text(data.status) ?? text(data.state)) },
    { label: "Urgency", value: plain(text(data.urgency)) },
    { label: "Priority", value: ref(data.priority) },
    { label: "Service", value: ref(data.service) },
    { label: "Assigned to", value: refs(data.assignees) },
    { label: "Responder", value: ref(data.user) }
  ]
}

const bodyOf = (data: Record<string, unknown>): Text => text(data.content) ?? text(data.message)

const webhookDocument = (event: WebhookEvent.AnyEvent): Document.Document => {
  const data: Record<string, unknown> = isRecord(event.data) ? event.data : {}
  const subject = subjectOf(event)
  const label = eventTypeLabel(event.event_type)
  return {
    title: subject === undefined ? [{ text: label }] : [{ text: `${label}:` }, subject],
    fields: [
      ...dataFields(data),
      { label: "By", value: reference(event.agent) },
      { label: "Client", value: event.client === null ? undefined : linked(event.client.name, event.client.url) },
      { label: "Occurred", value: plain(event.occurred_at) },
      { label: "Event", value: plain(`${event.event_type} ${event.id}`) }
    ],
    body: bodyOf(data)
  }
}

/**
 * Renders a v3 webhook event as plain text, starting with a title that names
 * what happened and to which incident (`Incident triggered: #12 disk full
 * <url>`). The lines after it show the incident's status, urgency, priority,
 * service and assignees where the event carries them, who caused the event
 * and when, and then a note's or status update's text. Events of unknown
 * types render with their type and id.
 *
 * @since 0.1.0
 * @category webhook events
 */
export const webhookEventText = (event: WebhookEvent.AnyEvent, options: Options = {}): string =>
  Document.toText(webhookDocument(event), limitsOf(options))

/**
 * Renders a v3 webhook event as Markdown, with the same parts as
 * {@link webhookEventText}.
 *
 * @since 0.1.0
 * @category webhook events
 */
export const webhookEventMarkdown = (event: WebhookEvent.AnyEvent, options: Options = {}): string =>
  Document.toMarkdown(webhookDocument(event), limitsOf(options))
