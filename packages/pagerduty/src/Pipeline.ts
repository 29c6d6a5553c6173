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
 * import { EventsClient, Pipeline, Sources } from "@effect-pagerduty/pagerduty"
 *
 * const relay = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
 *   Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
 *   Pipeline.andThen(Pipeline.filter((group) => group.receiver !== "blackhole")),
 *   Pipeline.andThen(Pipeline.format({ defaultSeverity: "warning" })),
 *   Pipeline.andThen(Pipeline.dedupe({ window: "5 minutes" })),
 *   Pipeline.andThen(Pipeline.deliver((event) => EventsClient.send(event))),
 *   Pipeline.audit((entry) => Audit.record(entry)),
 *   Pipeline.metrics("alertmanager")
 * )
 * // Pipeline<unknown, EventsClient.Response, SourceError | PipelineError | EventsClientError,
 * //          Digest | DedupeStore | EventsClient>
 *
 * const once = Pipeline.run(relay, JSON.parse(body))
 * const route = HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(relay))
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Duration, Effect, Metric, Schema, Stream } from "effect"
import * as Digest from "effect/crypto/Digest"
import { dual } from "effect/Function"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Pipeable from "effect/Pipeable"
import * as Alert from "./Alert.ts"
import * as DedupeStore from "./DedupeStore.ts"
import * as Errors from "./Errors.ts"
import * as Format from "./Format.ts"
import { canonicalJson } from "./internal/canonicalJson.ts"
import * as EventsV2 from "./internal/eventsShape.ts"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId = "~effect-pagerduty/Pipeline" as const

/**
 * A stage, or a composition of stages, from one `In` to zero or more `Out`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pipeline<in In, out Out, out E = never, out R = never> extends Pipeable.Pipeable {
  readonly [TypeId]: {
    readonly _In: (_: In) => void
    readonly _Out: () => Out
    readonly _E: () => E
    readonly _R: () => R
  }
  /** The stage names, joined by ` > ` in a composition; used for spans and metrics. */
  readonly name: string
  readonly run: (input: In) => Effect.Effect<ReadonlyArray<Out>, E, R>
}

const variance = { _In: () => {}, _Out: () => undefined, _E: () => undefined, _R: () => undefined }

/**
 * Makes a stage from a function that emits any number of outputs for one input.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <In, Out, E = never, R = never>(
  name: string,
  run: (input: In) => Effect.Effect<ReadonlyArray<Out>, E, R>
): Pipeline<In, Out, E, R> => {
  const self = Object.create(Pipeable.Prototype)
  self[TypeId] = variance
  self.name = name
  self.run = run
  return self
}

/**
 * Tells whether a value is a pipeline.
 *
 * @since 0.1.0
 * @category guards
 */
export const isPipeline = (u: unknown): u is Pipeline<never, unknown, unknown, unknown> =>
  typeof u === "object" && u !== null && TypeId in u

/**
 * Joins two pipelines: every output of `self` becomes an input of `next`.
 *
 * @since 0.1.0
 * @category composition
 */
export const andThen: {
  <B, C, E2, R2>(
    next: Pipeline<B, C, E2, R2>
  ): <A, E1, R1>(self: Pipeline<A, B, E1, R1>) => Pipeline<A, C, E1 | E2, R1 | R2>
  <A, B, E1, R1, C, E2, R2>(
    self: Pipeline<A, B, E1, R1>,
    next: Pipeline<B, C, E2, R2>
  ): Pipeline<A, C, E1 | E2, R1 | R2>
} = dual(
  2,
  <A, B, E1, R1, C, E2, R2>(
    self: Pipeline<A, B, E1, R1>,
    next: Pipeline<B, C, E2, R2>
  ): Pipeline<A, C, E1 | E2, R1 | R2> =>
    make(`${self.name} > ${next.name}`, (input: A) =>
      Effect.flatMap(self.run(input), (outputs) =>
        Effect.map(
          Effect.forEach(outputs, (output) => next.run(output)),
          (nested) => nested.flat()
        )))
)

/**
 * A stage that emits its input unchanged; a starting point for a pipeline of a
 * known input type.
 *
 * @since 0.1.0
 * @category stages
 */
export const identity = <A>(): Pipeline<A, A> => make("identity", (input: A) => Effect.succeed([input]))

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
): Pipeline<Alert.AlertGroup, EventsV2.AlertEvent, never, Digest.Digest> =>
  make("format", (group: Alert.AlertGroup) =>
    Effect.flatMap(
      Format.events(group, options),
      (events) => Effect.forEach(events, (event) => Effect.map(EventsV2.prepare(event), (prepared) => prepared.event))
    ))

/**
 * Options of the dedupe stage.
 *
 * @since 0.1.0
 * @category options
 */
export interface DedupeOptions {
  /** How long a seen event suppresses its repeats. */
  readonly window: Duration.Input
  /** Prefix of the store keys, so that several pipelines can share one store. */
  readonly namespace?: string | undefined
}

const encoder = new TextEncoder()

/**
 * A stage that drops an event when an event with the same `dedup_key`, the
 * same `event_action` and the same content passed within the window.
 *
 * Details: the store key is the SHA-256 of the event's canonical JSON (keys
 * sorted at every level), and the event contains its dedup key and action,
 * so the three must all match. The window starts when an event first passes
 * and is not extended by the repeats it drops. An event that differs in any
 * field, a `trigger` after a `resolve` for example, passes.
 *
 * Gotchas: place it after {@link format}, whose output is the prepared
 * event, so that two events compare equal exactly when they would be sent
 * equal.
 *
 * @since 0.1.0
 * @category stages
 */
export const dedupe = <A extends EventsV2.AlertEvent>(
  options: DedupeOptions
): Pipeline<A, A, never, DedupeStore.DedupeStore | Digest.Digest> => {
  const namespace = options.namespace ?? "pipeline-dedupe"
  return make("dedupe", (event: A) =>
    Effect.gen(function*() {
      const digest = yield* Digest.Digest
      const store = yield* DedupeStore.DedupeStore
      const hash = yield* digest.digestHex(Digest.sha256, encoder.encode(canonicalJson(event)))
      const first = yield* store.setIfAbsent(`${namespace}:${hash}`, options.window)
      return first ? [event] : []
    }))
}

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

// -----------------------------------------------------------------------------
// Running
// -----------------------------------------------------------------------------

/**
 * Runs a pipeline on one input and returns its outputs; an empty array means
 * a stage dropped the input.
 *
 * @since 0.1.0
 * @category running
 */
export const run: {
  <A>(input: A): <B, E, R>(self: Pipeline<A, B, E, R>) => Effect.Effect<ReadonlyArray<B>, E, R>
  <A, B, E, R>(self: Pipeline<A, B, E, R>, input: A): Effect.Effect<ReadonlyArray<B>, E, R>
} = dual(
  2,
  <A, B, E, R>(self: Pipeline<A, B, E, R>, input: A): Effect.Effect<ReadonlyArray<B>, E, R> =>
    Effect.withSpan(self.run(input), "Pipeline.run", { attributes: { "pipeline.name": self.name } })
)

/**
 * The result of one stream item: its outputs, or the typed error it failed
 * with.
 *
 * @since 0.1.0
 * @category running
 */
export type ItemResult<In, Out, E> =
  | { readonly _tag: "Emitted"; readonly input: In; readonly outputs: ReadonlyArray<Out> }
  | { readonly _tag: "Failed"; readonly input: In; readonly error: E }

/**
 * Options of {@link runStream}.
 *
 * @since 0.1.0
 * @category running
 */
export interface RunStreamOptions {
  /** How many items run at once. Results keep the input order. Defaults to 1. */
  readonly concurrency?: number | undefined
}

/**
 * Runs a pipeline on every item of a stream and emits one result per item.
 * An item whose run fails becomes a `Failed` result carrying its typed error,
 * and the stream goes on with the next item. Defects and the stream's own
 * errors still end the stream.
 *
 * @since 0.1.0
 * @category running
 */
export const runStream: {
  <A, B, E, R>(
    self: Pipeline<A, B, E, R>,
    options?: RunStreamOptions
  ): <SE, SR>(stream: Stream.Stream<A, SE, SR>) => Stream.Stream<ItemResult<A, B, E>, SE, R | SR>
  <A, SE, SR, B, E, R>(
    stream: Stream.Stream<A, SE, SR>,
    self: Pipeline<A, B, E, R>,
    options?: RunStreamOptions
  ): Stream.Stream<ItemResult<A, B, E>, SE, R | SR>
} = dual(
  (args) => Stream.isStream(args[0]),
  <A, SE, SR, B, E, R>(
    stream: Stream.Stream<A, SE, SR>,
    self: Pipeline<A, B, E, R>,
    options?: RunStreamOptions
  ): Stream.Stream<ItemResult<A, B, E>, SE, R | SR> =>
    Stream.mapEffect(stream, (input) =>
      run(self, input).pipe(
        Effect.map((outputs): ItemResult<A, B, E> => ({ _tag: "Emitted", input, outputs })),
        Effect.catch((error: E) => Effect.succeed<ItemResult<A, B, E>>({ _tag: "Failed", input, error }))
      ), { concurrency: options?.concurrency ?? 1 })
)

/**
 * Options of {@link toHttpHandler}.
 *
 * @since 0.1.0
 * @category http
 */
export interface HttpHandlerOptions<Out> {
  /**
   * Builds the response after a successful run. Defaults to `202 Accepted`
   * with `{"status":"accepted","emitted":<number of outputs>}`.
   */
  readonly onSuccess?: ((outputs: ReadonlyArray<Out>) => HttpServerResponse.HttpServerResponse) | undefined
}

const failureResponse = (error: unknown): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
  const { httpStatus } = Errors.classify(error)
  if (Errors.isPagerDutyError(error)) {
    return Effect.succeed(
      HttpServerResponse.jsonUnsafe({ error: error._tag, reason: error.reason._tag, message: error.message }, {
        status: httpStatus
      })
    )
  }
  // A failure from outside the library may carry anything, so the response
  // names no detail and the cause goes to the log instead.
  return Effect.as(
    Effect.logError("pipeline run failed with an unclassified error", error),
    HttpServerResponse.jsonUnsafe({ error: "InternalError", message: "internal error" }, { status: httpStatus })
  )
}

/**
 * Serves a pipeline as an `effect/http` route handler: the request body is
 * parsed as JSON and run through the pipeline once.
 *
 * Details: a body that is not JSON gets `400`. A failed run gets the status
 * that `Errors.classify` gives its error, with the error's tag, reason and
 * message. An error from outside the library gets `500` with no detail, and
 * it is logged. Body size limits and authentication belong to the route or
 * server in front of the handler.
 *
 * @example
 * ```ts
 * import { HttpRouter } from "effect/http"
 *
 * const route = HttpRouter.add("POST", "/alertmanager", Pipeline.toHttpHandler(relay))
 * ```
 *
 * @since 0.1.0
 * @category http
 */
export const toHttpHandler = <B, E, R>(
  self: Pipeline<unknown, B, E, R>,
  options: HttpHandlerOptions<B> = {}
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R | HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const body = yield* Effect.result(request.json)
    if (body._tag === "Failure") {
      return HttpServerResponse.jsonUnsafe({
        error: "InvalidJson",
        message: "the request body is not valid JSON; send the payload as application/json"
      }, { status: 400 })
    }
    const outputs = yield* Effect.result(run(self, body.success))
    if (outputs._tag === "Failure") return yield* failureResponse(outputs.failure)
    return options.onSuccess === undefined
      ? HttpServerResponse.jsonUnsafe({ status: "accepted", emitted: outputs.success.length }, { status: 202 })
      : options.onSuccess(outputs.success)
  })
