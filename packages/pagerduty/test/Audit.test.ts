import { NodeFileSystem, NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer, Redacted, Sink, Stdio } from "effect"
import { Digest, Mac, SecureRandom } from "effect/crypto"
import * as Redis from "effect/persistence/Redis"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Audit from "../src/Audit.ts"
import * as Config from "../src/Config.ts"

const crypto = Layer.merge(Digest.layerWebCrypto, Mac.layerWebCrypto).pipe(
  Layer.provideMerge(SecureRandom.layerWebCrypto)
)
const fileLayer = Layer.merge(crypto, NodeFileSystem.layer)

const routingKey = "0123456789abcdef0123456789abcdef"
const token = "rest-api-token-value"
const webhookSecret = "whsec-signing-secret"
const secrets = [routingKey, token, webhookSecret].map((value) => Redacted.make(value))

const entry = (n: number): Audit.AuditEntry => ({
  actor: "relay",
  action: "event.sent",
  target: "route:platform",
  outcome: "success",
  details: { n, dedup_key: `alert-${n}` }
})

const tempFile = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), "pd-audit-")), "audit.jsonl")

const readLines = (file: string) => fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "")

/** Writes `count` records to a file through one audit log. */
const writeFile = (file: string, count: number) =>
  Effect.scoped(Effect.gen(function*() {
    const audit = yield* Audit.make({ sinks: [yield* Audit.fileSink({ path: file })], secrets })
    yield* Effect.forEach(Array.from({ length: count }, (_, i) => i + 1), (n) => audit.log(entry(n)), {
      concurrency: "unbounded",
      discard: true
    })
  }))

const verifyLines = (lines: ReadonlyArray<string>) => Audit.verify(lines)

type Broken = Extract<Audit.VerifyResult, { _tag: "Broken" }>
type Intact = Extract<Audit.VerifyResult, { _tag: "Intact" }>

const brokenOf = (result: Audit.VerifyResult): Broken => {
  expect(result._tag).toBe("Broken")
  return result as Broken
}

const intactOf = (result: Audit.VerifyResult): Intact => {
  expect(result._tag).toBe("Intact")
  return result as Intact
}

describe("Audit chain", () => {
  it.effect("chains records in a memory sink", () =>
    Effect.gen(function*() {
      const memory = yield* Audit.memorySink()
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [memory.sink] })
        yield* audit.log(entry(1))
        yield* audit.log(entry(2))
      }))
      const records = yield* memory.records
      expect(records.map((record) => record.seq)).toEqual([1, 2])
      expect(records[0]!.prev).toBe("0".repeat(64))
      expect(records[1]!.prev).toBe(records[0]!.hash)
      expect(records[0]!.time).toBe("1970-01-01T00:00:00.000Z")
    }).pipe(Effect.provide(crypto)))

  it.effect("verifies an intact file", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 25)
      const result = yield* Audit.verifyFile(file)
      expect(result._tag).toBe("Intact")
      expect(intactOf(result).records).toBe(25)
    }).pipe(Effect.provide(fileLayer)))

  it.effect("continues the chain across audit logs", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 3)
      yield* writeFile(file, 3)
      const lines = readLines(file)
      expect(lines.map((line) => JSON.parse(line).seq)).toEqual([1, 2, 3, 4, 5, 6])
      expect((yield* Audit.verifyFile(file))._tag).toBe("Intact")
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a modified record", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 5)
      const lines = readLines(file)
      lines[2] = lines[2]!.replace("route:platform", "route:other")
      const result = yield* verifyLines(lines)
      expect(result).toEqual({
        _tag: "Broken",
        line: 3,
        problem: "modified",
        message: "record 3 on line 3 was modified: its hash does not match its contents"
      })
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a replaced record with a recomputed hash", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 4)
      const memory = yield* Audit.memorySink()
      const lines = readLines(file)
      // A forged record 2 whose own hash is right, but which is not the one record 3 follows.
      const original = JSON.parse(lines[1]!)
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [memory.sink] })
        yield* audit.log(entry(1))
        yield* audit.log({ ...entry(99), target: "route:forged" })
      }))
      const forged = (yield* memory.records)[1]!
      lines[1] = JSON.stringify({ ...forged, prev: original.prev, time: original.time })
      const result = yield* verifyLines(lines)
      expect(result._tag).toBe("Broken")
      expect(brokenOf(result).line).toBe(2)
      expect(brokenOf(result).problem).toBe("modified")
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a removed record", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 5)
      const lines = readLines(file)
      lines.splice(2, 1)
      expect(yield* verifyLines(lines)).toEqual({
        _tag: "Broken",
        line: 3,
        problem: "removed",
        message: "record 3 is missing before line 3"
      })
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a removed first record", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 3)
      const result = yield* verifyLines(readLines(file).slice(1))
      expect(brokenOf(result).problem).toBe("removed")
      expect(brokenOf(result).line).toBe(1)
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports swapped records", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 5)
      const lines = readLines(file)
      const third = lines[2]!
      lines[2] = lines[3]!
      lines[3] = third
      expect(yield* verifyLines(lines)).toEqual({
        _tag: "Broken",
        line: 3,
        problem: "reordered",
        message: "record 4 on line 3 comes before record 3"
      })
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a line that is not a record", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 2)
      const lines = [...readLines(file), "{not json"]
      const result = yield* verifyLines(lines)
      expect(brokenOf(result).problem).toBe("malformed")
      expect(brokenOf(result).line).toBe(3)
    }).pipe(Effect.provide(fileLayer)))

  it.effect("reports a removed tail against an expected head", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 4)
      const lines = readLines(file)
      const head = JSON.parse(lines[3]!)
      const result = yield* Audit.verify(lines.slice(0, 2), { expectedHead: { seq: head.seq, hash: head.hash } })
      expect(brokenOf(result).problem).toBe("truncated")
      expect(brokenOf(result).message).toBe("records 3 to 4 are missing at the end")
    }).pipe(Effect.provide(fileLayer)))

  it.effect("detects a recomputed chain when it is keyed", () =>
    Effect.gen(function*() {
      const chainKey = Redacted.make("an-audit-chain-key-of-32-characters!")
      const file = tempFile()
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [yield* Audit.fileSink({ path: file, chainKey })] })
        yield* audit.log(entry(1))
        yield* audit.log(entry(2))
      }))
      expect(intactOf(yield* Audit.verifyFile(file, { chainKey })).records).toBe(2)
      expect(brokenOf(yield* Audit.verifyFile(file)).problem).toBe("modified")

      // A forger without the key recomputes the whole chain with SHA-256 after changing a record.
      const forged = yield* Audit.memorySink()
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [forged.sink] })
        yield* audit.log({ ...entry(1), target: "route:forged" })
        yield* audit.log(entry(2))
      }))
      const lines = (yield* forged.records).map((record) => JSON.stringify(record))
      expect(intactOf(yield* Audit.verify(lines)).records).toBe(2)
      const result = brokenOf(yield* Audit.verify(lines, { chainKey }))
      expect(result.line).toBe(1)
      expect(result.problem).toBe("modified")
    }).pipe(Effect.provide(fileLayer)))

  it.effect("drops a write interrupted by a crash", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* writeFile(file, 2)
      fs.appendFileSync(file, `{"seq":3,"half":`)
      yield* writeFile(file, 1)
      const lines = readLines(file)
      expect(lines).toHaveLength(3)
      expect(JSON.parse(lines[2]!).seq).toBe(3)
      expect((yield* Audit.verifyFile(file))._tag).toBe("Intact")
    }).pipe(Effect.provide(fileLayer)))

  // Live, because a writer waiting for the lock sleeps between attempts.
  it.live("keeps one chain with concurrent writers", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* Effect.all([writeFile(file, 40), writeFile(file, 40), writeFile(file, 40)], { concurrency: "unbounded" })
      const result = yield* Audit.verifyFile(file)
      expect(result._tag).toBe("Intact")
      expect(intactOf(result).records).toBe(120)
      expect(fs.existsSync(`${file}.lock`)).toBe(false)
    }).pipe(Effect.provide(fileLayer)))

  it.live("keeps one chain across processes", () =>
    Effect.gen(function*() {
      const file = tempFile()
      const writer = new URL("./fixtures/auditWriter.ts", import.meta.url).pathname
      const run = () =>
        Effect.callback<number>((resume) => {
          const child = spawn(process.execPath, [writer, file, "50"], { stdio: ["ignore", "ignore", "inherit"] })
          child.on("exit", (code) => resume(Effect.succeed(code ?? -1)))
        })
      const codes = yield* Effect.all([run(), run(), run(), run()], { concurrency: "unbounded" })
      expect(codes).toEqual([0, 0, 0, 0])
      const result = yield* Audit.verifyFile(file)
      expect(result._tag).toBe("Intact")
      expect(intactOf(result).records).toBe(200)
      const writers = new Set(readLines(file).map((line) => JSON.parse(line).actor))
      expect(writers.size).toBe(4)
    }).pipe(Effect.provide(fileLayer)))

  it.live("removes a stale lock", () =>
    Effect.gen(function*() {
      const file = tempFile()
      fs.writeFileSync(`${file}.lock`, "left by a crashed writer")
      const old = new Date(Date.now() - 60_000)
      fs.utimesSync(`${file}.lock`, old, old)
      yield* writeFile(file, 1)
      expect(readLines(file)).toHaveLength(1)
    }).pipe(Effect.provide(fileLayer)))

  it.live("fails when the lock stays held", () =>
    Effect.gen(function*() {
      const file = tempFile()
      fs.writeFileSync(`${file}.lock`, "held")
      const error = yield* Effect.flip(Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [yield* Audit.fileSink({ path: file, lockTimeout: "100 millis" })] })
        yield* audit.log(entry(1))
      })))
      expect(error.reason._tag).toBe("SinkFailed")
      expect(error.message).toContain(`lock ${file}.lock still held`)
    }).pipe(Effect.provide(fileLayer)))
})

describe("Audit redaction", () => {
  it("keeps arrays as arrays", () => {
    const redacted = Audit.redact({ routes: ["a", "b-secret"], items: [{ x: 1 }] }, [Redacted.make("b-secret")]) as {
      routes: unknown
      items: unknown
    }
    expect(redacted.routes).toEqual(["a", "[redacted]"])
    expect(redacted.items).toEqual([{ x: 1 }])
  })

  const leaky: Audit.AuditEntry = {
    actor: `webhook:${webhookSecret}`,
    action: "webhook.received",
    target: `route:${routingKey}`,
    outcome: "rejected",
    details: {
      routing_key: routingKey,
      nested: { note: `sent with key ${routingKey} and token ${token}` },
      list: [token, { deep: webhookSecret }],
      authorization: "Bearer anything",
      wrapped: Redacted.make("wrapped value"),
      [`key-${routingKey}`]: 1,
      signature_valid: false
    }
  }

  it.effect("keeps secrets out of the file sink", () =>
    Effect.gen(function*() {
      const file = tempFile()
      yield* Effect.scoped(Effect.gen(function*() {
        const audit = yield* Audit.make({ sinks: [yield* Audit.fileSink({ path: file })], secrets })
        yield* audit.log(leaky)
      }))
      const text = fs.readFileSync(file, "utf8")
      for (const secret of [routingKey, token, webhookSecret, "Bearer anything", "wrapped value"]) {
        expect(text).not.toContain(secret)
      }
      const record = JSON.parse(text)
      expect(record.details.routing_key).toBe("[redacted]")
      expect(record.details.nested.note).toBe("sent with key [redacted] and token [redacted]")
      expect(record.details.signature_valid).toBe(false)
      expect(record.target).toBe("route:[redacted]")
    }).pipe(Effect.provide(fileLayer)))

  it.effect("keeps secrets out of the memory and stdout sinks", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const stdio = Stdio.layerTest({
        stdout: () =>
          Sink.forEach((chunk: string | Uint8Array) =>
            Effect.sync(() => {
              written.push(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk))
            })
          )
      })
      const memory = yield* Audit.memorySink()
      yield* Effect.scoped(Effect.gen(function*() {
        const stdout = yield* Effect.provide(Audit.stdoutSink(), stdio)
        const audit = yield* Audit.make({ sinks: [memory.sink, stdout], secrets })
        yield* audit.log(leaky)
      }))
      const texts = [written.join(""), JSON.stringify(yield* memory.records)]
      expect(written.join("")).toContain(`"action":"webhook.received"`)
      for (const text of texts) {
        for (const secret of [routingKey, token, webhookSecret, "Bearer anything", "wrapped value"]) {
          expect(text).not.toContain(secret)
        }
      }
    }).pipe(Effect.provide(crypto)))
})

describe("Audit from configuration", () => {
  it.effect("writes to the configured sinks and redacts configured secrets", () =>
    Effect.gen(function*() {
      const file = tempFile()
      const config = yield* Config.parse({
        text: [
          "pagerduty: { region: us, token: " + token + " }",
          "intake: { auth: { bearer_tokens: [intake-bearer-token] } }",
          "routes:",
          "  - name: platform",
          `    routing_key: ${routingKey}`,
          "audit:",
          "  sinks:",
          `    - { type: file, path: "${file}" }`
        ].join("\n"),
        env: {}
      })
      yield* Effect.gen(function*() {
        const audit = yield* Audit.Audit
        yield* audit.log({
          actor: "relay",
          action: "config.loaded",
          target: "config",
          outcome: "success",
          details: { note: `token ${token}, bearer intake-bearer-token, key ${routingKey}` }
        })
      }).pipe(
        Effect.provide(Audit.layerConfig.pipe(Layer.provide(Layer.succeed(Config.RelayConfig, config)))),
        Effect.provide(Stdio.layerTest({}))
      )
      const text = fs.readFileSync(file, "utf8")
      expect(JSON.parse(text).details.note).toBe("token [redacted], bearer [redacted], key [redacted]")
      for (const secret of [token, "intake-bearer-token", routingKey]) expect(text).not.toContain(secret)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.effect("fails when a Redis sink has no Redis service", () =>
    Effect.gen(function*() {
      const config = yield* Config.parse({
        text: [
          "pagerduty: { region: us }",
          "intake: { insecure_no_auth: true }",
          `routes: [{ name: platform, routing_key: ${routingKey} }]`,
          "redis: { url: redis://127.0.0.1:6379 }",
          "audit: { sinks: [{ type: redis, stream: relay-audit }] }"
        ].join("\n"),
        env: {}
      })
      const error = yield* Effect.flip(
        Layer.build(
          Audit.layerConfig.pipe(Layer.provide(Layer.succeed(Config.RelayConfig, config)))
        ).pipe(Effect.scoped, Effect.provide(Stdio.layerTest({})))
      )
      expect(error.message).toBe(
        "audit sink redis:relay-audit failed: no Redis service is provided; add a Redis layer to the program"
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

const redisLayer = Layer.merge(crypto, NodeRedis.layer({ url: "redis://127.0.0.1:6379" }))

describe("Audit Redis sink", () => {
  const streamName = () => `effect-pagerduty-test:audit:${process.pid}:${Math.random().toString(36).slice(2)}`

  const cleanup = (stream: string) =>
    Redis.Redis.use((redis) => redis.send("DEL", `{${stream}}`, `{${stream}}:head`)).pipe(Effect.ignore)

  const writeStream = (stream: string, count: number, logSecrets = secrets) =>
    Effect.scoped(Effect.gen(function*() {
      const audit = yield* Audit.make({ sinks: [yield* Audit.redisSink(stream)], secrets: logSecrets })
      yield* Effect.forEach(Array.from({ length: count }, (_, i) => i + 1), (n) => audit.log(entry(n)), {
        concurrency: "unbounded",
        discard: true
      })
    }))

  it.live("keeps one chain with concurrent writers", () =>
    Effect.gen(function*() {
      const stream = streamName()
      yield* Effect.gen(function*() {
        yield* Effect.all([writeStream(stream, 30), writeStream(stream, 30), writeStream(stream, 30)], {
          concurrency: "unbounded"
        })
        const result = yield* Audit.verifyStream(stream)
        expect(result._tag).toBe("Intact")
        expect(intactOf(result).records).toBe(90)
      }).pipe(Effect.ensuring(cleanup(stream)))
    }).pipe(Effect.provide(redisLayer)))

  it.live("reports a deleted stream entry", () =>
    Effect.gen(function*() {
      const stream = streamName()
      yield* Effect.gen(function*() {
        yield* writeStream(stream, 5)
        const redis = yield* Redis.Redis
        const entries = yield* redis.send<ReadonlyArray<readonly [string, unknown]>>("XRANGE", `{${stream}}`, "-", "+")
        yield* redis.send("XDEL", `{${stream}}`, entries[1]![0])
        const result = yield* Audit.verifyStream(stream)
        expect(brokenOf(result).problem).toBe("removed")
        expect(brokenOf(result).message).toBe("record 2 is missing before line 2")
      }).pipe(Effect.ensuring(cleanup(stream)))
    }).pipe(Effect.provide(redisLayer)))

  it.live("reports a removed tail", () =>
    Effect.gen(function*() {
      const stream = streamName()
      yield* Effect.gen(function*() {
        yield* writeStream(stream, 3)
        const redis = yield* Redis.Redis
        const entries = yield* redis.send<ReadonlyArray<readonly [string, unknown]>>("XRANGE", `{${stream}}`, "-", "+")
        yield* redis.send("XDEL", `{${stream}}`, entries[2]![0])
        const result = yield* Audit.verifyStream(stream)
        expect(brokenOf(result).problem).toBe("truncated")
      }).pipe(Effect.ensuring(cleanup(stream)))
    }).pipe(Effect.provide(redisLayer)))

  it.live("keeps secrets out of the stream", () =>
    Effect.gen(function*() {
      const stream = streamName()
      yield* Effect.gen(function*() {
        yield* Effect.scoped(Effect.gen(function*() {
          const audit = yield* Audit.make({ sinks: [yield* Audit.redisSink(stream)], secrets })
          yield* audit.log({ ...entry(1), target: `route:${routingKey}`, details: { token, note: webhookSecret } })
        }))
        const redis = yield* Redis.Redis
        const raw = JSON.stringify(yield* redis.send("XRANGE", `{${stream}}`, "-", "+"))
        expect(raw).toContain("route:[redacted]")
        for (const secret of [routingKey, token, webhookSecret]) expect(raw).not.toContain(secret)
      }).pipe(Effect.ensuring(cleanup(stream)))
    }).pipe(Effect.provide(redisLayer)))
})
