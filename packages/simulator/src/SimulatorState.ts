/**
 * The simulator's memory: every event received by the Events API, in arrival
 * order, and the alerts those events opened, acknowledged and resolved.
 *
 * Alerts follow PagerDuty's Events API v2 deduplication rules:
 *
 * - an alert is identified by its routing key and `dedup_key`;
 * - a `trigger` for an open (triggered or acknowledged) alert updates it and
 *   counts as a repeat, without changing its status;
 * - a `trigger` after the alert was resolved opens a new alert;
 * - `acknowledge` and `resolve` without an open alert are dropped: they get
 *   202 but change nothing;
 * - events with the same `dedup_key` under another routing key never touch the
 *   alert.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as RoutingKey from "./internal/routingKey.ts"
import type { EventAction, Severity } from "./internal/validate.ts"

/**
 * Status of an alert, as PagerDuty names it.
 *
 * @since 0.1.0
 * @category models
 */
export type AlertStatus = "triggered" | "acknowledged" | "resolved"

/**
 * The result of handling a received event.
 *
 * `accepted` events changed state, `dropped` ones got 202 but
 * found no open alert, `invalid` ones got 400 and `rate_limited` ones 429.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome = "accepted" | "dropped" | "invalid" | "rate_limited"

/**
 * The change an accepted alert event made to its alert.
 *
 * @since 0.1.0
 * @category models
 */
export type Transition = "created" | "repeated" | "acknowledged" | "resolved"

/**
 * The Events API endpoint an event was sent to: `alert` for `/v2/enqueue`,
 * `change` for `/v2/change/enqueue`.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = "alert" | "change"

/**
 * The fields of a valid alert event that the alert keeps.
 *
 * @since 0.1.0
 * @category models
 */
export interface AlertEvent {
  readonly action: EventAction
  readonly dedupKey: string
  readonly summary?: string | undefined
  readonly source?: string | undefined
  readonly severity?: Severity | undefined
  readonly timestamp?: string | undefined
  readonly component?: string | undefined
  readonly group?: string | undefined
  readonly class?: string | undefined
  readonly customDetails?: unknown
  readonly client?: string | undefined
  readonly clientUrl?: string | undefined
  readonly links?: ReadonlyArray<unknown> | undefined
  readonly images?: ReadonlyArray<unknown> | undefined
}

/**
 * One request received by an Events API endpoint, kept with its raw bytes.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedEvent {
  /** Position in arrival order, starting at 1. */
  readonly sequence: number
  readonly endpoint: Endpoint
  readonly method: string
  readonly path: string
  readonly receivedAt: DateTime.Utc
  /** Request headers with lowercase names, as received. */
  readonly headers: Readonly<Record<string, string>>
  /** The request body exactly as received. */
  readonly body: Uint8Array
  /** HTTP status of the simulator's response. */
  readonly status: number
  readonly outcome: Outcome
  /** The rule violations reported with a 400, otherwise empty. */
  readonly errors: ReadonlyArray<string>
  readonly routingKey: Redacted.Redacted<string> | undefined
  /** Lowercase hex SHA-256 of the routing key. */
  readonly routingKeyHash: string | undefined
  readonly eventAction: EventAction | undefined
  /** The event's `dedup_key`, or the one generated for a trigger without one. */
  readonly dedupKey: string | undefined
  /** The alert the event applied to, when it applied to one. */
  readonly alertId: string | undefined
  readonly transition: Transition | undefined
}

/**
 * An alert, opened by a trigger and closed by a resolve.
 *
 * @since 0.1.0
 * @category models
 */
export interface Alert {
  readonly id: string
  readonly routingKey: Redacted.Redacted<string>
  /** Lowercase hex SHA-256 of the routing key. */
  readonly routingKeyHash: string
  readonly dedupKey: string
  readonly status: AlertStatus
  readonly summary: string
  readonly source: string
  readonly severity: Severity
  readonly timestamp: string | undefined
  readonly component: string | undefined
  readonly group: string | undefined
  readonly class: string | undefined
  readonly customDetails: unknown
  readonly client: string | undefined
  readonly clientUrl: string | undefined
  readonly links: ReadonlyArray<unknown>
  readonly images: ReadonlyArray<unknown>
  readonly createdAt: DateTime.Utc
  readonly updatedAt: DateTime.Utc
  readonly acknowledgedAt: DateTime.Utc | undefined
  readonly resolvedAt: DateTime.Utc | undefined
  /** Triggers applied to this alert: 1 for the one that opened it, plus one per repeat. */
  readonly triggerCount: number
  /** Sequence numbers of the events applied to this alert, in order. */
  readonly eventSequences: ReadonlyArray<number>
}

/**
 * A change of an alert, published to {@link SimulatorState} subscribers.
 *
 * @since 0.1.0
 * @category models
 */
export interface AlertChange {
  readonly transition: Transition
  readonly alert: Alert
  readonly event: ReceivedEvent
}

/**
 * A request to store; the state assigns the sequence number and, for an
 * accepted alert event, applies it to the alerts.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceiveInput {
  readonly endpoint: Endpoint
  readonly method: string
  readonly path: string
  readonly receivedAt: DateTime.Utc
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
  readonly status: number
  readonly outcome: "accepted" | "invalid" | "rate_limited"
  readonly errors: ReadonlyArray<string>
  readonly routingKey: string | undefined
  readonly eventAction?: EventAction | undefined
  /** The validated alert event, present only on accepted `/v2/enqueue` requests. */
  readonly alertEvent?: AlertEvent | undefined
}

/**
 * Selects events; every given field must match.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventFilter {
  readonly routingKey?: string | Redacted.Redacted<string> | undefined
  readonly routingKeyHash?: string | undefined
  readonly endpoint?: Endpoint | undefined
  readonly outcome?: Outcome | undefined
  readonly dedupKey?: string | undefined
}

/**
 * Selects alerts; every given field must match.
 *
 * @since 0.1.0
 * @category models
 */
export interface AlertFilter {
  readonly routingKey?: string | Redacted.Redacted<string> | undefined
  readonly routingKeyHash?: string | undefined
  readonly dedupKey?: string | undefined
  readonly status?: AlertStatus | undefined
}

/**
 * The store of received events and alerts.
 *
 * Route groups mounted on the simulator read it to expose the same alerts
 * (for example as REST incidents) and call `subscribe` for {@link AlertChange}s to
 * react to them (for example by sending webhooks).
 *
 * @since 0.1.0
 * @category services
 */
export class SimulatorState extends Context.Service<SimulatorState, {
  /** Stores a received event and applies it to the alerts when it is an accepted alert event. */
  readonly receive: (input: ReceiveInput) => Effect.Effect<ReceivedEvent>
  /** Lists received events in arrival order. */
  readonly events: (filter?: EventFilter) => Effect.Effect<ReadonlyArray<ReceivedEvent>>
  /** Lists alerts in the order they were opened. */
  readonly alerts: (filter?: AlertFilter) => Effect.Effect<ReadonlyArray<Alert>>
  /**
   * Subscribes to alert changes; the stream emits every change made after the
   * subscription and ends when the scope closes.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<AlertChange>, never, Scope.Scope>
  /** Runs `effect` on every {@link reset}, so that mounted route groups can clear their own state. */
  readonly onReset: (effect: Effect.Effect<void>) => Effect.Effect<void>
  /** Forgets every event and alert and runs the registered reset hooks. */
  readonly reset: Effect.Effect<void>
}>()("@effect-pagerduty/simulator/SimulatorState") {}

const hashOf = (
  filter: {
    readonly routingKey?: string | Redacted.Redacted<string> | undefined
    readonly routingKeyHash?: string | undefined
  }
) => filter.routingKey !== undefined ? RoutingKey.hash(filter.routingKey) : filter.routingKeyHash

const alertKey = (routingKeyHash: string, dedupKey: string) => `${routingKeyHash}\u0000${dedupKey}`

const openAlert = (
  id: string,
  routingKey: Redacted.Redacted<string>,
  routingKeyHash: string,
  event: AlertEvent,
  sequence: number,
  at: DateTime.Utc
): Alert => ({
  id,
  routingKey,
  routingKeyHash,
  dedupKey: event.dedupKey,
  status: "triggered",
  summary: event.summary ?? "",
  source: event.source ?? "",
  severity: event.severity ?? "info",
  timestamp: event.timestamp,
  component: event.component,
  group: event.group,
  class: event.class,
  customDetails: event.customDetails,
  client: event.client,
  clientUrl: event.clientUrl,
  links: event.links ?? [],
  images: event.images ?? [],
  createdAt: at,
  updatedAt: at,
  acknowledgedAt: undefined,
  resolvedAt: undefined,
  triggerCount: 1,
  eventSequences: [sequence]
})

const repeatAlert = (alert: Alert, event: AlertEvent, sequence: number, at: DateTime.Utc): Alert => ({
  ...openAlert(alert.id, alert.routingKey, alert.routingKeyHash, event, sequence, at),
  status: alert.status,
  createdAt: alert.createdAt,
  acknowledgedAt: alert.acknowledgedAt,
  triggerCount: alert.triggerCount + 1,
  eventSequences: [...alert.eventSequences, sequence]
})

/**
 * Builds an in-memory {@link SimulatorState}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: Effect.Effect<SimulatorState["Service"]> = Effect.gen(function*() {
  const pubsub = yield* PubSub.unbounded<AlertChange>()
  let events: Array<ReceivedEvent> = []
  let alerts: Array<Alert> = []
  // Index into `alerts` of the open alert for each (routing key hash, dedup key).
  let open = new Map<string, number>()
  let alertCounter = 0
  const resetHooks: Array<Effect.Effect<void>> = []

  const apply = (
    routingKey: Redacted.Redacted<string>,
    routingKeyHash: string,
    event: AlertEvent,
    sequence: number,
    at: DateTime.Utc
  ): { readonly alert: Alert; readonly transition: Transition } | undefined => {
    const key = alertKey(routingKeyHash, event.dedupKey)
    const index = open.get(key)
    const current = index === undefined ? undefined : alerts[index]
    if (current === undefined || index === undefined) {
      if (event.action !== "trigger") return undefined
      alertCounter++
      const alert = openAlert(`alert-${alertCounter}`, routingKey, routingKeyHash, event, sequence, at)
      open.set(key, alerts.length)
      alerts.push(alert)
      return { alert, transition: "created" }
    }
    let next: Alert
    let transition: Transition
    if (event.action === "trigger") {
      next = repeatAlert(current, event, sequence, at)
      transition = "repeated"
    } else if (event.action === "acknowledge") {
      next = {
        ...current,
        status: "acknowledged",
        updatedAt: at,
        acknowledgedAt: current.acknowledgedAt ?? at,
        eventSequences: [...current.eventSequences, sequence]
      }
      transition = "acknowledged"
    } else {
      next = {
        ...current,
        status: "resolved",
        updatedAt: at,
        resolvedAt: at,
        eventSequences: [...current.eventSequences, sequence]
      }
      transition = "resolved"
      open.delete(key)
    }
    alerts[index] = next
    return { alert: next, transition }
  }

  const receive = (input: ReceiveInput): Effect.Effect<ReceivedEvent> =>
    Effect.suspend(() => {
      const sequence = events.length + 1
      const routingKey = input.routingKey === undefined ? undefined : Redacted.make(input.routingKey)
      const routingKeyHash = input.routingKey === undefined ? undefined : RoutingKey.hash(input.routingKey)
      const applied = input.alertEvent !== undefined && routingKey !== undefined && routingKeyHash !== undefined
        ? apply(routingKey, routingKeyHash, input.alertEvent, sequence, input.receivedAt)
        : undefined
      const outcome: Outcome = input.outcome === "accepted" && input.alertEvent !== undefined && applied === undefined
        ? "dropped"
        : input.outcome
      const event: ReceivedEvent = {
        sequence,
        endpoint: input.endpoint,
        method: input.method,
        path: input.path,
        receivedAt: input.receivedAt,
        headers: input.headers,
        body: input.body,
        status: input.status,
        outcome,
        errors: input.errors,
        routingKey,
        routingKeyHash,
        eventAction: input.alertEvent?.action ?? input.eventAction,
        dedupKey: input.alertEvent?.dedupKey,
        alertId: applied?.alert.id,
        transition: applied?.transition
      }
      events.push(event)
      return applied === undefined
        ? Effect.succeed(event)
        : Effect.as(PubSub.publish(pubsub, { transition: applied.transition, alert: applied.alert, event }), event)
    })

  const listEvents = (filter: EventFilter = {}) =>
    Effect.sync(() => {
      const routingKeyHash = hashOf(filter)
      return events.filter((event) =>
        (routingKeyHash === undefined || event.routingKeyHash === routingKeyHash) &&
        (filter.endpoint === undefined || event.endpoint === filter.endpoint) &&
        (filter.outcome === undefined || event.outcome === filter.outcome) &&
        (filter.dedupKey === undefined || event.dedupKey === filter.dedupKey)
      )
    })

  const listAlerts = (filter: AlertFilter = {}) =>
    Effect.sync(() => {
      const routingKeyHash = hashOf(filter)
      return alerts.filter((alert) =>
        (routingKeyHash === undefined || alert.routingKeyHash === routingKeyHash) &&
        (filter.dedupKey === undefined || alert.dedupKey === filter.dedupKey) &&
        (filter.status === undefined || alert.status === filter.status)
      )
    })

  const reset = Effect.suspend(() => {
    events = []
    alerts = []
    open = new Map()
    alertCounter = 0
    return Effect.forEach(resetHooks, (hook) => hook, { discard: true })
  })

  return SimulatorState.of({
    receive,
    events: listEvents,
    alerts: listAlerts,
    subscribe: Effect.map(PubSub.subscribe(pubsub), Stream.fromSubscription),
    onReset: (effect) => Effect.sync(() => void resetHooks.push(effect)),
    reset
  })
})

/**
 * Provides an empty in-memory {@link SimulatorState}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<SimulatorState> = Layer.effect(SimulatorState, make)
