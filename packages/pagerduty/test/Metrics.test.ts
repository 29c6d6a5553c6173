import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric } from "effect"
import * as Metrics from "../src/Metrics.ts"

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

/** Parses the Prometheus text format 0.0.4 back into families and samples, failing on any other line. */
const parsePrometheus = (text: string) => {
  const types = new Map<string, string>()
  const samples: Array<Sample> = []
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ")) continue
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line)
    if (type) {
      types.set(type[1]!, type[2]!)
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!sample) throw new Error(`not a Prometheus line: ${line}`)
    const labels: Record<string, string> = {}
    for (const match of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[match[1]!] = match[2]!
    }
    samples.push({ name: sample[1]!, labels, value: sample[3] === "+Inf" ? Infinity : Number(sample[3]) })
  }
  const find = (name: string, labels: Record<string, string>) =>
    samples.filter((sample) =>
      sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
    )
  return { types, samples, find }
}

const withRegistry = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.provideService(effect, Metric.MetricRegistry, new Map())

describe("Metrics", () => {
  it.effect("exports outbound calls with latency histograms", () =>
    withRegistry(Effect.gen(function*() {
      yield* Metrics.recordOutbound({
        api: "events",
        action: "trigger",
        outcome: "success",
        status: 202,
        seconds: 0.04
      })
      yield* Metrics.recordOutbound({ api: "events", action: "trigger", outcome: "success", status: 202, seconds: 0.3 })
      yield* Metrics.recordOutbound({
        api: "events",
        action: "trigger",
        outcome: "rate_limited",
        status: 429,
        seconds: 3
      })
      yield* Metrics.recordOutbound({ api: "rest", action: "incidents", outcome: "timeout", seconds: 10 })
      const parsed = parsePrometheus(yield* Metrics.prometheusText)

      expect(parsed.types.get("pagerduty_outbound_requests_total")).toBe("counter")
      expect(parsed.types.get("pagerduty_outbound_request_duration_seconds")).toBe("histogram")
      const [success] = parsed.find("pagerduty_outbound_requests_total", { outcome: "success", status_class: "2xx" })
      expect(success?.value).toBe(2)
      const [limited] = parsed.find("pagerduty_outbound_requests_total", { outcome: "rate_limited" })
      expect(limited?.labels).toEqual({
        api: "events",
        action: "trigger",
        outcome: "rate_limited",
        status_class: "4xx"
      })
      const [timeout] = parsed.find("pagerduty_outbound_requests_total", { api: "rest" })
      expect(timeout?.labels.status_class).toBe("none")

      const buckets = parsed.find("pagerduty_outbound_request_duration_seconds_bucket", { api: "events" })
      const bucket = (le: string) => buckets.find((sample) => sample.labels.le === le)?.value
      expect(bucket("0.05")).toBe(1)
      expect(bucket("0.5")).toBe(2)
      expect(bucket("5")).toBe(3)
      expect(bucket("+Inf")).toBe(3)
      const [count] = parsed.find("pagerduty_outbound_request_duration_seconds_count", { api: "events" })
      expect(count?.value).toBe(3)
      const [sum] = parsed.find("pagerduty_outbound_request_duration_seconds_sum", { api: "events" })
      expect(sum?.value).toBeCloseTo(3.34)
    })))

  it.effect("exports intake, webhook, dead letter and limiter metrics", () =>
    withRegistry(Effect.gen(function*() {
      yield* Metrics.recordIntake("alertmanager", "accepted")
      yield* Metrics.recordIntake("alertmanager", "accepted")
      yield* Metrics.recordIntake("grafana", "unauthorized")
      yield* Metrics.recordWebhook("valid")
      yield* Metrics.recordWebhook("invalid_signature")
      yield* Metrics.recordDeadLetter("attempts_exhausted")
      yield* Metrics.recordLimiterWait("events", 0.2)
      const parsed = parsePrometheus(yield* Metrics.prometheusText)

      expect(parsed.find("pagerduty_intake_requests_total", { source: "alertmanager", outcome: "accepted" })[0]?.value)
        .toBe(2)
      expect(parsed.find("pagerduty_intake_requests_total", { source: "grafana" })[0]?.labels.outcome).toBe(
        "unauthorized"
      )
      expect(parsed.find("pagerduty_webhook_verifications_total", { outcome: "invalid_signature" })[0]?.value).toBe(1)
      expect(parsed.find("pagerduty_dead_letters_total", { reason: "attempts_exhausted" })[0]?.value).toBe(1)
      expect(parsed.find("pagerduty_rate_limiter_wait_seconds_count", { api: "events" })[0]?.value).toBe(1)
    })))

  it.effect("exports queue gauges and breaker states", () =>
    withRegistry(Effect.gen(function*() {
      yield* Metrics.recordOutbox("redis", { depth: 12, oldestAgeSeconds: 4.5 })
      yield* Metrics.recordBreaker("platform", "open")
      yield* Metrics.recordBreaker("platform", "half_open")
      const parsed = parsePrometheus(yield* Metrics.prometheusText)

      expect(parsed.types.get("pagerduty_outbox_depth")).toBe("gauge")
      expect(parsed.find("pagerduty_outbox_depth", { store: "redis" })[0]?.value).toBe(12)
      expect(parsed.find("pagerduty_outbox_oldest_age_seconds", { store: "redis" })[0]?.value).toBe(4.5)
      const states = parsed.find("pagerduty_breaker_state", { route: "platform" })
      expect(Object.fromEntries(states.map((sample) => [sample.labels.state, sample.value]))).toEqual({
        closed: 0,
        half_open: 1,
        open: 0
      })
      expect(parsed.find("pagerduty_breaker_transitions_total", { route: "platform", to: "open" })[0]?.value).toBe(1)
    })))

  it.effect("writes only well-formed lines with a declared type", () =>
    withRegistry(Effect.gen(function*() {
      yield* Metrics.recordOutbound({ api: "events", action: "resolve", outcome: "success", status: 202, seconds: 0.1 })
      yield* Metrics.recordBreaker("a", "closed")
      const parsed = parsePrometheus(yield* Metrics.prometheusText)
      for (const sample of parsed.samples) {
        const family = sample.name.replace(/_(bucket|sum|count)$/, "")
        expect(parsed.types.has(sample.name) || parsed.types.get(family) === "histogram").toBe(true)
      }
    })))

  it("classifies statuses", () => {
    expect(Metrics.statusClass(202)).toBe("2xx")
    expect(Metrics.statusClass(429)).toBe("4xx")
    expect(Metrics.statusClass(503)).toBe("5xx")
    expect(Metrics.statusClass(undefined)).toBe("none")
    expect(Metrics.statusClass(42)).toBe("none")
  })

  it.effect("serves the text with the Prometheus content type", () =>
    withRegistry(Effect.gen(function*() {
      yield* Metrics.recordWebhook("valid")
      const response = yield* Metrics.handler
      expect(response.status).toBe(200)
      expect(response.body._tag).toBe("Uint8Array")
      expect(response.body._tag === "Uint8Array" && response.body.contentType).toBe(Metrics.prometheusContentType)
      const text = response.body._tag === "Uint8Array" ? new TextDecoder().decode(response.body.body) : ""
      expect(text).toContain("pagerduty_webhook_verifications_total{outcome=\"valid\"} 1")
    })))
})
