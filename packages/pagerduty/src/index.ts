/**
 * effect-pagerduty: PagerDuty Events API v2, REST API v2 and v3 webhooks as
 * Effect services, with the alert sources, policies and stores a production
 * integration needs.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as Errors from "./Errors.ts"
