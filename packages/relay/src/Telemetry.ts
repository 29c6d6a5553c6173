/**
 * OpenTelemetry export of the relay's spans and metrics over OTLP, set up
 * from the standard `OTEL_*` environment variables.
 *
 * Export is off unless `OTEL_EXPORTER_OTLP_ENDPOINT` (or the per-signal
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`)
 * is set, and `OTEL_SDK_DISABLED=true` turns it off in any case. Exporters,
 * protocol (`OTEL_EXPORTER_OTLP_PROTOCOL`), headers, batching and the metric
 * export interval come from `@opentelemetry/sdk-node`'s own reading of the
 * environment, and `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` name the
 * resource.
 *
 * @since 0.1.0
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import type { MetricReader } from "@opentelemetry/sdk-metrics"
// sdk-node 0.223 exports no function that builds processors from the environment
// without also starting a global SDK, so its env helpers are imported from their module.
import {
  getOtlpMetricExporterFromEnv,
  getPeriodicExportingMetricReaderFromEnv,
  getSpanProcessorsFromEnv
} from "@opentelemetry/sdk-node/build/src/utils.js"
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/**
 * The signals the environment selects for export.
 *
 * @since 0.1.0
 * @category configuration
 */
export interface Signals {
  readonly traces: boolean
  readonly metrics: boolean
}

const isSet = (value: string | undefined) => value !== undefined && value.trim() !== ""

/**
 * Reads from an environment which signals are exported: a signal is on when
 * its endpoint or the shared endpoint is set and its exporter is not `none`.
 *
 * @since 0.1.0
 * @category configuration
 */
export const signalsFromEnv = (env: Readonly<Record<string, string | undefined>>): Signals => {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === "true") return { traces: false, metrics: false }
  const shared = isSet(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  return {
    traces: (shared || isSet(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)) && env.OTEL_TRACES_EXPORTER?.trim() !== "none",
    metrics: (shared || isSet(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)) && env.OTEL_METRICS_EXPORTER?.trim() !== "none"
  }
}

/**
 * Installs OpenTelemetry with explicit span processors and metric readers,
 * for tests (an in-memory exporter) or programs that build their own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWith = (options: {
  readonly spanProcessor?: SpanProcessor | ReadonlyArray<SpanProcessor> | undefined
  readonly metricReader?: MetricReader | ReadonlyArray<MetricReader> | undefined
  readonly serviceName?: string | undefined
  readonly serviceVersion?: string | undefined
}): Layer.Layer<never> =>
  NodeSdk.layer(() => ({
    spanProcessor: options.spanProcessor,
    metricReader: options.metricReader,
    resource: {
      serviceName: options.serviceName ?? "pd-relay",
      ...(options.serviceVersion === undefined ? {} : { serviceVersion: options.serviceVersion })
    }
  }))

/**
 * Installs OTLP export as the environment configures it, or nothing when no
 * endpoint is set. Pass `process.env`.
 *
 * NOTE: the decision to export reads `env`, but the exporters themselves read
 * `process.env`, as `@opentelemetry/sdk-node` does. Pass `process.env` so
 * both agree.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  env: Readonly<Record<string, string | undefined>>,
  options?: { readonly serviceVersion?: string | undefined }
): Layer.Layer<never> => {
  const signals = signalsFromEnv(env)
  if (!signals.traces && !signals.metrics) return Layer.empty
  // Exporters are built when the layer is, not when it is defined.
  return Layer.unwrap(Effect.sync(() => {
    const spanProcessor = signals.traces ? (getSpanProcessorsFromEnv(undefined) as Array<SpanProcessor>) : []
    const metricReader = signals.metrics
      ? [getPeriodicExportingMetricReaderFromEnv(getOtlpMetricExporterFromEnv()) as MetricReader]
      : []
    return layerWith({
      spanProcessor,
      metricReader,
      serviceName: env.OTEL_SERVICE_NAME ?? "pd-relay",
      serviceVersion: options?.serviceVersion
    })
  }))
}
