/**
 * Starts a real Prometheus Alertmanager on loopback for interoperability
 * suites, with clustering off and its own storage directory.
 */
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A running Alertmanager started by {@link startAlertmanager}. */
export interface Alertmanager {
  readonly url: string
  readonly version: string
  /** Posts alerts to Alertmanager's own `/api/v2/alerts`. */
  readonly postAlerts: (alerts: ReadonlyArray<PostableAlert>) => Promise<void>
  readonly logs: () => string
  readonly stop: () => Promise<void>
}

/** An alert in the shape Alertmanager's API v2 accepts. */
export interface PostableAlert {
  readonly labels: Record<string, string>
  readonly annotations?: Record<string, string>
  readonly startsAt?: string
  readonly endsAt?: string
  readonly generatorURL?: string
}

const binaryNames = ["prometheus-alertmanager", "alertmanager"]

/** Returns the path of the Alertmanager binary on PATH, if any. */
export const findAlertmanager = (): string | undefined => {
  for (const name of binaryNames) {
    const found = spawnSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" })
    if (found.status === 0 && found.stdout.trim() !== "") return found.stdout.trim()
  }
  return undefined
}

/** How to get the binary, for skip and failure messages. */
export const installHint =
  "install it with `apt-get install -y prometheus-alertmanager` (Debian) or put `alertmanager` on PATH"

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

const waitReady = async (url: string, child: { exitCode: number | null }, deadlineMs: number): Promise<boolean> => {
  const until = performance.now() + deadlineMs
  while (performance.now() < until) {
    if (child.exitCode !== null) return false
    try {
      const response = await fetch(`${url}/-/ready`)
      if (response.ok) return true
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return false
}

/**
 * Starts Alertmanager with the given YAML configuration on a free loopback
 * port. The port is chosen by binding port 0 first, so a rare collision is
 * retried with another port.
 */
export const startAlertmanager = async (configYaml: string): Promise<Alertmanager> => {
  const binary = findAlertmanager()
  if (binary === undefined) throw new Error(`Alertmanager not found: ${installHint}`)
  const version = spawnSync(binary, ["--version"], { encoding: "utf8" })
  const versionText = `${version.stdout}${version.stderr}`.match(/version (\S+)/)?.[1] ?? "unknown"

  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "alertmanager-"))
    const configFile = join(dir, "alertmanager.yml")
    writeFileSync(configFile, configYaml)
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    let output = ""
    const child = spawn(binary, [
      `--config.file=${configFile}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--cluster.listen-address=",
      "--log.level=debug"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))

    const stop = async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve))
        child.kill("SIGTERM")
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    }

    if (await waitReady(url, child, 15_000)) {
      return {
        url,
        version: versionText,
        logs: () => output,
        stop,
        postAlerts: async (alerts) => {
          const response = await fetch(`${url}/api/v2/alerts`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(alerts)
          })
          if (!response.ok) throw new Error(`Alertmanager rejected alerts: ${response.status} ${await response.text()}`)
        }
      }
    }
    await stop()
    if (!output.includes("address already in use")) {
      throw new Error(`Alertmanager did not become ready; its output:\n${output}`)
    }
  }
  throw new Error("Alertmanager could not bind a free port after 3 attempts")
}
