import { Cause, Duration, Effect, Redacted, Schedule, Schema } from "effect"
import type { HttpMethod } from "effect/http"
import { HttpClient, HttpClientError, HttpClientRequest } from "effect/http"
import * as RestClientError from "../RestClientError.ts"
import * as Retry from "../Retry.ts"
import { describeCause, failedBeforeSending, reasonFromResponse } from "./restResponse.ts"

/** The versioned media type PagerDuty's REST API v2 expects in `Accept`. */
export const acceptHeader = "application/vnd.pagerduty+json;version=2"

/** A query value; arrays repeat the key once per element. */
export type QueryValue = string | number | boolean | ReadonlyArray<string | number> | null | undefined

/** Query parameters, named as PagerDuty names them (`statuses[]`, `sort_by`, …). */
export type Query = Readonly<Record<string, QueryValue>>

/** A wrapper applied around every HTTP attempt, such as a shared rate limiter. */
export type AttemptWrapper = <A, E, R>(attempt: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>

/** The retry settings; `times` counts retries after the first attempt. */
export interface RetrySettings {
  readonly times: number
  readonly base: Duration.Duration
  readonly maxDelay: Duration.Duration
}

/** The resolved settings every request is sent with. */
export interface Settings {
  readonly baseUrl: string
  readonly authorization: Redacted.Redacted<string>
  readonly from: string | undefined
  readonly timeout: Duration.Duration
  readonly retry: RetrySettings | undefined
  readonly wrapAttempt: AttemptWrapper
  readonly userAgent: string | undefined
}

/** The treatment of the `From` header in one operation. */
export type FromRequirement = "required" | "optional" | "none"

/** One REST call, before it is turned into an HTTP request. */
export interface Call<A> {
  readonly method: HttpMethod.HttpMethod
  readonly path: string
  readonly query?: Query | undefined
  readonly body?: unknown
  readonly from?: FromRequirement | undefined
  readonly fromValue?: string | undefined
  readonly idempotent: boolean
  readonly schema: Schema.Codec<A, unknown>
}

const toUrlParams = (query: Query | undefined): Array<[string, string]> => {
  const params: Array<[string, string]> = []
  if (query === undefined) return params
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue
    if (Array.isArray(value)) {
      for (const item of value) params.push([key, String(item)])
    } else {
      params.push([key, String(value)])
    }
  }
  return params
}

const isIdempotentMethod = (method: HttpMethod.HttpMethod): boolean =>
  method === "GET" || method === "HEAD" || method === "PUT" || method === "DELETE" || method === "OPTIONS"

/** Whether a method is idempotent under HTTP semantics (GET, HEAD, PUT, DELETE, OPTIONS). */
export const defaultIdempotent = isIdempotentMethod

/**
 * Decides whether a failed attempt may be sent again. Rate limits and failures
 * before a connection was made are retried for every request. Other transient
 * failures are retried only for idempotent requests, because PagerDuty may
 * already have acted on the first attempt.
 */
export const isRetryable = (error: RestClientError.RestClientError, idempotent: boolean): boolean => {
  const reason = error.reason
  switch (reason._tag) {
    case "RateLimited":
      return true
    case "Transport":
      return reason.stage === "connect" || idempotent
    case "Timeout":
    case "ServerError":
      return idempotent && reason.retryable
    default:
      return false
  }
}

/**
 * Builds the retry schedule of one call on `Retry.schedule`: jittered
 * exponential backoff that waits at least a 429's `ratelimit-reset`, and
 * gives up when that hint is longer than `maxDelay`.
 */
export const retrySchedule = (
  settings: RetrySettings,
  idempotent: boolean
): Schedule.Schedule<Duration.Duration, RestClientError.RestClientError> =>
  Retry.schedule<RestClientError.RestClientError>({
    baseDelay: settings.base,
    maxDelay: settings.maxDelay,
    maxAttempts: settings.times + 1,
    isRetryable: (error) => RestClientError.isRestClientError(error) && isRetryable(error, idempotent)
  })

const fail = (reason: RestClientError.RestClientErrorReason) =>
  Effect.fail(new RestClientError.RestClientError({ reason }))

const decodeBody = <A>(call: Call<A>, status: number, text: string) => {
  const info = { method: call.method, path: call.path }
  let json: unknown = undefined
  if (text.trim() !== "") {
    try {
      json = JSON.parse(text)
    } catch {
      return fail(new RestClientError.Decode({ ...info, status, description: "the body is not valid JSON" }))
    }
  }
  return Schema.decodeUnknownEffect(call.schema)(json).pipe(
    Effect.catchTag(
      "SchemaError",
      (error) => fail(new RestClientError.Decode({ ...info, status, description: error.message.slice(0, 1000) }))
    )
  )
}

/** Sends REST calls through an `HttpClient` with the client's headers, timeout, retries and wrapper. */
export const makeExecutor =
  (client: HttpClient.HttpClient, settings: Settings) =>
  <A>(call: Call<A>): Effect.Effect<A, RestClientError.RestClientError> => {
    const info = { method: call.method, path: call.path }
    const from = call.fromValue ?? settings.from
    if (call.from === "required" && from === undefined) return fail(new RestClientError.MissingFrom(info))

    const headers: Record<string, string> = {
      accept: acceptHeader,
      authorization: Redacted.value(settings.authorization)
    }
    if (call.body !== undefined) headers["content-type"] = "application/json"
    if (call.from !== undefined && call.from !== "none" && from !== undefined) headers.from = from
    if (settings.userAgent !== undefined) headers["user-agent"] = settings.userAgent

    let request = HttpClientRequest.make(call.method)(settings.baseUrl + call.path, {
      urlParams: toUrlParams(call.query),
      headers
    })
    if (call.body !== undefined) {
      request = HttpClientRequest.bodyText(request, JSON.stringify(call.body), "application/json")
    }

    const attempt = client.execute(request).pipe(
      Effect.flatMap((response) =>
        Effect.map(response.text, (text) => ({ status: response.status, headers: response.headers, text }))
      ),
      Effect.timeout(settings.timeout),
      Effect.catch((error): Effect.Effect<never, RestClientError.RestClientError> => {
        if (Cause.isTimeoutError(error)) {
          return fail(new RestClientError.Timeout({ ...info, source: "client", timeout: settings.timeout }))
        }
        if (HttpClientError.isHttpClientError(error) && error.reason._tag === "TransportError") {
          const cause = error.reason.cause
          if (Cause.isTimeoutError(cause)) {
            return fail(new RestClientError.Timeout({ ...info, source: "client", timeout: settings.timeout }))
          }
          const stage = failedBeforeSending(cause) ? "connect" : "exchange"
          return fail(new RestClientError.Transport({ ...info, stage, description: describeCause(cause) }))
        }
        return fail(
          new RestClientError.Transport({ ...info, stage: "exchange", description: describeCause(error) })
        )
      }),
      Effect.flatMap(({ headers, status, text }) =>
        status >= 200 && status < 300
          ? decodeBody(call, status, text)
          : fail(reasonFromResponse(info, status, headers, text))
      )
    )

    const wrapped = settings.wrapAttempt(attempt)
    if (settings.retry === undefined || settings.retry.times === 0) return wrapped
    return Effect.retry(wrapped, retrySchedule(settings.retry, call.idempotent))
  }
