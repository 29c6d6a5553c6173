/**
 * The circuit breaker of a policy: `effect/persistence`'s `CircuitBreaker`
 * with its transitions published as route-labelled events, metrics and one
 * log line per state change.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as CircuitBreaker from "effect/persistence/CircuitBreaker"
import * as PubSub from "effect/PubSub"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"

/**
 * Trip policy and open time of a breaker.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** `CircuitBreaker.consecutive(n)` or `CircuitBreaker.rate({...})`. */
  readonly tripPolicy: CircuitBreaker.TripPolicy
  /** Open time, or a schedule of open times indexed by consecutive openings. */
  readonly openDuration: Duration.Input | Schedule.Schedule<unknown, number>
  /** Upper bound of an open time, a server's `retryAfter` included. Default 1 hour. */
  readonly maxOpenDuration?: Duration.Input | undefined
}

/**
 * A breaker transition with the route names and API the metrics use.
 *
 * @since 0.1.0
 * @category models
 */
export interface Transition {
  /** The API the policy guards, for example `events` or `rest`. */
  readonly api: string
  /** The route names that share the hashed key. */
  readonly routes: ReadonlyArray<string>
  readonly from: "Closed" | "Open" | "HalfOpen"
  readonly to: "Closed" | "Open" | "HalfOpen"
  /** How long the circuit stays open, when it opened. */
  readonly retryAfter: Duration.Duration | undefined
}

/**
 * Gauge of the breaker state per `api` and `route`: 0 closed, 1 half-open, 2 open.
 *
 * @since 0.1.0
 * @category metrics
 */
export const stateGauge = Metric.gauge("pagerduty_policy_breaker_state", {
  description: "Circuit breaker state per route: 0 closed, 1 half-open, 2 open"
})
/**
 * Counter of breaker transitions per `api`, `route` and target state `to`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const transitionCounter = Metric.counter("pagerduty_policy_breaker_transitions_total", {
  description: "Circuit breaker transitions",
  incremental: true
})

const stateValue = { Closed: 0, HalfOpen: 1, Open: 2 } as const

/**
 * A breaker, the routes of each key, and its transitions.
 *
 * @since 0.1.0
 * @category models
 */
export interface Breaker {
  readonly breaker: CircuitBreaker.CircuitBreaker
  /** Registers `route` as a name of `key`, for metric labels and transitions. */
  readonly register: (key: string, route: string) => void
  readonly routesOf: (key: string) => ReadonlyArray<string>
  readonly transitions: Stream.Stream<Transition>
}

/**
 * Creates a breaker on the current `CircuitBreakerStore` and forks, for the
 * scope's lifetime, the fiber that turns its transitions into metrics, log
 * lines and {@link Transition}s.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(
  options: Options & { readonly api: string }
): Effect.fn.Return<Breaker, never, CircuitBreaker.CircuitBreakerStore | Scope.Scope> {
  const breaker = yield* CircuitBreaker.make({
    tripPolicy: options.tripPolicy,
    openDuration: options.openDuration,
    maxOpenDuration: options.maxOpenDuration,
    // A store failure must not stop deliveries: the call runs unrecorded.
    onStoreError: "allow"
  })
  const routes = new Map<string, Set<string>>()
  const routesOf = (key: string): ReadonlyArray<string> => [...(routes.get(key) ?? [])]
  const pubsub = yield* PubSub.sliding<Transition>(256)

  const observe = (transition: CircuitBreaker.Transition) => {
    const names = routesOf(transition.key)
    const retryAfter = transition.to === "Open" ? transition.retryAfter : undefined
    const event: Transition = { api: options.api, routes: names, from: transition.from, to: transition.to, retryAfter }
    const labelled = names.length === 0 ? ["unnamed"] : names
    return Effect.all([
      Effect.forEach(labelled, (route) =>
        Effect.all([
          Metric.update(Metric.withAttributes(stateGauge, { api: options.api, route }), stateValue[transition.to]),
          Metric.update(
            Metric.withAttributes(transitionCounter, { api: options.api, route, to: transition.to }),
            1
          )
        ]), { discard: true }),
      transition.to === "Closed"
        ? Effect.logInfo(`Circuit closed for ${options.api} route ${labelled.join(", ")}`)
        : transition.to === "HalfOpen"
        ? Effect.logInfo(`Circuit half-open for ${options.api} route ${labelled.join(", ")}: probing`)
        : Effect.logWarning(
          `Circuit opened for ${options.api} route ${labelled.join(", ")}, so calls are rejected for ${
            Duration.format(transition.retryAfter)
          }`
        ),
      PubSub.publish(pubsub, event)
    ], { discard: true })
  }
  yield* Stream.runForEach(breaker.transitions, observe).pipe(Effect.forkScoped)

  return {
    breaker,
    register: (key, route) => {
      const names = routes.get(key) ?? new Set()
      names.add(route)
      routes.set(key, names)
    },
    routesOf,
    transitions: Stream.fromPubSub(pubsub)
  }
})
