import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import * as Errors from "../src/Errors.ts"

class Missing extends Schema.TaggedClass<Missing>()("Missing", { id: Schema.String }) {
  readonly retryable = false
  readonly httpStatus = 404
  readonly logLevel = "Info" as const
  get message() {
    return `thing ${this.id} not found`
  }
}

class Busy extends Schema.TaggedClass<Busy>()("Busy", { seconds: Schema.Number }) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Warn" as const
  get message() {
    return `busy, retry in ${this.seconds} s`
  }
}

class ThingError extends Schema.TaggedError<ThingError>()("ThingError", { reason: Schema.Union([Missing, Busy]) }) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

describe("Errors", () => {
  it("forwards the reason's facts", () => {
    const error = new ThingError({ reason: new Busy({ seconds: 3 }) })
    expect(error._tag).toBe("ThingError")
    expect(error.message).toBe("busy, retry in 3 s")
    expect(Errors.classify(error)).toEqual({ retryable: true, httpStatus: 503, logLevel: "Warn" })
    expect(Errors.isPagerDutyError(error)).toBe(true)
  })

  it("classifies foreign errors as internal", () => {
    expect(Errors.classify(new Error("x"))).toEqual({ retryable: false, httpStatus: 500, logLevel: "Error" })
    expect(Errors.classify(new ThingError({ reason: new Missing({ id: "a" }) }))).toEqual({
      retryable: false,
      httpStatus: 404,
      logLevel: "Info"
    })
  })

  it.effect("fails in Effect and is caught by reason", () =>
    Effect.gen(function*() {
      const result = yield* Effect.fail(new ThingError({ reason: new Missing({ id: "P1" }) })).pipe(
        Effect.catchReason("ThingError", "Missing", (reason) => Effect.succeed(reason.id))
      )
      expect(result).toBe("P1")
    }))
})
