import * as OutboxFileStore from "@effect-pagerduty/pagerduty/OutboxFileStore"
import type { OutboxItem } from "@effect-pagerduty/pagerduty/OutboxStore"
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Exit, Scope } from "effect"
import * as Command from "effect/cli/Command"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as OutboxCommand from "../src/commands/outbox.ts"

const routingKey = "0123456789abcdef0123456789abcdef"

const runCapturing = (args: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const console: Console.Console = {
      ...globalThis.console,
      log: (...parts: ReadonlyArray<unknown>) => out.push(parts.join(" ")),
      error: (...parts: ReadonlyArray<unknown>) => err.push(parts.join(" "))
    }
    const exit = yield* Command.runWith(OutboxCommand.command, { version: "0.0.0" })(args).pipe(
      Effect.provideService(Console.Console, console),
      Effect.exit
    )
    return { exit, stdout: out.join("\n"), stderr: err.join("\n") }
  }).pipe(Effect.provide(NodeServices.layer))

const setup = (store: "file" | "memory") => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pd-relay-outbox-"))
  const outboxDir = path.join(dir, "outbox")
  const file = path.join(dir, "relay.yaml")
  fs.writeFileSync(
    file,
    `pagerduty: { region: us }\nintake:\n  auth:\n    bearer_tokens: [intake-secret-value]\nroutes:\n  - name: main\n    routing_key: ${routingKey}\noutbox:\n  store: ${store}\n${
      store === "file" ? `  path: ${outboxDir}\n` : ""
    }`
  )
  return { file, outboxDir }
}

const item = (index: number): OutboxItem => ({
  id: `item-${index}`,
  route: "main",
  dedupKey: `key-${index % 3}`,
  action: "trigger",
  body: JSON.stringify({ event_action: "trigger", dedup_key: `key-${index % 3}`, payload: { summary: `s${index}` } }),
  enqueuedAt: 1_700_000_000_000 + index,
  attempts: 0
})

/** Fills a file store with queued items and dead letters, then closes it. */
const fill = (directory: string, queued: number, dead: number) =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const store = yield* OutboxFileStore.make({ directory }).pipe(Scope.provide(scope))
    for (let index = 0; index < dead; index++) {
      yield* store.offer(item(1_000 + index))
      const claim = yield* store.claim
      yield* store.deadLetter(claim, {
        reason: "Rejected",
        detail: "event rejected: payload.summary is missing",
        lastResponse: "{\"status\":\"invalid event\"}",
        at: 1_700_000_100_000
      })
    }
    for (let index = 0; index < queued; index++) yield* store.offer(item(index))
    yield* Scope.close(scope, Exit.void)
  }).pipe(Effect.provide(NodeServices.layer))

describe("outbox commands", () => {
  it.live("lists queued items and dead letters without routing keys", () =>
    Effect.gen(function*() {
      const { file, outboxDir } = setup("file")
      yield* fill(outboxDir, 2, 1)
      const queued = yield* runCapturing(["list", "--config", file])
      expect(queued.exit._tag).toBe("Success")
      expect(queued.stdout).toContain("item-0  queued  route=main  action=trigger  dedup_key=key-0  attempts=0")
      expect(queued.stdout).toContain("2 queued (0 in flight), 1 dead letters")
      expect(queued.stdout).not.toContain(routingKey)
      const dead = yield* runCapturing(["list", "--config", file, "--dead", "--json"])
      const entry = JSON.parse(dead.stdout.split("\n")[0]!)
      expect(entry.item.id).toBe("item-1000")
      expect(entry.deadLetter.reason).toBe("Rejected")
      expect(dead.stdout).not.toContain(routingKey)
    }))

  it.live("replays every dead letter with progress and a summary", () =>
    Effect.gen(function*() {
      const { file, outboxDir } = setup("file")
      yield* fill(outboxDir, 0, 1_200)
      const result = yield* runCapturing(["replay", "--config", file])
      expect(result.exit._tag).toBe("Success")
      expect(result.stdout).toContain("replayed 500 of 1200 dead letters")
      expect(result.stdout).toContain("replayed 1000 of 1200 dead letters")
      expect(result.stdout).toContain("replay finished: 1200 dead letters back in the queue, 0 left")
      const listed = yield* runCapturing(["list", "--config", file, "--limit", "0"])
      expect(listed.stdout).toContain("1200 queued (0 in flight), 0 dead letters")
    }), { timeout: 60_000 })

  it.live("replays and purges chosen ids", () =>
    Effect.gen(function*() {
      const { file, outboxDir } = setup("file")
      yield* fill(outboxDir, 1, 2)
      const replayed = yield* runCapturing(["replay", "--config", file, "--id", "item-1001", "--id", "nope"])
      expect(replayed.stdout).toContain("replayed 1 of 2 requested dead letters")
      const purged = yield* runCapturing(["purge", "--config", file, "--dead"])
      expect(purged.stdout).toContain("purged 1 dead letters")
      const queued = yield* runCapturing(["purge", "--config", file, "--queued", "--id", "item-0"])
      expect(queued.stdout).toContain("purged 1 queued items")
      const neither = yield* runCapturing(["purge", "--config", file])
      expect(neither.exit._tag).toBe("Failure")
      expect(neither.stderr).toContain("--dead or --queued")
    }))

  it.live("fails clearly while a relay holds the file store", () =>
    Effect.gen(function*() {
      const { file, outboxDir } = setup("file")
      const scope = yield* Scope.make()
      yield* OutboxFileStore.make({ directory: outboxDir, owner: "pd-relay serve (pid 777)" }).pipe(
        Scope.provide(scope),
        Effect.provide(NodeServices.layer)
      )
      const result = yield* runCapturing(["list", "--config", file])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("is held by pd-relay serve (pid 777)")
      yield* Scope.close(scope, Exit.void)
    }))

  it.live("refuses a memory store", () =>
    Effect.gen(function*() {
      const { file } = setup("memory")
      const result = yield* runCapturing(["list", "--config", file])
      expect(result.exit._tag).toBe("Failure")
      expect(result.stderr).toContain("outbox.store is memory")
    }))
})
