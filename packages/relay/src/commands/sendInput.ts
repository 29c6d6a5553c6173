/**
 * Parsing of the `send` command's flag values and JSON input into
 * Notification fields.
 *
 * @since 0.1.0
 */
import * as Predicate from "effect/Predicate"

/**
 * Parses `--custom-detail` values: `key=value` sets a string, `key:=json`
 * sets parsed JSON (a number, a boolean, an object, ...). Returns the details
 * and one message per invalid value.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCustomDetails = (
  values: ReadonlyArray<string>
): { readonly details: Record<string, unknown>; readonly problems: ReadonlyArray<string> } => {
  const details: Record<string, unknown> = {}
  const problems: Array<string> = []
  for (const value of values) {
    const equals = value.indexOf("=")
    const isJson = equals > 0 && value[equals - 1] === ":"
    const key = equals < 0 ? "" : value.slice(0, isJson ? equals - 1 : equals)
    if (key.trim() === "") {
      problems.push(`--custom-detail ${JSON.stringify(value)}: expected key=value or key:=json with a non-empty key`)
      continue
    }
    const raw = value.slice(equals + 1)
    if (!isJson) {
      details[key] = raw
      continue
    }
    try {
      details[key] = JSON.parse(raw)
    } catch {
      problems.push(`--custom-detail ${key}: the value after := is not valid JSON; quote strings as "text"`)
    }
  }
  return { details, problems }
}

/**
 * Splits a `--link` or `--image` value into its URL and the optional text
 * after the first run of whitespace (a URL contains no unencoded spaces).
 *
 * @since 0.1.0
 * @category parsing
 */
export const splitUrlAndText = (value: string): { readonly url: string; readonly text: string | undefined } => {
  const trimmed = value.trim()
  const match = /\s+/.exec(trimmed)
  if (match === null) return { url: trimmed, text: undefined }
  return { url: trimmed.slice(0, match.index), text: trimmed.slice(match.index + match[0].length) }
}

/**
 * A JSON event read with `--json`: the fields the command uses, each left
 * unchecked for `Notification.build` to report.
 *
 * @since 0.1.0
 * @category models
 */
export interface JsonEvent {
  readonly event_action?: unknown
  readonly dedup_key?: unknown
  readonly payload?: Record<string, unknown> | undefined
  readonly links?: unknown
  readonly images?: unknown
  readonly client?: unknown
  readonly client_url?: unknown
}

/**
 * Parses the text of a `--json` input into an event object, or returns the
 * message that explains why it cannot be used.
 *
 * A `routing_key` in the input is rejected: the command takes the key only
 * from `--route` or `PAGERDUTY_ROUTING_KEY`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseJsonEvent = (text: string, source: string, action: string): JsonEvent | string => {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    return `${source} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`
  }
  if (!Predicate.isObject(parsed) || Array.isArray(parsed)) {
    return `${source} must hold one Events API v2 event as a JSON object`
  }
  if ("routing_key" in parsed) {
    return `${source} contains routing_key; remove it and pass --route NAME or set PAGERDUTY_ROUTING_KEY`
  }
  if (parsed.event_action !== undefined && parsed.event_action !== action) {
    return `${source} has event_action ${JSON.stringify(parsed.event_action)} but the command is send ${action}; ` +
      `remove event_action or run send ${String(parsed.event_action)}`
  }
  const payload = parsed.payload
  if (payload !== undefined && (!Predicate.isObject(payload) || Array.isArray(payload))) {
    return `${source}: payload must be a JSON object {summary, source, severity, ...}`
  }
  return { ...parsed, payload: payload as Record<string, unknown> | undefined }
}
