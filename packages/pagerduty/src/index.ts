/**
 * effect-pagerduty: PagerDuty's Events API v2, REST API v2 and v3 webhooks as
 * Effect services, with the alert sources, policies and stores a production
 * integration needs. Each module is also importable on its own, as
 * `@effect-pagerduty/pagerduty/<Module>`.
 *
 * @since 0.1.0
 */

/**
 * The canonical alert every source is turned into.
 *
 * @since 0.1.0
 */
export * as Alert from "./Alert.ts"

/**
 * Tamper-evident, hash-chained audit records with secret redaction.
 *
 * @since 0.1.0
 */
export * as Audit from "./Audit.ts"

/**
 * Circuit breakers with a stream of transitions and metrics.
 *
 * @since 0.1.0
 */
export * as Breaker from "./Breaker.ts"

/**
 * A cache with TTL, namespaces and single-flight loading, on memory or Redis.
 *
 * @since 0.1.0
 */
export * as Cache from "./Cache.ts"

/**
 * The relay's configuration from YAML and environment, checked by one Schema.
 *
 * @since 0.1.0
 */
export * as Config from "./Config.ts"

/**
 * AES-256-GCM sealing with a key ring, HMAC and JWT (HS256).
 *
 * @since 0.1.0
 */
export * as Crypto from "./Crypto.ts"

/**
 * The error model shared by every module.
 *
 * @since 0.1.0
 */
export * as Errors from "./Errors.ts"

/**
 * The Events API v2 client.
 *
 * @since 0.1.0
 */
export * as EventsClient from "./EventsClient.ts"

/**
 * Events API v2 schemas and PagerDuty's limits.
 *
 * @since 0.1.0
 */
export * as EventsV2 from "./EventsV2.ts"

/**
 * Alerts to Events API v2 events, the way Alertmanager's notifier formats them.
 *
 * @since 0.1.0
 */
export * as Format from "./Format.ts"

/**
 * A declarative mapping from any JSON alert to an `Alert`.
 *
 * @since 0.1.0
 */
export * as GenericSource from "./GenericSource.ts"

/**
 * Liveness and readiness checks registered by each layer.
 *
 * @since 0.1.0
 */
export * as Health from "./Health.ts"

/**
 * The library's metrics, exported as Prometheus text and over OpenTelemetry.
 *
 * @since 0.1.0
 */
export * as Metrics from "./Metrics.ts"

/**
 * A builder for rich trigger events with a typed error per field.
 *
 * @since 0.1.0
 */
export * as Notification from "./Notification.ts"

/**
 * The durable delivery queue.
 *
 * @since 0.1.0
 */
export * as Outbox from "./Outbox.ts"

/**
 * The outbox store on local files.
 *
 * @since 0.1.0
 */
export * as OutboxFileStore from "./OutboxFileStore.ts"

/**
 * The outbox store on Redis.
 *
 * @since 0.1.0
 */
export * as OutboxRedisStore from "./OutboxRedisStore.ts"

/**
 * The outbox's store interface, items and errors.
 *
 * @since 0.1.0
 */
export * as OutboxStore from "./OutboxStore.ts"

/**
 * REST API classic and cursor pagination as streams.
 *
 * @since 0.1.0
 */
export * as Pagination from "./Pagination.ts"

/**
 * Typed pipelines of stages from a payload to a delivered event.
 *
 * @since 0.1.0
 */
export * as Pipeline from "./Pipeline.ts"

/**
 * Declarative retry, rate limit, circuit breaker, bulkhead and timeout policies.
 *
 * @since 0.1.0
 */
export * as Policy from "./Policy.ts"

/**
 * Memory and Redis stores of the policies, with the fail-open rule.
 *
 * @since 0.1.0
 */
export * as PolicyStore from "./PolicyStore.ts"

/**
 * Plain text and Markdown renderings of incidents, alerts and webhook events.
 *
 * @since 0.1.0
 */
export * as Render from "./Render.ts"

/**
 * The REST API v2 client.
 *
 * @since 0.1.0
 */
export * as RestClient from "./RestClient.ts"

/**
 * Errors of the REST API v2 client.
 *
 * @since 0.1.0
 */
export * as RestClientError from "./RestClientError.ts"

/**
 * Schemas of REST API v2 resources.
 *
 * @since 0.1.0
 */
export * as RestResources from "./RestResources.ts"

/**
 * Retry schedules that honour the server's hints.
 *
 * @since 0.1.0
 */
export * as Retry from "./Retry.ts"

/**
 * Input sanitising for rendered text, header values and bounded lengths.
 *
 * @since 0.1.0
 */
export * as Sanitize from "./Sanitize.ts"

/**
 * The sliding-window rate limiter PagerDuty's 60-second look-back needs.
 *
 * @since 0.1.0
 */
export * as SlidingWindow from "./SlidingWindow.ts"

/**
 * Alertmanager and Grafana webhook payloads to alerts.
 *
 * @since 0.1.0
 */
export * as Sources from "./Sources.ts"

/**
 * v3 webhook signature verification.
 *
 * @since 0.1.0
 */
export * as Webhook from "./Webhook.ts"

/**
 * Schemas of v3 webhook events.
 *
 * @since 0.1.0
 */
export * as WebhookEvent from "./WebhookEvent.ts"

/**
 * The v3 webhook route and handler registry.
 *
 * @since 0.1.0
 */
export * as WebhookReceiver from "./WebhookReceiver.ts"
