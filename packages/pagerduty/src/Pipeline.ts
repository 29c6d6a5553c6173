/**
 * Typed pipelines of stages from an incoming payload to a delivered event.
 *
 * A `Pipeline<In, Out, E, R>` takes one `In` and emits zero or more `Out`
 * values (zero when a filter or the dedupe window drops it, several when a
 * stage fans out), may fail with `E` and needs the services `R`. Joining two
 * stages with {@link andThen} requires the first one's output to fit the
 * second one's input, so a pipeline that does not fit together fails to
 * compile, and the joined type states the union of errors and services.
 *
 * The relay is a pipeline built from these stages in the same way a user
 * builds their own:
 *
 * @example
 * ```ts
 * import { Alert, EventsV2, Outbox, Pipeline, Sources } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 * import { HttpRouter } from "effect/http"
 *
 * // Hands an event to the durable outbox; the sender gets its 2xx after this.
 * const offer = (event: EventsV2.AlertEvent) =>
 *   Effect.flatMap(Outbox.makeItem({ route: "default", event }), Outbox.offer)
 *
 * const relay = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
 *   Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
 *   Pipeline.andThen(Pipeline.filter((group: Alert.AlertGroup) => group.receiver !== "blackhole")),
 *   Pipeline.andThen(Pipeline.format({ defaultSeverity: "warning" })),
 *   Pipeline.andThen(Pipeline.dedupeWith(Pipeline.deliver(offer), { window: "5 minutes" })),
 *   Pipeline.audit((entry) => Effect.logDebug("relayed", entry._tag)),
 *   Pipeline.metrics("alertmanager")
 * )
 * // Pipeline<unknown, void,
 * //   PipelineError | SourceError | EventsV2Error | CacheError | OutboxError,
 * //   Digest | Cache | OutboxStore>
 *
 * const once = Pipeline.run(relay, JSON.parse(body))
 * const route = HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(relay))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Effect, Metric, Schema } from "effect"
import * as Digest from "effect/crypto/Digest"
import { dual } from "effect/Function"
import * as Alert from "./Alert.ts"
import * as Errors from "./Errors.ts"
import * as EventsV2 from "./EventsV2.ts"
import * as Format from "./Format.ts"
import { make, type Pipeline } from "./internal/pipelineCore.ts"

export {
  /**
   * @since 0.1.0
   * @category composition
   */
  andThen,
  /**
   * @since 0.1.0
   * @category stages
   */
  identity,
  /**
   * @since 0.1.0
   * @category guards
   */
  isPipeline,
  /**
   * @since 0.1.0
   * @category constructors
   */
  make,
  /**
   * @since 0.1.0
   * @category models
   */
  type Pipeline,
  /**
   * @since 0.1.0
   * @category type ids
   */
  TypeId
} from "./internal/pipelineCore.ts"

export {
  /**
   * @since 0.1.0
   * @category http
   */
  type HttpHandlerOptions,
  /**
   * @since 0.1.0
   * @category running
   */
  type ItemResult,
  /**
   * @since 0.1.0
   * @category running
   */
  run,
  /**
   * @since 0.1.0
   * @category running
   */
  runStream,
  /**
   * @since 0.1.0
   * @category running
   */
  type RunStreamOptions,
  /**
   * @since 0.1.0
   * @category http
   */
  toHttpHandler
} from "./internal/pipelineRun.ts"

export {
  /**
   * @since 0.1.0
   * @category stages
   */
  dedupe,
  /**
   * @since 0.1.0
   * @category options
   */
  type DedupeOptions,
  /**
   * @since 0.1.0
   * @category stages
   */
  dedupeWith
} from "./internal/pipelineDedupe.ts"

// -----------------------------------------------------------------------------
// Errors
// -----------------------------------------------------------------------------

/**
 * The input does not match the decode stage's schema.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInput extends Schema.TaggedClass<InvalidInput>()("InvalidInput", {
  stage: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `pipeline stage ${this.stage} rejected its input: ${this.detail}; fix the payload the sender posts`
  }
}

/**
 * The error raised by the pipeline's own stages.
 *
 * @since 0.1.0
 * @category errors
 */
export class PipelineError extends Schema.TaggedError<PipelineError>()("PipelineError", {
  reason: Schema.Union([InvalidInput])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

// -----------------------------------------------------------------------------
// Stages
// -----------------------------------------------------------------------------

/**
 * A stage that decodes an unknown input with a schema.
 *
 * @since 0.1.0
 * @category stages
 */
export const decode = <S extends Schema.Top>(
  schema: S,
  name = "decode"
): Pipeline<unknown, S["Type"], PipelineError, S["DecodingServices"]> => {
  const decodeUnknown = Schema.decodeUnknownEffect(schema)
  return make(name, (input: unknown) =>
    decodeUnknown(input).pipe(
      Effect.map((value) => [value]),
      Effect.mapError((error) =>
        new PipelineError({ reason: new InvalidInput({ stage: name, detail: error.message }) })
      )
    ))
}

/**
 * A stage that maps each input to one output with an effect.
 *
 * @since 0.1.0
 * @category stages
 */
export const transform = <A, B, E = never, R = never>(
  f: (input: A) => Effect.Effect<B, E, R>,
  name = "transform"
): Pipeline<A, B, E, R> => make(name, (input: A) => Effect.map(f(input), (output) => [output]))

/**
 * A stage that maps each input to one output with a pure function.
 *
 * @since 0.1.0
 * @category stages
 */
export const map = <A, B>(f: (input: A) => B, name = "map"): Pipeline<A, B> =>
  make(name, (input: A) => Effect.succeed([f(input)]))

/**
 * A stage that maps each input to any number of outputs, for example a group
 * to its alerts.
 *
 * @since 0.1.0
 * @category stages
 */
export const expand = <A, B, E = never, R = never>(
  f: (input: A) => Effect.Effect<Iterable<B>, E, R>,
  name = "expand"
): Pipeline<A, B, E, R> => make(name, (input: A) => Effect.map(f(input), (outputs) => Array.from(outputs)))

/**
 * A stage that keeps the inputs for which the predicate is true and drops the
 * others. A refinement narrows the output type.
 *
 * @since 0.1.0
 * @category stages
 */
export const filter: {
  <A, B extends A>(refinement: (input: A) => input is B, name?: string): Pipeline<A, B>
  <A>(predicate: (input: A) => boolean, name?: string): Pipeline<A, A>
} = <A>(predicate: (input: A) => boolean, name = "filter"): Pipeline<A, A> =>
  make(name, (input: A) => Effect.succeed(predicate(input) ? [input] : []))

/**
 * A stage that keeps the inputs for which an effectful predicate succeeds
 * with `true`.
 *
 * @since 0.1.0
 * @category stages
 */
export const filterEffect = <A, E = never, R = never>(
  predicate: (input: A) => Effect.Effect<boolean, E, R>,
  name = "filter"
): Pipeline<A, A, E, R> => make(name, (input: A) => Effect.map(predicate(input), (keep) => (keep ? [input] : [])))

/**
 * A stage that formats an alert group as Events API v2 events (see
 * `Format.events`) and passes each through `EventsV2.prepare`, so later
 * stages see the event exactly as it will be sent.
 *
 * @since 0.1.0
 * @category stages
 */
export const format = (
  options: Format.Options = {}
): Pipeline<Alert.AlertGroup, EventsV2.Trigger | EventsV2.Resolve, EventsV2.EventsV2Error, Digest.Digest> =>
  make("format", (group: Alert.AlertGroup) =>
    Effect.flatMap(
      Format.events(group, options),
      (events) => Effect.forEach(events, (event) => Effect.map(EventsV2.prepare(event), (prepared) => prepared.event))
    ))

/**
 * A stage that hands each input to a delivery function, such as
 * `EventsClient.send` or an outbox's `offer`, and emits its result.
 *
 * @since 0.1.0
 * @category stages
 */
export const deliver = <A, B, E = never, R = never>(
  send: (input: A) => Effect.Effect<B, E, R>
): Pipeline<A, B, E, R> => transform(send, "deliver")

/**
 * Wraps a pipeline's effect with a user policy, such as a retry schedule, a
 * timeout or a rate limiter. The policy receives the effect of one run and
 * the input, and returns the effect to run instead.
 *
 * @example
 * ```ts
 * const retried = Pipeline.policy(deliverStage, (effect) => Effect.retry(effect, Schedule.exponential("1 second")))
 * ```
 *
 * @since 0.1.0
 * @category policies
 */
export const policy: {
  <A, B, E, R, E2, R2>(
    apply: (effect: Effect.Effect<ReadonlyArray<B>, E, R>, input: A) => Effect.Effect<ReadonlyArray<B>, E2, R2>
  ): (self: Pipeline<A, B, E, R>) => Pipeline<A, B, E2, R2>
  <A, B, E, R, E2, R2>(
    self: Pipeline<A, B, E, R>,
    apply: (effect: Effect.Effect<ReadonlyArray<B>, E, R>, input: A) => Effect.Effect<ReadonlyArray<B>, E2, R2>
  ): Pipeline<A, B, E2, R2>
} = dual(2, <A, B, E, R, E2, R2>(
  self: Pipeline<A, B, E, R>,
  apply: (effect: Effect.Effect<ReadonlyArray<B>, E, R>, input: A) => Effect.Effect<ReadonlyArray<B>, E2, R2>
): Pipeline<A, B, E2, R2> => make(self.name, (input: A) => apply(self.run(input), input)))

/**
 * A stage that runs an effect for each value and passes the value on.
 *
 * @since 0.1.0
 * @category taps
 */
export const tap = <A, E = never, R = never>(
  f: (value: A) => Effect.Effect<unknown, E, R>,
  name = "tap"
): Pipeline<A, A, E, R> => make(name, (value: A) => Effect.as(f(value), [value]))

/**
 * The audit record of one run of a wrapped pipeline.
 *
 * @since 0.1.0
 * @category taps
 */
export type AuditEntry<In, Out, E> =
  | { readonly _tag: "Emitted"; readonly pipeline: string; readonly input: In; readonly outputs: ReadonlyArray<Out> }
  | { readonly _tag: "Failed"; readonly pipeline: string; readonly input: In; readonly error: E }

/**
 * Wraps a pipeline so that every run is recorded: its input with its outputs
 * (none when the input was dropped), or its input with the typed error. The
 * pipeline's own result is returned unchanged; a failing sink fails the run.
 *
 * @since 0.1.0
 * @category taps
 */
export const audit: {
  <A, B, E, E2, R2>(
    sink: (entry: AuditEntry<A, B, E>) => Effect.Effect<void, E2, R2>
  ): <R>(self: Pipeline<A, B, E, R>) => Pipeline<A, B, E | E2, R | R2>
  <A, B, E, R, E2, R2>(
    self: Pipeline<A, B, E, R>,
    sink: (entry: AuditEntry<A, B, E>) => Effect.Effect<void, E2, R2>
  ): Pipeline<A, B, E | E2, R | R2>
} = dual(2, <A, B, E, R, E2, R2>(
  self: Pipeline<A, B, E, R>,
  sink: (entry: AuditEntry<A, B, E>) => Effect.Effect<void, E2, R2>
): Pipeline<A, B, E | E2, R | R2> =>
  make(self.name, (input: A) =>
    self.run(input).pipe(
      Effect.tapError((error) => sink({ _tag: "Failed", pipeline: self.name, input, error })),
      Effect.tap((outputs) => sink({ _tag: "Emitted", pipeline: self.name, input, outputs }))
    )))

/**
 * The counter the metrics tap updates, with the attributes `pipeline` and
 * `outcome` (`emitted`, `dropped` or `failed`).
 *
 * @since 0.1.0
 * @category taps
 */
export const runsTotal = Metric.counter("effect_pagerduty_pipeline_runs_total", {
  description: "Pipeline runs by outcome: emitted at least one output, dropped the input, or failed",
  incremental: true
})

/**
 * Wraps a pipeline so that every run increments {@link runsTotal} under the
 * given pipeline name and the run's outcome.
 *
 * @since 0.1.0
 * @category taps
 */
export const metrics: {
  (name: string): <A, B, E, R>(self: Pipeline<A, B, E, R>) => Pipeline<A, B, E, R>
  <A, B, E, R>(self: Pipeline<A, B, E, R>, name: string): Pipeline<A, B, E, R>
} = dual(2, <A, B, E, R>(self: Pipeline<A, B, E, R>, name: string): Pipeline<A, B, E, R> => {
  const count = (outcome: "emitted" | "dropped" | "failed") =>
    Metric.update(Metric.withAttributes(runsTotal, { pipeline: name, outcome }), 1)
  return make(self.name, (input: A) =>
    self.run(input).pipe(
      Effect.tap((outputs) => count(outputs.length > 0 ? "emitted" : "dropped")),
      Effect.tapError(() => count("failed"))
    ))
})
