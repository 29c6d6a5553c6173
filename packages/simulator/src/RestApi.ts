/**
 * A subset of PagerDuty's REST API v2 as `effect/http` routes: incidents
 * (create, list, get, update, bulk update, notes, merge, log entries), log
 * entries, services, users, escalation policies, on-calls, priorities and
 * audit records, over seeded data.
 *
 * Behaviour follows PagerDuty's documentation. `Authorization` must be
 * `Token token=…` or `Bearer …`, and any other format gets 401. `From` is
 * required where the spec requires it (400 without it). Classic pagination
 * caps `limit` at 100 and rejects `offset + limit > 10000` with 400.
 * `/audit/records` is cursor paginated. A bulk update of more than 250
 * incidents gets 413. Every response carries `ratelimit-limit`,
 * `ratelimit-remaining` and `ratelimit-reset` for a fixed one-minute window
 * per token. Faults (429s with or without those headers, other statuses,
 * delays) can be injected through {@link RestSimulator}.
 *
 * @example
 * ```ts
 * import { RestApi } from "@effect-pagerduty/simulator"
 * import { NodeHttpServer } from "@effect/platform-node"
 * import { Layer } from "effect"
 * import { HttpRouter } from "effect/http"
 * import { createServer } from "node:http"
 *
 * const Server = HttpRouter.serve(RestApi.routes).pipe(
 *   Layer.provideMerge(RestApi.layerSimulator({ incidents: 500 })),
 *   Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
 * )
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import type { Duration } from "effect"
import { Context, Effect, Layer } from "effect"
import { HttpRouter } from "effect/http"
import { routeList } from "./internal/restRoutes.ts"
import { RestStore } from "./internal/restStore.ts"

/**
 * A fault sent instead of the normal response.
 *
 * @since 0.1.0
 * @category models
 */
export type Fault =
  | {
    /** A 429; without `headers`, it carries no `ratelimit-*` headers and no body, as PagerDuty may send. */
    readonly _tag: "RateLimited"
    readonly headers: boolean
    readonly resetSeconds?: number | undefined
  }
  | { readonly _tag: "Status"; readonly status: number; readonly body?: unknown }
  | { readonly _tag: "Delay"; readonly delay: Duration.Input }

/**
 * The requests a fault applies to, and how many times it is applied.
 *
 * @since 0.1.0
 * @category models
 */
export interface FaultOptions {
  /** How many matching requests get the fault; defaults to 1. */
  readonly times?: number | undefined
  readonly method?: string | undefined
  /** An exact URL path such as `/incidents`. */
  readonly path?: string | undefined
}

/**
 * A request as it arrived, for contract checks in tests.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: ReadonlyArray<readonly [string, string]>
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: string
  readonly receivedAt: number
  readonly status: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The tokens accepted; any well-formed token is accepted when absent. */
  readonly tokens?: ReadonlyArray<string> | undefined
  /** Seeded incidents; defaults to 120. */
  readonly incidents?: number | undefined
  /** Seeded audit records; defaults to 57. */
  readonly auditRecords?: number | undefined
  /** Requests per minute per token before 429; defaults to 960, PagerDuty's REST limit. */
  readonly rateLimit?: number | undefined
  /** The creation time of the first seeded incident, in epoch milliseconds; defaults to 2026-01-01T00:00:00Z. */
  readonly startMillis?: number | undefined
}

interface PendingFault {
  readonly fault: Fault
  remaining: number
  readonly method: string | undefined
  readonly path: string | undefined
}

interface Window {
  start: number
  count: number
}

/**
 * The simulator's state and controls.
 *
 * @since 0.1.0
 * @category services
 */
export class RestSimulator extends Context.Service<RestSimulator, {
  readonly store: RestStore
  readonly rateLimit: number
  readonly tokens: ReadonlySet<string> | undefined
  /** Sends a fault to matching requests, before every check except authentication. */
  readonly injectFault: (fault: Fault, options?: FaultOptions) => Effect.Effect<void>
  /** Every request received so far, in order. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  readonly clearRequests: Effect.Effect<void>
  /** @internal */
  readonly takeFault: (method: string, path: string) => Fault | undefined
  /** @internal */
  readonly record: (request: RecordedRequest) => void
  /** @internal */
  readonly windows: Map<string, Window>
}>()("@effect-pagerduty/simulator/RestSimulator") {}

/**
 * Builds the simulator's state with seeded data.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeSimulator = (options?: Options): RestSimulator["Service"] => {
  const incidents = options?.incidents ?? 120
  const auditRecords = options?.auditRecords ?? 57
  const rateLimit = options?.rateLimit ?? 960
  for (const [name, value] of [["incidents", incidents], ["auditRecords", auditRecords], ["rateLimit", rateLimit]]) {
    if (!Number.isInteger(value) || (value as number) < 0) {
      throw new RangeError(`RestApi: ${name} must be a non-negative integer, got ${value}`)
    }
  }
  const store = new RestStore({
    incidents,
    auditRecords,
    startMillis: options?.startMillis ?? Date.UTC(2026, 0, 1)
  })
  const faults: Array<PendingFault> = []
  const recorded: Array<RecordedRequest> = []
  return {
    store,
    rateLimit,
    tokens: options?.tokens === undefined ? undefined : new Set(options.tokens),
    injectFault: (fault, faultOptions) =>
      Effect.sync(() => {
        faults.push({
          fault,
          remaining: faultOptions?.times ?? 1,
          method: faultOptions?.method,
          path: faultOptions?.path
        })
      }),
    requests: Effect.sync(() => recorded.slice()),
    clearRequests: Effect.sync(() => {
      recorded.length = 0
    }),
    takeFault: (method, path) => {
      const index = faults.findIndex((pending) =>
        pending.remaining > 0 &&
        (pending.method === undefined || pending.method === method) &&
        (pending.path === undefined || pending.path === path)
      )
      if (index < 0) return undefined
      const pending = faults[index]!
      pending.remaining -= 1
      if (pending.remaining === 0) faults.splice(index, 1)
      return pending.fault
    },
    record: (request) => {
      recorded.push(request)
    },
    windows: new Map()
  }
}

/**
 * The simulator's state as a layer, to share between the routes and a test.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerSimulator = (options?: Options): Layer.Layer<RestSimulator> =>
  Layer.sync(RestSimulator, () => makeSimulator(options))

/**
 * The REST routes, to mount on an `HttpRouter`; they read the
 * {@link RestSimulator} state from context.
 *
 * @since 0.1.0
 * @category layers
 */
export const routes: Layer.Layer<never, never, HttpRouter.HttpRouter | RestSimulator> = HttpRouter.use((router) =>
  Effect.gen(function*() {
    const sim = yield* RestSimulator
    yield* router.addAll(routeList(sim))
  })
)

/**
 * The REST routes together with fresh simulator state.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<RestSimulator, never, HttpRouter.HttpRouter> =>
  Layer.provideMerge(routes, layerSimulator(options))
