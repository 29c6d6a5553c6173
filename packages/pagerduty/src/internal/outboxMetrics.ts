/**
 * The outbox's metrics. Labels are the store kind and the delivery outcome
 * only, so their cardinality stays fixed.
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type { OutboxStore } from "../OutboxStore.ts"

export const depth = Metric.gauge("pagerduty_outbox_depth", { description: "Items queued in the outbox" })

export const oldestAge = Metric.gauge("pagerduty_outbox_oldest_age_seconds", {
  description: "Age of the oldest queued item in seconds (0 when the outbox is empty)"
})

export const inFlight = Metric.gauge("pagerduty_outbox_in_flight", {
  description: "Items held by delivery workers"
})

export const deadLetters = Metric.gauge("pagerduty_outbox_dead_letters", {
  description: "Items in the outbox's dead-letter list"
})

const deliveriesTotal = Metric.counter("pagerduty_outbox_deliveries_total", {
  description: "Delivery attempts by outcome: delivered, retried, rejected, expired, interrupted",
  incremental: true
})

export const deliveries = (store: string) => Metric.withAttributes(deliveriesTotal, { store })

/** Reads the store's counts into the gauges. */
export const sample = (store: OutboxStore["Service"]) =>
  Effect.gen(function*() {
    const stats = yield* store.stats
    const now = yield* Clock.currentTimeMillis
    const attributes = { store: store.kind }
    yield* Metric.update(Metric.withAttributes(depth, attributes), stats.depth)
    yield* Metric.update(Metric.withAttributes(inFlight, attributes), stats.inFlight)
    yield* Metric.update(Metric.withAttributes(deadLetters, attributes), stats.deadLetters)
    const age = stats.oldestEnqueuedAt === undefined ? 0 : Math.max(0, now - stats.oldestEnqueuedAt) / 1000
    yield* Metric.update(Metric.withAttributes(oldestAge, attributes), age)
    return stats
  })
