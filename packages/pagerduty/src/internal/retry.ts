import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"

/**
 * Waits for the longer of the schedule's delay and the hint read from the
 * input (a `retryAfter` the server or the breaker supplied), capped at `cap`.
 * The schedule's own end still ends the retries.
 */
export const honouringHint = <Output, Input, E, R>(
  schedule: Schedule.Schedule<Output, Input, E, R>,
  hintOf: (input: Input) => Duration.Duration | undefined,
  cap: Duration.Duration
): Schedule.Schedule<Output, Input, E, R> =>
  Schedule.fromStep(
    Effect.map(Schedule.toStep(schedule), (step) => (now: number, input: Input) => {
      const hint = hintOf(input)
      if (hint === undefined) return step(now, input)
      return Effect.map(step(now, input), ([output, delay]) =>
        [output, Duration.max(delay, Duration.min(hint, cap))] as [Output, Duration.Duration])
    })
  )
