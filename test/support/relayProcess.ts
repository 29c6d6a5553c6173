/**
 * The relay as a child process (`pd-relay serve --config FILE`) for tests and
 * benchmarks that kill it, restart it or measure it from outside.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../../packages/relay/src/bin.ts", import.meta.url))

// The relay logs its URL once the server listens; with `server.port: 0` this line is the only
// way to learn the port it bound.
const listening = /pd-relay listening on (http:\/\/[0-9.:[\]a-z]+)/

/** A running `pd-relay serve` process. */
export interface RelayProcess {
  readonly url: string
  readonly pid: number
  /** Everything the process wrote to stdout and stderr so far. */
  readonly output: () => string
  /** Sends `signal` and waits for the process to exit. */
  readonly stop: (signal?: NodeJS.Signals) => Promise<void>
  /** The process's peak resident set size in bytes (`VmHWM` in `/proc`), 0 where that is unavailable. */
  readonly rss: () => number
}

const live = new Set<ChildProcess.ChildProcess>()
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL")
})

// Environment variables named PAGERDUTY_* override the configuration file, so none is passed on.
const cleanEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("PAGERDUTY_")))

/**
 * Starts `pd-relay serve --config configPath` and resolves once it logs its
 * URL. Rejects with the process's output when it exits first or does not
 * listen within `timeoutMillis`.
 */
export const spawnRelay = (configPath: string, timeoutMillis = 30_000): Promise<RelayProcess> =>
  new Promise((resolve, reject) => {
    const child = ChildProcess.spawn(process.execPath, [bin, "serve", "--config", configPath], {
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"]
    })
    live.add(child)
    let output = ""
    let url: string | undefined
    const exited = new Promise<void>((done) => {
      child.once("exit", () => {
        live.delete(child)
        done()
      })
    })

    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`pd-relay did not listen within ${timeoutMillis} ms; its output:\n${output}`))
    }, timeoutMillis)

    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      if (url !== undefined) return
      const match = listening.exec(output)
      if (match === null) return
      url = match[1]!
      clearTimeout(timer)
      resolve({
        url,
        pid: child.pid!,
        output: () => output,
        stop: async (signal = "SIGTERM") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal)
          await exited
        },
        rss: () => readRss(child.pid!)
      })
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.once("exit", (code, signal) => {
      if (url !== undefined) return
      clearTimeout(timer)
      reject(new Error(`pd-relay exited with ${code ?? signal} before listening; its output:\n${output}`))
    })
  })

// VmHWM is the peak resident set size of the process so far, in kB.
const readRss = (pid: number): number => {
  try {
    const status = Fs.readFileSync(`/proc/${pid}/status`, "utf8")
    const match = /VmHWM:\s+(\d+) kB/.exec(status)
    return match === null ? 0 : Number(match[1]) * 1024
  } catch {
    return 0
  }
}
