import { Option } from "effect"
import * as RestClientError from "../RestClientError.ts"
import * as Retry from "../Retry.ts"

/** PagerDuty's `{error: {code, message, errors}}` body, reduced to plain fields. */
export interface ErrorDetails {
  readonly code?: number | undefined
  readonly apiMessage?: string | undefined
  readonly errors: ReadonlyArray<string>
}

const maxTextLength = 300

const truncate = (text: string): string => text.length > maxTextLength ? `${text.slice(0, maxTextLength)}…` : text

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const describeValue = (u: unknown): string => typeof u === "string" ? u : JSON.stringify(u) ?? String(u)

// `errors` is documented as an array of strings, but real responses also carry a
// single string, and the spec's own 400 example uses an object of field -> messages.
const flattenErrors = (u: unknown): ReadonlyArray<string> => {
  if (u === undefined || u === null) return []
  if (typeof u === "string") return [u]
  if (Array.isArray(u)) return u.map(describeValue)
  if (isRecord(u)) {
    return Object.entries(u).flatMap(([field, messages]) =>
      Array.isArray(messages)
        ? messages.map((message) => `${field}: ${describeValue(message)}`)
        : [`${field}: ${describeValue(messages)}`]
    )
  }
  return [describeValue(u)]
}

const fromObject = (object: Record<string, unknown>): ErrorDetails => ({
  code: typeof object.code === "number" ? object.code : undefined,
  apiMessage: typeof object.message === "string" ? object.message : undefined,
  errors: flattenErrors(object.errors)
})

/**
 * Reads an error body leniently: the documented `{error: {...}}` shape, the
 * same fields at the top level, a bare array of messages, or any other text,
 * which becomes the message.
 */
export const parseErrorBody = (text: string): ErrorDetails => {
  if (text.trim() === "") return { errors: [] }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { apiMessage: truncate(text.trim()), errors: [] }
  }
  if (Array.isArray(json)) return { errors: flattenErrors(json) }
  if (isRecord(json)) {
    if (isRecord(json.error)) return fromObject(json.error)
    if (typeof json.error === "string") return { apiMessage: json.error, errors: flattenErrors(json.errors) }
    return fromObject(json)
  }
  return { apiMessage: truncate(describeValue(json)), errors: [] }
}

const parseCount = (value: string | undefined): number | undefined => {
  if (value === undefined || !/^\d+$/.test(value.trim())) return undefined
  return Number(value.trim())
}

/** The request facts every reason carries. */
export interface RequestInfo {
  readonly method: string
  readonly path: string
}

/**
 * Builds the reason for a non-2xx response from its status, headers and body text.
 */
export const reasonFromResponse = (
  request: RequestInfo,
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  bodyText: string
): RestClientError.RestClientErrorReason => {
  const details = parseErrorBody(bodyText)
  const fields = { method: request.method, path: request.path, status, ...details }
  switch (status) {
    case 401:
      return new RestClientError.Unauthorized(fields)
    case 402:
      return new RestClientError.PaymentRequired(fields)
    case 403:
      return new RestClientError.Forbidden(fields)
    case 404:
      return new RestClientError.NotFound(fields)
    case 408:
      return new RestClientError.Timeout({ method: request.method, path: request.path, source: "server" })
    case 429:
      return new RestClientError.RateLimited({
        ...fields,
        retryAfter: Option.getOrUndefined(Retry.parseRateLimitReset(headers["ratelimit-reset"])),
        limit: parseCount(headers["ratelimit-limit"]),
        remaining: parseCount(headers["ratelimit-remaining"])
      })
  }
  if (status >= 500) return new RestClientError.ServerError(fields)
  return new RestClientError.BadRequest(fields)
}

const notSentCodes = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT"
])

/**
 * Tells whether a transport failure happened before any connection was made, by
 * looking for a system error code such as `ECONNREFUSED` on the cause chain
 * (Node's `fetch` and undici both nest the code under `cause`).
 */
export const failedBeforeSending = (cause: unknown): boolean => {
  let current: unknown = cause
  for (let depth = 0; depth < 5 && isRecordLike(current); depth++) {
    const code = (current as { readonly code?: unknown }).code
    if (typeof code === "string" && notSentCodes.has(code)) return true
    current = (current as { readonly cause?: unknown }).cause
  }
  return false
}

const isRecordLike = (u: unknown): u is object => typeof u === "object" && u !== null

/** Describes a transport failure's cause in a few words: its error codes, or else its messages. */
export const describeCause = (cause: unknown): string => {
  let current: unknown = cause
  const parts: Array<string> = []
  for (let depth = 0; depth < 3 && isRecordLike(current); depth++) {
    const { code, message } = current as { readonly code?: unknown; readonly message?: unknown }
    if (typeof code === "string") parts.push(code)
    else if (typeof message === "string" && message !== "") parts.push(message)
    current = (current as { readonly cause?: unknown }).cause
  }
  return parts.length > 0 ? truncate(parts.join(": ")) : "unknown transport failure"
}
