import { describe, expect, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

describe("pnpm demo", () => {
  it("relays the fixtures and prints the simulator's alerts", () => {
    const result = spawnSync(process.execPath, ["packages/relay/src/demo.ts"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000
    })
    expect(result.stderr).toBe("")
    expect(result.status).toBe(0)
    expect(result.stdout).toContain("The simulator received 4 events and holds 3 alerts")
    // The dedup key of the resolved group is the SHA-256 of its groupKey, printed in full.
    expect(result.stdout).toMatch(/dedup_key [0-9a-f]{64}\n {2}status resolved, severity warning/)
    expect(result.stdout).toContain("summary [FIRING:1] high_memory_load (master warning)")
    expect(result.stdout).toContain("demo finished")
  })
})
