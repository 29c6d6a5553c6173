import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Stdio, Stream } from "effect"
import * as Command from "effect/cli/Command"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as SendCommand from "../src/commands/send.ts"
import { parseCustomDetails, splitUrlAndText } from "../src/commands/sendInput.ts"

const key = "0123456789abcdef0123456789abcdef"
const otherKey = "fedcba9876543210fedcba9876543210"

const runSend = (args: ReadonlyArray<string>, options: { env?: Record<string, string>; stdin?: string } = {}) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const console: Console.Console = {
      ...globalThis.console,
      log: (...parts: ReadonlyArray<unknown>) => out.push(parts.join(" ")),
      error: (...parts: ReadonlyArray<unknown>) => err.push(parts.join(" "))
    }
    const exit = yield* Command.runWith(SendCommand.make(options.env ?? {}), { version: "0.0.0" })(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.provide(Stdio.layerTest({ stdin: Stream.make(new TextEncoder().encode(options.stdin ?? "")) })),
      Effect.exit
    )
    return { exit, stdout: out.join("\n"), stderr: err.join("\n") }
  }).pipe(Effect.provide(NodeServices.layer))

const writeTemp = (name: string, text: string) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pd-relay-send-"))
  const file = path.join(dir, name)
  fs.writeFileSync(file, text)
  return file
}

const env = { PAGERDUTY_ROUTING_KEY: key }

describe("send trigger", () => {
  it.live("sends flags and prints the dedup key", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const result = yield* runSend([
        "trigger",
        "--events-url",
        simulator.url,
        "--summary",
        "disk full on db-1",
        "--source",
        "db-1",
        "--severity",
        "critical",
        "--dedup-key",
        "db-1/disk",
        "--custom-detail",
        "free=5%",
        "--custom-detail",
        "bytes:=1024",
        "--link",
        "https://runbooks.example/disk Runbook",
        "--image",
        "https://grafana.example/disk.png",
        "--component",
        "postgres",
        "--client",
        "Grafana",
        "--client-url",
        "https://grafana.example"
      ], { env })
      expect(result.stderr).toBe("")
      expect(result.exit._tag).toBe("Success")
      expect(result.stdout).toBe("db-1/disk")
      const [alert] = yield* simulator.alerts()
      expect(alert?.routingKeyHash).toBeDefined()
      expect(alert?.summary).toBe("disk full on db-1")
      expect(alert?.severity).toBe("critical")
      expect(alert?.component).toBe("postgres")
      expect(alert?.client).toBe("Grafana")
      expect(alert?.customDetails).toEqual({ free: "5%", bytes: 1024 })
      expect(alert?.links).toEqual([{ href: "https://runbooks.example/disk", text: "Runbook" }])
      expect(alert?.images).toEqual([{ src: "https://grafana.example/disk.png" }])
    })))

  it.live("sanitises a hostile summary", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* runSend([
        "trigger",
        "--events-url",
        simulator.url,
        "--summary",
        "disk\u202E full\r\nInjected: yes\u0000",
        "--source",
        "db-1\u200B",
        "--severity",
        "info"
      ], { env })
      const [alert] = yield* simulator.alerts()
      expect(alert?.summary).toBe("disk full Injected: yes")
      expect(alert?.source).toBe("db-1")
    })))

  it.live("prints the generated dedup key", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const result = yield* runSend(
        ["trigger", "--events-url", simulator.url, "--summary", "s", "--source", "h", "--severity", "info"],
        { env }
      )
      const [alert] = yield* simulator.alerts()
      expect(result.stdout).toMatch(/^[0-9a-f-]{36}$/)
      expect(result.stdout).toBe(alert?.dedupKey)
    })))

  it.live("reads the event from standard input", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const json = JSON.stringify({
        event_action: "trigger",
        dedup_key: "from-json",
        payload: { summary: "json summary", source: "json-host", severity: "warning", custom_details: { a: 1 } }
      })
      const result = yield* runSend(
        ["trigger", "--events-url", simulator.url, "--json", "-", "--severity", "error", "--custom-detail", "b=2"],
        { env, stdin: json }
      )
      expect(result.stdout).toBe("from-json")
      const [alert] = yield* simulator.alerts()
      expect(alert?.summary).toBe("json summary")
      expect(alert?.severity).toBe("error")
      expect(alert?.customDetails).toEqual({ a: 1, b: "2" })
    })))

  it.live("lists every invalid field and sends nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const result = yield* runSend(
        ["trigger", "--events-url", simulator.url, "--summary", " ", "--link", "/relative"],
        { env }
      )
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr.split("\n")).toEqual([
        "the event is invalid:",
        "  payload.summary (--summary): \" \": a one-line summary of the problem is required and must not be blank",
        "  payload.source (--source): missing: the affected system (a hostname or service name) is required and must be a string",
        "  payload.severity (--severity): missing: use critical, error, warning or info",
        "  links[0].href (--link): \"/relative\": must be an absolute http or https URL, such as https://grafana.example/d/abc"
      ])
      expect(yield* simulator.events()).toEqual([])
    })))

  it.live("rejects a routing key in the JSON input", () =>
    Effect.gen(function*() {
      const file = writeTemp("event.json", JSON.stringify({ routing_key: key, payload: {} }))
      const result = yield* runSend(["trigger", "--events-url", "http://127.0.0.1:1", "--json", file], { env })
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toBe(
        `${file} contains routing_key; remove it and pass --route NAME or set PAGERDUTY_ROUTING_KEY`
      )
    }))

  it.live("fails without a routing key", () =>
    Effect.gen(function*() {
      const result = yield* runSend([
        "trigger",
        "--events-url",
        "http://127.0.0.1:1",
        "--summary",
        "s",
        "--source",
        "h",
        "--severity",
        "info"
      ])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toBe("no routing key: set PAGERDUTY_ROUTING_KEY or pass --route NAME with --config FILE")
    }))

  it.live("reports PagerDuty's rejection without the key", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      yield* simulator.setFaults([{
        path: "/v2/enqueue",
        steps: [{ fault: { _tag: "Respond", status: 400 }, times: 1 }]
      }])
      const result = yield* runSend(
        ["trigger", "--events-url", simulator.url, "--summary", "s", "--source", "h", "--severity", "info"],
        { env }
      )
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("the event was not accepted")
      expect(result.stderr).not.toContain(key)
    })))
})

describe("send with --config", () => {
  const configText = (url: string) =>
    `pagerduty: { events_url: "${url}" }\nintake: { insecure_no_auth: true }\n` +
    `routes:\n  - name: main\n    routing_key: ${key}\n  - name: other\n    routing_key: ${otherKey}\n`

  it.live("uses the route's key and the configured URL", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const file = writeTemp("relay.yaml", configText(simulator.url))
      const trigger = yield* runSend([
        "trigger",
        "--config",
        file,
        "--route",
        "other",
        "--summary",
        "s",
        "--source",
        "h",
        "--severity",
        "info",
        "--dedup-key",
        "k1"
      ], { env })
      expect(trigger.stdout).toBe("k1")
      const ack = yield* runSend(["acknowledge", "--config", file, "--route", "other", "--dedup-key", "k1"])
      expect(ack.stdout).toBe("k1")
      const [alert] = yield* simulator.alerts({ routingKey: otherKey })
      expect(alert?.status).toBe("acknowledged")
      expect(yield* simulator.alerts({ routingKey: key })).toEqual([])
    })))

  it.live("names the routes when the route is unknown", () =>
    Effect.gen(function*() {
      const file = writeTemp("relay.yaml", configText("http://127.0.0.1:1"))
      const result = yield* runSend(["resolve", "--config", file, "--route", "nope", "--dedup-key", "k"])
      expect(result.stderr).toBe(`no route named "nope" in ${file}; routes: main, other`)
    }))
})

describe("send resolve", () => {
  it.live("resolves the alert with the dedup key", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const base = ["--events-url", simulator.url]
      yield* runSend(
        ["trigger", ...base, "--summary", "s", "--source", "h", "--severity", "info", "--dedup-key", "r"],
        {
          env
        }
      )
      const result = yield* runSend(["resolve", ...base, "--dedup-key", "r"], { env })
      expect(result.stdout).toBe("r")
      const [alert] = yield* simulator.alerts()
      expect(alert?.status).toBe("resolved")
    })))

  it.live("needs a dedup key", () =>
    Effect.gen(function*() {
      const result = yield* runSend(["resolve", "--events-url", "http://127.0.0.1:1"], { env })
      expect(result.stderr).toBe("send resolve needs --dedup-key KEY or dedup_key in the --json input")
    }))
})

describe("pd-relay send", () => {
  it.live("runs from the bin with the key in the environment", () =>
    Effect.scoped(Effect.gen(function*() {
      const simulator = yield* Simulator.start()
      const bin = new URL("../src/bin.ts", import.meta.url).pathname
      const args = [bin, "send", "trigger", "--events-url", simulator.url, "--summary", "s", "--source", "h"]
      const run = (extra: ReadonlyArray<string>) =>
        Effect.callback<{ code: number | null; stdout: string; stderr: string }>((resume) => {
          const child = spawn(process.execPath, [...args, ...extra], {
            env: { ...process.env, PAGERDUTY_ROUTING_KEY: key }
          })
          let stdout = ""
          let stderr = ""
          child.stdout.on("data", (chunk) => (stdout += chunk))
          child.stderr.on("data", (chunk) => (stderr += chunk))
          child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
        })
      const ok = yield* run(["--severity", "info", "--dedup-key", "bin-1"])
      expect(ok.code).toBe(0)
      expect(ok.stdout.trim()).toBe("bin-1")
      const bad = yield* run(["--image", "http://x.example/a.png"])
      expect(bad.code).toBe(1)
      expect(bad.stderr).toContain("images[0].src (--image)")
    })))
})

describe("sendInput", () => {
  it("parses strings and JSON custom details", () => {
    expect(parseCustomDetails(["a=b=c", "n:=1", "o:={\"x\":[1]}"])).toEqual({
      details: { a: "b=c", n: 1, o: { x: [1] } },
      problems: []
    })
  })

  it("reports malformed custom details", () => {
    expect(parseCustomDetails(["novalue", "=x", "j:=nope"]).problems).toEqual([
      "--custom-detail \"novalue\": expected key=value or key:=json with a non-empty key",
      "--custom-detail \"=x\": expected key=value or key:=json with a non-empty key",
      "--custom-detail j: the value after := is not valid JSON; quote strings as \"text\""
    ])
  })

  it("splits a URL from its text", () => {
    expect(splitUrlAndText("https://a.example/x  Run book ")).toEqual({
      url: "https://a.example/x",
      text: "Run book"
    })
    expect(splitUrlAndText("https://a.example/x")).toEqual({ url: "https://a.example/x", text: undefined })
  })
})

describe("send trigger --json", () => {
  it.live("reports invalid fields of the file", () =>
    Effect.gen(function*() {
      const file = writeTemp(
        "event.json",
        JSON.stringify({ payload: { summary: 5, source: "h", severity: "info", custom_details: [1] }, links: {} })
      )
      const result = yield* runSend(["trigger", "--events-url", "http://127.0.0.1:1", "--json", file], { env })
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr.split("\n")).toEqual([
        "the event is invalid:",
        "  payload.summary (--summary): 5: a one-line summary of the problem is required and must be a string",
        "  payload.custom_details (--custom-detail): an array: must be an object of named details",
        "  links (--link): an object: must be an array of {href, text?}"
      ])
    }))

  it.live("rejects another event action", () =>
    Effect.gen(function*() {
      const file = writeTemp("event.json", JSON.stringify({ event_action: "resolve", dedup_key: "k" }))
      const result = yield* runSend(["acknowledge", "--events-url", "http://127.0.0.1:1", "--json", file], { env })
      expect(result.stderr).toBe(
        `${file} has event_action "resolve" but the command is send acknowledge; remove event_action or run send resolve`
      )
    }))
})

describe("send options", () => {
  it.live("rejects an invalid events URL", () =>
    Effect.gen(function*() {
      const result = yield* runSend(["resolve", "--events-url", "127.0.0.1:8080", "--dedup-key", "k"], { env })
      expect(result.stderr).toBe("--events-url must be an absolute http or https URL, got \"127.0.0.1:8080\"")
    }))

  it.live("rejects a timeout of zero", () =>
    Effect.gen(function*() {
      const result = yield* runSend(
        ["resolve", "--events-url", "http://127.0.0.1:1", "--dedup-key", "k", "--timeout", "0"],
        { env }
      )
      expect(result.stderr).toBe("--timeout must be a number of seconds above 0, got 0")
    }))

  it.live("needs --config for --route", () =>
    Effect.gen(function*() {
      const result = yield* runSend(["resolve", "--route", "main", "--dedup-key", "k"])
      expect(result.stderr).toBe("--route needs --config FILE, the configuration that defines the route")
    }))

  it.live("needs an events URL", () =>
    Effect.gen(function*() {
      const result = yield* runSend(["resolve", "--dedup-key", "k"], { env })
      expect(result.stderr).toBe(
        "no Events API URL: pass --events-url URL, or --config FILE with pagerduty.events_url or region"
      )
    }))
})
