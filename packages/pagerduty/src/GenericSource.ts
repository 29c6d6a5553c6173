/**
 * A source for any JSON payload, read through a declarative mapping from
 * field paths to the fields of {@link Alert.Alert}.
 *
 * A mapping is plain data, so it can live in the relay's configuration file.
 * Paths are dot-separated keys, with numeric segments for array indexes
 * (`data.alerts.0.title`). Each mapped field is either a path or
 * `{ path, default }`. A field without a value at its path takes its default,
 * and a required field without either fails with a `MappingFailed` reason
 * that names the mapping and the field.
 *
 * @example
 * ```ts
 * import { GenericSource } from "@effect-pagerduty/pagerduty"
 *
 * const uptime = GenericSource.make({
 *   name: "uptime-checker",
 *   summary: "check.title",
 *   status: { path: "state", resolved: ["up", "recovered"] },
 *   severity: { path: "priority", map: { P1: "critical", P2: "error" }, default: "warning" },
 *   labels: { check: "check.id", region: { path: "region", default: "global" } },
 *   dedupKey: ["check.id", "region"]
 * })
 * // uptime(body): Effect<AlertGroup, SourceError>
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { DateTime, Effect, Option, Predicate, Schema } from "effect"
import * as Alert from "./Alert.ts"
import { labelFingerprint } from "./internal/fingerprint.ts"
import { optionalField } from "./internal/optionalField.ts"
import { MappingFailed, SourceError } from "./Sources.ts"

/**
 * One mapped field: a path, or a path with a default value.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Field = Schema.Union([
  Schema.String,
  Schema.Struct({ path: Schema.String, default: Schema.optionalKey(Schema.String) })
])

/**
 * @since 0.1.0
 * @category schemas
 */
export type Field = typeof Field.Type

/**
 * A declarative mapping from a JSON payload to alerts.
 *
 * Details:
 * - `alerts` is the path of an array whose items are alerts. Without it, the
 *   whole payload is one alert. Every other path is read from the alert item.
 * - `status` reads a value and compares it with `resolved`. A match means
 *   resolved, anything else means firing, and a missing value takes `default`
 *   (`firing` unless set).
 * - `severity.map` translates the source's values before they reach
 *   `EventsV2.normalizeSeverity`. Unmapped values pass through unchanged.
 * - `dedupKey` lists the paths whose values identify an alert. Its fingerprint
 *   is computed from them as Alertmanager computes one from labels, and an
 *   alert without a value at one of them fails. Without `dedupKey`, the
 *   mapped labels are fingerprinted.
 * - `groupKey` is read from the payload itself. Without it, the group key is
 *   the mapping name and the sorted fingerprints of the alerts.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Mapping = Schema.Struct({
  name: Schema.String,
  alerts: Schema.optionalKey(Schema.String),
  groupKey: Schema.optionalKey(Field),
  summary: Field,
  description: Schema.optionalKey(Field),
  status: Schema.optionalKey(Schema.Struct({
    path: Schema.String,
    resolved: Schema.Array(Schema.String),
    default: Schema.optionalKey(Alert.Status)
  })),
  severity: Schema.optionalKey(Schema.Struct({
    path: Schema.String,
    map: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
    default: Schema.optionalKey(Schema.String)
  })),
  labels: Schema.optionalKey(Schema.Record(Schema.String, Field)),
  annotations: Schema.optionalKey(Schema.Record(Schema.String, Field)),
  startsAt: Schema.optionalKey(Field),
  generatorURL: Schema.optionalKey(Field),
  dedupKey: Schema.optionalKey(Schema.Array(Schema.String))
})

/**
 * @since 0.1.0
 * @category schemas
 */
export type Mapping = typeof Mapping.Type

const pathOf = (field: Field): string => (Predicate.isString(field) ? field : field.path)

const defaultOf = (field: Field): string | undefined => (Predicate.isString(field) ? undefined : field.default)

const segmentsOf = (mappingName: string, option: string, path: string): ReadonlyArray<string> => {
  const segments = path.split(".")
  if (path === "" || segments.some((segment) => segment === "")) {
    throw new RangeError(
      `mapping ${JSON.stringify(mappingName)}: ${option} has an invalid path ${JSON.stringify(path)}`
    )
  }
  return segments
}

const lookup = (value: unknown, segments: ReadonlyArray<string>): unknown => {
  let current = value
  for (const segment of segments) {
    if (Array.isArray(current) && /^\d+$/.test(segment)) {
      current = current[Number(segment)]
    } else if (Predicate.isObject(current) && !Array.isArray(current)) {
      current = (current as Record<string, unknown>)[segment]
    } else {
      return undefined
    }
  }
  return current
}

interface Reader {
  readonly field: string
  readonly path: string
  readonly read: (item: unknown) => Effect.Effect<string | undefined, SourceError>
}

const makeReader = (mappingName: string, field: string, spec: Field, required: boolean): Reader => {
  const path = pathOf(spec)
  const segments = segmentsOf(mappingName, field, path)
  const fallback = defaultOf(spec)
  const fail = (detail: string) =>
    Effect.fail(
      new SourceError({ reason: new MappingFailed({ mapping: mappingName, field: `${field} (path ${path})`, detail }) })
    )
  return {
    field,
    path,
    read: (item) => {
      const value = lookup(item, segments)
      if (value === undefined || value === null) {
        if (fallback !== undefined) return Effect.succeed(fallback)
        return required ? fail("no value at that path and no default") : Effect.succeed(undefined)
      }
      if (Predicate.isString(value)) return Effect.succeed(value)
      if (Predicate.isNumber(value) || Predicate.isBoolean(value)) return Effect.succeed(String(value))
      return fail(`expected a string, number or boolean, got ${Array.isArray(value) ? "an array" : "an object"}`)
    }
  }
}

const readRecord = Effect.fnUntraced(function*(readers: ReadonlyArray<readonly [string, Reader]>, item: unknown) {
  const record: Record<string, string> = {}
  for (const [key, reader] of readers) {
    const value = yield* reader.read(item)
    if (value !== undefined) record[key] = value
  }
  return record
})

const commonLabels = (alerts: ReadonlyArray<Alert.Alert>): Alert.Labels => {
  const [first, ...rest] = alerts
  if (first === undefined) return {}
  const common: Record<string, string> = {}
  for (const [name, value] of Object.entries(first.labels)) {
    if (rest.every((alert) => alert.labels[name] === value)) common[name] = value
  }
  return common
}

/**
 * Builds a transform from a mapping. The mapping is checked once here:
 * a malformed path throws a `RangeError` that names the mapping and option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (mapping: Mapping): (input: unknown) => Effect.Effect<Alert.AlertGroup, SourceError> => {
  if (mapping.name === "") throw new RangeError("mapping name must not be empty")
  const name = mapping.name
  const alertsPath = mapping.alerts === undefined ? undefined : segmentsOf(name, "alerts", mapping.alerts)
  const summary = makeReader(name, "summary", mapping.summary, true)
  const description = mapping.description === undefined
    ? undefined
    : makeReader(name, "description", mapping.description, false)
  const startsAt = mapping.startsAt === undefined ? undefined : makeReader(name, "startsAt", mapping.startsAt, false)
  const generatorURL = mapping.generatorURL === undefined
    ? undefined
    : makeReader(name, "generatorURL", mapping.generatorURL, false)
  const groupKey = mapping.groupKey === undefined ? undefined : makeReader(name, "groupKey", mapping.groupKey, true)
  const status = mapping.status &&
    { ...mapping.status, reader: makeReader(name, "status", mapping.status.path, false) }
  const severity = mapping.severity &&
    {
      ...mapping.severity,
      reader: makeReader(name, "severity", {
        path: mapping.severity.path,
        ...optionalField("default", mapping.severity.default)
      }, false)
    }
  const labels = Object.entries(mapping.labels ?? {}).map(([label, spec]) =>
    [label, makeReader(name, `labels.${label}`, spec, true)] as const
  )
  const annotations = Object.entries(mapping.annotations ?? {}).map(([annotation, spec]) =>
    [annotation, makeReader(name, `annotations.${annotation}`, spec, false)] as const
  )
  const dedupKey = (mapping.dedupKey ?? []).map((path, index) => makeReader(name, `dedupKey.${index}`, path, true))

  const toAlert = Effect.fnUntraced(function*(item: unknown, group: Alert.GroupRef) {
    const labelValues = yield* readRecord(labels, item)
    const annotationValues = yield* readRecord(annotations, item)
    const summaryText = yield* summary.read(item)
    const statusValue = status ? yield* status.reader.read(item) : undefined
    const alertStatus: Alert.Status = statusValue === undefined
      ? status?.default ?? "firing"
      : status!.resolved.includes(statusValue)
      ? "resolved"
      : "firing"
    const severityValue = severity ? yield* severity.reader.read(item) : undefined
    const startsAtText = startsAt ? yield* startsAt.read(item) : undefined
    const startsAtTime = startsAtText === undefined ? undefined : DateTime.make(startsAtText)
    if (startsAtTime !== undefined && Option.isNone(startsAtTime)) {
      return yield* new SourceError({
        reason: new MappingFailed({
          mapping: name,
          field: `startsAt (path ${startsAt!.path})`,
          detail: `${JSON.stringify(startsAtText)} is not an ISO 8601 time`
        })
      })
    }
    const keyValues: Record<string, string> = {}
    for (const reader of dedupKey) keyValues[reader.path] = (yield* reader.read(item)) ?? ""
    return new Alert.Alert({
      source: "generic",
      status: alertStatus,
      labels: labelValues,
      annotations: annotationValues,
      ...optionalField(
        "startsAt",
        startsAtTime && Option.isSome(startsAtTime) ? DateTime.toUtc(startsAtTime.value) : undefined
      ),
      fingerprint: labelFingerprint(dedupKey.length > 0 ? keyValues : labelValues),
      ...optionalField("generatorURL", generatorURL ? yield* generatorURL.read(item) : undefined),
      ...optionalField("name", labelValues.alertname),
      ...optionalField("summary", summaryText),
      ...optionalField("description", description ? yield* description.read(item) : undefined),
      ...optionalField(
        "severity",
        severityValue === undefined ? undefined : severity?.map?.[severityValue] ?? severityValue
      ),
      links: [],
      images: [],
      details: {},
      group
    })
  })

  return Effect.fnUntraced(function*(input: unknown) {
    let items: ReadonlyArray<unknown> = [input]
    if (alertsPath !== undefined) {
      const found = lookup(input, alertsPath)
      if (!Array.isArray(found)) {
        return yield* new SourceError({
          reason: new MappingFailed({
            mapping: name,
            field: `alerts (path ${mapping.alerts})`,
            detail: "expected an array"
          })
        })
      }
      items = found
    }
    const explicitKey = groupKey ? yield* groupKey.read(input) : undefined
    // The group key is needed before the alerts exist, so a provisional
    // reference is replaced once the fingerprints are known.
    const provisional = new Alert.GroupRef({ key: explicitKey ?? name, receiver: name })
    const drafts: Array<Alert.Alert> = []
    for (const item of items) drafts.push(yield* toAlert(item, provisional))
    const key = explicitKey ?? `${name}:${drafts.map((alert) => alert.fingerprint).sort().join(",")}`
    const ref = new Alert.GroupRef({ key, receiver: name })
    const alerts = drafts.map((alert) => new Alert.Alert({ ...alert, group: ref }))
    return new Alert.AlertGroup({
      source: "generic",
      groupKey: key,
      status: alerts.some((alert) => alert.status === "firing") ? "firing" : "resolved",
      receiver: name,
      receiverRaw: name,
      groupLabels: {},
      commonLabels: commonLabels(alerts),
      commonAnnotations: {},
      externalURL: "",
      truncatedAlerts: 0,
      alerts
    })
  })
}
