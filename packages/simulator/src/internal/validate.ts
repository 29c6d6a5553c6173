/**
 * Checks of Events API v2 request bodies, one message per violated rule.
 *
 * The rules and their limits follow PagerDuty's Events API v2 documentation
 * (developer-docs `docs/events-API-v2/`) and its OpenAPI spec
 * (api-schema `reference/events-v2/openapiv3.json`). Where PagerDuty publishes
 * the text of an error, the message repeats it.
 */

/** Length of an Events API v2 integration key. */
export const routingKeyLength = 32

/** Maximum length of `payload.summary`, counted in Unicode code points. */
export const maxSummaryLength = 1024

/** Maximum length of `dedup_key`. */
export const maxDedupKeyLength = 255

/** Maximum size of a request body in bytes. */
export const maxBodyBytes = 512_000

/** The values `event_action` may take. */
export const eventActions = ["trigger", "acknowledge", "resolve"] as const

/** The values `payload.severity` may take. */
export const severities = ["critical", "error", "warning", "info"] as const

/** An accepted `event_action`. */
export type EventAction = (typeof eventActions)[number]

/** An accepted `payload.severity`. */
export type Severity = (typeof severities)[number]

type JsonObject = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isBlank = (value: unknown): boolean => typeof value !== "string" || value.trim().length === 0

// NOTE: PagerDuty does not say whether its character limits count code points, UTF-16 code
// units or bytes. Code points are used here, as Alertmanager and Grafana truncate by runes.
const codePointLength = (value: string): number => {
  let length = 0
  for (const _ of value) length++
  return length
}

const dateTimePattern = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2})(?::?(\d{2}))?)$/

/**
 * Tells whether a string is an ISO 8601 date-time with a UTC offset.
 *
 * RFC 3339 offsets (`Z`, `+01:00`) and the ISO 8601 basic offsets used in
 * PagerDuty's own examples (`+0000`, `+01`) are accepted. A date-time without
 * an offset, or with a field out of range (month 13, February 30), is not.
 */
export const isDateTime = (value: string): boolean => {
  const match = dateTimePattern.exec(value)
  if (match === null) return false
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number
  ]
  const offsetHours = match[9] === undefined ? 0 : Number(match[9])
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10])
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 60) return false
  if (offsetHours > 23 || offsetMinutes > 59) return false
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate()
  return day >= 1 && day <= daysInMonth
}

const checkRoutingKey = (body: JsonObject, errors: Array<string>): void => {
  const routingKey = body.routing_key
  if (isBlank(routingKey)) {
    errors.push("'routing_key' is missing or blank")
  } else if (codePointLength(routingKey as string) !== routingKeyLength) {
    errors.push(`Length of 'routing_key' is incorrect (should be ${routingKeyLength} characters)`)
  }
}

const checkOptionalString = (container: JsonObject, field: string, path: string, errors: Array<string>): void => {
  const value = container[field]
  if (value !== undefined && value !== null && typeof value !== "string") {
    errors.push(`'${path}' must be a string`)
  }
}

const checkTimestamp = (payload: JsonObject, errors: Array<string>): void => {
  const timestamp = payload.timestamp
  if (timestamp === undefined || timestamp === null) return
  if (typeof timestamp !== "string" || !isDateTime(timestamp)) {
    errors.push("'payload.timestamp' is not a valid ISO 8601 date-time with a UTC offset")
  }
}

const checkSummary = (payload: JsonObject, errors: Array<string>): void => {
  const summary = payload.summary
  if (isBlank(summary)) {
    errors.push("'payload.summary' is missing or blank")
  } else if (codePointLength(summary as string) > maxSummaryLength) {
    errors.push(`'payload.summary' is too long (maximum is ${maxSummaryLength} characters)`)
  }
}

const checkCustomDetails = (payload: JsonObject, errors: Array<string>): void => {
  const details = payload.custom_details
  if (details !== undefined && details !== null && !isObject(details)) {
    errors.push("'payload.custom_details' must be an object")
  }
}

const checkImages = (body: JsonObject, errors: Array<string>): void => {
  const images = body.images
  if (images === undefined || images === null) return
  if (!Array.isArray(images)) {
    errors.push("'images' must be an array")
    return
  }
  images.forEach((image: unknown, index) => {
    if (!isObject(image)) {
      errors.push(`'images[${index}]' must be an object`)
      return
    }
    if (isBlank(image.src)) {
      errors.push(`'images[${index}].src' is missing or blank`)
    } else if (!(image.src as string).startsWith("https://")) {
      errors.push(`'images[${index}].src' must be an HTTPS URL`)
    }
    checkOptionalString(image, "href", `images[${index}].href`, errors)
    checkOptionalString(image, "alt", `images[${index}].alt`, errors)
  })
}

const checkLinks = (body: JsonObject, errors: Array<string>): void => {
  const links = body.links
  if (links === undefined || links === null) return
  if (!Array.isArray(links)) {
    errors.push("'links' must be an array")
    return
  }
  links.forEach((link: unknown, index) => {
    if (!isObject(link)) {
      errors.push(`'links[${index}]' must be an object`)
      return
    }
    if (isBlank(link.href)) {
      errors.push(`'links[${index}].href' is missing or blank`)
    }
    checkOptionalString(link, "text", `links[${index}].text`, errors)
  })
}

const checkAlertPayload = (body: JsonObject, errors: Array<string>): void => {
  const payload = body.payload
  if (payload !== undefined && payload !== null && !isObject(payload)) {
    errors.push("'payload' must be an object")
    return
  }
  const fields: JsonObject = payload ?? {}
  checkSummary(fields, errors)
  if (isBlank(fields.source)) {
    errors.push("'payload.source' is missing or blank")
  }
  if (isBlank(fields.severity)) {
    errors.push("'payload.severity' is missing or blank")
  } else if (!(severities as ReadonlyArray<string>).includes(fields.severity as string)) {
    errors.push(`'payload.severity' must be one of ${severities.join(", ")}`)
  }
  checkTimestamp(fields, errors)
  checkOptionalString(fields, "component", "payload.component", errors)
  checkOptionalString(fields, "group", "payload.group", errors)
  checkOptionalString(fields, "class", "payload.class", errors)
  checkCustomDetails(fields, errors)
}

const checkDedupKey = (body: JsonObject, action: unknown, errors: Array<string>): void => {
  const dedupKey = body.dedup_key
  const required = action === "acknowledge" || action === "resolve"
  if (dedupKey === undefined || dedupKey === null) {
    if (required) errors.push(`'dedup_key' is missing or blank (it is required for ${action})`)
    return
  }
  if (typeof dedupKey !== "string") {
    errors.push("'dedup_key' must be a string")
  } else if (required && dedupKey.trim().length === 0) {
    errors.push(`'dedup_key' is missing or blank (it is required for ${action})`)
  } else if (codePointLength(dedupKey) > maxDedupKeyLength) {
    errors.push(`'dedup_key' is too long (maximum is ${maxDedupKeyLength} characters)`)
  }
}

/**
 * Lists every rule an alert event (`POST /v2/enqueue`) breaks; an empty list
 * means the event is valid.
 *
 * `payload` is checked only on `trigger`.
 * NOTE: The OpenAPI spec also requires `summary`, `severity` and `source` when an acknowledge or
 * resolve carries a payload, but PagerDuty's documentation lists them for trigger only. This
 * simulator follows the documentation and ignores the payload of acknowledge and resolve.
 */
export const alertEventErrors = (body: JsonObject): Array<string> => {
  const errors: Array<string> = []
  checkRoutingKey(body, errors)
  const action = body.event_action
  if (isBlank(action)) {
    errors.push("'event_action' is missing or blank")
  } else if (!(eventActions as ReadonlyArray<string>).includes(action as string)) {
    errors.push(`'event_action' must be one of ${eventActions.join(", ")}`)
  }
  checkDedupKey(body, action, errors)
  if (action === "trigger") {
    checkAlertPayload(body, errors)
    checkOptionalString(body, "client", "client", errors)
    checkOptionalString(body, "client_url", "client_url", errors)
  }
  checkImages(body, errors)
  checkLinks(body, errors)
  return errors
}

/**
 * Lists every rule a change event (`POST /v2/change/enqueue`) breaks; an
 * empty list means the event is valid.
 *
 * `images` is checked as on alert events, because the OpenAPI spec lists it
 * for change events although the prose documentation mentions only `links`.
 */
export const changeEventErrors = (body: JsonObject): Array<string> => {
  const errors: Array<string> = []
  checkRoutingKey(body, errors)
  const payload = body.payload
  if (payload === undefined || payload === null) {
    errors.push("'payload' is missing")
    errors.push("'payload.summary' is missing or blank")
  } else if (!isObject(payload)) {
    errors.push("'payload' must be an object")
  } else {
    checkSummary(payload, errors)
    checkOptionalString(payload, "source", "payload.source", errors)
    checkTimestamp(payload, errors)
    checkCustomDetails(payload, errors)
  }
  checkImages(body, errors)
  checkLinks(body, errors)
  return errors
}

/** The result of reading a request body as a JSON object. */
export type ParsedBody =
  | { readonly _tag: "Object"; readonly value: JsonObject }
  | { readonly _tag: "Malformed"; readonly reason: string }

const decoder = new TextDecoder("utf-8", { fatal: true })

/** Decodes a request body as UTF-8 JSON and requires a top-level object. */
export const parseBody = (bytes: Uint8Array): ParsedBody => {
  let value: unknown
  try {
    value = JSON.parse(decoder.decode(bytes))
  } catch {
    return { _tag: "Malformed", reason: "JSON parse error" }
  }
  return isObject(value)
    ? { _tag: "Object", value }
    : { _tag: "Malformed", reason: "JSON value is not an object" }
}
