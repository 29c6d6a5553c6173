/**
 * PagerDuty REST API v2 as an Effect service over `effect/http`'s `HttpClient`.
 *
 * Every request carries `Authorization` (`Token token=…` for API tokens,
 * `Bearer …` for OAuth tokens) and the versioned
 * `Accept: application/vnd.pagerduty+json;version=2`. Requests with a body
 * also carry `Content-Type: application/json`. The operations PagerDuty
 * requires it for carry `From`: creating and updating incidents, adding notes,
 * merging. There is no default host: choose the `us` or `eu` region, or give a
 * `baseUrl`.
 *
 * Retries: a 429 waits for `ratelimit-reset` when PagerDuty sends it.
 * Idempotent requests (GET, PUT) also retry 5xx responses, timeouts and
 * transport failures. Requests that are not idempotent (creating an incident,
 * adding a note, merging) are retried only on 429 and when no connection
 * could be made, because PagerDuty cannot have received them then.
 *
 * @example
 * ```ts
 * import { RestClient } from "@effect-pagerduty/pagerduty"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect, Layer, Redacted, Stream } from "effect"
 *
 * const PagerDuty = RestClient.layer({
 *   token: Redacted.make("u+abc…"),
 *   region: "us",
 *   from: "oncall@example.com"
 * }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 *
 * const program = Effect.gen(function*() {
 *   const pd = yield* RestClient.RestClient
 *   const open = yield* Stream.runCollect(pd.listIncidents({ statuses: ["triggered"] }))
 *   for (const incident of open) yield* pd.acknowledgeIncident(incident.id)
 * }).pipe(Effect.provide(PagerDuty))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Config, Context, Duration, Effect, Layer, Option, Redacted } from "effect"
import type * as Digest from "effect/crypto/Digest"
import { HttpClient } from "effect/http"
import type * as Cache from "./Cache.ts"
import * as Cached from "./internal/restCached.ts"
import * as Operations from "./internal/restOperations.ts"
import * as Transport from "./internal/restTransport.ts"

export type { CachedOptions } from "./internal/restCached.ts"
export type {
  AuditRecordFilters,
  BulkIncidentUpdate,
  CreateIncident,
  DateInput,
  FromOptions,
  IncidentFilters,
  IncidentUpdate,
  ListOptions,
  LogEntryFilters,
  NamedFilters,
  OnCallFilters,
  PaginateCursorOptions,
  PaginateOptions,
  RequestOptions
} from "./internal/restInputs.ts"
export type { AttemptWrapper, FromRequirement, Query, QueryValue } from "./internal/restTransport.ts"

/**
 * The base URLs of PagerDuty's two service regions.
 *
 * @since 0.1.0
 * @category constants
 */
export const regionBaseUrls = {
  us: "https://api.pagerduty.com",
  eu: "https://api.eu.pagerduty.com"
} as const

/**
 * The largest number of incidents one bulk `PUT /incidents` carries;
 * `updateIncidents` splits longer lists into requests of this size.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxBulkIncidents = Operations.maxBulkIncidents

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** An account or user API token, or an OAuth access token (see `tokenType`). */
  readonly token: Redacted.Redacted<string>
  /** `"api"` sends `Token token=…` (the default), `"oauth"` sends `Bearer …`. */
  readonly tokenType?: "api" | "oauth" | undefined
  /** The service region; give exactly one of `region` and `baseUrl`. */
  readonly region?: "us" | "eu" | undefined
  /** An explicit base URL, such as a simulator's; give exactly one of `region` and `baseUrl`. */
  readonly baseUrl?: string | undefined
  /** The email of a user on the account, sent as `From` where PagerDuty requires it. */
  readonly from?: string | undefined
  /** The time one attempt may take, response body included; defaults to 30 seconds. */
  readonly timeout?: Duration.Input | undefined
  /**
   * Retry settings, or `false` to send each request once. Defaults: 3 retries,
   * a 500 ms exponential base with jitter, delays capped at 60 seconds. A
   * `ratelimit-reset` longer than `maxDelay` ends the retries, and the call
   * fails with `RateLimited` carrying that wait.
   */
  readonly retry?:
    | false
    | {
      readonly times?: number | undefined
      readonly base?: Duration.Input | undefined
      readonly maxDelay?: Duration.Input | undefined
    }
    | undefined
  /**
   * Wraps every HTTP attempt, retries included. Plug a shared rate limiter in
   * here (PagerDuty allows 960 requests a minute per token). The wrapper may
   * delay an attempt but must not change its result. Defaults to none.
   */
  readonly rateLimit?: Transport.AttemptWrapper | undefined
  /** A `User-Agent` header value. */
  readonly userAgent?: string | undefined
}

/**
 * The operations of the REST API v2 client.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service extends Operations.Operations {}

/**
 * The REST API v2 client service.
 *
 * @since 0.1.0
 * @category services
 */
export class RestClient extends Context.Service<RestClient, Service>()("@effect-pagerduty/pagerduty/RestClient") {}

const resolveBaseUrl = (options: Options): string => {
  if (options.region !== undefined && options.baseUrl !== undefined) {
    throw new RangeError(
      `RestClient: give either region or baseUrl, not both (region ${options.region}, baseUrl ${options.baseUrl})`
    )
  }
  if (options.region !== undefined) {
    const url = regionBaseUrls[options.region]
    if (url === undefined) throw new RangeError(`RestClient: region must be "us" or "eu", got ${options.region}`)
    return url
  }
  if (options.baseUrl === undefined) {
    throw new RangeError("RestClient: region or baseUrl is required; there is no default host")
  }
  let url: URL
  try {
    url = new URL(options.baseUrl)
  } catch {
    throw new RangeError(`RestClient: baseUrl must be an absolute http(s) URL, got ${options.baseUrl}`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new RangeError(`RestClient: baseUrl must be an absolute http(s) URL, got ${options.baseUrl}`)
  }
  return options.baseUrl.replace(/\/+$/, "")
}

const resolveDuration = (name: string, input: Duration.Input | undefined, fallback: Duration.Duration) => {
  if (input === undefined) return fallback
  const duration = Duration.fromInput(input)
  if (Option.isNone(duration) || !Duration.isFinite(duration.value) || Duration.toMillis(duration.value) <= 0) {
    throw new RangeError(`RestClient: ${name} must be a positive finite duration, got ${String(input)}`)
  }
  return duration.value
}

const resolveSettings = (options: Options): Transport.Settings => {
  const tokenType = options.tokenType ?? "api"
  if (tokenType !== "api" && tokenType !== "oauth") {
    throw new RangeError(`RestClient: tokenType must be "api" or "oauth", got ${String(tokenType)}`)
  }
  const token = Redacted.value(options.token)
  if (token.trim() === "") throw new RangeError("RestClient: token is empty")
  const authorization = Redacted.make(tokenType === "api" ? `Token token=${token}` : `Bearer ${token}`)

  let retry: Transport.RetrySettings | undefined
  if (options.retry !== false) {
    const times = options.retry?.times ?? 3
    if (!Number.isInteger(times) || times < 0) {
      throw new RangeError(`RestClient: retry.times must be a non-negative integer, got ${times}`)
    }
    retry = {
      times,
      base: resolveDuration("retry.base", options.retry?.base, Duration.millis(500)),
      maxDelay: resolveDuration("retry.maxDelay", options.retry?.maxDelay, Duration.seconds(60))
    }
  }

  return {
    baseUrl: resolveBaseUrl(options),
    authorization,
    from: options.from,
    timeout: resolveDuration("timeout", options.timeout, Duration.seconds(30)),
    retry,
    wrapAttempt: options.rateLimit ?? ((attempt) => attempt),
    userAgent: options.userAgent
  }
}

/**
 * Builds the client from options and the `HttpClient` in context.
 *
 * Throws `RangeError` for invalid options: no region or base URL, both, an
 * empty token, a non-positive timeout.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Service, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const settings = resolveSettings(options)
    const client = yield* HttpClient.HttpClient
    return Operations.makeOperations(Transport.makeExecutor(client, settings))
  })

/**
 * A layer of the client built from options.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<RestClient, never, HttpClient.HttpClient> =>
  Layer.effect(RestClient, make(options))

/**
 * A layer of the client whose options are read from `Config`, for example
 * `{ token: Config.Redacted("PAGERDUTY_TOKEN"), region: Config.Literals(["us", "eu"], "PAGERDUTY_REGION") }`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Wrap<Options>
): Layer.Layer<RestClient, Config.ConfigError, HttpClient.HttpClient> =>
  Layer.effect(
    RestClient,
    Effect.gen(function*() {
      const resolved = yield* Config.unwrap(options)
      return yield* make(resolved)
    })
  )

/**
 * Builds a client whose reads of slowly changing resources go through the
 * `Cache` service: `getService`, `getUser` and `getEscalationPolicy` per id,
 * and the whole `listPriorities` result.
 *
 * Entries are kept in the namespace `pagerduty-rest:<account>`, where
 * `<account>` is derived from a SHA-256 of the base URL and token. Clients
 * with different tokens therefore share no entries, and no key contains the
 * token. A failing cache store does not fail the read: it goes to PagerDuty
 * directly, and the cache failure is logged at warning level.
 *
 * NOTE: cached entries are not invalidated when the same process changes
 * the resource; they expire after `timeToLive` (5 minutes by default).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeCached = (
  options: Options,
  cached?: Cached.CachedOptions
): Effect.Effect<Service, never, HttpClient.HttpClient | Cache.Cache | Digest.Digest> =>
  Effect.gen(function*() {
    const settings = resolveSettings(options)
    const client = yield* HttpClient.HttpClient
    const operations = Operations.makeOperations(Transport.makeExecutor(client, settings))
    return yield* Cached.withCache(operations, settings, cached)
  })

/**
 * A layer of the client with cached reads; see {@link makeCached}.
 *
 * @example
 * ```ts
 * import { Cache, RestClient } from "@effect-pagerduty/pagerduty"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Layer, Redacted } from "effect"
 * import { Digest } from "effect/crypto"
 *
 * const PagerDuty = RestClient.layerCached(
 *   { token: Redacted.make("u+abc…"), region: "eu" },
 *   { timeToLive: "10 minutes" }
 * ).pipe(Layer.provide([NodeHttpClient.layerUndici, Cache.layerMemory(), Digest.layerWebCrypto]))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerCached = (
  options: Options,
  cached?: Cached.CachedOptions
): Layer.Layer<RestClient, never, HttpClient.HttpClient | Cache.Cache | Digest.Digest> =>
  Layer.effect(RestClient, makeCached(options, cached))
