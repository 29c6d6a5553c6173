/**
 * `secret seal`: encrypts a secret with the configuration's current key, for
 * pasting into a configuration file in place of the plain value.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Crypto from "@effect-pagerduty/pagerduty/Crypto"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import { configFlag } from "./config.ts"
import { CommandFailed } from "./failure.ts"

const fail = (message: string) => Effect.andThen(Console.error(message), Effect.fail(new CommandFailed({ message })))

// One trailing line break is dropped, because `echo` and editors add it.
const stripLineBreak = (text: string) => text.replace(/\r?\n$/, "")

const readSecret = (
  file: string | undefined
): Effect.Effect<string, PlatformError.PlatformError, Stdio.Stdio | FileSystem.FileSystem> =>
  file === undefined
    ? Stdio.Stdio.use((stdio) => stdio.stdin.pipe(Stream.decodeText(), Stream.mkString))
    : FileSystem.FileSystem.use((fs) => fs.readFileString(file))

/**
 * Reads a secret from standard input or a file and prints it sealed with the
 * current key of the configuration's `keys` section.
 *
 * Only the `keys` section of the file must be valid, so a file can be sealed
 * into piece by piece.
 *
 * @since 0.1.0
 * @category handlers
 */
export const seal = Effect.fnUntraced(function*(options: {
  readonly config: string | undefined
  readonly file: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}) {
  const ring = yield* Config.loadKeyRing({ file: options.config, env: options.env }).pipe(
    Effect.catch((error) => fail(error.message))
  )
  const text = yield* readSecret(options.file).pipe(
    Effect.catch((error) =>
      fail(`could not read the secret from ${options.file ?? "standard input"}: ${error.message}`)
    )
  )
  const secret = stripLineBreak(text)
  if (secret === "") return yield* fail(`the secret from ${options.file ?? "standard input"} is empty`)
  const sealed = yield* Crypto.seal(ring, secret).pipe(
    Effect.provide(Crypto.layerWebCrypto),
    Effect.catch((error) => fail(error.message))
  )
  yield* Console.log(sealed)
})

/**
 * `secret seal [--config FILE] [--file F]`.
 *
 * The secret is never taken from an argument, where it would be kept in the
 * shell history and shown in the process list.
 *
 * @since 0.1.0
 * @category commands
 */
export const sealCommand = Command.make(
  "seal",
  {
    config: configFlag,
    file: Flag.String("file").pipe(
      Flag.withAlias("f"),
      Flag.withDescription("File holding the secret; without it the secret is read from standard input"),
      Flag.optional
    )
  },
  ({ config, file }) =>
    seal({ config: Option.getOrUndefined(config), file: Option.getOrUndefined(file), env: process.env })
).pipe(
  Command.withDescription("Seal a secret with the configuration's current key and print the sealed value"),
  Command.withExamples([{
    command: "pd-relay secret seal --config relay.yaml < routing-key.txt",
    description: "Seal a routing key kept in a file"
  }])
)

/**
 * The `secret` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("secret").pipe(
  Command.withDescription("Seal secrets for the configuration file"),
  Command.withSubcommands([sealCommand])
)
