/**
 * The `webhook` command of the relay: `webhook verify` checks a saved
 * PagerDuty v3 delivery against a signing secret.
 *
 * ```sh
 * pd-relay webhook verify --secret-file secret.txt --signature 'v1=…' --body body.json
 * PAGERDUTY_WEBHOOK_SECRET=… pd-relay webhook verify --signature 'v1=…' --body body.json
 * ```
 *
 * The secret comes from a file or from `PAGERDUTY_WEBHOOK_SECRET`, never from
 * an argument, so it stays out of shell history and process listings. A
 * secret file may hold one secret per line, to check a delivery signed
 * during a rotation. The command prints `valid` and exits 0, or prints the
 * reason and exits 1.
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Webhook from "@effect-pagerduty/pagerduty/Webhook"
import * as Arr from "effect/Array"
import * as CliError from "effect/cli/CliError"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/**
 * The environment variable read when no `--secret-file` is given.
 *
 * @since 0.1.0
 * @category constants
 */
export const secretEnvironmentVariable = "PAGERDUTY_WEBHOOK_SECRET"

const userError = (message: string) => new CliError.UserError({ cause: new Error(message), userMessage: message })

const readSecrets = Effect.fnUntraced(function*(secretFile: Option.Option<string>) {
  if (Option.isSome(secretFile)) {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(secretFile.value).pipe(
      Effect.mapError(() => userError(`the secret file ${secretFile.value} could not be read; check its path`))
    )
    const secrets = text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length > 0)
    if (!Arr.isArrayNonEmpty(secrets)) {
      return yield* userError(`the secret file ${secretFile.value} is empty; write the signing secret into it`)
    }
    return Arr.map(secrets, (secret) => Redacted.make(secret))
  }
  const fromEnv = yield* Config.option(Config.Redacted(secretEnvironmentVariable)).pipe(
    Effect.mapError(() => userError(`${secretEnvironmentVariable} could not be read`))
  )
  if (Option.isNone(fromEnv) || Redacted.value(fromEnv.value).length === 0) {
    return yield* userError(`no signing secret: pass --secret-file or set ${secretEnvironmentVariable}`)
  }
  return Arr.make(fromEnv.value)
})

const verify = Command.make(
  "verify",
  {
    secretFile: Flag.File("secret-file", { mustExist: true }).pipe(
      Flag.withDescription(`File with the signing secret, one per line; default: $${secretEnvironmentVariable}`),
      Flag.optional
    ),
    signature: Flag.String("signature").pipe(
      Flag.withDescription("Value of the delivery's X-PagerDuty-Signature header")
    ),
    body: Flag.File("body", { mustExist: true }).pipe(
      Flag.withDescription("File with the delivery's raw body, byte for byte")
    )
  },
  Effect.fnUntraced(function*({ body, secretFile, signature }) {
    const secrets = yield* readSecrets(secretFile)
    const fs = yield* FileSystem.FileSystem
    const bytes = yield* fs.readFile(body).pipe(
      Effect.mapError(() => userError(`the body file ${body} could not be read; check its path`))
    )
    yield* Webhook.verify({ body: bytes, signatureHeader: signature, secrets, maxBodyBytes: Number.MAX_SAFE_INTEGER })
      .pipe(
        Effect.provide(Mac.layerWebCrypto.pipe(Layer.provide(SecureRandom.layerWebCrypto))),
        Effect.mapError((error) => userError(`invalid: ${error.message}`))
      )
    yield* Console.log(`valid: the signature matches ${bytes.length} bytes of body`)
  })
).pipe(Command.withDescription("Check a PagerDuty v3 webhook delivery's signature against its raw body"))

/**
 * `webhook` with its `verify` subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("webhook").pipe(
  Command.withDescription("PagerDuty v3 webhook tools"),
  Command.withSubcommands([verify])
)
