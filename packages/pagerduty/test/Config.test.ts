import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Config from "../src/Config.ts"
import * as Crypto from "../src/Crypto.ts"

const key = "0123456789abcdef0123456789abcdef"
const ringKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

const minimal = [
  "pagerduty:",
  "  region: us",
  "intake:",
  "  insecure_no_auth: true",
  "routes:",
  "  - name: main",
  `    routing_key: ${key}`
].join("\n")

const problemsOf = (text: string, env: Record<string, string> = {}) =>
  Config.parse({ text, env }).pipe(
    Effect.flip,
    Effect.map((error) => {
      if (error.reason._tag !== "Invalid") throw new Error(`unexpected ${error.reason._tag}`)
      return error.reason.problems.map((problem) => `${problem.path}: ${problem.message}`)
    })
  )

describe("Config", () => {
  it.effect("applies defaults to a minimal file", () =>
    Effect.gen(function*() {
      const config = yield* Config.parse({ text: minimal, env: {} })
      expect(config.server).toEqual({
        host: "127.0.0.1",
        port: 8080,
        body_limit_bytes: 1048576,
        shutdown_timeout_seconds: 10
      })
      expect(config.policy.breaker).toEqual({ failures: 5, open_seconds: 30 })
      expect(config.policy.events_per_minute).toBe(110)
      expect(config.outbox).toEqual({ store: "file", path: "pd-relay-outbox", max_depth: 100000 })
      expect(Redacted.isRedacted(config.routes[0]!.routing_key)).toBe(true)
      expect(Redacted.value(config.routes[0]!.routing_key)).toBe(key)
    }))

  it.effect("keeps secrets out of inspection", () =>
    Effect.gen(function*() {
      const config = yield* Config.parse({ text: minimal, env: {} })
      expect(JSON.stringify(config)).not.toContain(key)
      expect(String(config.routes[0]!.routing_key)).not.toContain(key)
    }))

  it.effect("expands variables with and without defaults", () =>
    Effect.gen(function*() {
      const text = [
        "pagerduty: { region: eu }",
        "server:",
        "  host: ${HOST:-0.0.0.0}",
        "  port: ${PORT}",
        "intake: { insecure_no_auth: true }",
        "routes:",
        "  - name: main",
        "    routing_key: ${KEY}",
        "webhooks:",
        "  path: /hooks/$${literal}",
        "  secrets: [\"${HOOK_SECRET}\"]"
      ].join("\n")
      const config = yield* Config.parse({ text, env: { PORT: "9090", KEY: key, HOOK_SECRET: "s3cret" } })
      expect(config.server.host).toBe("0.0.0.0")
      expect(config.server.port).toBe(9090)
      expect(Redacted.value(config.routes[0]!.routing_key)).toBe(key)
      expect(config.webhooks?.path).toBe("/hooks/${literal}")
      expect(Redacted.value(config.webhooks!.secrets[0]!)).toBe("s3cret")
    }))

  it.effect("lets PAGERDUTY_ variables override the file", () =>
    Effect.gen(function*() {
      const config = yield* Config.parse({
        text: minimal,
        env: {
          PAGERDUTY_SERVER_PORT: "7070",
          PAGERDUTY_REGION: "eu",
          PAGERDUTY_TOKEN: "tok",
          PAGERDUTY_OUTBOX_STORE: "file",
          PAGERDUTY_OUTBOX_PATH: "/tmp/o"
        }
      })
      expect(config.server.port).toBe(7070)
      expect(config.pagerduty.region).toBe("eu")
      expect(Redacted.value(config.pagerduty.token!)).toBe("tok")
      expect(config.outbox.store).toBe("file")
      expect(config.outbox.path).toBe("/tmp/o")
    }))

  it.effect("reads the Redis lease from the file and the environment", () =>
    Effect.gen(function*() {
      const fromFile = yield* Config.parse({ text: `${minimal}\noutbox:\n  lease_seconds: 5`, env: {} })
      expect(fromFile.outbox.lease_seconds).toBe(5)
      const fromEnv = yield* Config.parse({ text: minimal, env: { PAGERDUTY_OUTBOX_LEASE_SECONDS: "7" } })
      expect(fromEnv.outbox.lease_seconds).toBe(7)
      const problems = yield* problemsOf(`${minimal}\noutbox:\n  lease_seconds: 0`)
      expect(problems.some((problem) => problem.startsWith("outbox.lease_seconds"))).toBe(true)
    }))

  it.effect("reads a configuration from the environment alone", () =>
    Effect.gen(function*() {
      const problems = yield* problemsOf("", { PAGERDUTY_REGION: "us" })
      expect(problems).toEqual([
        "intake.auth: no credentials configured: add bearer_tokens, basic or jwt, or set intake.insecure_no_auth: true",
        "routes: missing (required)"
      ])
    }))

  const badFiles: ReadonlyArray<readonly [string, string, Record<string, string>, ReadonlyArray<string>]> = [
    ["short routing key", minimal.replace(key, key.slice(1)), {}, [
      "routes[0].routing_key: expected 32 characters, got 31"
    ]],
    ["routing key of another type", minimal.replace(key, "12"), {}, [
      "routes[0].routing_key: expected a secret string, got a number"
    ]],
    ["unknown region", minimal.replace("region: us", "region: mars"), {}, [
      `pagerduty.region: expected one of us, eu, got "mars"`
    ]],
    ["no region or URL", minimal.replace("  region: us", "  from: a@example.com"), {}, [
      "pagerduty.region: missing: set region (us or eu) or events_url"
    ]],
    ["token without REST URL", minimal.replace("  region: us", "  events_url: http://127.0.0.1:1\n  token: t"), {}, [
      "pagerduty.rest_url: missing: a token needs region or rest_url"
    ]],
    ["URL of another scheme", minimal.replace("  region: us", "  events_url: ftp://127.0.0.1"), {}, [
      "pagerduty.events_url: expected an http or https URL, got the scheme ftp:"
    ]],
    ["port out of range", `${minimal}\nserver: { port: 70000 }`, {}, [
      "server.port: expected an integer from 0 to 65535, got 70000"
    ]],
    ["port from a bad variable", minimal, { PAGERDUTY_SERVER_PORT: "http" }, [
      `server.port: expected a number, got "http" (from PAGERDUTY_SERVER_PORT)`
    ]],
    ["misspelt key", `${minimal}\nserver: { hots: x }`, {}, [
      "server.hots: unknown key; check its spelling against docs/relay.example.yaml"
    ]],
    ["no credentials", minimal.replace("insecure_no_auth: true", "insecure_no_auth: false"), {}, [
      "intake.auth: no credentials configured: add bearer_tokens, basic or jwt, or set intake.insecure_no_auth: true"
    ]],
    ["boolean of another spelling", minimal.replace("insecure_no_auth: true", "insecure_no_auth: yes"), {}, [
      `intake.insecure_no_auth: expected true or false, got "yes"`
    ]],
    ["empty routes", minimal.replace(/routes:[\s\S]*/, "routes: []"), {}, ["routes: expected at least one route"]],
    ["duplicate route names", `${minimal}\n  - name: main\n    routing_key: ${key}`, {}, [
      "routes[1].name: duplicate route name main (also routes[0])"
    ]],
    [
      "two default routes",
      `${minimal}\n    default: true\n  - name: b\n    routing_key: ${key}\n    default: true`,
      {},
      [
        "routes[1].default: at most one route may be the default, also set on routes[0]"
      ]
    ],
    ["route name with a space", minimal.replace("name: main", "name: my route"), {}, [
      `routes[0].name: expected 1 to 64 letters, digits, '_' or '-', got "my route"`
    ]],
    ["unknown severity", `${minimal}\n    default_severity: fatal`, {}, [
      `routes[0].default_severity: expected one of critical, error, warning, info, got "fatal"`
    ]],
    [
      "credentials in events_url",
      "pagerduty: { events_url: \"http://u:pw123@127.0.0.1:9\" }\nintake: { insecure_no_auth: true }\nroutes: [{ name: a, routing_key: \"0123456789abcdef0123456789abcdef\" }]",
      {},
      [
        "pagerduty.events_url: expected a URL without user or password; the clients never send them, so remove them"
      ]
    ],
    ["empty outbox path", `${minimal}\noutbox: { store: file, path: "" }`, {}, [
      "outbox.path: expected a non-empty string"
    ]],
    ["redis store without redis", `${minimal}\noutbox: { store: redis }`, {}, [
      "redis: missing: outbox.store redis and redis audit sinks need redis.url"
    ]],
    ["unset variable", minimal.replace(key, "${ROUTING_KEY}"), {}, [
      "routes[0].routing_key: environment variable ROUTING_KEY is not set; set it or write ${ROUTING_KEY:-default}"
    ]],
    ["short JWT secret", minimal.replace("insecure_no_auth: true", "auth: { jwt: { secret: short } }"), {}, [
      "intake.auth.jwt.secret: expected at least 32 characters, got 5"
    ]],
    ["webhooks without secrets", `${minimal}\nwebhooks: { secrets: [] }`, {}, [
      "webhooks.secrets: expected at least one signing secret"
    ]],
    ["audit sink without type", `${minimal}\naudit: { sinks: [{ path: x }] }`, {}, [
      "audit.sinks[0].type: missing (required): one of file, redis, stdout"
    ]],
    ["unknown audit sink", `${minimal}\naudit: { sinks: [{ type: kafka }] }`, {}, [
      `audit.sinks[0].type: expected one of file, redis, stdout, got "kafka"`
    ]],
    ["YAML syntax", "pagerduty: : x", {}, ["(root): YAML syntax error: Invalid colon in plain scalar at line 1"]],
    ["list at the top", "- a", {}, ["(root): expected a mapping at the top of the file"]],
    ["key of a wrong length", `${minimal}\nkeys: { current: k1, ring: { k1: AAEC } }`, {}, [
      "keys.ring.k1: key k1 is invalid: expected 32 bytes, got 3; generate one with `openssl rand -base64 32`"
    ]],
    ["current key missing from the ring", `${minimal}\nkeys: { current: k2, ring: { k1: "${ringKey}" } }`, {}, [
      "keys.current: key k2 is invalid: the current key is not in the ring; generate one with `openssl rand -base64 32`"
    ]],
    ["short audit chain key", `${minimal}\naudit: { sinks: [{ type: stdout }], chain_key: short }`, {}, [
      "audit.chain_key: expected at least 32 characters, got 5"
    ]],
    ["empty secret from an unset variable", minimal.replace("region: us", "region: us\n  token: ${TOKEN:-}"), {}, [
      "pagerduty.token: expected a non-empty secret; remove the key to leave it unset"
    ]],
    ["sealed value without keys", minimal.replace(key, "sealed:v1:k1:AAAA:BBBB"), {}, [
      "routes[0].routing_key: the value is sealed but no keys are configured; add keys.current and keys.ring"
    ]]
  ]

  for (const [name, text, env, expected] of badFiles) {
    it.effect(`rejects ${name}`, () =>
      Effect.gen(function*() {
        expect(yield* problemsOf(text, env)).toEqual(expected)
      }))
  }

  it.effect("reports every problem of a file at once", () =>
    Effect.gen(function*() {
      const text = minimal.replace("region: us", "region: mars").replace(key, key.slice(2)) + "\nserver: { port: -1 }"
      const problems = yield* problemsOf(text)
      expect(problems).toHaveLength(3)
      expect(problems).toContain("routes[0].routing_key: expected 32 characters, got 30")
    }))

  it.effect("never shows a secret in a message", () =>
    Effect.gen(function*() {
      const secret = "x".repeat(31)
      const error = yield* Effect.flip(Config.parse({ text: minimal.replace(key, secret), env: {} }))
      expect(error.message).not.toContain(secret)
      expect(error.message).toContain("expected 32 characters, got 31")
    }))

  it.effect("opens sealed secrets with the key ring", () =>
    Effect.gen(function*() {
      const ring = yield* Crypto.makeKeyRing({ current: "k1", ring: { k1: Redacted.make(ringKey) } })
      const sealed = yield* Crypto.seal(ring, key)
      const text = minimal.replace(key, sealed) + `\nkeys:\n  current: k1\n  ring:\n    k1: ${ringKey}`
      const config = yield* Config.parse({ text, env: {} })
      expect(Redacted.value(config.routes[0]!.routing_key)).toBe(key)
    }).pipe(Effect.provide(Crypto.layerWebCrypto)))

  it.effect("checks the length of a sealed routing key after opening it", () =>
    Effect.gen(function*() {
      const ring = yield* Crypto.makeKeyRing({ current: "k1", ring: { k1: Redacted.make(ringKey) } })
      const sealed = yield* Crypto.seal(ring, "too short")
      const text = minimal.replace(key, sealed) + `\nkeys:\n  current: k1\n  ring:\n    k1: ${ringKey}`
      expect(yield* problemsOf(text)).toEqual(["routes[0].routing_key: expected 32 characters, got 9"])
    }).pipe(Effect.provide(Crypto.layerWebCrypto)))

  it.effect("names the path of a sealed value that fails to open", () =>
    Effect.gen(function*() {
      const ring = yield* Crypto.makeKeyRing({ current: "k9", ring: { k9: Redacted.make(ringKey) } })
      const sealed = yield* Crypto.seal(ring, key)
      const text = minimal.replace(key, sealed) + `\nkeys:\n  current: k1\n  ring:\n    k1: ${ringKey}`
      const [problem] = yield* problemsOf(text)
      expect(problem).toBe(
        "routes[0].routing_key: key k9 is not in the key ring (known: k1); add it back to keys.ring to open this value"
      )
    }).pipe(Effect.provide(Crypto.layerWebCrypto)))

  it.effect("loads the documented example file", () =>
    Effect.gen(function*() {
      const config = yield* Config.load({
        file: new URL("../../../docs/relay.example.yaml", import.meta.url).pathname,
        env: {
          RELAY_INTAKE_TOKEN: "intake-token",
          PLATFORM_ROUTING_KEY: key,
          CUSTOM_ROUTING_KEY: key.toUpperCase(),
          PAGERDUTY_WEBHOOK_SECRET: "whsec"
        }
      })
      expect(config.routes.map((route) => route.name)).toEqual(["platform", "custom-json"])
      expect(config.outbox.store).toBe("file")
      expect(config.audit?.sinks).toEqual([{ type: "file", path: "/var/log/pd-relay/audit.jsonl" }])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("names a file that cannot be read", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Config.load({ file: "/nonexistent/relay.yaml", env: {} }))
      expect(error.reason._tag).toBe("Unreadable")
      expect(error.message).toContain("/nonexistent/relay.yaml")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("lists every configured secret", () =>
    Effect.gen(function*() {
      const text = `${minimal}\nwebhooks: { secrets: [w1] }`.replace("region: us", "region: us\n  token: t1")
      const config = yield* Config.parse({ text, env: {} })
      expect(Config.secretsOf(config).map(Redacted.value).sort()).toEqual([key, "t1", "w1"].sort())
    }))
})

describe("Config against hostile files", () => {
  it.effect("rejects alias bombs before expanding them", () =>
    Effect.gen(function*() {
      const levels = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
      for (let i = 1; i < 9; i++) {
        const previous = String.fromCharCode(96 + i)
        const name = String.fromCharCode(97 + i)
        levels.push(`${name}: &${name} [${Array(10).fill(`*${previous}`).join(", ")}]`)
      }
      const error = yield* Effect.flip(Config.parse({ text: levels.join("\n"), env: {} }))
      expect(error.message).toContain("expands to more than 100000 values")
    }))
})
