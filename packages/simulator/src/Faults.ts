/**
 * Fault injection: scripted misbehaviour per request path, to test how
 * clients cope with errors, slowness and broken connections.
 *
 * A {@link Script} applies to one path (or `*` for every path) and runs its
 * {@link Step}s in order. A step injects one {@link Fault} and lasts for its
 * next `times` requests, for `seconds` seconds, or, with neither, until the
 * script is replaced. With `probability`, each request during the step gets
 * the fault only with that chance, and the others pass through. The chance is
 * drawn from a generator seeded by the script's `seed`, so runs repeat exactly. After
 * the last step requests pass through, unless `repeat` starts the steps over.
 *
 * The control API's own paths (`/_sim/...`) are never faulted.
 *
 * @example
 * ```ts
 * import { Faults } from "@effect-pagerduty/simulator"
 *
 * // Two 503s, then one dropped connection, then normal service.
 * const script: Faults.Script = {
 *   path: "/v2/enqueue",
 *   steps: [
 *     { fault: { _tag: "Respond", status: 503 }, times: 2 },
 *     { fault: { _tag: "Disconnect", mode: "reset" }, times: 1 }
 *   ]
 * }
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Random from "effect/Random"
import * as Schema from "effect/Schema"

/**
 * Responds with the given status, body and headers instead of the real
 * response. A string body is sent as it is (`text/plain` unless a
 * `content-type` header is given) and any other body as JSON. Without a body
 * the response is empty.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Respond = Schema.TaggedStruct("Respond", {
  status: Schema.Int.check(Schema.isBetween({ minimum: 100, maximum: 599 })),
  body: Schema.optionalKey(Schema.Unknown),
  headers: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  delayMillis: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})

/**
 * Waits `millis` milliseconds, then lets the request through to the real
 * handler.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Delay = Schema.TaggedStruct("Delay", {
  millis: Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))
})

/**
 * Closes the connection without a response: `close` ends it with a FIN,
 * `reset` (the default) aborts it with a TCP RST.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Disconnect = Schema.TaggedStruct("Disconnect", {
  mode: Schema.optionalKey(Schema.Literals(["close", "reset"])),
  delayMillis: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0)))
})

/**
 * Lets the request through unchanged; useful as a step between faults.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PassThrough = Schema.TaggedStruct("PassThrough", {})

/**
 * One kind of misbehaviour.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Fault = Schema.Union([Respond, Delay, Disconnect, PassThrough])

/**
 * @since 0.1.0
 * @category models
 */
export type Fault = typeof Fault.Type

/**
 * A fault and how long it lasts.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Step = Schema.Struct({
  fault: Fault,
  /** The step ends after this many requests. */
  times: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
  /** The step ends this many seconds after it started. */
  seconds: Schema.optionalKey(Schema.Finite.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Chance, from 0 to 1, that a request during the step gets the fault. Default 1. */
  probability: Schema.optionalKey(Schema.Finite.check(Schema.isBetween({ minimum: 0, maximum: 1 })))
})

/**
 * @since 0.1.0
 * @category models
 */
export type Step = typeof Step.Type

/**
 * The steps injected on one path.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Script = Schema.Struct({
  /** A request path such as `/v2/enqueue` (query excluded), or `*` for every path without its own script. */
  path: Schema.String,
  steps: Schema.Array(Step),
  /** Seed of the generator behind `probability`. Default 0. */
  seed: Schema.optionalKey(Schema.Union([Schema.Finite, Schema.String])),
  /** Starts the steps over after the last one. Default false. */
  repeat: Schema.optionalKey(Schema.Boolean)
})

/**
 * @since 0.1.0
 * @category models
 */
export type Script = typeof Script.Type

/**
 * A fault that was injected, kept for inspection.
 *
 * @since 0.1.0
 * @category models
 */
export interface Injection {
  readonly method: string
  readonly path: string
  readonly fault: Fault
  readonly at: DateTime.Utc
}

/**
 * The fault scripts in force and the faults injected so far.
 *
 * @since 0.1.0
 * @category services
 */
export class Faults extends Context.Service<Faults, {
  /** Replaces the scripts of the paths named in `scripts`; scripts of other paths stay. */
  readonly set: (scripts: ReadonlyArray<Script>) => Effect.Effect<void>
  /** Removes the script of `path`, or every script without `path`. */
  readonly clear: (path?: string) => Effect.Effect<void>
  /** Lists the scripts in force. */
  readonly scripts: Effect.Effect<ReadonlyArray<Script>>
  /** Chooses the fault for one request and advances its script. */
  readonly next: (method: string, path: string) => Effect.Effect<Fault>
  /** Lists the injected faults in order; pass-throughs are not listed. */
  readonly injections: Effect.Effect<ReadonlyArray<Injection>>
  /** Forgets the list of injected faults. */
  readonly clearInjections: Effect.Effect<void>
}>()("@effect-pagerduty/simulator/Faults") {}

const passThrough: Fault = { _tag: "PassThrough" }

interface Running {
  readonly script: Script
  readonly random: Random.Random
  step: number
  startedAt: number
  remaining: number | undefined
}

const checkScripts = (scripts: ReadonlyArray<Script>): void => {
  for (const script of scripts) {
    try {
      Schema.decodeUnknownSync(Script)(script)
    } catch (cause) {
      throw new RangeError(`fault script for path ${JSON.stringify(script.path)} is invalid: ${String(cause)}`)
    }
  }
}

/**
 * Builds a {@link Faults} service holding `initial`.
 *
 * Throws a `RangeError` when a script does not match {@link Script}.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (initial: ReadonlyArray<Script> = []): Effect.Effect<Faults["Service"]> => {
  checkScripts(initial)
  return Effect.gen(function*() {
    const running = new Map<string, Running>()
    let injections: Array<Injection> = []

    const start = Effect.fnUntraced(function*(script: Script) {
      const now = yield* Clock.currentTimeMillis
      const random = yield* Random.Random.pipe(Random.withSeed(script.seed ?? 0))
      running.set(script.path, {
        script,
        random,
        step: 0,
        startedAt: now,
        remaining: script.steps[0]?.times
      })
    })

    const advance = (state: Running, at: number): void => {
      state.step++
      if (state.step >= state.script.steps.length && state.script.repeat === true) state.step = 0
      state.startedAt = at
      state.remaining = state.script.steps[state.step]?.times
    }

    // Length of one pass over a repeating script whose steps all end by time alone, else undefined.
    const cycleMillis = (script: Script): number | undefined => {
      if (script.repeat !== true) return undefined
      let total = 0
      for (const step of script.steps) {
        if (step.seconds === undefined || step.times !== undefined) return undefined
        total += step.seconds * 1000
      }
      return total > 0 ? total : undefined
    }

    const currentStep = (state: Running, now: number): Step | undefined => {
      // Whole passes of a timed repeating script are skipped at once, because every pass takes
      // the same time whichever step it starts from.
      const cycle = cycleMillis(state.script)
      if (cycle !== undefined && now - state.startedAt >= cycle) {
        state.startedAt += Math.floor((now - state.startedAt) / cycle) * cycle
      }
      // Skips steps whose time is up. The loop is bounded by the number of steps, because a
      // repeating script whose steps last 0 seconds could otherwise skip forever.
      for (let guard = 0; guard <= state.script.steps.length; guard++) {
        const step = state.script.steps[state.step]
        if (step === undefined) return undefined
        if (step.seconds === undefined || now < state.startedAt + step.seconds * 1000) return step
        advance(state, state.startedAt + step.seconds * 1000)
      }
      return undefined
    }

    const next = Effect.fnUntraced(function*(method: string, path: string) {
      const state = running.get(path) ?? running.get("*")
      if (state === undefined) return passThrough
      const now = yield* Clock.currentTimeMillis
      const step = currentStep(state, now)
      if (step === undefined) return passThrough
      if (state.remaining !== undefined) {
        state.remaining--
        if (state.remaining <= 0) advance(state, now)
      }
      const fires = step.probability === undefined || state.random.nextDoubleUnsafe() < step.probability
      if (!fires || step.fault._tag === "PassThrough") return passThrough
      const at = yield* DateTime.now
      injections.push({ method, path, fault: step.fault, at })
      return step.fault
    })

    yield* Effect.forEach(initial, start, { discard: true })

    return Faults.of({
      set: (scripts) =>
        Effect.suspend(() => {
          checkScripts(scripts)
          return Effect.forEach(scripts, start, { discard: true })
        }),
      clear: (path) =>
        Effect.sync(() => {
          if (path === undefined) running.clear()
          else running.delete(path)
        }),
      scripts: Effect.sync(() => Array.from(running.values(), (state) => state.script)),
      next,
      injections: Effect.sync(() => injections.slice()),
      clearInjections: Effect.sync(() => {
        injections = []
      })
    })
  })
}

/**
 * Provides a {@link Faults} service holding `initial`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (initial: ReadonlyArray<Script> = []): Layer.Layer<Faults> => {
  checkScripts(initial)
  return Layer.effect(Faults, make(initial))
}
