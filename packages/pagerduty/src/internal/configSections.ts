import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as GenericSource from "../GenericSource.ts"
import * as Fields from "./configSchema.ts"

const { BooleanLike, Email, HttpUrl, IntBetween, Name, Positive, Secret, SecretOfLength, withDefault } = Fields

/**
 * The PagerDuty account: its region (or explicit API URLs), a REST API token
 * and the `From` address REST writes need.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PagerDuty = Schema.Struct({
  /** `us` (api.pagerduty.com, events.pagerduty.com) or `eu` (the `.eu.` hosts). */
  region: Schema.optionalKey(Schema.Literals(["us", "eu"])),
  /** Base URL of the Events API v2; overrides the region's. Required without a region. */
  events_url: Schema.optionalKey(HttpUrl),
  /** Base URL of the REST API v2; overrides the region's. Required without a region when `token` is set. */
  rest_url: Schema.optionalKey(HttpUrl),
  /** REST API token (account or user token). */
  token: Schema.optionalKey(Secret),
  /** Email of a PagerDuty user, sent as the `From` header on REST writes. */
  from: Schema.optionalKey(Email)
}).check(Schema.makeFilter((pd) => {
  if (pd.region !== undefined) return undefined
  const problems: Array<Schema.FilterIssue> = []
  if (pd.events_url === undefined) {
    problems.push({ path: ["region"], issue: "missing: set region (us or eu) or events_url" })
  }
  if (pd.token !== undefined && pd.rest_url === undefined) {
    problems.push({ path: ["rest_url"], issue: "missing: a token needs region or rest_url" })
  }
  return problems
}))

/**
 * The relay's HTTP listener.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Server = Schema.Struct({
  /** Address to bind. Default `127.0.0.1`; use `0.0.0.0` to listen on every interface. */
  host: withDefault(Name, "127.0.0.1"),
  /** TCP port, 0 to 65535 (0 picks a free port). Default 8080. */
  port: withDefault(IntBetween(0, 65535), 8080),
  /** Largest accepted request body, in bytes. Default 1048576 (1 MiB). */
  body_limit_bytes: withDefault(IntBetween(1, 64 * 1024 * 1024), 1048576),
  /** Seconds given to in-flight requests and deliveries on shutdown. Default 10. */
  shutdown_timeout_seconds: withDefault(Positive, 10)
})

/**
 * A user name and password for HTTP Basic authentication.
 *
 * @since 0.1.0
 * @category schemas
 */
export const BasicCredential = Schema.Struct({
  username: Name,
  password: Secret
})

/**
 * HS256 JWT bearer authentication: the shared secret and the claims required.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JwtAuth = Schema.Struct({
  /** HMAC-SHA-256 secret; at least 32 characters. */
  secret: Secret.check(Schema.makeFilter((secret) => {
    const found = Redacted.value(secret).length
    return found >= 32 ? undefined : `expected at least 32 characters, got ${found}`
  })),
  /** Required `iss` claim. */
  issuer: Schema.optionalKey(Name),
  /** Required `aud` claim (the token's `aud` must contain it). */
  audience: Schema.optionalKey(Name)
})

/**
 * Credentials accepted on the intake routes. A request passes with any one of them.
 *
 * @since 0.1.0
 * @category schemas
 */
export const IntakeAuth = Schema.Struct({
  /** Static bearer tokens (`Authorization: Bearer <token>`). */
  bearer_tokens: Schema.optionalKey(Schema.Array(Secret)),
  /** HTTP Basic credentials. */
  basic: Schema.optionalKey(Schema.Array(BasicCredential)),
  /** HS256 JWT bearer tokens. */
  jwt: Schema.optionalKey(JwtAuth)
})

/**
 * The intake routes' authentication.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Intake = Schema.Struct({
  auth: withDefault(IntakeAuth, {}),
  /** Set to true to run without intake credentials; otherwise the relay does not start without them. */
  insecure_no_auth: withDefault(BooleanLike, false)
}).check(Schema.makeFilter((intake) => {
  const { auth } = intake
  const configured = (auth.bearer_tokens?.length ?? 0) + (auth.basic?.length ?? 0) + (auth.jwt ? 1 : 0)
  if (configured > 0 || intake.insecure_no_auth) return undefined
  return {
    path: ["auth"],
    issue: "no credentials configured: add bearer_tokens, basic or jwt, or set intake.insecure_no_auth: true"
  }
}))

/**
 * One destination: a PagerDuty integration and how alerts reach it.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Route = Schema.Struct({
  /** Unique name that identifies the route in requests, metrics and audit records. */
  name: Name.check(Schema.makeFilter((name) =>
    /^[A-Za-z0-9_-]{1,64}$/.test(name)
      ? undefined
      : `expected 1 to 64 letters, digits, '_' or '-', got ${JSON.stringify(name)}`
  )),
  /** The 32-character Events API v2 integration key. */
  routing_key: SecretOfLength(32),
  /** The route used when a request names none; at most one route sets it. */
  default: Schema.optionalKey(BooleanLike),
  /** Payload format of the senders of this route. */
  source: Schema.optionalKey(Schema.Literals(["alertmanager", "grafana", "events", "generic"])),
  /** `group`: one PagerDuty alert per Alertmanager group; `alert`: one per alert. */
  mode: Schema.optionalKey(Schema.Literals(["group", "alert"])),
  /** Severity for alerts that carry none. */
  default_severity: Schema.optionalKey(Schema.Literals(["critical", "error", "warning", "info"])),
  /** Seconds during which a repeated alert (same dedup key and action) is dropped before delivery. */
  dedupe_window_seconds: Schema.optionalKey(Positive),
  /**
   * Field mapping of the `generic` source (`POST /generic/{route}`), as `GenericSource.Mapping`
   * without its `name`, which is the route's name.
   */
  mapping: Schema.optionalKey(
    Schema.Struct({ ...GenericSource.Mapping.fields, name: Schema.optionalKey(Schema.String) })
  )
}).check(Schema.makeFilter((route) => {
  if (route.mapping === undefined) {
    return route.source === "generic"
      ? { path: ["mapping"], issue: "missing: the generic source needs a mapping" }
      : undefined
  }
  try {
    // Building the source checks every path of the mapping.
    GenericSource.make({ ...route.mapping, name: route.mapping.name ?? route.name })
    return undefined
  } catch (error) {
    return { path: ["mapping"], issue: error instanceof RangeError ? error.message : String(error) }
  }
}))

const Routes = Schema.Array(Route).check(Schema.makeFilter((routes) => {
  if (routes.length === 0) return "expected at least one route"
  const problems: Array<Schema.FilterIssue> = []
  const seen = new Map<string, number>()
  routes.forEach((route, index) => {
    const first = seen.get(route.name)
    if (first !== undefined) {
      problems.push({ path: [index, "name"], issue: `duplicate route name ${route.name} (also routes[${first}])` })
    } else {
      seen.set(route.name, index)
    }
  })
  const defaults = routes.flatMap((route, index) => route.default === true ? [index] : [])
  if (defaults.length > 1) {
    problems.push({
      path: [defaults[1]!, "default"],
      issue: `at most one route may be the default, also set on routes[${defaults[0]}]`
    })
  }
  return problems
}))

/**
 * Rate limits, circuit breaker, concurrency and timeouts of outbound calls.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Policy = Schema.Struct({
  /** Events sent per routing key per minute. Default 110, below PagerDuty's limit of about 120. */
  events_per_minute: withDefault(Positive, 110),
  /** REST requests per minute for the token. Default 960. */
  rest_requests_per_minute: withDefault(Positive, 960),
  breaker: withDefault(
    Schema.Struct({
      /** Consecutive failures that open the breaker. Default 5. */
      failures: withDefault(IntBetween(1, 1000), 5),
      /** Seconds the breaker stays open before a trial call. Default 30. */
      open_seconds: withDefault(Positive, 30)
    }),
    { failures: 5, open_seconds: 30 }
  ),
  /** Deliveries in flight at once. Default 8. */
  concurrency: withDefault(IntBetween(1, 1024), 8),
  /** Seconds one HTTP attempt may take. Default 10. */
  attempt_timeout_seconds: withDefault(Positive, 10)
})

/**
 * The durable delivery queue.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Outbox = Schema.Struct({
  /**
   * `file` (the default, which survives a crash of the relay and needs no server), `memory`
   * (lost on restart) or `redis` (shared by several relays, and needs the `redis` section).
   */
  store: withDefault(Schema.Literals(["memory", "file", "redis"]), "file"),
  /** Directory of the file store, relative to the working directory. Default `pd-relay-outbox`. */
  path: withDefault(Name, "pd-relay-outbox"),
  /** Maximum number of queued items; beyond it new alerts are rejected. Default 100000. */
  max_depth: withDefault(IntBetween(1, 100_000_000), 100_000),
  /** Seconds after which an undelivered item becomes a dead letter. */
  max_age_seconds: Schema.optionalKey(Positive),
  /**
   * Seconds a Redis store's claim survives without renewal, so an item claimed by a relay that
   * crashed is delivered again after at most this long. Default 60.
   */
  lease_seconds: Schema.optionalKey(Positive)
})

/**
 * The Redis server shared by the relays.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Redis = Schema.Struct({
  /** `redis://[user:password@]host:port[/db]`; secret because it may contain a password. */
  url: Fields.SecretUrl
})

/**
 * The PagerDuty v3 webhook receiver.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Webhooks = Schema.Struct({
  /** Path of the receiver. Default `/webhooks/pagerduty`. */
  path: withDefault(
    Name.check(Schema.makeFilter((path) => path.startsWith("/") ? undefined : "expected a path starting with /")),
    "/webhooks/pagerduty"
  ),
  /** Signing secrets of the subscriptions; several are accepted during a rotation. */
  secrets: Schema.Array(Secret).check(
    Schema.makeFilter((secrets) => secrets.length > 0 ? undefined : "expected at least one signing secret")
  ),
  /** Status returned for a bad signature, 400 to 499. Default 401. */
  bad_signature_status: withDefault(IntBetween(400, 499), 401)
})

/**
 * One audit sink.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuditSink = Schema.Union([
  Schema.Struct({ type: Schema.Literal("file"), path: Name }),
  Schema.Struct({ type: Schema.Literal("redis"), stream: Name }),
  Schema.Struct({ type: Schema.Literal("stdout") })
])

/**
 * The destinations of audit records.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AuditSettings = Schema.Struct({
  sinks: Schema.Array(AuditSink),
  /** HMAC-SHA-256 key of the record chains (secret, at least 32 characters); without it the chains use SHA-256. */
  chain_key: Schema.optionalKey(Secret.check(Schema.makeFilter((secret) => {
    const found = Redacted.value(secret).length
    return found >= 32 ? undefined : `expected at least 32 characters, got ${found}`
  })))
})

/**
 * AES-256-GCM keys for sealed values: the id that seals and every id that may open.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Keys = Schema.Struct({
  /** Id of the key that seals new values; must be in `ring`. */
  current: Name,
  /** Key id to base64 of 32 random bytes. */
  ring: Schema.Record(
    Schema.String,
    Schema.String.annotate({ expected: "base64 text", "effect-pagerduty/secret": true })
  )
})

/**
 * The whole configuration.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RelayConfigSchema = Schema.Struct({
  pagerduty: PagerDuty,
  server: withDefault(Server, {
    host: "127.0.0.1",
    port: 8080,
    body_limit_bytes: 1048576,
    shutdown_timeout_seconds: 10
  }),
  intake: withDefault(Intake, { auth: {}, insecure_no_auth: false }),
  routes: Routes,
  policy: withDefault(Policy, {
    events_per_minute: 110,
    rest_requests_per_minute: 960,
    breaker: { failures: 5, open_seconds: 30 },
    concurrency: 8,
    attempt_timeout_seconds: 10
  }),
  outbox: withDefault(Outbox, { store: "file" as const, path: "pd-relay-outbox", max_depth: 100_000 }),
  redis: Schema.optionalKey(Redis),
  webhooks: Schema.optionalKey(Webhooks),
  audit: Schema.optionalKey(AuditSettings),
  keys: Schema.optionalKey(Keys)
}).check(Schema.makeFilter((config) => {
  const needsRedis = config.outbox.store === "redis" || config.audit?.sinks.some((sink) => sink.type === "redis")
  return needsRedis && config.redis === undefined
    ? { path: ["redis"], issue: "missing: outbox.store redis and redis audit sinks need redis.url" }
    : undefined
}))

/**
 * The decoded configuration.
 *
 * @since 0.1.0
 * @category models
 */
export type RelayConfigShape = typeof RelayConfigSchema.Type
