/**
 * A receiver of PagerDuty v3 webhooks: an `effect/http` route that verifies
 * each delivery, de-duplicates it on `X-Webhook-Id`, queues it and responds
 * `202`, and workers that run the registered handlers from the queue.
 *
 * PagerDuty expects a 2xx within 5 seconds, retries 5xx, 429 and timeouts for
 * up to 48 hours, drops a delivery on any other 4xx, and disables a
 * subscription for 24 hours after 3 consecutive drops. So the route responds
 * as soon as the event is queued, never waits for a handler, and keeps the
 * de-duplication mark for at least the retry window.
 *
 * | condition | status |
 * | --- | --- |
 * | body over `maxBodyBytes` | 413 |
 * | signature missing, malformed or not matching | `rejectStatus`, 401 by default |
 * | verified body that is not JSON or not an event envelope | 400 |
 * | duplicate `X-Webhook-Id` | 202, handlers not run again |
 * | queued | 202 |
 * | queue or cache store failing | 503, so PagerDuty retries |
 *
 * @example
 * ```ts
 * import { WebhookReceiver } from "@effect-pagerduty/pagerduty"
 * import { Effect, Layer, Redacted } from "effect"
 * import { HttpRouter } from "effect/http"
 *
 * const handlers = WebhookReceiver.handlers()
 *   .on("incident.triggered", (event) => Effect.log(`incident ${event.data.number} triggered: ${event.data.title}`))
 *   .onUnknown((event) => Effect.log(`new event type ${event.event_type}`))
 *
 * const Routes = WebhookReceiver.layerRoute.pipe(
 *   Layer.provide(WebhookReceiver.layerMemory({ secrets: [Redacted.make("secret")], handlers }))
 * )
 * // HttpRouter.serve(Routes) with a platform server layer
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import type * as Arr from "effect/Array"
import * as ByteSize from "effect/ByteSize"
import * as Cause from "effect/Cause"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpIncomingMessage from "effect/http/HttpIncomingMessage"
import * as HttpRouter from "effect/http/HttpRouter"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as PersistedQueue from "effect/persistence/PersistedQueue"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Cache from "./Cache.ts"
import * as internalHandlers from "./internal/webhookHandlers.ts"
import * as Webhook from "./Webhook.ts"
import * as WebhookEvent from "./WebhookEvent.ts"

/**
 * A set of handlers, built with {@link handlers}.
 *
 * @since 0.1.0
 * @category models
 */
export type Handlers<R> = internalHandlers.Handlers<R>

/**
 * Starts an empty set of handlers. `on(eventType, handler)` gives the
 * handler the event with `data` typed for that event type, `onAny` runs for
 * every event after the type's handler, and `onUnknown` runs for event types
 * the library does not know.
 *
 * @example
 * ```ts
 * import { WebhookReceiver } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const handlers = WebhookReceiver.handlers()
 *   .on("incident.annotated", (event) => Effect.log(event.data.content))
 *   .onAny((event) => Effect.log(event.event_type))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const handlers = (): Handlers<never> => internalHandlers.make()

/**
 * Deliveries by outcome: `verified`, `duplicate` or `rejected` (with a
 * `reason` label naming the `WebhookError` reason).
 *
 * @since 0.1.0
 * @category metrics
 */
export const deliveries = Metric.counter("pagerduty_webhook_deliveries_total", {
  description: "PagerDuty webhook deliveries received, by outcome",
  incremental: true
})

/**
 * Handler runs by outcome (`succeeded`, `failed`), labelled with the event
 * type, or `unknown` for event types the library does not know.
 *
 * @since 0.1.0
 * @category metrics
 */
export const handlerRuns = Metric.counter("pagerduty_webhook_handler_runs_total", {
  description: "PagerDuty webhook handler runs, by outcome and event type",
  incremental: true
})

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options<R> {
  /** The subscription's signing secrets; during rotation, the old and the new. */
  readonly secrets: Arr.NonEmptyReadonlyArray<Redacted.Redacted<string>>
  readonly handlers: Handlers<R>
  /** Path of the route. Default: `/webhooks/pagerduty`. */
  readonly path?: HttpRouter.PathInput | undefined
  /** Larger bodies get a 413 response. Default: {@link Webhook.defaultMaxBodyBytes}, PagerDuty's own limit. */
  readonly maxBodyBytes?: number | undefined
  /**
   * Response status for a missing, malformed or wrong signature. Default: 401.
   * PagerDuty disables a subscription for 24 hours after 3 consecutive 4xx, so
   * a receiver whose secret may be stale can respond with a 5xx here to have the
   * deliveries retried instead of dropped.
   */
  readonly rejectStatus?: number | undefined
  /** How long a delivery id is remembered. Default and minimum: 48 hours, PagerDuty's retry window. */
  readonly dedupeTimeToLive?: Duration.Input | undefined
  /** Handler runs in parallel. Default: 4. */
  readonly concurrency?: number | undefined
  /** Name of the persisted queue. Default: `pagerduty-webhooks`. */
  readonly queueName?: string | undefined
}

/**
 * The outcome of one delivery.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome =
  | { readonly _tag: "Queued"; readonly webhookId: string; readonly event: WebhookEvent.AnyEvent }
  | { readonly _tag: "Duplicate"; readonly webhookId: string }
  | { readonly _tag: "Rejected"; readonly error: Webhook.WebhookError }

/**
 * The webhook receiver.
 *
 * @since 0.1.0
 * @category services
 */
export class WebhookReceiver extends Context.Service<WebhookReceiver, {
  readonly path: HttpRouter.PathInput
  /** Processes one delivery from its raw body and headers (lower-case names). */
  readonly receive: (delivery: {
    readonly body: Uint8Array
    readonly headers: Readonly<Record<string, string | undefined>>
  }) => Effect.Effect<Outcome, Cache.CacheError | PersistedQueue.PersistedQueueError>
  /** Handles one HTTP request, as the route's handler. */
  readonly handle: (
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse>
}>()("@effect-pagerduty/pagerduty/WebhookReceiver") {}

interface QueueElement {
  readonly webhookId: string
  readonly event: WebhookEvent.AnyEvent
}

// The event was decoded with WebhookEvent's schemas before it was offered, and those schemas
// are plain JSON, so the element is stored as it is, without a second encoding pass.
const QueueElement = Schema.Unknown

const minimumDedupeTimeToLive = Duration.hours(48)

const checkOptions = <R>(options: Options<R>) => {
  const dedupeTimeToLive = Duration.fromInputUnsafe(options.dedupeTimeToLive ?? minimumDedupeTimeToLive)
  if (Duration.isLessThan(dedupeTimeToLive, minimumDedupeTimeToLive) || !Duration.isFinite(dedupeTimeToLive)) {
    throw new RangeError(
      `dedupeTimeToLive must be finite and at least 48 hours, PagerDuty's retry window, got ${
        Duration.format(dedupeTimeToLive)
      }`
    )
  }
  const concurrency = options.concurrency ?? 4
  if (!Number.isInteger(concurrency) || concurrency <= 0) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`)
  }
  const rejectStatus = options.rejectStatus ?? 401
  if (!Number.isInteger(rejectStatus) || rejectStatus < 200 || rejectStatus > 599) {
    throw new RangeError(`rejectStatus must be an HTTP status from 200 to 599, got ${rejectStatus}`)
  }
  return { dedupeTimeToLive, concurrency, rejectStatus }
}

const eventTypeLabel = (event: WebhookEvent.AnyEvent) => WebhookEvent.isKnown(event) ? event.event_type : "unknown"

// Label values come from small fixed sets, so each labelled counter is built once and reused.
const labelled = new Map<string, Metric.Metric<number, Metric.CounterState<number>>>()
const increment = (counter: Metric.Counter<number>, attributes: Record<string, string>) => {
  const key = `${counter.id} ${Object.values(attributes).join(" ")}`
  let metric = labelled.get(key)
  if (metric === undefined) {
    metric = Metric.withAttributes(counter, attributes)
    labelled.set(key, metric)
  }
  return Metric.update(metric, 1)
}

const countDelivery = (outcome: string, reason?: string) =>
  increment(deliveries, reason === undefined ? { outcome } : { outcome, reason })

/**
 * Builds the receiver and starts `concurrency` workers that run the handlers
 * from the queue for as long as the scope lasts.
 *
 * A failing handler is logged once with its cause and counted; the event is
 * not run again.
 *
 * NOTE: with `PersistedQueue.layerStoreMemory` the queue lives in the process,
 * so events acknowledged with 202 but not yet handled are lost if the process stops,
 * and the store keeps every handled element until `PersistedQueue.layerCleanup`
 * removes it. With `PersistedQueue.layerStoreRedis` queued events survive a
 * crash after the 202: an event whose handler was running when its process
 * died is taken again once the store's `lockExpiration` has passed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <R>(
  options: Options<R>
): Effect.Effect<
  WebhookReceiver["Service"],
  never,
  Cache.Cache | PersistedQueue.PersistedQueueFactory | Mac.Mac | R | Scope.Scope
> =>
  Effect.gen(function*() {
    const { concurrency, dedupeTimeToLive, rejectStatus } = checkOptions(options)
    const maxBodyBytes = options.maxBodyBytes ?? Webhook.defaultMaxBodyBytes
    const verifier = yield* Webhook.makeVerifier({ secrets: options.secrets, maxBodyBytes })
    const marks = Cache.namespace(yield* Cache.Cache, "webhooks")
    const queue = yield* PersistedQueue.make({
      name: options.queueName ?? "pagerduty-webhooks",
      schema: QueueElement,
      maxAttempts: 3
    })
    const context = yield* Effect.context<R>()

    const runHandlers = (stored: unknown) => {
      const element = stored as QueueElement
      const event = element.event
      const eventType = eventTypeLabel(event)
      return options.handlers.dispatch(event).pipe(
        Effect.provideContext(context),
        Effect.matchCauseEffect({
          onSuccess: () => increment(handlerRuns, { outcome: "succeeded", eventType }),
          onFailure: (cause) =>
            Cause.hasInterruptsOnly(cause) ? Effect.failCause(cause) : Effect.andThen(
              increment(handlerRuns, { outcome: "failed", eventType }),
              Effect.logError("PagerDuty webhook handler failed", cause).pipe(
                Effect.annotateLogs({ webhookId: element.webhookId, eventType: event.event_type })
              )
            )
        })
      )
    }

    yield* Effect.forkScoped(Effect.forever(queue.take(runHandlers)), { startImmediately: true }).pipe(
      Effect.replicateEffect(concurrency)
    )

    const reject = (error: Webhook.WebhookError, webhookId: string | undefined) =>
      Effect.as(
        Effect.andThen(
          countDelivery("rejected", error.reason._tag),
          Effect.logWithLevel(error.reason.logLevel)("PagerDuty webhook rejected").pipe(
            Effect.annotateLogs({ reason: error.reason._tag, webhookId: webhookId ?? "none" })
          )
        ),
        { _tag: "Rejected", error } as const
      )

    const receive: WebhookReceiver["Service"]["receive"] = ({ body, headers }) =>
      Effect.gen(function*() {
        const headerId = headers["x-webhook-id"]
        const verified = yield* Effect.result(verifier({ body, signatureHeader: headers[Webhook.signatureHeaderName] }))
        if (verified._tag === "Failure") return yield* reject(verified.failure, headerId)
        const parsed = yield* Effect.result(Webhook.parse(body))
        if (parsed._tag === "Failure") return yield* reject(parsed.failure, headerId)
        const event = parsed.success
        // PagerDuty sends X-Webhook-Id on every delivery, and the event id replaces it when it is missing.
        const webhookId = headerId !== undefined && headerId.length > 0 ? headerId : `event:${event.id}`

        if (Option.isSome(yield* marks.get(webhookId))) {
          yield* countDelivery("duplicate")
          yield* Effect.logDebug("PagerDuty webhook duplicate", { webhookId })
          return { _tag: "Duplicate", webhookId } as const
        }
        // The queue ignores a second offer of one id, so concurrent duplicates queue the event once.
        const element: QueueElement = { webhookId, event }
        yield* queue.offer(element, { id: webhookId }).pipe(
          Effect.catchTag("SchemaError", Effect.die)
        )
        const first = yield* marks.setIfAbsent(webhookId, "1", dedupeTimeToLive)
        if (!first) {
          yield* countDelivery("duplicate")
          return { _tag: "Duplicate", webhookId } as const
        }
        yield* countDelivery("verified")
        yield* Effect.logDebug("PagerDuty webhook queued", { webhookId, eventType: event.event_type })
        return { _tag: "Queued", webhookId, event } as const
      })

    const maxBodySize = ByteSize.bytes(maxBodyBytes)
    const accepted = HttpServerResponse.empty({ status: 202 })
    const tooLarge = HttpServerResponse.empty({ status: 413 })

    const handle: WebhookReceiver["Service"]["handle"] = (request) =>
      Effect.gen(function*() {
        const declared = Number(request.headers["content-length"])
        if (declared > maxBodyBytes) {
          yield* countDelivery("rejected", "BodyTooLarge")
          return tooLarge
        }
        const read = yield* Effect.result(
          Effect.provideService(request.arrayBuffer, HttpIncomingMessage.MaxBodySize, maxBodySize)
        )
        if (read._tag === "Failure") {
          const tooBig = read.failure.reason._tag === "RequestParseError" &&
            read.failure.reason.reason === "BodyTooLarge"
          yield* countDelivery("rejected", tooBig ? "BodyTooLarge" : "UnreadableBody")
          return HttpServerResponse.empty({ status: tooBig ? 413 : 400 })
        }
        const outcome = yield* receive({ body: new Uint8Array(read.success), headers: request.headers })
        if (outcome._tag !== "Rejected") return accepted
        const reason = outcome.error.reason
        if (reason._tag === "BodyTooLarge") return tooLarge
        return HttpServerResponse.empty({ status: reason.httpStatus === 401 ? rejectStatus : reason.httpStatus })
      }).pipe(
        Effect.catchCause((cause) =>
          Effect.as(
            Effect.logError("PagerDuty webhook could not be queued", cause),
            HttpServerResponse.empty({ status: 503 })
          )
        )
      )

    return WebhookReceiver.of({ path: options.path ?? "/webhooks/pagerduty", receive, handle })
  })

/**
 * Provides the {@link WebhookReceiver}, its workers living as long as the layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R>(
  options: Options<R>
): Layer.Layer<WebhookReceiver, never, Cache.Cache | PersistedQueue.PersistedQueueFactory | Mac.Mac | R> =>
  Layer.effect(WebhookReceiver, make(options))

/**
 * Provides the receiver with everything in memory: the cache (bounded to
 * `dedupeCapacity` delivery ids, 100,000 by default), the queue and HMAC on
 * WebCrypto.
 *
 * NOTE: the in-memory queue loses events queued but not yet handled when the
 * process stops; see {@link make}.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = <R>(
  options: Options<R> & { readonly dedupeCapacity?: number | undefined }
): Layer.Layer<WebhookReceiver, never, Exclude<R, Scope.Scope>> =>
  layer(options).pipe(
    Layer.provide([
      Cache.layerMemory({ capacity: options.dedupeCapacity ?? 100_000 }),
      PersistedQueue.layer.pipe(Layer.provide(PersistedQueue.layerStoreMemory)),
      Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))
    ])
  ) as Layer.Layer<WebhookReceiver, never, Exclude<R, Scope.Scope>>

/**
 * Provides the {@link WebhookReceiver} with its signing secrets read from
 * configuration: `PAGERDUTY_WEBHOOK_SECRET`, plus `PAGERDUTY_WEBHOOK_SECRET_PREVIOUS`
 * while a secret is being rotated. Both are read as `Redacted`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <R>(
  options: Omit<Options<R>, "secrets">
): Layer.Layer<
  WebhookReceiver,
  Config.ConfigError,
  Cache.Cache | PersistedQueue.PersistedQueueFactory | Mac.Mac | R
> =>
  Layer.unwrap(
    Effect.gen(function*() {
      const current = yield* Config.Redacted("PAGERDUTY_WEBHOOK_SECRET")
      const previous = yield* Config.option(Config.Redacted("PAGERDUTY_WEBHOOK_SECRET_PREVIOUS"))
      const secrets: Arr.NonEmptyReadonlyArray<Redacted.Redacted<string>> = previous._tag === "Some"
        ? [current, previous.value]
        : [current]
      return layer({ ...options, secrets })
    })
  )

/**
 * Adds `POST <path>` to the current `HttpRouter`, handled by the receiver.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerRoute: Layer.Layer<never, never, HttpRouter.HttpRouter | WebhookReceiver> = HttpRouter.use((router) =>
  Effect.flatMap(Effect.service(WebhookReceiver), (receiver) => router.add("POST", receiver.path, receiver.handle))
)
