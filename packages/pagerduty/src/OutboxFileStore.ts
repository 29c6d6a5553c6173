/**
 * The file-backed `OutboxStore`: one process, no server, and a queue that
 * survives a crash or `SIGKILL`.
 *
 * The store keeps its state in memory and writes every change to an
 * append-only log (`outbox.log` in the store's directory). Writes are grouped:
 * every offer waiting while one `fsync` runs is committed by the next one, so
 * the cost is one `fsync` per group rather than per alert, and `offer` returns
 * only once its record is on disk. When the log holds more than twice as many
 * records as there are live items, and is larger than `compactAfterBytes`, it
 * is rewritten from the current state.
 *
 * A lock file (`outbox.lock`) lets only one process open the directory. Its
 * holder refreshes it every `lockRefreshInterval`; a lock left by a process
 * that died is taken over once it is `lockStaleAfter` old, so a restart right
 * after a crash waits up to that long.
 *
 * Deliveries, retries and dead letters are logged without waiting for the
 * disk. A crash can lose the latest of them, which only means an item is
 * delivered again (delivery is at least once).
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { resolveOptions, storeFailed } from "./internal/outboxCommon.ts"
import { Engine } from "./internal/outboxEngine.ts"
import * as FileLock from "./internal/outboxFileLock.ts"
import * as FileLog from "./internal/outboxFileLog.ts"
import * as LocalStore from "./internal/outboxLocalStore.ts"
import type { OutboxError, OutboxItem } from "./OutboxStore.ts"
import { type Options as StoreOptions, OutboxStore } from "./OutboxStore.ts"

/**
 * Options of the file store.
 *
 * - `directory`: where the log and the lock file live; created when missing.
 * - `owner`: how the lock names this process to another one that finds it
 *   taken (the relay passes its pid and host name).
 * - `lockStaleAfter`: age after which a lock is taken over. Default 10 seconds.
 * - `lockRefreshInterval`: how often the holder refreshes it. Default 2 seconds.
 * - `compactAfterBytes`: smallest log size that is compacted. Default 8 MiB.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options extends StoreOptions {
  readonly directory: string
  readonly owner?: string | undefined
  readonly lockStaleAfter?: Duration.Input | undefined
  readonly lockRefreshInterval?: Duration.Input | undefined
  readonly compactAfterBytes?: number | undefined
}

/**
 * Opens the file store in a directory, taking its lock for the life of the
 * scope. Fails with `Locked` when another process holds it.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<OutboxStore["Service"], OutboxError, FileSystem.FileSystem | Scope.Scope> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const { fullRetryAfter, maxDepth } = resolveOptions(options)
    const staleAfter = Duration.fromInputUnsafe(options.lockStaleAfter ?? "10 seconds")
    const refreshInterval = Duration.fromInputUnsafe(options.lockRefreshInterval ?? "2 seconds")
    if (Duration.isGreaterThanOrEqualTo(refreshInterval, staleAfter)) {
      throw new RangeError(
        `lockRefreshInterval (${Duration.format(refreshInterval)}) must be shorter than lockStaleAfter (${
          Duration.format(staleAfter)
        })`
      )
    }
    const compactAfterBytes = options.compactAfterBytes ?? 8 * 1024 * 1024
    const directory = options.directory
    const logPath = `${directory}/outbox.log`

    yield* fs.makeDirectory(directory, { recursive: true }).pipe(
      Effect.mapError((cause) => storeFailed("file", `create the directory ${directory}`, cause))
    )
    yield* FileLock.acquire({
      path: `${directory}/outbox.lock`,
      owner: options.owner ?? "another process",
      staleAfter,
      refreshInterval
    })
    yield* fs.remove(`${logPath}.compact`, { force: true }).pipe(Effect.ignore)

    const engine = new Engine()
    const loaded = yield* FileLog.load(engine, logPath)
    const pending = new Map<string, OutboxItem>()
    const journal = yield* FileLog.makeWriter({
      directory,
      path: logPath,
      bytes: loaded.bytes,
      records: loaded.records,
      compactAfterBytes,
      snapshot: () => FileLog.snapshot(engine, pending),
      liveRecords: () => engine.queued.size + engine.dead.size + pending.size
    })
    // Runs before the writer stops, so records buffered at shutdown reach the disk.
    yield* Effect.addFinalizer(() => Effect.ignore(journal.flush))
    return yield* LocalStore.make({ kind: "file", maxDepth, fullRetryAfter, engine, journal, pending })
  })

/**
 * Provides the file store.
 *
 * @example
 * ```ts
 * import { NodeFileSystem } from "@effect/platform-node"
 * import { OutboxFileStore } from "@effect-pagerduty/pagerduty"
 * import { Layer } from "effect"
 *
 * const StoreLive = OutboxFileStore.layer({ directory: "/var/lib/pd-relay/outbox" }).pipe(
 *   Layer.provide(NodeFileSystem.layer)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<OutboxStore, OutboxError, FileSystem.FileSystem> =>
  Layer.effect(OutboxStore, make(options))
