/**
 * Runs every program in `examples/` as a user would, `node examples/<name>.ts`
 * from the repository root, and checks its exit status, its standard error
 * and the lines that show it did its job. A new example is picked up by name,
 * and it must print `<name> finished:` on success.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { readdirSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const names = readdirSync(new URL("../examples/", import.meta.url))
  .filter((file) => file.endsWith(".ts"))
  .map((file) => file.slice(0, -".ts".length))
  .sort()

/** Lines of each known example's output that show its result, besides `<name> finished:`. */
const expectedOutput: Readonly<Record<string, ReadonlyArray<RegExp>>> = {
  "custom-pipeline": [
    /item 1 \(production firing\): delivered trigger/,
    /item 2 \(staging firing\): dropped/,
    /item 3 \(truncated JSON\): failed with PipelineError/,
    /item 4 \(production firing, repeated\): dropped/,
    /item 5 \(production resolved\): delivered resolve/
  ],
  "page-incidents": [
    /read 120 incidents in 5 pages of up to 25/,
    /created incident #121 /,
    /added note \S+: Rolled back/
  ],
  "receive-webhooks": [
    /handler: incident #\d+ triggered: A little bump in the road/,
    /delivery incident\.triggered again: Delivered, responses 202/,
    /delivery with a wrong signature: Dropped, responses 401/
  ],
  "relay-alertmanager": [
    /POST \/alertmanager \(firing\) -> 202/,
    /PagerDuty alert \S+: triggered, severity critical/,
    /PagerDuty alert \S+: resolved, severity critical/
  ],
  "seal-secrets": [
    /Config\.load opened the routing key of route databases: \*{4}a1b2/,
    /pd-relay config check exited with 0/,
    /without RELAY_SEALING_KEY it exits with 1/
  ],
  "shared-redis": [
    /POST relay 2 \/events \(db-1 again\) -> 202, duplicates 1/,
    /the simulator received 6 events and has 6 alerts/
  ],
  "trigger-and-resolve": [
    /trigger +-> alert \S+ is triggered/,
    /acknowledge +-> alert \S+ is acknowledged/,
    /resolve +-> alert \S+ is resolved/
  ]
}

interface Run {
  readonly status: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

const runExample = (name: string) =>
  new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [`examples/${name}.ts`], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 55_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.once("error", reject)
    child.once("close", (status, signal) => resolve({ status, signal, stdout, stderr }))
  })

// Every example starts at once, so the file takes about as long as the slowest one.
const runs = new Map<string, Promise<Run>>()
beforeAll(() => {
  for (const name of names) runs.set(name, runExample(name))
})

describe("examples", () => {
  it("include the documented ones", () => {
    expect(names).toEqual(expect.arrayContaining(Object.keys(expectedOutput)))
  })

  for (const name of names) {
    it(`${name} runs to completion`, async () => {
      const run = await runs.get(name)!
      expect(run.signal, run.stdout).toBeNull()
      expect(run.stderr).toBe("")
      expect(run.status, run.stdout).toBe(0)
      expect(run.stdout).toContain(`${name} finished:`)
      for (const line of expectedOutput[name] ?? []) expect(run.stdout).toMatch(line)
    })
  }
})
