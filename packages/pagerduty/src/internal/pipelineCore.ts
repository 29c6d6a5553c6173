import { Effect } from "effect"
import { dual } from "effect/Function"
import * as Pipeable from "effect/Pipeable"

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
