/**
 * Turns alerts and alert groups into Events API v2 events.
 *
 * The default mode renders one event per group the way Alertmanager's own
 * PagerDuty notifier does, so a relay can replace that notifier and keep the
 * same incidents. The `dedup_key` is the lowercase hex SHA-256 of the group
 * key. The action is `trigger` while any alert fires and `resolve` when all
 * are resolved. The summary is Alertmanager's default subject line.
 * The per-alert mode sends one event per alert instead, keyed by fingerprint.
 *
 * Formatting does not enforce PagerDuty's limits (summary length, event size);
 * `EventsV2.prepare` does that on the formatted event.
 *
 * @example
 * ```ts
 * import { Format, Sources } from "@effect-pagerduty/pagerduty"
 * import { Digest } from "effect/crypto"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const group = yield* Sources.alertmanager(JSON.parse(body))
 *   return yield* Format.events(group, { defaultSeverity: "warning" })
 * }).pipe(Effect.provide(Digest.layerWebCrypto))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { DateTime, Effect } from "effect"
import * as Digest from "effect/crypto/Digest"
import type * as Alert from "./Alert.ts"
import * as EventsV2 from "./EventsV2.ts"
import { optionalField } from "./internal/optionalField.ts"

/**
 * Options of the formatter. Every field is optional.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /**
   * `group` (the default) sends one event per alert group keyed by the group
   * key; `alert` sends one event per alert keyed by its fingerprint.
   */
  readonly mode?: "group" | "alert" | undefined
  /** Severity used when no firing alert has a recognised `severity` label. Defaults to `error`, as Alertmanager does. */
  readonly defaultSeverity?: EventsV2.Severity | undefined
  /** `payload.source`. Defaults to the client name, as Alertmanager does. */
  readonly source?: string | undefined
  /** `client`. Defaults to `Alertmanager` or `Grafana` after the alerts' source. */
  readonly client?: string | undefined
  /** `client_url`. Defaults to the Alertmanager alerts page of the receiver, or Grafana's external URL. */
  readonly clientUrl?: string | undefined
  readonly component?: string | undefined
  readonly group?: string | undefined
  readonly class?: string | undefined
  /** Links added to every trigger event after the source's own links. */
  readonly links?: ReadonlyArray<EventsV2.Link> | undefined
}

const severityRank: Record<EventsV2.Severity, number> = { info: 0, warning: 1, error: 2, critical: 3 }

/**
 * Picks the highest severity among the `severity` labels of the firing
 * alerts, each mapped by `EventsV2.normalizeSeverity`. Without any label, or
 * with only unrecognised ones, the result is `fallback`.
 *
 * @since 0.1.0
 * @category severity
 */
export const highestSeverity = (
  alerts: ReadonlyArray<Alert.Alert>,
  fallback: EventsV2.Severity = "error"
): EventsV2.Severity => {
  let highest: EventsV2.Severity | undefined
  for (const alert of alerts) {
    if (alert.status !== "firing" || alert.severity === undefined) continue
    const severity = EventsV2.normalizeSeverity(alert.severity, fallback)
    if (highest === undefined || severityRank[severity] > severityRank[highest]) highest = severity
  }
  return highest ?? fallback
}

const sortedValues = (labels: Alert.Labels): Array<string> =>
  Object.keys(labels).sort().map((name) => labels[name] ?? "")

// A generic group has no group labels, so its line shows the first relevant
// alert's mapped summary and how many others the group contains.
const genericSubject = (group: Alert.AlertGroup, head: string): string => {
  const first = group.firing[0] ?? group.alerts[0]
  const others = (group.status === "firing" ? group.firing.length : group.alerts.length) - 1
  const text = first?.summary ?? first?.fingerprint ?? ""
  return others > 0 ? `${head} ${text} (and ${others} more)` : `${head} ${text}`
}

/**
 * Renders the summary line of a group exactly as Alertmanager's default
 * `__subject` template does: `[FIRING:<n>] <group label values> (<other
 * common label values>)`, or `[RESOLVED] ...` when nothing fires.
 *
 * Details: values are ordered by label name and joined by spaces. The
 * parenthesised part appears only when there are more common labels than
 * group labels, and when there are not, the line ends with a space, as
 * Alertmanager's does. Groups of the generic source have no group labels, so
 * their line is `[FIRING:<n>] <summary of the first firing alert>`, followed
 * by `(and <n - 1> more)` when more alerts fire.
 *
 * @example
 * ```ts
 * // group labels {alertname: "high_memory_load"}, common labels adding
 * // {job: "docker_nodes", monitor: "master"}, two firing alerts:
 * Format.subject(group) // "[FIRING:2] high_memory_load (docker_nodes master)"
 * ```
 *
 * @since 0.1.0
 * @category summary
 */
export const subject = (group: Alert.AlertGroup): string => {
  const firing = group.firing.length
  const head = group.status === "firing" ? `[FIRING:${firing}]` : "[RESOLVED]"
  if (group.source === "generic") return genericSubject(group, head)
  const groupValues = sortedValues(group.groupLabels).join(" ")
  const commonCount = Object.keys(group.commonLabels).length
  const groupCount = Object.keys(group.groupLabels).length
  let extra = ""
  if (commonCount > groupCount) {
    const rest: Record<string, string> = {}
    for (const [name, value] of Object.entries(group.commonLabels)) {
      if (!(name in group.groupLabels)) rest[name] = value
    }
    extra = `(${sortedValues(rest).join(" ")})`
  }
  return `${head} ${groupValues} ${extra}`
}

/**
 * Escapes a string the way Go's `url.QueryEscape` does, which Alertmanager's
 * `urlquery` template function uses: unreserved characters stay, a space
 * becomes `+`, every other byte becomes `%XX`.
 *
 * @since 0.1.0
 * @category utils
 */
export const queryEscape = (input: string): string =>
  encodeURIComponent(input)
    .replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, "+")

const clientNames: Record<Alert.SourceKind, string> = {
  alertmanager: "Alertmanager",
  grafana: "Grafana",
  generic: "effect-pagerduty"
}

const defaultClient = (source: Alert.SourceKind): string => clientNames[source]

const defaultClientUrl = (group: Alert.AlertGroup): string | undefined => {
  if (group.externalURL === "") return undefined
  if (group.source === "alertmanager") {
    // Alertmanager builds this from the escaped receiver name, so `web\.hook`
    // becomes `receiver=web%5C.hook`.
    return `${group.externalURL}/#/alerts?receiver=${queryEscape(group.receiverRaw)}`
  }
  return group.externalURL
}

const formatTime = (time: DateTime.Utc | undefined): string =>
  time === undefined ? "0001-01-01T00:00:00Z" : DateTime.formatIso(time)

/**
 * Renders an alert as the JSON object that Alertmanager's templates produce
 * for it, with `status`, `labels`, `annotations`, `startsAt`, `endsAt`,
 * `generatorURL` and `fingerprint`. An unset time becomes Go's zero time.
 *
 * NOTE: times carry millisecond precision, so Alertmanager's nanosecond
 * `startsAt` values come out rounded down to the millisecond.
 *
 * @since 0.1.0
 * @category details
 */
export const alertDetails = (alert: Alert.Alert): Record<string, unknown> => ({
  status: alert.status,
  labels: alert.labels,
  annotations: alert.annotations,
  startsAt: formatTime(alert.startsAt),
  endsAt: formatTime(alert.endsAt),
  generatorURL: alert.generatorURL ?? "",
  fingerprint: alert.fingerprint
})

/**
 * The `custom_details` of a group event, with the keys of Alertmanager's
 * defaults: `firing` and `resolved` (the alerts as JSON objects), `num_firing`
 * and `num_resolved`.
 *
 * NOTE: this follows Alertmanager 0.30 and later, which send these values as
 * structured JSON. Alertmanager 0.25 to 0.29 send `firing` and `resolved` as
 * rendered text and the counts as strings.
 *
 * @since 0.1.0
 * @category details
 */
export const groupDetails = (group: Alert.AlertGroup): Record<string, unknown> => ({
  firing: group.firing.map(alertDetails),
  resolved: group.resolved.map(alertDetails),
  num_firing: group.firing.length,
  num_resolved: group.resolved.length
})

const encoder = new TextEncoder()

/**
 * Computes the `dedup_key` of a group: the lowercase hex SHA-256 of its group
 * key, as Alertmanager's notifier sends it. It works for any group key, also
 * Grafana's and other non-Alertmanager shapes.
 *
 * @since 0.1.0
 * @category dedup keys
 */
export const groupDedupKey = (groupKey: string): Effect.Effect<string, never, Digest.Digest> =>
  Digest.Digest.use((digest) => digest.digestHex(Digest.sha256, encoder.encode(groupKey)))

const sharedFields = (options: Options, client: string) => ({
  ...optionalField("component", options.component),
  ...optionalField("group", options.group),
  ...optionalField("class", options.class),
  source: options.source ?? client
})

const absoluteUrl = (input: string): URL | undefined => {
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}

// The Events API rejects images whose `src` is not https, so those are left out.
const uniqueImages = (alerts: ReadonlyArray<Alert.Alert>): Array<EventsV2.Image> => {
  const seen = new Set<string>()
  const images: Array<EventsV2.Image> = []
  for (const alert of alerts) {
    for (const image of alert.images) {
      if (absoluteUrl(image.src)?.protocol !== "https:" || seen.has(image.src)) continue
      seen.add(image.src)
      images.push({ src: image.src, ...optionalField("href", image.href), ...optionalField("alt", image.alt) })
    }
  }
  return images
}

const withLinksAndImages = (
  links: ReadonlyArray<EventsV2.Link>,
  images: ReadonlyArray<EventsV2.Image>
) => ({
  ...(links.length > 0 ? { links } : {}),
  ...(images.length > 0 ? { images } : {})
})

/**
 * Formats a group as one event: `trigger` while any alert fires, `resolve`
 * when all are resolved, keyed by the SHA-256 of the group key.
 *
 * Details: Grafana groups also get a link to Grafana's external URL, as
 * Grafana's own PagerDuty notifier adds it, and the alerts' images.
 *
 * @since 0.1.0
 * @category formatting
 */
export const groupEvent = Effect.fnUntraced(function*(
  group: Alert.AlertGroup,
  options: Options = {}
): Effect.fn.Return<EventsV2.Trigger | EventsV2.Resolve, never, Digest.Digest> {
  const dedupKey = yield* groupDedupKey(group.groupKey)
  if (group.status === "resolved") {
    return { event_action: "resolve", dedup_key: dedupKey }
  }
  const client = options.client ?? defaultClient(group.source)
  const clientUrl = options.clientUrl ?? defaultClientUrl(group)
  const links: Array<EventsV2.Link> = []
  if (group.source === "grafana" && group.externalURL !== "") {
    links.push({ href: group.externalURL, text: "External URL" })
  }
  links.push(...(options.links ?? []))
  return {
    event_action: "trigger",
    dedup_key: dedupKey,
    payload: {
      summary: subject(group),
      severity: highestSeverity(group.alerts, options.defaultSeverity),
      custom_details: groupDetails(group),
      ...sharedFields(options, client)
    },
    client,
    ...optionalField("client_url", clientUrl),
    ...withLinksAndImages(links, uniqueImages(group.alerts))
  }
})

/**
 * Renders the summary line of one alert: `[FIRING] <alertname>: <summary
 * annotation>`, falling back to the description and then to the fingerprint.
 *
 * @since 0.1.0
 * @category summary
 */
export const alertSubject = (alert: Alert.Alert): string => {
  const head = alert.status === "firing" ? "[FIRING]" : "[RESOLVED]"
  const name = alert.name ?? alert.fingerprint
  const text = alert.summary ?? alert.description
  return text === undefined ? `${head} ${name}` : `${head} ${name}: ${text}`
}

/**
 * Formats one alert as one event keyed by its fingerprint: `trigger` while it
 * fires, `resolve` once resolved. The event carries the alert's start time,
 * its labels and annotations as details, a link to its generator URL when
 * that is absolute, and the alert's own links and https images.
 *
 * @since 0.1.0
 * @category formatting
 */
export const alertEvent = (
  alert: Alert.Alert,
  options: Options = {}
): EventsV2.Trigger | EventsV2.Resolve => {
  if (alert.status === "resolved") {
    return { event_action: "resolve", dedup_key: alert.fingerprint }
  }
  const client = options.client ?? defaultClient(alert.source)
  const links: Array<EventsV2.Link> = []
  // A relative generator URL, which some Prometheus setups send, leads nowhere from PagerDuty.
  if (alert.generatorURL !== undefined && absoluteUrl(alert.generatorURL) !== undefined) {
    links.push({ href: alert.generatorURL, text: "Source" })
  }
  for (const link of alert.links) links.push({ href: link.href, ...optionalField("text", link.text) })
  links.push(...(options.links ?? []))
  return {
    event_action: "trigger",
    dedup_key: alert.fingerprint,
    payload: {
      summary: alertSubject(alert),
      severity: EventsV2.normalizeSeverity(alert.severity, options.defaultSeverity ?? "error"),
      ...optionalField("timestamp", alert.startsAt),
      custom_details: { ...alert.details, labels: alert.labels, annotations: alert.annotations },
      ...sharedFields(options, client)
    },
    client,
    ...optionalField("client_url", options.clientUrl),
    ...withLinksAndImages(links, uniqueImages([alert]))
  }
}

/**
 * Formats a group in the configured mode: one event per group (the default)
 * or one event per alert.
 *
 * @since 0.1.0
 * @category formatting
 */
export const events = (
  group: Alert.AlertGroup,
  options: Options = {}
): Effect.Effect<ReadonlyArray<EventsV2.Trigger | EventsV2.Resolve>, never, Digest.Digest> =>
  options.mode === "alert"
    ? Effect.succeed(group.alerts.map((alert) => alertEvent(alert, options)))
    : Effect.map(groupEvent(group, options), (event) => [event])
