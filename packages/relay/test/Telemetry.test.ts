import * as Metrics from "@effect-pagerduty/pagerduty/Metrics"
import { describe, expect, it } from "@effect/vitest"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Metric } from "effect"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Telemetry from "../src/Telemetry.ts"

describe("Telemetry", () => {
  it.effect("exports a span tree", () => {
    const exporter = new InMemorySpanExporter()
    const processor = new SimpleSpanProcessor(exporter)
    return Effect.gen(function*() {
      yield* Effect.gen(function*() {
        yield* Effect.void.pipe(Effect.withSpan("EventsClient.send", { attributes: { "pagerduty.action": "trigger" } }))
        yield* Effect.void.pipe(Effect.withSpan("Audit.log"))
      }).pipe(Effect.withSpan("relay.intake"))

      // Spans are read before the layer closes, because shutting the exporter down clears them.
      yield* Effect.promise(() => processor.forceFlush())
      const spans = exporter.getFinishedSpans()
      const byName = new Map(spans.map((span) => [span.name, span]))
      const root = byName.get("relay.intake")
      const send = byName.get("EventsClient.send")
      const audit = byName.get("Audit.log")
      expect(spans.map((span) => span.name).sort()).toEqual(["Audit.log", "EventsClient.send", "relay.intake"])
      expect(root?.parentSpanContext).toBeUndefined()
      expect(send?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
      expect(audit?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId)
      expect(send?.spanContext().traceId).toBe(root?.spanContext().traceId)
      expect(send?.attributes["pagerduty.action"]).toBe("trigger")
      expect(root?.resource.attributes["service.name"]).toBe("test")
    }).pipe(Effect.provide(Telemetry.layerWith({ spanProcessor: processor, serviceName: "test" })))
  })

  it.effect("exports the library's metrics", () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 })
    return Effect.gen(function*() {
      yield* Metrics.recordIntake("alertmanager", "accepted")
      yield* Metrics.recordIntake("alertmanager", "accepted")
      yield* Effect.promise(() => reader.forceFlush())

      const exported = exporter.getMetrics().flatMap((resource) =>
        resource.scopeMetrics.flatMap((scope) => scope.metrics)
      )
      const intake = exported.find((metric) => metric.descriptor.name === "pagerduty_intake_requests_total")
      expect(intake).toBeDefined()
      const point = intake?.dataPoints.find((data) => data.attributes.outcome === "accepted")
      expect(point?.attributes.source).toBe("alertmanager")
      expect(point?.value).toBe(2)
    }).pipe(
      // One registry for the recording and the OpenTelemetry producer, which reads it when the layer is built.
      Effect.provide(Telemetry.layerWith({ metricReader: reader })),
      Effect.provideService(Metric.MetricRegistry, new Map())
    )
  })

  it("stays off without an endpoint", () => {
    expect(Telemetry.signalsFromEnv({})).toEqual({ traces: false, metrics: false })
    expect(Telemetry.layer({})).toBe(Layer.empty)
  })

  it("reads which signals to export", () => {
    expect(Telemetry.signalsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" })).toEqual({
      traces: true,
      metrics: true
    })
    expect(Telemetry.signalsFromEnv({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces" }))
      .toEqual({ traces: true, metrics: false })
    expect(
      Telemetry.signalsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318", OTEL_METRICS_EXPORTER: "none" })
    ).toEqual({ traces: true, metrics: false })
    expect(Telemetry.signalsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_SDK_DISABLED: "true" })).toEqual({
      traces: false,
      metrics: false
    })
  })

  it.live("sends spans over OTLP to the configured endpoint", () =>
    Effect.gen(function*() {
      const received: Array<{ url: string; body: string }> = []
      const server = http.createServer((request, response) => {
        let body = ""
        request.on("data", (chunk: Buffer) => (body += chunk.toString()))
        request.on("end", () => {
          received.push({ url: request.url ?? "", body })
          response.writeHead(200, { "content-type": "application/json" }).end("{}")
        })
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
          return Effect.void
        }),
        () =>
          Effect.callback<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const port = (server.address() as AddressInfo).port

      const settings: Record<string, string> = {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
        OTEL_METRICS_EXPORTER: "none",
        OTEL_SERVICE_NAME: "pd-relay-test"
      }
      // The sdk-node exporters read process.env, so the test sets it for the duration of the run.
      const saved = Object.fromEntries(Object.keys(settings).map((key) => [key, process.env[key]]))
      yield* Effect.acquireRelease(
        Effect.sync(() => Object.assign(process.env, settings)),
        () =>
          Effect.sync(() => {
            for (const [key, value] of Object.entries(saved)) {
              if (value === undefined) delete process.env[key]
              else process.env[key] = value
            }
          })
      )

      // Closing the layer's scope shuts the SDK down, which flushes the batch.
      yield* Effect.void.pipe(
        Effect.withSpan("relay.delivery"),
        Effect.provide(Telemetry.layer(process.env))
      )

      const traces = received.filter((request) => request.url === "/v1/traces")
      expect(traces.length).toBeGreaterThan(0)
      expect(traces.map((request) => request.body).join("")).toContain("relay.delivery")
      expect(traces.map((request) => request.body).join("")).toContain("pd-relay-test")
    }).pipe(Effect.scoped))
})
