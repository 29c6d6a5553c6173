/**
 * `outbox list | replay | purge`: inspect and repair the relay's outbox from
 * the command line.
 *
 * The commands open the store the configuration names. A file store is
 * opened with its lock, so while a relay runs on the same directory they fail
 * at once and name the lock's holder. Stop the relay first, or use a Redis
 * store, which many processes may open at the same time. A memory store
 * lives inside the running relay and cannot be reached from outside, so the
 * commands refuse it.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as OutboxFileStore from "@effect-pagerduty/pagerduty/OutboxFileStore"
import * as OutboxRedisStore from "@effect-pagerduty/pagerduty/OutboxRedisStore"
import { type Entry, OutboxStore } from "@effect-pagerduty/pagerduty/OutboxStore"
import * as IoRedis from "@effect-pagerduty/redis/IoRedis"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as EffectConfig from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { configFlag } from "./config.ts"
import { CommandFailed } from "./failure.ts"

const fail = (message: string) => Effect.andThen(Console.error(message), Effect.fail(new CommandFailed({ message })))

/**
 * Opens the configured outbox store for one command.
 *
 * @since 0.1.0
 * @category stores
 */
export const storeLayer = (
  config: Config.RelayConfigShape
): Layer.Layer<OutboxStore, unknown, FileSystem.FileSystem> => {
  const options = { maxDepth: config.outbox.max_depth }
  switch (config.outbox.store) {
    case "memory":
      return Layer.effect(
        OutboxStore,
        fail(
          "outbox.store is memory: its items live inside the running relay and are lost when it stops, so no " +
            "command can reach them; configure outbox.store file or redis to inspect the outbox"
        )
      )
    case "file":
      return OutboxFileStore.layer({
        ...options,
        directory: config.outbox.path,
        owner: `pd-relay outbox command (pid ${process.pid})`
      })
    case "redis": {
      if (config.redis === undefined) {
        return Layer.effect(OutboxStore, fail("outbox.store is redis but redis.url is not set"))
      }
      return OutboxRedisStore.layer(options).pipe(
        Layer.provide(IoRedis.layerConfig({ url: EffectConfig.succeed(config.redis.url) }))
      )
    }
  }
}

// Runs a handler against the configured store, reporting store failures (a held lock, Redis down) as one line.
const withStore = <A>(
  configFile: Option.Option<string>,
  handler: (store: OutboxStore["Service"]) => Effect.Effect<A, unknown>
) =>
  Effect.gen(function*() {
    const loaded = yield* Effect.result(Config.load({ file: Option.getOrUndefined(configFile), env: process.env }))
    if (loaded._tag === "Failure") return yield* fail(loaded.failure.message)
    return yield* OutboxStore.use(handler).pipe(Effect.provide(storeLayer(loaded.success)))
  }).pipe(
    Effect.catch((error) =>
      error instanceof CommandFailed
        ? Effect.fail(error)
        : fail(error instanceof Error ? error.message : String(error))
    )
  )

const iso = (millis: number | undefined) => millis === undefined ? "-" : new Date(millis).toISOString()

/**
 * Formats one entry as a line of `outbox list`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatEntry = (entry: Entry): string => {
  const { item } = entry
  const fields = [
    item.id,
    entry.state,
    `route=${item.route}`,
    `action=${item.action}`,
    `dedup_key=${item.dedupKey}`,
    `attempts=${item.attempts}`,
    `enqueued=${iso(item.enqueuedAt)}`
  ]
  if (item.replayedAt !== undefined) fields.push(`replayed=${iso(item.replayedAt)}`)
  if (entry.notBefore !== undefined) fields.push(`next=${iso(entry.notBefore)}`)
  if (entry.lastError !== undefined) fields.push(`last_error=${JSON.stringify(entry.lastError)}`)
  if (entry.deadLetter !== undefined) {
    fields.push(`reason=${entry.deadLetter.reason}`, `detail=${JSON.stringify(entry.deadLetter.detail)}`)
    if (entry.deadLetter.lastResponse !== undefined) {
      fields.push(`last_response=${JSON.stringify(entry.deadLetter.lastResponse)}`)
    }
  }
  return fields.join("  ")
}

const deadFlag = Flag.Boolean("dead").pipe(
  Flag.withDescription("Act on dead letters instead of queued items"),
  Flag.withDefault(false)
)

const idsFlag = Flag.String("id").pipe(
  Flag.withDescription("Item id to act on; repeat the flag for several ids"),
  Flag.between(0, Number.MAX_SAFE_INTEGER)
)

/**
 * `outbox list [--dead] [--limit N] [--offset N] [--json]`: prints queued items
 * (or dead letters), oldest first, then the counts.
 *
 * @since 0.1.0
 * @category commands
 */
export const listCommand = Command.make(
  "list",
  {
    config: configFlag,
    dead: deadFlag,
    limit: Flag.Int("limit").pipe(Flag.withDescription("Maximum number of entries to print"), Flag.withDefault(100)),
    offset: Flag.Int("offset").pipe(Flag.withDescription("Entries to skip first"), Flag.withDefault(0)),
    json: Flag.Boolean("json").pipe(Flag.withDescription("Print one JSON object per entry"), Flag.withDefault(false))
  },
  ({ config, dead, json, limit, offset }) =>
    withStore(config, (store) =>
      Effect.gen(function*() {
        const entries = yield* store.list({ state: dead ? "dead" : "queued", limit, offset })
        for (const entry of entries) yield* Console.log(json ? JSON.stringify(entry) : formatEntry(entry))
        const stats = yield* store.stats
        if (!json) {
          yield* Console.log(
            `${stats.depth} queued (${stats.inFlight} in flight), ${stats.deadLetters} dead letters, oldest enqueued ${
              iso(stats.oldestEnqueuedAt)
            }`
          )
        }
      }))
).pipe(Command.withDescription("List queued items or dead letters of the outbox"))

const replayBatch = 500

/**
 * `outbox replay [--id ID]...`: moves dead letters (the given ones, or all)
 * back to the queue, printing progress after every batch and a summary.
 *
 * @since 0.1.0
 * @category commands
 */
export const replayCommand = Command.make(
  "replay",
  { config: configFlag, ids: idsFlag },
  ({ config, ids }) =>
    withStore(config, (store) =>
      Effect.gen(function*() {
        if (ids.length > 0) {
          const replayed = yield* store.replay({ ids })
          yield* Console.log(`replayed ${replayed} of ${ids.length} requested dead letters`)
          return
        }
        const total = (yield* store.stats).deadLetters
        let replayed = 0
        while (true) {
          const moved = yield* store.replay({ limit: replayBatch })
          if (moved === 0) break
          replayed += moved
          yield* Console.log(`replayed ${replayed} of ${total} dead letters`)
        }
        const left = (yield* store.stats).deadLetters
        yield* Console.log(`replay finished: ${replayed} dead letters back in the queue, ${left} left`)
      }))
).pipe(Command.withDescription("Move dead letters back into the outbox queue"))

/**
 * `outbox purge (--dead | --queued) [--id ID]...`: removes dead letters or
 * queued items for good.
 *
 * @since 0.1.0
 * @category commands
 */
export const purgeCommand = Command.make(
  "purge",
  {
    config: configFlag,
    dead: deadFlag,
    queued: Flag.Boolean("queued").pipe(
      Flag.withDescription("Remove queued items; they will never be delivered"),
      Flag.withDefault(false)
    ),
    ids: idsFlag
  },
  ({ config, dead, ids, queued }) => {
    if (dead === queued) return fail("choose what to purge: --dead or --queued")
    return withStore(config, (store) =>
      Effect.gen(function*() {
        const state = dead ? "dead" : "queued"
        const removed = yield* store.purge({ state, ids: ids.length > 0 ? ids : undefined })
        yield* Console.log(`purged ${removed} ${dead ? "dead letters" : "queued items"}`)
      }))
  }
).pipe(Command.withDescription("Remove dead letters or queued items from the outbox"))

/**
 * The `outbox` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("outbox").pipe(
  Command.withDescription("Inspect and repair the relay's outbox (stop a relay that uses a file store first)"),
  Command.withSubcommands([listCommand, replayCommand, purgeCommand])
)
