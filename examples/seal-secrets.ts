/**
 * Keeps a routing key out of a configuration file in plain text. The example
 * generates an AES-256-GCM key, seals a routing key with it, and writes a
 * relay configuration whose `routing_key` is the sealed envelope and whose
 * `keys` section takes the key from an environment variable. It then loads
 * the file as the relay does (the routing key opens, and only its last 4
 * characters are printed) and runs `pd-relay config check` on it.
 *
 * Run from the repository root: `node examples/seal-secrets.ts`
 *
 * Nothing is sent anywhere: the file goes to a temporary directory, removed
 * at the end, and `config check` only loads and validates it.
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Crypto from "@effect-pagerduty/pagerduty/Crypto"
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Console from "effect/Console"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Effect from "effect/Effect"
import * as Base64 from "effect/encoding/Base64"
import * as FileSystem from "effect/FileSystem"
import * as Path from "effect/Path"
import * as Redacted from "effect/Redacted"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

// The relay's command line, found the way Node resolves the package.
const relayBin = fileURLToPath(import.meta.resolve("@effect-pagerduty/relay/bin"))

// Stands in for a routing key copied from a PagerDuty integration.
const routingKey = Redacted.make("R0UT1NGKEYexample00000000000a1b2")

const runConfigCheck = (file: string, env: Record<string, string>) =>
  Effect.callback<{ readonly code: number; readonly stdout: string; readonly stderr: string }>((resume) => {
    execFile(process.execPath, [relayBin, "config", "check", "--config", file], { env }, (error, stdout, stderr) => {
      let code = 0
      if (error !== null) code = typeof error.code === "number" ? error.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
  })

const program = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path

  // 1. A new key: 32 random bytes, base64. Keep it in a secret store, not next to the file.
  const random = yield* SecureRandom.SecureRandom
  const key = Base64.encode(yield* random.randomBytes(32))
  const ring = yield* Crypto.makeKeyRing({ current: "2026-12", ring: { "2026-12": Redacted.make(key) } })

  // 2. The sealed routing key: `sealed:v1:<key id>:<nonce>:<ciphertext>`.
  const sealed = yield* Crypto.seal(ring, Redacted.value(routingKey))
  yield* Console.log(`sealed routing key: ${sealed.slice(0, 28)}… (${sealed.length} characters)`)

  // 3. A configuration with the envelope. The key itself comes from RELAY_SEALING_KEY.
  const directory = yield* fs.makeTempDirectoryScoped({ prefix: "seal-secrets-" })
  const file = path.join(directory, "relay.yaml")
  yield* fs.writeFileString(
    file,
    [
      "pagerduty:",
      "  events_url: http://127.0.0.1:8080",
      "intake:",
      "  insecure_no_auth: true",
      "routes:",
      "  - name: databases",
      `    routing_key: "${sealed}"`,
      "    default: true",
      "keys:",
      "  current: \"2026-12\"",
      "  ring:",
      "    \"2026-12\": ${RELAY_SEALING_KEY}",
      ""
    ].join("\n")
  )
  yield* Console.log(`wrote ${file}`)

  // 4. Loading opens every sealed value with the key ring, and the result is Redacted.
  const env = { RELAY_SEALING_KEY: key }
  const config = yield* Config.load({ file, env })
  const opened = Redacted.value(config.routes[0]!.routing_key)
  yield* Console.log(`Config.load opened the routing key of route databases: ****${opened.slice(-4)}`)
  if (opened !== Redacted.value(routingKey)) {
    return yield* Effect.fail("the opened routing key differs from the sealed one")
  }

  // 5. The relay's own check, in a separate process with only the variables it needs.
  const check = yield* runConfigCheck(file, { ...env, PATH: process.env.PATH ?? "" })
  yield* Console.log(`pd-relay config check exited with ${check.code}:`)
  yield* Console.log(check.stdout.trimEnd().replace(/^/gm, "  | "))
  if (check.code !== 0) return yield* Effect.fail(`config check rejected the file: ${check.stderr}`)
  if (check.stdout.includes(opened) || check.stdout.includes(key)) {
    return yield* Effect.fail("config check printed a secret")
  }

  // Without the key the envelope cannot open, and the check names the missing variable.
  const withoutKey = yield* runConfigCheck(file, { PATH: process.env.PATH ?? "" })
  yield* Console.log(
    `without RELAY_SEALING_KEY it exits with ${withoutKey.code}: ${withoutKey.stderr.split("\n")[1]?.trim()}`
  )
  if (withoutKey.code === 0) return yield* Effect.fail("config check accepted the file without its key")

  yield* Console.log("seal-secrets finished: the sealed routing key opens with the key ring")
})

program.pipe(
  Effect.scoped,
  Effect.provide([NodeServices.layer, Crypto.layerWebCrypto]),
  Effect.tapError((error) => Console.error(`seal-secrets failed: ${String(error)}`)),
  NodeRuntime.runMain
)
