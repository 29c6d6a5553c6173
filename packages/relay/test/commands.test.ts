import * as Audit from "@effect-pagerduty/pagerduty/Audit"
import * as Config from "@effect-pagerduty/pagerduty/Config"
import { NodeServices } from "@effect/platform-node"
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Redacted, Runtime, Stdio, Stream } from "effect"
import { Layer } from "effect"
import * as Command from "effect/cli/Command"
import { Digest, Mac, SecureRandom } from "effect/crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as AuditCommand from "../src/commands/audit.ts"
import * as ConfigCommand from "../src/commands/config.ts"
import { CommandFailed } from "../src/commands/failure.ts"
import * as SecretCommand from "../src/commands/secret.ts"

const key = "0123456789abcdef0123456789abcdef"

/** Runs a command with arguments, capturing what it prints. */
const runCapturing = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  args: ReadonlyArray<string>,
  stdin = ""
) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const console: Console.Console = {
      ...globalThis.console,
      log: (...parts: ReadonlyArray<unknown>) => out.push(parts.join(" ")),
      error: (...parts: ReadonlyArray<unknown>) => err.push(parts.join(" "))
    }
    const exit = yield* Command.runWith(command, { version: "0.0.0" })(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(Stdio.layerTest({ stdin: Stream.make(new TextEncoder().encode(stdin)) })),
      Effect.exit
    )
    return { exit, stdout: out.join("\n"), stderr: err.join("\n") }
  }).pipe(Effect.provide(NodeServices.layer))

const writeTemp = (name: string, text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pd-relay-config-"))
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

describe("config check", () => {
  it.effect("prints a summary without secrets", () =>
    Effect.gen(function*() {
      const file = writeTemp(
        "relay.yaml",
        `pagerduty: { region: us, token: tok-secret-value }\nintake:\n  auth:\n    bearer_tokens: [intake-secret-value]\nroutes:\n  - name: main\n    routing_key: ${key}\n    source: alertmanager\n`
      )
      const result = yield* runCapturing(ConfigCommand.command, ["check", "--config", file])
      expect(result.exit._tag).toBe("Success")
      expect(result.stdout).toContain("is valid")
      expect(result.stdout).toContain("routes: main (alertmanager)")
      expect(result.stdout).toContain("intake auth: 1 bearer token")
      expect(result.stdout).not.toContain(key)
      expect(result.stdout).not.toContain("tok-secret-value")
      expect(result.stdout).not.toContain("intake-secret-value")
    }))

  it.effect("prints problems and exits with status 1", () =>
    Effect.gen(function*() {
      const file = writeTemp(
        "relay.yaml",
        `pagerduty: { region: us }\nroutes:\n  - name: main\n    routing_key: short\n`
      )
      const result = yield* runCapturing(ConfigCommand.command, ["check", "--config", file])
      expect(result.exit._tag).toBe("Failure")
      const failure = result.exit._tag === "Failure"
        ? result.exit.cause.reasons.find((reason) => reason._tag === "Fail")
        : undefined
      const error = failure?._tag === "Fail" ? failure.error : undefined
      expect(error).toBeInstanceOf(CommandFailed)
      expect(Runtime.errorExitCode in (error as object)).toBe(true)
      expect(Runtime.getErrorExitCode(error)).toBe(1)
      expect(result.stderr).toContain("routes[0].routing_key: expected 32 characters, got 5")
      expect(result.stderr).toContain("intake.auth: no credentials configured")
      expect(result.stdout).not.toContain("is valid")
    }))
})

const ringKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
const keysSection = `keys:\n  current: k1\n  ring:\n    k1: ${ringKey}\n`

describe("secret seal", () => {
  it.effect("seals standard input for the configuration", () =>
    Effect.gen(function*() {
      // Only the keys section is needed, so a half-written file can be sealed into.
      const file = writeTemp("relay.yaml", `${keysSection}routes: \${NOT_SET_YET}\n`)
      const result = yield* runCapturing(SecretCommand.command, ["seal", "--config", file], `${key}\n`)
      expect(result.exit._tag).toBe("Success")
      const sealed = result.stdout.trim()
      expect(sealed.startsWith("sealed:v1:k1:")).toBe(true)
      expect(sealed).not.toContain(key)

      const config = yield* Config.parse({
        text:
          `pagerduty: { region: us }\nintake: { insecure_no_auth: true }\nroutes:\n  - name: main\n    routing_key: "${sealed}"\n${keysSection}`,
        env: {}
      })
      expect(Redacted.value(config.routes[0]!.routing_key)).toBe(key)
    }))

  it.effect("seals the contents of a file", () =>
    Effect.gen(function*() {
      const config = writeTemp("relay.yaml", keysSection)
      const secretFile = writeTemp("secret.txt", "file-secret")
      const result = yield* runCapturing(SecretCommand.command, ["seal", "--config", config, "--file", secretFile])
      expect(result.exit._tag).toBe("Success")
      expect(result.stdout.startsWith("sealed:v1:k1:")).toBe(true)
    }))

  it.effect("fails without a keys section", () =>
    Effect.gen(function*() {
      const config = writeTemp("relay.yaml", "pagerduty: { region: us }\n")
      const result = yield* runCapturing(SecretCommand.command, ["seal", "--config", config], "x")
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("keys: missing: sealing needs keys.current and keys.ring")
      expect(result.stdout).toBe("")
    }))

  it.effect("fails on an empty secret", () =>
    Effect.gen(function*() {
      const config = writeTemp("relay.yaml", keysSection)
      const result = yield* runCapturing(SecretCommand.command, ["seal", "--config", config], "\n")
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toBe("the secret from standard input is empty")
    }))
})

const writeAudit = (file: string, count: number) =>
  Effect.scoped(Effect.gen(function*() {
    const audit = yield* Audit.make({ sinks: [yield* Audit.fileSink({ path: file })] })
    for (let n = 1; n <= count; n++) {
      yield* audit.log({ actor: "relay", action: "event.sent", target: "route:main", outcome: "success" })
    }
  })).pipe(
    Effect.provide(
      Layer.mergeAll(NodeFileSystem.layer, Digest.layerWebCrypto, Mac.layerWebCrypto).pipe(
        Layer.provideMerge(SecureRandom.layerWebCrypto)
      )
    )
  )

describe("audit verify", () => {
  it.effect("reports an intact file", () =>
    Effect.gen(function*() {
      const file = writeTemp("audit.jsonl", "")
      yield* writeAudit(file, 3)
      const result = yield* runCapturing(AuditCommand.command, ["verify", "--file", file])
      expect(result.exit._tag).toBe("Success")
      expect(result.stdout).toContain("is intact: 3 records, last record 3 with hash")
    }))

  it.effect("fails on a file without records", () =>
    Effect.gen(function*() {
      const file = writeTemp("audit.jsonl", "")
      const result = yield* runCapturing(AuditCommand.command, ["verify", "--file", file])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("holds no records")
    }))

  it.effect("reports a swapped record and exits with status 1", () =>
    Effect.gen(function*() {
      const file = writeTemp("audit.jsonl", "")
      yield* writeAudit(file, 3)
      const lines = fs.readFileSync(file, "utf8").trim().split("\n")
      fs.writeFileSync(file, [lines[1], lines[0], lines[2]].join("\n") + "\n")
      const result = yield* runCapturing(AuditCommand.command, ["verify", "--file", file])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toBe(
        `audit file ${file} is broken at line 1 (reordered): record 2 on line 1 comes before record 1`
      )
    }))

  it.effect("verifies a keyed chain with its key file", () =>
    Effect.gen(function*() {
      const chainKey = "an-audit-chain-key-of-32-characters!"
      const file = writeTemp("audit.jsonl", "")
      const keyFile = writeTemp("chain.key", `${chainKey}\n`)
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({
          sinks: [yield* Audit.fileSink({ path: file, chainKey: Redacted.make(chainKey) })]
        })
        yield* audit.log({ actor: "relay", action: "config.loaded", target: "config", outcome: "success" })
      })).pipe(
        Effect.provide(
          Layer.mergeAll(NodeFileSystem.layer, Digest.layerWebCrypto, Mac.layerWebCrypto).pipe(
            Layer.provideMerge(SecureRandom.layerWebCrypto)
          )
        )
      )
      const keyed = yield* runCapturing(AuditCommand.command, ["verify", "--file", file, "--chain-key-file", keyFile])
      expect(keyed.exit._tag).toBe("Success")
      expect(keyed.stdout).toContain("is intact: 1 records")
      const unkeyed = yield* runCapturing(AuditCommand.command, ["verify", "--file", file])
      expect(unkeyed.exit._tag).toBe("Failure")
      expect(unkeyed.stderr).toContain("(modified)")
    }))

  it.effect("reports a missing file", () =>
    Effect.gen(function*() {
      const result = yield* runCapturing(AuditCommand.command, ["verify", "--file", "/nonexistent/audit.jsonl"])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("could not read audit file /nonexistent/audit.jsonl")
    }))
})
