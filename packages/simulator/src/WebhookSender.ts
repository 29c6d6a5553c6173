/**
 * A sender of PagerDuty v3 webhooks that behaves like PagerDuty's delivery
 * system, for testing receivers.
 *
 * Each delivery is signed with one signature per configured secret (two
 * while a secret is being rotated) and carries `X-Webhook-Id` (the same on
 * every attempt), `X-Webhook-Subscription`, `User-Agent:
 * PagerDuty-Webhook/V3.0` and `Content-Type: application/json`. Like
 * PagerDuty, it retries timeouts, connection failures, 429 and 5xx with
 * backoff, drops a delivery on any other 4xx, and disables the subscription
 * after 3 consecutive dropped deliveries.
 *
 * NOTE: PagerDuty documents no retry intervals, only that retries last up to
 * 48 hours. The default schedule here (exponential from 1 second, 8 retries)
 * is a short stand-in.
 *
 * @example
 * ```ts
 * import { WebhookSender } from "@effect-pagerduty/simulator"
 * import { Effect, Redacted } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const sender = yield* WebhookSender.make({ url: "http://127.0.0.1:8080/webhooks/pagerduty", secrets: [Redacted.make("s")] })
 *   return yield* sender.send(WebhookSender.event("incident.triggered"))
 * })
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Webhook from "@effect-pagerduty/pagerduty/Webhook"
import type * as Mac from "effect/crypto/Mac"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as HttpClient from "effect/http/HttpClient"
import * as HttpClientRequest from "effect/http/HttpClientRequest"
import type * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { eventDataTypes, sampleData } from "./internal/webhookSamples.ts"

/**
 * The event types the sender can build from samples: PagerDuty's 30
 * documented types and `pagey.ping`.
 *
 * @since 0.1.0
 * @category constants
 */
export const eventTypes: ReadonlyArray<string> = [...Object.keys(eventDataTypes), "pagey.ping"]

/**
 * A v3 webhook body, `{"event": {...}}`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Envelope {
  readonly event: {
    readonly id: string
    readonly event_type: string
    readonly resource_type: string
    readonly occurred_at: string
    readonly agent: unknown
    readonly client: unknown
    readonly data: unknown
  }
}

let eventCounter = 0

/**
 * Builds an envelope for `eventType` around PagerDuty's documented sample of
 * its `data`, or around `data` when given. Throws `RangeError` for an event
 * type without a sample when no `data` is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const event = (
  eventType: string,
  options?: { readonly data?: unknown; readonly id?: string; readonly occurredAt?: string }
): Envelope => {
  const dataType = eventType === "pagey.ping" ? "ping" : eventDataTypes[eventType]
  const data = options?.data ?? (dataType === undefined ? undefined : sampleData[dataType])
  if (data === undefined) {
    throw new RangeError(`no sample data for event type ${eventType}; pass options.data`)
  }
  eventCounter++
  return {
    event: {
      id: options?.id ?? `01SIMULATED${String(eventCounter).padStart(15, "0")}`,
      event_type: eventType,
      resource_type: eventType.split(".")[0]!,
      occurred_at: options?.occurredAt ?? "2021-03-02T13:35:11.682Z",
      agent: null,
      client: null,
      data
    }
  }
}

/**
 * Options of {@link make}.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The receiver's URL. There is no default. */
  readonly url: string
  /** One signing secret, or two while rotating; each adds a `v1` signature. */
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
  /** The value of `X-Webhook-Subscription`. Default: `PSIMSUB`. */
  readonly subscriptionId?: string | undefined
  /** Delay before the first retry; each next one doubles. Default: 1 second. */
  readonly retryBaseDelay?: Duration.Input | undefined
  /** Retries after the first attempt before the delivery is dropped. Default: 8. */
  readonly maxRetries?: number | undefined
  /** How long one attempt may take. Default: 5 seconds, PagerDuty's limit. */
  readonly timeout?: Duration.Input | undefined
  /** Extra headers, like a subscription's custom headers. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * The outcome of one delivery.
 *
 * - `Delivered`: a 2xx came back.
 * - `Dropped`: a 4xx other than 429, which PagerDuty never retries.
 * - `Exhausted`: every attempt was retryable and failed, so it was dropped.
 * - `Disabled`: the subscription was disabled, so nothing was sent.
 *
 * @since 0.1.0
 * @category models
 */
export interface Result {
  readonly _tag: "Delivered" | "Dropped" | "Exhausted" | "Disabled"
  readonly webhookId: string
  readonly attempts: number
  /** Statuses of the attempts, `"timeout"` or `"connection"` for attempts without a response. */
  readonly responses: ReadonlyArray<number | "timeout" | "connection">
}

/**
 * A sender bound to one subscription.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sender {
  /** Delivers one event, retrying as PagerDuty does. */
  readonly send: (
    envelope: Envelope,
    options?: { readonly webhookId?: string }
  ) => Effect.Effect<Result, never, HttpClient.HttpClient>
  /** Dropped deliveries in a row; a delivered one resets it. */
  readonly consecutiveDrops: Effect.Effect<number>
  /** Whether 3 consecutive drops disabled the subscription. */
  readonly disabled: Effect.Effect<boolean>
  /** Re-enables the subscription, as `POST /webhook_subscriptions/{id}/enable` does. */
  readonly enable: Effect.Effect<void>
}

const dropsToDisable = 3
const encoder = new TextEncoder()

/**
 * Builds a sender. Throws `RangeError` when `secrets` is empty or contains
 * more than two secrets, or when `maxRetries` is negative.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<Sender, never, Mac.Mac> =>
  Effect.gen(function*() {
    if (options.secrets.length < 1 || options.secrets.length > 2) {
      throw new RangeError(`secrets must contain one or two secrets, got ${options.secrets.length}`)
    }
    const maxRetries = options.maxRetries ?? 8
    if (!Number.isInteger(maxRetries) || maxRetries < 0) {
      throw new RangeError(`maxRetries must be a non-negative integer, got ${maxRetries}`)
    }
    const baseDelay = Duration.fromInputUnsafe(options.retryBaseDelay ?? Duration.seconds(1))
    const timeout = Duration.fromInputUnsafe(options.timeout ?? Duration.seconds(5))
    const mac = yield* Effect.context<Mac.Mac>()
    const drops = yield* Ref.make(0)
    let webhookCounter = 0

    const attempt = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.flatMap(Effect.service(HttpClient.HttpClient), (client) =>
        client.execute(request).pipe(
          Effect.flatMap((response) => Effect.as(response.arrayBuffer.pipe(Effect.ignore), response.status)),
          Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed("timeout" as const) }),
          Effect.catch(() => Effect.succeed("connection" as const)),
          Effect.scoped
        ))

    const send: Sender["send"] = (envelope, sendOptions) =>
      Effect.gen(function*() {
        webhookCounter++
        const webhookId = sendOptions?.webhookId ?? `sim-${envelope.event.id}-${webhookCounter}`
        if ((yield* Ref.get(drops)) >= dropsToDisable) {
          return { _tag: "Disabled", webhookId, attempts: 0, responses: [] } satisfies Result
        }
        const body = encoder.encode(JSON.stringify(envelope))
        const signature = yield* Webhook.signatureHeader(body, options.secrets).pipe(Effect.provideContext(mac))
        const request = HttpClientRequest.post(options.url).pipe(
          HttpClientRequest.setHeaders({
            ...options.headers,
            "accept": "application/json",
            "user-agent": "PagerDuty-Webhook/V3.0",
            "x-pagerduty-signature": signature,
            "x-webhook-id": webhookId,
            "x-webhook-subscription": options.subscriptionId ?? "PSIMSUB"
          }),
          HttpClientRequest.bodyUint8Array(body, "application/json")
        )

        const responses: Array<number | "timeout" | "connection"> = []
        let tag: Result["_tag"] = "Exhausted"
        for (let i = 0; i <= maxRetries; i++) {
          if (i > 0) yield* Effect.sleep(Duration.times(baseDelay, 2 ** (i - 1)))
          const response = yield* attempt(request)
          responses.push(response)
          if (typeof response === "number" && response >= 200 && response < 300) {
            tag = "Delivered"
            break
          }
          const retryable = typeof response !== "number" || response === 429 || response >= 500
          if (!retryable) {
            tag = "Dropped"
            break
          }
        }
        yield* tag === "Delivered" ? Ref.set(drops, 0) : Ref.update(drops, (n) => n + 1)
        return { _tag: tag, webhookId, attempts: responses.length, responses } satisfies Result
      })

    return {
      send,
      consecutiveDrops: Ref.get(drops),
      disabled: Effect.map(Ref.get(drops), (n) => n >= dropsToDisable),
      enable: Ref.set(drops, 0)
    }
  })
