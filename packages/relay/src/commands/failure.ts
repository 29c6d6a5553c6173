/**
 * The failure of a command that has already printed its problems.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Runtime from "effect/Runtime"

/**
 * A command failure whose message was already written to standard error, so
 * the main runner exits with status 1 without logging it again.
 *
 * @since 0.1.0
 * @category errors
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{ readonly message: string }> {
  override readonly [Runtime.errorExitCode] = 1
  override readonly [Runtime.errorReported] = false
}
