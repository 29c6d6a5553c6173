/**
 * A PagerDuty simulator for tests and local development: the Events API v2
 * with PagerDuty's documented validation, deduplication and rate limit, a
 * control API under `/_sim/`, and scripted fault injection.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as ControlApi from "./ControlApi.ts"

/**
 * @since 0.1.0
 */
export * as EventsApi from "./EventsApi.ts"

/**
 * @since 0.1.0
 */
export * as Faults from "./Faults.ts"

/**
 * @since 0.1.0
 */
export * as RateLimit from "./RateLimit.ts"

/**
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.ts"

/**
 * @since 0.1.0
 */
export * as RestApi from "./RestApi.ts"

/**
 * @since 0.1.0
 */
export * as SimulatorState from "./SimulatorState.ts"

/**
 * @since 0.1.0
 */
export * as WebhookSender from "./WebhookSender.ts"
