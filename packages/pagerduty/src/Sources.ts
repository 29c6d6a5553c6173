/**
 * Alert sources: schemas of the webhooks that Prometheus Alertmanager
 * (version "4") and Grafana alerting (version "1") send, and transforms from
 * them into {@link Alert.AlertGroup}.
 *
 * The schemas accept what real senders post, not only what the documentation
 * shows. Alerts without `status` take the group's status, alerts without
 * `fingerprint` get the fingerprint Alertmanager computes from their labels,
 * the regex-escaped receiver (`web\.hook`) is unescaped, and fields added in
 * later Alertmanager releases (`truncatedAlerts`, `notification_reason`,
 * `routeLabels`) are optional.
 *
 * @example
 * ```ts
 * import { Sources } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const group = yield* Sources.alertmanager(JSON.parse(body))
 *   return group.firing.length
 * })
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { DateTime, Effect, Option, Schema } from "effect"
import * as Alert from "./Alert.ts"
import * as Errors from "./Errors.ts"
import { labelFingerprint } from "./internal/fingerprint.ts"
import { optionalField } from "./internal/optionalField.ts"

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

/**
 * The payload does not match the source's webhook schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidPayload extends Schema.TaggedClass<InvalidPayload>()("InvalidPayload", {
  source: Alert.SourceKind,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `invalid ${this.source} webhook payload: ${this.detail}; check that the sender posts the ${this.source} webhook format`
  }
}

/**
 * The payload declares a webhook version this library does not read.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedVersion extends Schema.TaggedClass<UnsupportedVersion>()("UnsupportedVersion", {
  source: Alert.SourceKind,
  version: Schema.String,
  expected: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `unsupported ${this.source} webhook version ${
      JSON.stringify(this.version)
    }; expected version ${this.expected}, so point this sender at the matching intake`
  }
}

/**
 * A generic JSON mapping could not read a field it needs.
 *
 * @since 0.1.0
 * @category errors
 */
export class MappingFailed extends Schema.TaggedClass<MappingFailed>()("MappingFailed", {
  mapping: Schema.String,
  field: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `mapping ${
      JSON.stringify(this.mapping)
    } failed on field ${this.field}: ${this.detail}; fix the payload or the mapping`
  }
}

/**
 * The error of every source transform.
 *
 * @since 0.1.0
 * @category errors
 */
export class SourceError extends Schema.TaggedError<SourceError>()("SourceError", {
  reason: Schema.Union([InvalidPayload, UnsupportedVersion, MappingFailed])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

// -----------------------------------------------------------------------------
// Alertmanager
// -----------------------------------------------------------------------------

/**
 * One alert of an Alertmanager webhook. `status`, `fingerprint` and
 * `generatorURL` are optional because hand-written and older payloads omit them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertmanagerAlert = Schema.Struct({
  status: Schema.optionalKey(Alert.Status),
  labels: Alert.Labels,
  annotations: Schema.optionalKey(Alert.Labels),
  startsAt: Schema.optionalKey(Schema.String),
  endsAt: Schema.optionalKey(Schema.String),
  generatorURL: Schema.optionalKey(Schema.String),
  fingerprint: Schema.optionalKey(Schema.String)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type AlertmanagerAlert = typeof AlertmanagerAlert.Type

const groupFields = {
  version: Schema.String,
  groupKey: Schema.String,
  truncatedAlerts: Schema.optionalKey(Schema.Number),
  status: Alert.Status,
  receiver: Schema.String,
  groupLabels: Schema.optionalKey(Alert.Labels),
  commonLabels: Schema.optionalKey(Alert.Labels),
  commonAnnotations: Schema.optionalKey(Alert.Labels),
  routeLabels: Schema.optionalKey(Alert.Labels),
  externalURL: Schema.optionalKey(Schema.String),
  notification_reason: Schema.optionalKey(Schema.String)
}

/**
 * The body of Alertmanager's webhook notification (version "4").
 *
 * @since 0.1.0
 * @category schemas
 */
export const AlertmanagerWebhook = Schema.Struct({
  ...groupFields,
  alerts: Schema.Array(AlertmanagerAlert)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type AlertmanagerWebhook = typeof AlertmanagerWebhook.Type

// -----------------------------------------------------------------------------
// Grafana
// -----------------------------------------------------------------------------

/**
 * One alert of a Grafana webhook: Alertmanager's fields plus Grafana's links,
 * image and query values.
 *
 * @since 0.1.0
 * @category schemas
 */
export const GrafanaAlert = Schema.Struct({
  ...AlertmanagerAlert.fields,
  silenceURL: Schema.optionalKey(Schema.String),
  dashboardURL: Schema.optionalKey(Schema.String),
  panelURL: Schema.optionalKey(Schema.String),
  imageURL: Schema.optionalKey(Schema.String),
  values: Schema.optionalKey(Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type GrafanaAlert = typeof GrafanaAlert.Type

/**
 * The body of Grafana alerting's webhook notification (version "1").
 *
 * @since 0.1.0
 * @category schemas
 */
export const GrafanaWebhook = Schema.Struct({
  ...groupFields,
  orgId: Schema.optionalKey(Schema.Number),
  title: Schema.optionalKey(Schema.String),
  state: Schema.optionalKey(Schema.String),
  message: Schema.optionalKey(Schema.String),
  alerts: Schema.Array(GrafanaAlert)
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type GrafanaWebhook = typeof GrafanaWebhook.Type

// -----------------------------------------------------------------------------
// Transforms
// -----------------------------------------------------------------------------

/**
 * Computes an alert's fingerprint from its labels exactly as Alertmanager does:
 * FNV-1a 64 over the label pairs sorted by name, each name and value followed
 * by a 0xff byte, as 16 lowercase hex digits.
 *
 * @example
 * ```ts
 * import { Sources } from "@effect-pagerduty/pagerduty"
 *
 * Sources.fingerprint({ alertname: "HighLatency", job: "api" }) // 16 hex digits
 * ```
 *
 * @since 0.1.0
 * @category fingerprints
 */
export const fingerprint: (labels: Alert.Labels) => string = labelFingerprint

/**
 * Reverses Go's `regexp.QuoteMeta`, which Alertmanager applies to the receiver
 * name before it sends it (`web\.hook` becomes `web.hook`).
 *
 * @since 0.1.0
 * @category utils
 */
export const unescapeReceiver = (receiver: string): string => receiver.replace(/\\(.)/gs, "$1")

/** Go's zero `time.Time` in milliseconds since the epoch: 0001-01-01T00:00:00Z. */
const goZeroTimeMillis = -62135596800000

const parseTime = (
  source: Alert.SourceKind,
  field: string,
  value: string | undefined
): Effect.Effect<DateTime.Utc | undefined, SourceError> => {
  if (value === undefined || value === "") return Effect.succeed(undefined)
  const parsed = DateTime.make(value)
  if (Option.isNone(parsed)) {
    return Effect.fail(
      new SourceError({
        reason: new InvalidPayload({ source, detail: `${field} ${JSON.stringify(value)} is not an RFC 3339 time` })
      })
    )
  }
  const utc = DateTime.toUtc(parsed.value)
  return Effect.succeed(DateTime.toEpochMillis(utc) <= goZeroTimeMillis ? undefined : utc)
}

type AnyWebhook = AlertmanagerWebhook | GrafanaWebhook
type AnyAlert = AlertmanagerAlert | GrafanaAlert

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === "" ? undefined : value

const grafanaExtras = (raw: GrafanaAlert) => {
  const links: Array<Alert.Link> = []
  if (nonEmpty(raw.dashboardURL)) links.push(new Alert.Link({ href: raw.dashboardURL!, text: "Dashboard" }))
  if (nonEmpty(raw.panelURL)) links.push(new Alert.Link({ href: raw.panelURL!, text: "Panel" }))
  if (nonEmpty(raw.silenceURL)) links.push(new Alert.Link({ href: raw.silenceURL!, text: "Silence" }))
  const images: Array<Alert.Image> = []
  if (nonEmpty(raw.imageURL)) images.push(new Alert.Image({ src: raw.imageURL!, alt: "Alert image" }))
  const details: Record<string, unknown> = {}
  if (raw.values !== undefined && raw.values !== null) details.values = raw.values
  return { links, images, details }
}

const toAlert = Effect.fnUntraced(function*(
  source: Alert.SourceKind,
  group: Alert.GroupRef,
  groupStatus: Alert.Status,
  raw: AnyAlert,
  index: number
) {
  const startsAt = yield* parseTime(source, `alerts[${index}].startsAt`, raw.startsAt)
  const endsAt = yield* parseTime(source, `alerts[${index}].endsAt`, raw.endsAt)
  const annotations = raw.annotations ?? {}
  const extras = source === "grafana"
    ? grafanaExtras(raw as GrafanaAlert)
    : { links: [], images: [], details: {} }
  return new Alert.Alert({
    source,
    status: raw.status ?? groupStatus,
    labels: raw.labels,
    annotations,
    ...optionalField("startsAt", startsAt),
    ...optionalField("endsAt", endsAt),
    fingerprint: nonEmpty(raw.fingerprint) ?? fingerprint(raw.labels),
    ...optionalField("generatorURL", nonEmpty(raw.generatorURL)),
    ...optionalField("name", raw.labels.alertname),
    ...optionalField("summary", annotations.summary),
    ...optionalField("description", annotations.description),
    ...optionalField("severity", raw.labels.severity),
    links: extras.links,
    images: extras.images,
    details: extras.details,
    group
  })
})

const toGroup = Effect.fnUntraced(function*(source: Alert.SourceKind, webhook: AnyWebhook) {
  const receiver = unescapeReceiver(webhook.receiver)
  const ref = new Alert.GroupRef({ key: webhook.groupKey, receiver })
  const alerts: Array<Alert.Alert> = []
  for (const [index, raw] of webhook.alerts.entries()) {
    alerts.push(yield* toAlert(source, ref, webhook.status, raw, index))
  }
  const title = "title" in webhook ? webhook.title : undefined
  return new Alert.AlertGroup({
    source,
    groupKey: webhook.groupKey,
    // The group is firing while any alert fires, whatever its `status` field contains.
    status: alerts.length === 0
      ? webhook.status
      : alerts.some((alert) => alert.status === "firing")
      ? "firing"
      : "resolved",
    receiver,
    receiverRaw: webhook.receiver,
    groupLabels: webhook.groupLabels ?? {},
    commonLabels: webhook.commonLabels ?? {},
    commonAnnotations: webhook.commonAnnotations ?? {},
    ...optionalField("routeLabels", webhook.routeLabels),
    externalURL: webhook.externalURL ?? "",
    truncatedAlerts: webhook.truncatedAlerts ?? 0,
    ...optionalField("notificationReason", webhook.notification_reason),
    ...optionalField("title", title),
    alerts
  })
})

const decodeWith = <S extends Schema.Codec<AnyWebhook, unknown>>(
  schema: S,
  source: Alert.SourceKind,
  expected: string
) => {
  const decode = Schema.decodeUnknownEffect(schema)
  return (input: unknown): Effect.Effect<S["Type"], SourceError> => {
    const version = typeof input === "object" && input !== null && "version" in input ? input.version : undefined
    if (version !== undefined && version !== expected) {
      return Effect.fail(
        new SourceError({ reason: new UnsupportedVersion({ source, version: String(version), expected }) })
      )
    }
    return decode(input).pipe(
      Effect.mapError((issue) => new SourceError({ reason: new InvalidPayload({ source, detail: issue.message }) }))
    )
  }
}

/**
 * Decodes an Alertmanager webhook body (already parsed from JSON).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeAlertmanager: (input: unknown) => Effect.Effect<AlertmanagerWebhook, SourceError> = decodeWith(
  AlertmanagerWebhook,
  "alertmanager",
  "4"
)

/**
 * Decodes a Grafana webhook body (already parsed from JSON).
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeGrafana: (input: unknown) => Effect.Effect<GrafanaWebhook, SourceError> = decodeWith(
  GrafanaWebhook,
  "grafana",
  "1"
)

/**
 * Turns a decoded Alertmanager webhook into an alert group.
 *
 * @since 0.1.0
 * @category transforms
 */
export const fromAlertmanager = (webhook: AlertmanagerWebhook): Effect.Effect<Alert.AlertGroup, SourceError> =>
  toGroup("alertmanager", webhook)

/**
 * Turns a decoded Grafana webhook into an alert group.
 *
 * @since 0.1.0
 * @category transforms
 */
export const fromGrafana = (webhook: GrafanaWebhook): Effect.Effect<Alert.AlertGroup, SourceError> =>
  toGroup("grafana", webhook)

/**
 * Decodes an Alertmanager webhook body and turns it into an alert group.
 *
 * @since 0.1.0
 * @category transforms
 */
export const alertmanager = (input: unknown): Effect.Effect<Alert.AlertGroup, SourceError> =>
  Effect.flatMap(decodeAlertmanager(input), fromAlertmanager)

/**
 * Decodes a Grafana webhook body and turns it into an alert group.
 *
 * @since 0.1.0
 * @category transforms
 */
export const grafana = (input: unknown): Effect.Effect<Alert.AlertGroup, SourceError> =>
  Effect.flatMap(decodeGrafana(input), fromGrafana)
