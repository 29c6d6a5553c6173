import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { post, request, trigger } from "./support.ts"

const bin = fileURLToPath(new URL("../src/bin.ts", import.meta.url))

interface Finished {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

// Runs the bin with the `node` found on PATH.
const run = (args: ReadonlyArray<string>) =>
  Effect.callback<Finished>((resume) => {
    const child = spawn("node", [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    child.on("close", (code, signal) => resume(Effect.succeed({ code, signal, stdout, stderr })))
  })

// Starts the bin and waits for the line with its URL; the child is killed when the scope closes.
const serve = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.callback<{ readonly child: ChildProcess; readonly url: string; readonly exited: Promise<number | null> }>(
      (resume) => {
        const child = spawn("node", [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })
        const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)))
        let stdout = ""
        child.stdout.on("data", (chunk) => {
          stdout += chunk
          const match = /listening on (http:\/\/\S+)/.exec(stdout)
          if (match?.[1] !== undefined) resume(Effect.succeed({ child, url: match[1], exited }))
        })
      }
    ),
    ({ child, exited }) =>
      Effect.promise(() => {
        if (child.exitCode === null) child.kill("SIGKILL")
        return exited
      })
  )

describe("bin", () => {
  it.live("prints help", () =>
    Effect.gen(function*() {
      const result = yield* run(["--help"])
      expect(result.code).toBe(0)
      expect(result.stdout).toContain("pd-simulator")
      expect(result.stdout).toContain("--port")
      expect(result.stdout).toContain("--host")
      expect(result.stdout).toContain("--events-per-minute")
    }))

  it.live("rejects a port that is not a number", () =>
    Effect.gen(function*() {
      const result = yield* run(["--port", "eighty"])
      expect(result.code).not.toBe(0)
      expect(result.stdout + result.stderr).toContain("--port")
    }))

  it.live("serves on 127.0.0.1 and stops on SIGTERM", () =>
    Effect.gen(function*() {
      const { child, exited, url } = yield* serve([])
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const health = yield* request(`${url}/_sim/health`)
      expect(health.json).toEqual({ status: "ok" })
      child.kill("SIGTERM")
      const code = yield* Effect.promise(() => exited)
      expect(code).not.toBeNull()
    }))

  it.live("applies --events-per-minute", () =>
    Effect.gen(function*() {
      const { url } = yield* serve(["--events-per-minute", "1"])
      const first = yield* post(`${url}/v2/enqueue`, trigger("a"))
      const second = yield* post(`${url}/v2/enqueue`, trigger("b"))
      expect([first.status, second.status]).toEqual([202, 429])
    }))
})
