import { NodeServices } from "@effect/platform-node"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as WebhookCommand from "../src/commands/webhook.ts"

const vectors: Array<{ secret: string; body: string; x_pagerduty_signature: string; expected_valid: boolean }> =
  JSON.parse(
    fs.readFileSync(
      path.join(
        import.meta.dirname,
        "../../../test/fixtures/pagerduty/webhooks-v3/signature-vectors-go-pagerduty.json"
      ),
      "utf8"
    )
  ).vectors
const valid = vectors.find((vector) => vector.expected_valid)!
const invalid = vectors.find((vector) => !vector.expected_valid)!

const directory = fs.mkdtempSync(path.join(os.tmpdir(), "webhook-cli-"))
const bodyFile = path.join(directory, "body.json")
const secretFile = path.join(directory, "secret.txt")
const rotationFile = path.join(directory, "rotation.txt")
fs.writeFileSync(bodyFile, valid.body)
fs.writeFileSync(secretFile, `${valid.secret}\n`)
fs.writeFileSync(rotationFile, `some-newer-secret\n${valid.secret}\n`)
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }))

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Command.runWith(WebhookCommand.command, { version: "0.1.0", renderErrors: false })(["verify", ...args]).pipe(
    Effect.provide(Layer.mergeAll(NodeServices.layer, ConfigProvider.layer(ConfigProvider.fromUnknown(env))))
  )

describe("webhook verify, in process", () => {
  it.effect("accepts a valid delivery with a secret file", () =>
    run(["--secret-file", secretFile, "--signature", valid.x_pagerduty_signature, "--body", bodyFile]))

  it.effect("accepts the secret from the environment", () =>
    run(["--signature", valid.x_pagerduty_signature, "--body", bodyFile], {
      PAGERDUTY_WEBHOOK_SECRET: valid.secret
    }))

  it.effect("accepts a rotation file with two secrets", () =>
    run(["--secret-file", rotationFile, "--signature", valid.x_pagerduty_signature, "--body", bodyFile]))

  it.effect("fails on a mismatching signature with the reason", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        run(["--secret-file", secretFile, "--signature", invalid.x_pagerduty_signature, "--body", bodyFile])
      )
      expect(String((error as { userMessage?: string }).userMessage)).toContain("none of 1 v1 signatures")
    }))

  it.effect("fails without any secret", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(run(["--signature", valid.x_pagerduty_signature, "--body", bodyFile]))
      expect(String((error as { userMessage?: string }).userMessage)).toContain("PAGERDUTY_WEBHOOK_SECRET")
    }))
})

const entry = path.join(import.meta.dirname, "fixtures/webhook-cli.ts")
const runProcess = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [entry, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", ...env },
    timeout: 30_000
  })

describe("webhook verify, as a process", () => {
  it("exits 0 for a valid delivery", () => {
    const result = runProcess([
      "verify",
      "--secret-file",
      secretFile,
      "--signature",
      valid.x_pagerduty_signature,
      "--body",
      bodyFile
    ])
    expect(result.status).toBe(0)
    expect(result.stdout).toContain("valid")
  })

  it("exits 1 with the reason for an invalid delivery", () => {
    const result = runProcess(["verify", "--signature", invalid.x_pagerduty_signature, "--body", bodyFile], {
      PAGERDUTY_WEBHOOK_SECRET: valid.secret
    })
    expect(result.status).toBe(1)
    expect(result.stdout + result.stderr).toContain("none of 1 v1 signatures")
    expect(result.stdout + result.stderr).not.toContain(valid.secret)
  })

  it("exits 1 for a malformed signature", () => {
    const result = runProcess(["verify", "--signature", "v1=zz", "--body", bodyFile], {
      PAGERDUTY_WEBHOOK_SECRET: valid.secret
    })
    expect(result.status).toBe(1)
    expect(result.stdout + result.stderr).toContain("well-formed")
  })
})
