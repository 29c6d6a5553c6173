/**
 * The canonical alert that every source (Alertmanager, Grafana, a generic JSON
 * mapping) is turned into, and the group that alerts arrive in.
 *
 * Formatting and deduplication work on these types only, so a new source needs
 * nothing but a transform into {@link Alert} and {@link AlertGroup}.
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Schema } from "effect"

/**
 * The kind of system an alert came from.
 *
 * @since 0.1.0
 * @category models
 */
export const SourceKind = Schema.Literals(["alertmanager", "grafana", "generic"])

/**
 * @since 0.1.0
 * @category models
 */
export type SourceKind = typeof SourceKind.Type

/**
 * Whether an alert is still firing or has been resolved.
 *
 * @since 0.1.0
 * @category models
 */
export const Status = Schema.Literals(["firing", "resolved"])

/**
 * @since 0.1.0
 * @category models
 */
export type Status = typeof Status.Type

/**
 * A label or annotation set: string names to string values.
 *
 * @since 0.1.0
 * @category models
 */
export const Labels = Schema.Record(Schema.String, Schema.String)

/**
 * @since 0.1.0
 * @category models
 */
export type Labels = typeof Labels.Type

/**
 * A link attached to an alert, such as a dashboard or a runbook.
 *
 * @since 0.1.0
 * @category models
 */
export class Link extends Schema.Class<Link>("effect-pagerduty/Alert/Link")({
  href: Schema.String,
  text: Schema.optionalKey(Schema.String)
}) {}

/**
 * An image attached to an alert, such as a rendered graph.
 *
 * @since 0.1.0
 * @category models
 */
export class Image extends Schema.Class<Image>("effect-pagerduty/Alert/Image")({
  src: Schema.String,
  href: Schema.optionalKey(Schema.String),
  alt: Schema.optionalKey(Schema.String)
}) {}

/**
 * The group an alert arrived in: its group key and the receiver it was sent to.
 *
 * @since 0.1.0
 * @category models
 */
export class GroupRef extends Schema.Class<GroupRef>("effect-pagerduty/Alert/GroupRef")({
  key: Schema.String,
  receiver: Schema.String
}) {}

/**
 * One alert in canonical form.
 *
 * Details:
 * - `fingerprint` identifies the alert by its labels. Sources that do not send
 *   one get Alertmanager's own label fingerprint (see `Sources.fingerprint`).
 * - `startsAt` and `endsAt` are absent when the source sent none or sent Go's
 *   zero time (`0001-01-01T00:00:00Z`), which Alertmanager uses for "not ended".
 * - `name`, `summary` and `description` are the parts a summary line is built
 *   from: the `alertname` label and the `summary` and `description` annotations.
 * - `severity` is the raw `severity` label; formatting maps it onto the Events
 *   API severities.
 * - `details` contains source-specific fields that have no canonical place, for
 *   example Grafana's `values`.
 *
 * @since 0.1.0
 * @category models
 */
export class Alert extends Schema.Class<Alert>("effect-pagerduty/Alert")({
  source: SourceKind,
  status: Status,
  labels: Labels,
  annotations: Labels,
  startsAt: Schema.optionalKey(Schema.DateTimeUtc),
  endsAt: Schema.optionalKey(Schema.DateTimeUtc),
  fingerprint: Schema.String,
  generatorURL: Schema.optionalKey(Schema.String),
  name: Schema.optionalKey(Schema.String),
  summary: Schema.optionalKey(Schema.String),
  description: Schema.optionalKey(Schema.String),
  severity: Schema.optionalKey(Schema.String),
  links: Schema.Array(Link),
  images: Schema.Array(Image),
  details: Schema.Record(Schema.String, Schema.Unknown),
  group: Schema.optionalKey(GroupRef)
}) {
  /**
   * Whether the alert is firing.
   *
   * @since 0.1.0
   */
  get isFiring(): boolean {
    return this.status === "firing"
  }
}

/**
 * A group of alerts delivered in one notification, as Alertmanager and
 * Grafana send them.
 *
 * Details:
 * - `groupKey` identifies the group across notifications. Alertmanager's shape
 *   is `<route key>:<group labels>`, but Grafana's test notifications and other
 *   senders may use any string.
 * - `receiver` is unescaped: Alertmanager sends it regex-escaped
 *   (`web\.hook`), and `receiverRaw` keeps that form because Alertmanager's
 *   own `client_url` is built from it.
 * - `status` is `firing` while any alert of the group fires.
 *
 * @since 0.1.0
 * @category models
 */
export class AlertGroup extends Schema.Class<AlertGroup>("effect-pagerduty/AlertGroup")({
  source: SourceKind,
  groupKey: Schema.String,
  status: Status,
  receiver: Schema.String,
  receiverRaw: Schema.String,
  groupLabels: Labels,
  commonLabels: Labels,
  commonAnnotations: Labels,
  routeLabels: Schema.optionalKey(Labels),
  externalURL: Schema.String,
  truncatedAlerts: Schema.Number,
  notificationReason: Schema.optionalKey(Schema.String),
  title: Schema.optionalKey(Schema.String),
  alerts: Schema.Array(Alert)
}) {
  /**
   * The alerts of the group that are firing, in arrival order.
   *
   * @since 0.1.0
   */
  get firing(): ReadonlyArray<Alert> {
    return this.alerts.filter((alert) => alert.status === "firing")
  }

  /**
   * The alerts of the group that are resolved, in arrival order.
   *
   * @since 0.1.0
   */
  get resolved(): ReadonlyArray<Alert> {
    return this.alerts.filter((alert) => alert.status === "resolved")
  }
}
