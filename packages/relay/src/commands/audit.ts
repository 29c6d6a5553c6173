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
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { CommandFailed } from "./failure.ts"

const readChainKey = (file: string) =>
  FileSystem.FileSystem.use((fs) => fs.readFileString(file)).pipe(
    // One trailing line break is dropped, because editors and `echo` add it.
    Effect.map((text) => Redacted.make(text.replace(/\r?\n$/, ""))),
    Effect.catch((error) => {
      const message = `could not read the chain key from ${file}: ${error.message}`
      return Effect.andThen(Console.error(message), Effect.fail(new CommandFailed({ message })))
    })
  )

/**
 * Verifies an audit file, printing the number of records and the head when
 * the chain is intact, and the first broken record otherwise.
 *
 * @since 0.1.0
 * @category handlers
 */
export const verify = Effect.fnUntraced(function*(file: string, chainKeyFile?: string | undefined) {
  const chainKey = chainKeyFile === undefined ? undefined : yield* readChainKey(chainKeyFile)
  const result = yield* Audit.verifyFile(file, { chainKey }).pipe(
    Effect.provide(
      Layer.merge(Digest.layerWebCrypto, Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto)))
    ),
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
  // A relay writes a record when it loads its configuration, so a file it wrote is never empty.
  if (result.records === 0) {
    const message = `audit file ${file} holds no records: a relay's audit file starts with config.loaded, ` +
      "so an empty file was never written by a relay or has had every record removed"
    yield* Console.error(message)
    return yield* new CommandFailed({ message })
  }
  yield* Console.log(
    `audit file ${file} is intact: ${result.records} records, last record ${result.head.seq} with hash ${result.head.hash}`
  )
})

/**
 * `audit verify --file F [--chain-key-file K]`, exiting with status 1 when the
 * chain is broken.
 *
 * NOTE: records removed from the end of a file leave an intact shorter chain.
 * Comparing the printed head with one noted earlier detects that.
 *
 * @since 0.1.0
 * @category commands
 */
export const verifyCommand = Command.make(
  "verify",
  {
    file: Flag.String("file").pipe(Flag.withAlias("f"), Flag.withDescription("Path of the JSON Lines audit file")),
    chainKeyFile: Flag.String("chain-key-file").pipe(
      Flag.withDescription("File holding audit.chain_key, for chains written with HMAC-SHA-256"),
      Flag.optional
    )
  },
  ({ chainKeyFile, file }) => verify(file, Option.getOrUndefined(chainKeyFile))
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
