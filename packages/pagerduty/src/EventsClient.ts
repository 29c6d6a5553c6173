/**
 * A service that sends Events API v2 alert and change events to PagerDuty over
 * `effect/http`'s `HttpClient`, with typed errors and bounded retries.
 *
 * Each send validates the routing key, runs `EventsV2.prepare`, encodes the
 * body once and sends the same bytes on every attempt. A trigger without a
 * `dedup_key` gets a random UUID before its first attempt, so a retry after a
 * timeout (when PagerDuty may have accepted the first attempt) updates the
 * same alert instead of opening a second one.
 *
 * Only 429, 5xx, 408, transport failures and per-attempt timeouts are retried,
 * by `Retry.schedule` unless replaced. A 429 whose `Retry-After` (or
 * `ratelimit-reset`) is longer than the schedule's `maxDelay` fails at once
 * with `RateLimited` carrying that wait. Pass `retry: false` to turn retries
 * off for callers, such as a durable outbox, that own longer retries.
 *
 * Connections are reused by the `HttpClient` you provide. On Node,
 * `NodeHttpClient.layerUndici` from `@effect/platform-node` keeps connections
 * alive between events.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { EventsClient } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const events = yield* EventsClient.EventsClient
 *   const accepted = yield* events.send(Redacted.make(process.env.PD_ROUTING_KEY ?? ""), {
 *     event_action: "trigger",
 *     payload: { summary: "disk full on db-1", source: "db-1", severity: "critical" }
 *   })
 *   return accepted.dedup_key
 * }).pipe(Effect.provide(EventsClient.layer({ region: "us" }).pipe(Layer.provide(NodeHttpClient.layerUndici))))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Digest from "effect/crypto/Digest"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientError from "effect/http/HttpClientError"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as HttpClientResponse from "effect/http/HttpClientResponse"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as EventsV2 from "./EventsV2.ts"
import {
  Decode,
  EventsClientError,
  InvalidEvent,
  PolicyRejected,
  RateLimited,
  ServerError,
  Timeout,
  Transport,
  UnexpectedStatus
} from "./internal/eventsClientError.ts"
import * as Retry from "./Retry.ts"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  Decode,
  /**
   * The error of this module. Its reason is one of `InvalidEvent`,
   * `RateLimited`, `ServerError`, `UnexpectedStatus`, `Transport`, `PolicyRejected`, `Timeout`
   * and `Decode`.
   *
   * @since 0.1.0
   * @category errors
   */
  EventsClientError,
  /**
   * @since 0.1.0
   * @category errors
   */
  InvalidEvent,
  /**
   * @since 0.1.0
   * @category errors
   */
  PolicyRejected,
  /**
   * @since 0.1.0
   * @category errors
   */
  RateLimited,
  /**
   * @since 0.1.0
   * @category errors
   */
  ServerError,
  /**
   * @since 0.1.0
   * @category errors
   */
  Timeout,
  /**
   * @since 0.1.0
   * @category errors
   */
  Transport,
  /**
   * @since 0.1.0
   * @category errors
   */
  UnexpectedStatus
} from "./internal/eventsClientError.ts"

/**
 * A PagerDuty service region.
 *
 * @since 0.1.0
 * @category models
 */
export type Region = "us" | "eu"

/**
 * The Events API host of each region.
 *
 * @since 0.1.0
 * @category constants
 */
export const regionBaseUrls: Readonly<Record<Region, string>> = {
  us: "https://events.pagerduty.com",
  eu: "https://events.eu.pagerduty.com"
}

/**
 * A retry policy for one send: a schedule fed with each retryable failure, or
 * `false` for a single attempt.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryPolicy = Schedule.Schedule<unknown, EventsClientError> | false

/**
 * Options that apply to every send, or to one send when passed to it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  /** The retry schedule, or `false` for one attempt. Default: `Retry.schedule()` (four attempts, delays up to 30 s). */
  readonly retry?: RetryPolicy | undefined
  /** Time limit of one attempt. Default: 10 seconds. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Time limit of the whole send, retries and their delays included. When it
   * passes, the send fails with the last attempt's error, or with `Timeout`
   * when no attempt has finished. Default: 60 seconds.
   */
  readonly deadline?: Duration.Input | undefined
}

/**
 * Options of {@link layer}: exactly one of `region` and `baseUrl`, because
 * the client has no default destination.
 *
 * @since 0.1.0
 * @category models
 */
export type Options =
  & SendOptions
  & (
    | { readonly region: Region; readonly baseUrl?: undefined }
    | {
      /**
       * Scheme, host, port and optional path prefix of the Events API, such as
       * `http://127.0.0.1:8080` for a local simulator; `/v2/enqueue` is
       * appended.
       */
      readonly baseUrl: string | URL
      readonly region?: undefined
    }
  )
  & {
    /** The `User-Agent` header. Default: `effect-pagerduty/0.1.0`. */
    readonly userAgent?: string | undefined
  }

/**
 * The Events API v2 client.
 *
 * @since 0.1.0
 * @category services
 */
export class EventsClient extends Context.Service<EventsClient, {
  /**
   * Sends an alert event and returns PagerDuty's 202 body. When the body has
   * no `dedup_key`, the key that was sent is filled in.
   */
  readonly send: (
    routingKey: Redacted.Redacted<string>,
    event: EventsV2.AlertEvent,
    options?: SendOptions
  ) => Effect.Effect<EventsV2.Accepted, EventsClientError | EventsV2.EventsV2Error>
  /** Sends a change event and returns PagerDuty's 202 body. */
  readonly sendChange: (
    routingKey: Redacted.Redacted<string>,
    event: EventsV2.ChangeEvent,
    options?: SendOptions
  ) => Effect.Effect<EventsV2.Accepted, EventsClientError | EventsV2.EventsV2Error>
}>()("@effect-pagerduty/pagerduty/EventsClient") {}

const defaultTimeout = Duration.seconds(10)
const defaultDeadline = Duration.seconds(60)

const resolveBaseUrl = (options: Options): string => {
  if (options.region !== undefined && options.baseUrl !== undefined) {
    throw new RangeError("EventsClient: set either region or baseUrl, not both")
  }
  if (options.region !== undefined) {
    const url = regionBaseUrls[options.region]
    if (url === undefined) {
      throw new RangeError(`EventsClient: region must be "us" or "eu", got ${JSON.stringify(options.region)}`)
    }
    return url
  }
  if (options.baseUrl === undefined) {
    throw new RangeError("EventsClient: set region (\"us\" or \"eu\") or baseUrl; there is no default destination")
  }
  let url: URL
  try {
    url = new URL(options.baseUrl)
  } catch {
    throw new RangeError(
      `EventsClient: baseUrl must be an absolute URL, got ${JSON.stringify(String(options.baseUrl))}`
    )
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new RangeError(`EventsClient: baseUrl must use http or https, got ${JSON.stringify(url.protocol)}`)
  }
  // Error messages carry the URL, and the Events API takes no credentials, so none may be in it.
  if (url.username !== "" || url.password !== "") {
    throw new RangeError("EventsClient: baseUrl must not contain a user or password (they are not shown here)")
  }
  return url.href.replace(/\/+$/, "")
}

const readBody = (response: HttpClientResponse.HttpClientResponse) => response.text.pipe(Effect.orElseSucceed(() => ""))

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const decodeAccepted = Schema.decodeUnknownOption(EventsV2.Accepted)
const decodeRejected = Schema.decodeUnknownOption(EventsV2.Rejected)

interface RequestInfo {
  readonly method: string
  readonly url: string
  readonly dedupKey?: string | undefined
}

// Interprets a response. `scrub` removes the routing key from text the server
// sent, in case a server echoes it into an error message.
const interpret = Effect.fnUntraced(function*(
  info: RequestInfo,
  response: HttpClientResponse.HttpClientResponse,
  scrub: (text: string) => string
): Effect.fn.Return<EventsV2.Accepted, EventsClientError> {
  const status = response.status
  const text = yield* readBody(response)
  const now = yield* DateTime.now
  const retryAfter = Retry.parseRetryAfter(response.headers["retry-after"], now)

  if (status >= 200 && status < 300) {
    const accepted = decodeAccepted(parseJson(text))
    if (Option.isNone(accepted)) {
      return yield* new EventsClientError({
        reason: new Decode({ ...info, status, detail: "expected a JSON object with a string status" })
      })
    }
    return accepted.value
  }

  if (status === 400) {
    const rejected = decodeRejected(parseJson(text))
    const body = Option.getOrUndefined(rejected)
    return yield* new EventsClientError({
      reason: new InvalidEvent({
        ...info,
        status: scrub(body?.status ?? "invalid event"),
        detail: scrub(body?.message ?? "the response body was not PagerDuty's error object"),
        errors: (body?.errors ?? []).map(scrub)
      })
    })
  }

  if (status === 429) {
    const wait = retryAfter.pipe(
      Option.orElse(() => Retry.parseRateLimitReset(response.headers["ratelimit-reset"])),
      Option.getOrUndefined
    )
    return yield* new EventsClientError({ reason: new RateLimited({ ...info, retryAfter: wait }) })
  }

  if (status >= 500 && status < 600) {
    return yield* new EventsClientError({
      reason: new ServerError({ ...info, status, retryAfter: Option.getOrUndefined(retryAfter) })
    })
  }
  return yield* new EventsClientError({ reason: new UnexpectedStatus({ ...info, status }) })
})

const transportError = (
  info: RequestInfo,
  error: HttpClientError.HttpClientError,
  scrub: (text: string) => string
): EventsClientError => {
  // A client wrapped by a policy (see `Policy.make`) fails with the policy's own
  // errors, which carry their own message and retry hint.
  const failure: unknown = error
  if (!HttpClientError.isHttpClientError(failure)) {
    const retryAfter = Retry.retryAfterOf(failure)
    const detail = failure instanceof Error ? failure.message : String(failure)
    return new EventsClientError({
      reason: new PolicyRejected({ ...info, detail: scrub(detail), ...(retryAfter ? { retryAfter } : {}) })
    })
  }
  const cause = error.reason.cause
  const detail = cause instanceof Error && cause.message !== "" ? cause.message : error.reason._tag
  return new EventsClientError({ reason: new Transport({ ...info, detail: scrub(detail) }) })
}

/**
 * Builds the client from its options.
 *
 * Invalid options throw a `RangeError` naming the option, when `make` is
 * called rather than when the effect runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<EventsClient["Service"], never, HttpClient.HttpClient | Digest.Digest | SecureRandom.SecureRandom> => {
  const baseUrl = resolveBaseUrl(options)
  return makeWith(options, baseUrl)
}

const makeWith = Effect.fnUntraced(function*(options: Options, baseUrl: string) {
  const http = yield* HttpClient.HttpClient
  const digest = yield* Digest.Digest
  const random = yield* SecureRandom.SecureRandom
  const userAgent = options.userAgent ?? "effect-pagerduty/0.1.0"

  const deliver = Effect.fnUntraced(function*(
    path: string,
    routingKey: Redacted.Redacted<string>,
    event: EventsV2.Event,
    dedupKey: string | undefined,
    sendOptions: SendOptions | undefined
  ): Effect.fn.Return<EventsV2.Accepted, EventsClientError | EventsV2.EventsV2Error> {
    const retry = sendOptions?.retry ?? options.retry ?? Retry.schedule<EventsClientError>()
    const timeout = Duration.fromInputUnsafe(sendOptions?.timeout ?? options.timeout ?? defaultTimeout)
    const deadline = Duration.fromInputUnsafe(sendOptions?.deadline ?? options.deadline ?? defaultDeadline)
    const info: RequestInfo = { method: "POST", url: `${baseUrl}${path}`, dedupKey }

    // Encoded once: every attempt sends exactly these bytes.
    const body = EventsV2.encodeRequest(routingKey, event)
    const request = HttpClientRequest.post(info.url).pipe(
      HttpClientRequest.setHeaders({ accept: "application/json", "user-agent": userAgent }),
      HttpClientRequest.bodyText(body, "application/json")
    )

    const secret = Redacted.value(routingKey)
    const scrub = (text: string) => text.replaceAll(secret, "<routing key>")

    let lastError: EventsClientError | undefined
    const attempt = http.execute(request).pipe(
      Effect.mapError((error) => transportError(info, error, scrub)),
      Effect.flatMap((response) => interpret(info, response, scrub)),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.fail(new EventsClientError({ reason: new Timeout({ ...info, scope: "attempt", after: timeout }) }))
      }),
      Effect.tapError((error) =>
        Effect.sync(() => {
          lastError = error
        })
      )
    )
    const attempts = retry === false
      ? attempt
      : Effect.retry(attempt, { schedule: retry, while: (error) => error.reason.retryable })

    // At the deadline the last attempt's failure is more useful than a bare
    // timeout: it keeps a 429's retryAfter for the caller.
    return yield* attempts.pipe(
      Effect.timeoutOrElse({
        duration: deadline,
        orElse: () =>
          Effect.fail(
            lastError ?? new EventsClientError({ reason: new Timeout({ ...info, scope: "deadline", after: deadline }) })
          )
      }),
      Effect.tapError((error) => Effect.annotateCurrentSpan("pagerduty.outcome", error.reason._tag)),
      Effect.tap(() => Effect.annotateCurrentSpan("pagerduty.outcome", "accepted"))
    )
  })

  const send = Effect.fn("EventsClient.send")(function*(
    routingKey: Redacted.Redacted<string>,
    event: EventsV2.AlertEvent,
    sendOptions?: SendOptions
  ): Effect.fn.Return<EventsV2.Accepted, EventsClientError | EventsV2.EventsV2Error> {
    yield* Effect.annotateCurrentSpan("pagerduty.event.action", event.event_action)
    yield* EventsV2.validateRoutingKey(routingKey)

    const keyed = yield* EventsV2.assignDedupKey(event).pipe(Effect.provideService(SecureRandom.SecureRandom, random))
    const { event: prepared } = yield* EventsV2.prepare(keyed).pipe(Effect.provideService(Digest.Digest, digest))

    const accepted = yield* deliver("/v2/enqueue", routingKey, prepared, prepared.dedup_key, sendOptions)
    return accepted.dedup_key === undefined ? { ...accepted, dedup_key: prepared.dedup_key } : accepted
  })

  const sendChange = Effect.fn("EventsClient.sendChange")(function*(
    routingKey: Redacted.Redacted<string>,
    event: EventsV2.ChangeEvent,
    sendOptions?: SendOptions
  ): Effect.fn.Return<EventsV2.Accepted, EventsClientError | EventsV2.EventsV2Error> {
    yield* Effect.annotateCurrentSpan("pagerduty.event.action", "change")
    yield* EventsV2.validateRoutingKey(routingKey)
    const { event: prepared } = yield* EventsV2.prepare(event).pipe(Effect.provideService(Digest.Digest, digest))
    return yield* deliver("/v2/change/enqueue", routingKey, prepared, undefined, sendOptions)
  })

  return EventsClient.of({ send, sendChange })
})

/**
 * A layer of the client on the `HttpClient` you provide. SHA-256 and UUIDs
 * come from WebCrypto.
 *
 * @example
 * ```ts
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { EventsClient } from "@effect-pagerduty/pagerduty"
 * import { Layer } from "effect"
 *
 * const Live = EventsClient.layer({ region: "eu", timeout: "5 seconds" }).pipe(
 *   Layer.provide(NodeHttpClient.layerUndici)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<EventsClient, never, HttpClient.HttpClient> =>
  Layer.effect(EventsClient, make(options)).pipe(
    Layer.provide(Layer.mergeAll(Digest.layerWebCrypto, SecureRandom.layerWebCrypto))
  )

/**
 * Configuration read by {@link layerConfig}: `PAGERDUTY_EVENTS_REGION`
 * (`us` or `eu`) or `PAGERDUTY_EVENTS_BASE_URL` (exactly one), and optional
 * `PAGERDUTY_EVENTS_TIMEOUT` and `PAGERDUTY_EVENTS_DEADLINE` durations such as
 * `10 seconds`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.all({
  region: Config.option(Config.Literals(["us", "eu"], "PAGERDUTY_EVENTS_REGION")),
  baseUrl: Config.option(Config.URL("PAGERDUTY_EVENTS_BASE_URL")),
  timeout: Config.option(Config.Duration("PAGERDUTY_EVENTS_TIMEOUT")),
  deadline: Config.option(Config.Duration("PAGERDUTY_EVENTS_DEADLINE"))
}).pipe(
  Config.flatMap(({ baseUrl, deadline, region, timeout }): Config.Config<Options> => {
    const common = { timeout: Option.getOrUndefined(timeout), deadline: Option.getOrUndefined(deadline) }
    if (Option.isSome(region) && Option.isNone(baseUrl)) return Config.succeed({ ...common, region: region.value })
    if (Option.isSome(baseUrl) && Option.isNone(region)) return Config.succeed({ ...common, baseUrl: baseUrl.value })
    return Config.fail(
      new ConfigProvider.SourceError({
        message: "set exactly one of PAGERDUTY_EVENTS_REGION (us or eu) and PAGERDUTY_EVENTS_BASE_URL"
      })
    )
  })
)

/**
 * A layer of the client configured from {@link config}, or from the config
 * you pass.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<EventsClient, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.unwrap(
    Effect.gen(function*() {
      return layer(yield* options)
    })
  )
