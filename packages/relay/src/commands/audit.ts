/**
 * `audit verify`: checks the hash chain of a JSON Lines audit file.
 *
 * @since 0.1.0
 */
import * as Audit from "@effect-pagerduty/pagerduty/Audit"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Digest from "effect/crypto/Digest"
import * as Effect from "effect/Effect"
import { CommandFailed } from "./failure.ts"

/**
 * Verifies an audit file, printing the number of records and the head when
 * the chain is intact, and the first broken record otherwise.
 *
 * @since 0.1.0
 * @category handlers
 */
export const verify = Effect.fnUntraced(function*(file: string) {
  const result = yield* Audit.verifyFile(file).pipe(
    Effect.provide(Digest.layerWebCrypto),
    Effect.catch((error) => {
      const message = `could not read audit file ${file}: ${error.message}`
      return Effect.andThen(Console.error(message), Effect.fail(new CommandFailed({ message })))
    })
  )
  if (result._tag === "Broken") {
    const message = `audit file ${file} is broken at line ${result.line} (${result.problem}): ${result.message}`
    yield* Console.error(message)
    return yield* new CommandFailed({ message })
  }
  yield* Console.log(
    `audit file ${file} is intact: ${result.records} records, last record ${result.head.seq} with hash ${result.head.hash}`
  )
})

/**
 * `audit verify --file F`, exiting with status 1 when the chain is broken.
 *
 * NOTE: records removed from the end of a file leave an intact shorter chain;
 * compare the printed head with one noted earlier to detect that.
 *
 * @since 0.1.0
 * @category commands
 */
export const verifyCommand = Command.make(
  "verify",
  {
    file: Flag.String("file").pipe(Flag.withAlias("f"), Flag.withDescription("Path of the JSON Lines audit file"))
  },
  ({ file }) => verify(file)
).pipe(Command.withDescription("Check that no audit record was modified, removed or reordered"))

/**
 * The `audit` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("audit").pipe(
  Command.withDescription("Inspect audit records"),
  Command.withSubcommands([verifyCommand])
)
