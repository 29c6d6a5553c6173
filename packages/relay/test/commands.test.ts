import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Runtime } from "effect"
import * as Command from "effect/cli/Command"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as ConfigCommand from "../src/commands/config.ts"

const key = "0123456789abcdef0123456789abcdef"

/** Runs a command with arguments, capturing what it prints. */
const runCapturing = <Name extends string, Input, ContextInput, E, R>(
  command: Command.Command<Name, Input, ContextInput, E, R>,
  args: ReadonlyArray<string>
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
      if (result.exit._tag === "Failure") {
        const error = result.exit.cause.reasons.find((reason) => reason._tag === "Fail")
        expect(error && Runtime.getErrorExitCode((error as { error: unknown }).error)).toBe(1)
      }
      expect(result.stderr).toContain("routes[0].routing_key: expected 32 characters, got 5")
      expect(result.stderr).toContain("intake.auth: no credentials configured")
      expect(result.stdout).not.toContain("is valid")
    }))
})
