/**
 * The project's metrics on Effect `Metric`, and their Prometheus text export.
 *
 * Every module updates the metric objects defined here through the small
 * recording functions, whose label values are literal unions, so a label
 * never carries an id, a dedup key or a secret. Names follow Prometheus
 * conventions (`_total` counters, `_seconds` durations) under the
 * `pagerduty_` prefix. The same metrics reach OTLP through the
 * OpenTelemetry layer of the program.
 *
 * @example
 * ```ts
 * import { Metrics } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   yield* Metrics.recordOutbound({ api: "events", action: "trigger", outcome: "success", status: 202, seconds: 0.12 })
 *   return yield* Metrics.prometheusText
 * })
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Effect from "effect/Effect"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Metric from "effect/Metric"
import * as PrometheusMetrics from "effect/observability/PrometheusMetrics"

/**
 * The PagerDuty API of an outbound call.
 *
 * @since 0.1.0
 * @category models
 */
export type Api = "events" | "rest"

/**
 * The operation of an outbound call: an Events API action or a REST
 * operation group.
 *
 * @since 0.1.0
 * @category models
 */
export type Action =
  | "trigger"
  | "acknowledge"
  | "resolve"
  | "change"
  | "incidents"
  | "notes"
  | "services"
  | "users"
  | "oncalls"
  | "log_entries"
  | "other"

/**
 * The result of an outbound call.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | "success"
  | "rejected"
  | "rate_limited"
  | "server_error"
  | "timeout"
  | "transport"
  | "circuit_open"

/**
 * The class of an HTTP status, `none` when no response arrived.
 *
 * @since 0.1.0
 * @category models
 */
export type StatusClass = "1xx" | "2xx" | "3xx" | "4xx" | "5xx" | "none"

/**
 * Maps an HTTP status to its class.
 *
 * @since 0.1.0
 * @category labels
 */
export const statusClass = (status: number | undefined): StatusClass => {
  if (status === undefined || !Number.isInteger(status) || status < 100 || status > 599) return "none"
  return `${Math.floor(status / 100)}xx` as StatusClass
}

// Buckets from 5 ms to 30 s, covering PagerDuty's usual latency and the default attempt timeout of 10 s.
const latencyBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/**
 * Outbound calls by `api`, `action`, `outcome` and `status_class`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboundRequests = Metric.counter("pagerduty_outbound_requests_total", {
  description: "Calls to PagerDuty by API, action, outcome and HTTP status class",
  incremental: true
})

/**
 * Latency of outbound calls in seconds, by `api` and `action`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboundDuration = Metric.histogram("pagerduty_outbound_request_duration_seconds", {
  description: "Duration of calls to PagerDuty in seconds, by API and action",
  boundaries: latencyBoundaries
})

/**
 * Records one outbound call in {@link outboundRequests} and {@link outboundDuration}.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordOutbound = (call: {
  readonly api: Api
  readonly action: Action
  readonly outcome: Outcome
  readonly status?: number | undefined
  readonly seconds: number
}): Effect.Effect<void> =>
  Effect.andThen(
    Metric.update(
      Metric.withAttributes(outboundRequests, {
        api: call.api,
        action: call.action,
        outcome: call.outcome,
        status_class: statusClass(call.status)
      }),
      1
    ),
    Metric.update(Metric.withAttributes(outboundDuration, { api: call.api, action: call.action }), call.seconds)
  )

/**
 * The result of an intake request.
 *
 * @since 0.1.0
 * @category models
 */
export type IntakeOutcome = "accepted" | "unauthorized" | "invalid" | "too_large" | "unavailable" | "duplicate"

/**
 * Intake requests by `source` and `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const intakeRequests = Metric.counter("pagerduty_intake_requests_total", {
  description: "Alerts received by the relay, by source and outcome",
  incremental: true
})

/**
 * Records one intake request.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordIntake = (
  source: "alertmanager" | "grafana" | "events" | "generic",
  outcome: IntakeOutcome
): Effect.Effect<void> => Metric.update(Metric.withAttributes(intakeRequests, { source, outcome }), 1)

/**
 * The result of a webhook's signature check.
 *
 * @since 0.1.0
 * @category models
 */
export type WebhookOutcome = "valid" | "invalid_signature" | "missing_signature" | "malformed" | "duplicate"

/**
 * Webhook signature verifications by `outcome`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const webhookVerifications = Metric.counter("pagerduty_webhook_verifications_total", {
  description: "PagerDuty v3 webhooks received, by verification outcome",
  incremental: true
})

/**
 * Records one webhook verification.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordWebhook = (outcome: WebhookOutcome): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(webhookVerifications, { outcome }), 1)

/**
 * Items waiting in the outbox, by `store`.
 *
 * @since 0.1.0
 * @category metrics
 */
// Effect keys a metric's state by type, name, description and attributes, so these two gauges
// keep the exact name and description the Outbox module samples, and both update one series.
export const outboxDepth = Metric.gauge("pagerduty_outbox_depth", { description: "Items queued in the outbox" })

/**
 * Age in seconds of the oldest item in the outbox, by `store`; 0 when empty.
 *
 * @since 0.1.0
 * @category metrics
 */
export const outboxOldestAge = Metric.gauge("pagerduty_outbox_oldest_age_seconds", {
  description: "Age of the oldest queued item in seconds (0 when the outbox is empty)"
})

/**
 * Records the outbox's depth and the age of its oldest item.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordOutbox = (
  store: "memory" | "file" | "redis",
  state: { readonly depth: number; readonly oldestAgeSeconds: number }
): Effect.Effect<void> =>
  Effect.andThen(
    Metric.update(Metric.withAttributes(outboxDepth, { store }), state.depth),
    Metric.update(Metric.withAttributes(outboxOldestAge, { store }), state.oldestAgeSeconds)
  )

/**
 * A circuit breaker's state.
 *
 * @since 0.1.0
 * @category models
 */
export type BreakerState = "closed" | "half_open" | "open"

const breakerStates: ReadonlyArray<BreakerState> = ["closed", "half_open", "open"]

/**
 * Circuit breakers by `route` and `state`: 1 for the breaker's current
 * state, 0 for the others.
 *
 * @since 0.1.0
 * @category metrics
 */
export const breakerState = Metric.gauge("pagerduty_breaker_state", {
  description: "Circuit breaker state per route: 1 for the current state, 0 for the others"
})

/**
 * Circuit breaker transitions by `route` and the state entered (`to`).
 *
 * @since 0.1.0
 * @category metrics
 */
export const breakerTransitions = Metric.counter("pagerduty_breaker_transitions_total", {
  description: "Circuit breaker state changes per route, by the state entered",
  incremental: true
})

/**
 * Records a breaker entering a state.
 *
 * `route` is the configured route name, which keeps the label's values few
 * and readable. It must never be a routing key.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordBreaker = (route: string, state: BreakerState): Effect.Effect<void> =>
  Effect.andThen(
    Effect.forEach(
      breakerStates,
      (candidate) =>
        Metric.update(Metric.withAttributes(breakerState, { route, state: candidate }), candidate === state ? 1 : 0),
      { discard: true }
    ),
    Metric.update(Metric.withAttributes(breakerTransitions, { route, to: state }), 1)
  )

/**
 * Time in seconds calls waited for a rate limiter, by `api`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const limiterWait = Metric.histogram("pagerduty_rate_limiter_wait_seconds", {
  description: "Time calls waited for a rate limit permit in seconds, by API",
  boundaries: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60]
})

/**
 * Records a wait for a rate limiter permit (0 when none was needed).
 *
 * @since 0.1.0
 * @category recording
 */
export const recordLimiterWait = (api: Api, seconds: number): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(limiterWait, { api }), seconds)

/**
 * The reason an event became a dead letter.
 *
 * @since 0.1.0
 * @category models
 */
export type DeadLetterReason = "rejected" | "expired" | "attempts_exhausted"

/**
 * Events moved to the dead letters, by `reason`.
 *
 * @since 0.1.0
 * @category metrics
 */
export const deadLetters = Metric.counter("pagerduty_dead_letters_total", {
  description: "Events that will not be delivered, by reason",
  incremental: true
})

/**
 * Records an event moved to the dead letters.
 *
 * @since 0.1.0
 * @category recording
 */
export const recordDeadLetter = (reason: DeadLetterReason): Effect.Effect<void> =>
  Metric.update(Metric.withAttributes(deadLetters, { reason }), 1)

/**
 * The `Content-Type` of the Prometheus text exposition format 0.0.4.
 *
 * @since 0.1.0
 * @category export
 */
export const prometheusContentType = "text/plain; version=0.0.4; charset=utf-8"

/**
 * Every metric of the current registry in Prometheus text format, for a
 * `/metrics` route.
 *
 * @since 0.1.0
 * @category export
 */
export const prometheusText: Effect.Effect<string> = PrometheusMetrics.format()

/**
 * A handler for a `/metrics` route that responds with the Prometheus text.
 *
 * @since 0.1.0
 * @category export
 */
export const handler: Effect.Effect<HttpServerResponse.HttpServerResponse> = Effect.map(
  prometheusText,
  (text) => HttpServerResponse.text(text, { contentType: prometheusContentType })
)
