/**
 * A PagerDuty simulator served over HTTP on the local machine: the Events API
 * v2, the `/_sim/` control API, fault injection, and any route groups mounted
 * next to them.
 *
 * **Mounting route groups.** `routes` takes extra `HttpRouter` layers, built
 * with `HttpRouter.use`, `HttpRouter.add` or `HttpRouter.addAll`. They may
 * require {@link SimulatorState.SimulatorState}, {@link Faults.Faults},
 * {@link RateLimit.RateLimit} and the `HttpServer`, which the simulator
 * provides. Read them while the layer is built (as `EventsApi` does), so that
 * handlers carry no requirements of their own. A group's layer may fail with
 * its own error type, which then joins the simulator layer's errors. A group keeping its own state registers a hook
 * with `SimulatorState.onReset` to be cleared by `POST /_sim/reset`, and a
 * group reacting to alerts subscribes with `SimulatorState.subscribe`. Faults
 * apply to mounted routes as well; paths under `/_sim/` are never faulted, so
 * control routes of a group belong there.
 *
 * @example
 * ```ts
 * import { Simulator } from "@effect-pagerduty/simulator"
 * import { Effect } from "effect"
 *
 * const program = Effect.scoped(
 *   Effect.gen(function*() {
 *     const simulator = yield* Simulator.start({ rateLimit: { limit: 5, windowMillis: 1_000 } })
 *     // send events to `${simulator.url}/v2/enqueue`, then:
 *     const alerts = yield* simulator.alerts({ status: "triggered" })
 *     return alerts.length
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServer } from "effect/http"
import type { ServeError } from "effect/http/HttpServerError"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { createServer } from "node:http"
import * as ControlApi from "./ControlApi.ts"
import * as EventsApi from "./EventsApi.ts"
import * as Faults from "./Faults.ts"
import * as FaultMiddleware from "./internal/faultMiddleware.ts"
import * as RateLimit from "./RateLimit.ts"
import * as SimulatorState from "./SimulatorState.ts"

/**
 * The services the simulator provides to everything it serves.
 *
 * @since 0.1.0
 * @category models
 */
export type Services = SimulatorState.SimulatorState | Faults.Faults | RateLimit.RateLimit

/**
 * The services a mounted route group may require: the simulator's services
 * and the `HttpServer` it is served by (for its address).
 *
 * @since 0.1.0
 * @category models
 */
export type RouteServices = Services | HttpServer.HttpServer | HttpRouter.HttpRouter

/**
 * A route group to mount on the simulator.
 *
 * @since 0.1.0
 * @category models
 */
export type Routes<E = never> = Layer.Layer<never, E, RouteServices>

/**
 * Settings of a simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<E = never> {
  /** Port to listen on; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** Address to listen on. Default `127.0.0.1`. */
  readonly host?: string | undefined
  /** The Events API rate limit; PagerDuty's 120 events per 60 s by default, `false` to disable. */
  readonly rateLimit?: RateLimit.Options | false | undefined
  /** Fault scripts in force from the start. */
  readonly faults?: ReadonlyArray<Faults.Script> | undefined
  /** Settings of the Events API routes. */
  readonly eventsApi?: EventsApi.Options | undefined
  /** Route groups to serve next to the Events and control APIs. */
  readonly routes?: ReadonlyArray<Routes<E>> | undefined
}

/**
 * The in-process handle of a running simulator.
 *
 * @since 0.1.0
 * @category models
 */
export interface Handle {
  /** Base URL, such as `http://127.0.0.1:41234`, without a trailing slash. */
  readonly url: string
  readonly host: string
  readonly port: number
  /** Lists received Events API requests in arrival order. */
  readonly events: (filter?: SimulatorState.EventFilter) => Effect.Effect<ReadonlyArray<SimulatorState.ReceivedEvent>>
  /** Lists alerts in the order they were opened. */
  readonly alerts: (filter?: SimulatorState.AlertFilter) => Effect.Effect<ReadonlyArray<SimulatorState.Alert>>
  /** Subscribes to alert changes made after the subscription, until the scope closes. */
  readonly subscribe: Effect.Effect<Stream.Stream<SimulatorState.AlertChange>, never, Scope.Scope>
  /** Replaces the fault scripts of the paths named in `scripts`. */
  readonly setFaults: (scripts: ReadonlyArray<Faults.Script>) => Effect.Effect<void>
  /** Removes the fault script of `path`, or every script without `path`. */
  readonly clearFaults: (path?: string) => Effect.Effect<void>
  /** Lists the faults injected so far. */
  readonly injections: Effect.Effect<ReadonlyArray<Faults.Injection>>
  /** Forgets events, alerts, rate-limit windows and injected faults; fault scripts stay. */
  readonly reset: Effect.Effect<void>
}

/**
 * The running simulator.
 *
 * @since 0.1.0
 * @category services
 */
export class Simulator extends Context.Service<Simulator, Handle>()("@effect-pagerduty/simulator/Simulator") {}

const checkOptions = <E>(options: Options<E>): void => {
  const { host, port } = options
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    throw new RangeError(`simulator option "port" must be an integer from 0 to 65535, got ${port}`)
  }
  if (host !== undefined && host.trim().length === 0) {
    throw new RangeError(`simulator option "host" must not be blank, got ${JSON.stringify(host)}`)
  }
}

const makeHandle = Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  const state = yield* SimulatorState.SimulatorState
  const faults = yield* Faults.Faults
  const limiter = yield* RateLimit.RateLimit
  const address = server.address
  if (address._tag === "UnixPathAddress") {
    return yield* Effect.die(new Error("the simulator listens on TCP only"))
  }
  const url = HttpServer.formatAddress(address)
  return Simulator.of({
    url,
    host: new URL(url).hostname,
    port: address.port,
    events: state.events,
    alerts: state.alerts,
    subscribe: state.subscribe,
    setFaults: faults.set,
    clearFaults: faults.clear,
    injections: faults.injections,
    reset: Effect.all([state.reset, limiter.reset, faults.clearInjections], { discard: true })
  })
})

/**
 * Serves a simulator for the lifetime of the layer.
 *
 * Throws a `RangeError` for an invalid option.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E = never>(
  options: Options<E> = {}
): Layer.Layer<Simulator | Services, ServeError | E> => {
  checkOptions(options)
  const services = Layer.mergeAll(
    SimulatorState.layerMemory,
    RateLimit.layer(options.rateLimit ?? {}),
    Faults.layer(options.faults ?? [])
  )
  const routes = Layer.mergeAll(
    EventsApi.layer(options.eventsApi ?? {}),
    ControlApi.layer,
    FaultMiddleware.layer,
    ...(options.routes ?? [])
  )
  const server = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
    Layer.provideMerge(
      NodeHttpServer.layerServer(() => createServer(), {
        port: options.port ?? 0,
        host: options.host ?? "127.0.0.1",
        gracefulShutdownTimeout: "1 second"
      })
    )
  )
  return Layer.effect(Simulator, makeHandle).pipe(
    Layer.provideMerge(server),
    Layer.provideMerge(services)
  )
}

/**
 * Serves a simulator whose address and rate limit come from configuration:
 * `PD_SIMULATOR_HOST` (default `127.0.0.1`), `PD_SIMULATOR_PORT` (default 0,
 * a free port) and `PD_SIMULATOR_EVENTS_PER_MINUTE` (default 120, 0 disables
 * the limit). The other settings come from `options`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <E = never>(
  options: Omit<Options<E>, "host" | "port" | "rateLimit"> = {}
): Layer.Layer<Simulator | Services, ServeError | E | Config.ConfigError> =>
  Layer.unwrap(Effect.gen(function*() {
    const config = yield* Config.all({
      host: Config.String("PD_SIMULATOR_HOST").pipe(Config.withDefault("127.0.0.1")),
      port: Config.Int("PD_SIMULATOR_PORT").pipe(Config.withDefault(0)),
      eventsPerMinute: Config.Int("PD_SIMULATOR_EVENTS_PER_MINUTE").pipe(Config.withDefault(120))
    })
    return layer({
      ...options,
      host: config.host,
      port: config.port,
      rateLimit: config.eventsPerMinute === 0 ? false : { limit: config.eventsPerMinute, windowMillis: 60_000 }
    })
  }))

/**
 * Starts a simulator that stops when the scope closes, and returns its handle.
 *
 * Throws a `RangeError` for an invalid option.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = <E = never>(options: Options<E> = {}): Effect.Effect<Handle, ServeError | E, Scope.Scope> => {
  const built = layer(options)
  return Effect.map(Layer.build(built), (context) => Context.get(context, Simulator))
}
