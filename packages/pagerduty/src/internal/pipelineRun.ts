import { Effect, Stream } from "effect"
import { dual } from "effect/Function"
import * as HttpServerRequest from "effect/http/HttpServerRequest"
import * as HttpServerResponse from "effect/http/HttpServerResponse"
import * as Errors from "../Errors.ts"
import type { Pipeline } from "./pipelineCore.ts"

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
