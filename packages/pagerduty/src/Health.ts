/**
 * Health checks registered by each layer, aggregated into liveness and
 * readiness reports and served as JSON.
 *
 * A layer that depends on something external (Redis, a file store) registers
 * a check for the lifetime of its scope. `/health/live` runs the liveness
 * checks, `/health/ready` the readiness checks, and `/health` both. Each
 * responds with 200 when every check passes and 503 otherwise, listing each
 * check's status and latency.
 *
 * @example
 * ```ts
 * import { Health } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer } from "effect"
 *
 * const RedisReady = Layer.effectDiscard(Effect.gen(function*() {
 *   const health = yield* Health.Health
 *   yield* health.register("redis", Health.redisPing, { kind: "readiness" })
 * }))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { redact } from "./internal/auditRedact.ts"

/**
 * The kind of a check: liveness (restart the process when it fails),
 * readiness (send it no traffic while it fails), or status (a degraded
 * dependency the process works around: reported by the combined view only).
 *
 * @since 0.1.0
 * @category models
 */
export type Kind = "liveness" | "readiness" | "status"

/**
 * The result of one check.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckResult {
  readonly name: string
  readonly kind: Kind
  readonly status: "up" | "down"
  /** Time the check took, in milliseconds. */
  readonly latency_ms: number
  /** The failure, with configured secrets removed; absent when up. */
  readonly error?: string
}

/**
 * The aggregated result: `up` when every check is up.
 *
 * @since 0.1.0
 * @category models
 */
export interface Report {
  readonly status: "up" | "down"
  readonly checks: ReadonlyArray<CheckResult>
}

/**
 * The registry of health checks.
 *
 * @since 0.1.0
 * @category services
 */
export class Health extends Context.Service<Health, {
  /**
   * Registers a check until the current scope closes. A check passes when
   * it succeeds within its timeout (default 2 seconds).
   */
  readonly register: (
    name: string,
    check: Effect.Effect<unknown, unknown>,
    options: { readonly kind: Kind; readonly timeout?: Duration.Input | undefined }
  ) => Effect.Effect<void, never, Scope.Scope>
  /** Runs the checks of one kind, or all of them, concurrently. */
  readonly run: (kind?: Kind | undefined) => Effect.Effect<Report>
}>()("@effect-pagerduty/pagerduty/Health") {}

interface Registered {
  readonly name: string
  readonly kind: Kind
  readonly check: Effect.Effect<unknown, unknown>
  readonly timeout: Duration.Duration
}

const describeFailure = (error: unknown): string => {
  if (Predicate.isObject(error) && typeof (error as { message?: unknown }).message === "string") {
    return (error as { message: string }).message
  }
  return String(error)
}

/**
 * Makes a check registry. Failure messages pass through redaction of the
 * given secrets before they appear in a report.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: {
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}): Health["Service"] => {
  const checks = new Map<symbol, Registered>()
  const secrets = options?.secrets ?? []

  const runOne = (registered: Registered): Effect.Effect<CheckResult> =>
    Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      const outcome = yield* registered.check.pipe(
        Effect.timeoutOrElse({
          duration: registered.timeout,
          orElse: () => Effect.fail(`timed out after ${Duration.format(registered.timeout)}`)
        }),
        Effect.catchDefect((defect) => Effect.fail(defect)),
        Effect.result
      )
      const latency = (yield* Clock.currentTimeMillis) - start
      const base = { name: registered.name, kind: registered.kind, latency_ms: latency }
      if (outcome._tag === "Success") return { ...base, status: "up" as const }
      const message = redact(describeFailure(outcome.failure), secrets) as string
      return { ...base, status: "down" as const, error: message.slice(0, 300) }
    })

  return Health.of({
    register: (name, check, registerOptions) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const id = Symbol(name)
          checks.set(id, {
            name,
            kind: registerOptions.kind,
            check,
            timeout: Duration.fromInputUnsafe(registerOptions.timeout ?? "2 seconds")
          })
          return id
        }),
        (id) => Effect.sync(() => checks.delete(id))
      ).pipe(Effect.asVoid),
    run: (kind) =>
      Effect.gen(function*() {
        const selected = [...checks.values()].filter((registered) => kind === undefined || registered.kind === kind)
        const results = yield* Effect.forEach(selected, runOne, { concurrency: "unbounded" })
        const status = results.every((result) => result.status === "up") ? "up" as const : "down" as const
        return { status, checks: results }
      })
  })
}

/**
 * Provides an empty {@link Health} registry.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: {
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}): Layer.Layer<Health> => Layer.sync(Health, () => make(options))

/**
 * A check that sends `PING` to the persistence `Redis` service.
 *
 * @since 0.1.0
 * @category checks
 */
export const redisPing: Effect.Effect<void, Redis.RedisError, Redis.Redis> = Redis.Redis.use((redis) =>
  redis.send<string>("PING")
).pipe(Effect.asVoid)

/**
 * Registers {@link redisPing} as a readiness check for the life of the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRedisCheck = (options?: {
  readonly name?: string | undefined
  readonly timeout?: Duration.Input | undefined
}): Layer.Layer<never, never, Health | Redis.Redis> =>
  Layer.effectDiscard(Effect.gen(function*() {
    const health = yield* Health
    const redis = yield* Redis.Redis
    yield* health.register(options?.name ?? "redis", Effect.provideService(redisPing, Redis.Redis, redis), {
      kind: "readiness",
      timeout: options?.timeout
    })
  }))

const respond = (kind: Kind | undefined): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Health> =>
  Health.use((health) => health.run(kind)).pipe(
    Effect.map((report) =>
      HttpServerResponse.jsonUnsafe(report, {
        status: report.status === "up" ? 200 : 503,
        headers: { "cache-control": "no-store" }
      })
    )
  )

/**
 * The `/health/live` handler: liveness checks, 200 or 503.
 *
 * @since 0.1.0
 * @category handlers
 */
export const liveHandler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, Health> = respond("liveness")

/**
 * The `/health/ready` handler: readiness checks, 200 or 503.
 *
 * @since 0.1.0
 * @category handlers
 */
export const readyHandler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, Health> = respond("readiness")

/**
 * The `/health` handler: every check, 200 or 503.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handler: Effect.Effect<HttpServerResponse.HttpServerResponse, never, Health> = respond(undefined)
