/**
 * The file store's append-only log: one JSON record per line, written in
 * groups with one `fsync` per group, and rewritten from a snapshot
 * (compaction) once most of its records are obsolete.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FileSystem from "effect/FileSystem"
import * as Latch from "effect/Latch"
import * as Scope from "effect/Scope"
import type { OutboxError } from "../OutboxStore.ts"
import { storeFailed } from "./outboxCommon.ts"
import type { Engine } from "./outboxEngine.ts"
import { applyRecord, type Journal, type JournalRecord } from "./outboxLocalStore.ts"

const recordTags = new Set(["put", "ack", "retry", "dead", "deadItem", "revive", "purge"])

/**
 * Rebuilds the engine from the log. A torn last line (the process died
 * mid-write) is cut off; an unreadable line elsewhere, left by a failed
 * write, is skipped and reported once.
 */
export const load = Effect.fnUntraced(function*(engine: Engine, path: string) {
  const fs = yield* FileSystem.FileSystem
  const failed = (cause: unknown) => storeFailed("file", `read the log ${path}`, cause)
  if (!(yield* fs.exists(path).pipe(Effect.mapError(failed)))) return { bytes: 0, records: 0 }
  const text = yield* fs.readFileString(path).pipe(Effect.mapError(failed))
  const lines = text.split("\n")
  const endsWithNewline = text.endsWith("\n")
  let records = 0
  let skipped = 0
  let tornAt: number | undefined
  let offset = 0
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!
    const isLast = index === lines.length - 1
    if (line.length > 0) {
      const record = parse(line)
      if (record !== undefined) {
        applyRecord(engine, record)
        records++
      } else if (isLast && !endsWithNewline) {
        tornAt = offset
      } else {
        skipped++
      }
    }
    offset += line.length + 1
  }
  if (skipped > 0) {
    yield* Effect.logWarning(`outbox log ${path}: skipped ${skipped} unreadable records left by failed writes`)
  }
  let bytes = new TextEncoder().encode(text).length
  if (tornAt !== undefined) {
    bytes = new TextEncoder().encode(text.slice(0, tornAt)).length
    yield* fs.truncate(path, bytes).pipe(Effect.mapError(failed))
  } else if (text.length > 0 && !endsWithNewline) {
    // A complete last record without its newline: add it, so the next append starts on a line of its own.
    yield* fs.writeFileString(path, "\n", { flag: "a" }).pipe(Effect.mapError(failed))
    bytes++
  }
  return { bytes, records }
})

const parse = (line: string): JournalRecord | undefined => {
  try {
    const record = JSON.parse(line) as JournalRecord
    return typeof record === "object" && record !== null && recordTags.has(record.t) ? record : undefined
  } catch {
    return undefined
  }
}

/** The records that rebuild the engine's current state, in queue order so per-key order survives. */
export const snapshot = (engine: Engine, pending: ReadonlyMap<string, unknown>): Array<JournalRecord> => {
  const records: Array<JournalRecord> = []
  for (const entry of engine.list("queued", 0, Number.POSITIVE_INFINITY)) {
    records.push({ t: "put", item: entry.item })
    if (entry.notBefore !== undefined || entry.lastError !== undefined) {
      records.push({
        t: "retry",
        id: entry.item.id,
        attempts: entry.item.attempts,
        notBefore: entry.notBefore ?? 0,
        lastError: entry.lastError ?? ""
      })
    }
  }
  for (const item of pending.values()) records.push({ t: "put", item: item as never })
  for (const dead of engine.dead.values()) records.push({ t: "deadItem", item: dead.item, deadLetter: dead.deadLetter })
  return records
}

export const makeWriter = Effect.fnUntraced(function*(options: {
  readonly directory: string
  readonly path: string
  readonly bytes: number
  readonly records: number
  readonly compactAfterBytes: number
  readonly snapshot: () => Array<JournalRecord>
  readonly liveRecords: () => number
}) {
  const fs = yield* FileSystem.FileSystem
  const encoder = new TextEncoder()
  const compactPath = `${options.path}.compact`
  const failed = (operation: string) => (cause: unknown) => storeFailed("file", operation, cause)

  let handleScope = yield* Scope.make()
  let file = yield* fs.open(options.path, { flag: "a" }).pipe(
    Scope.provide(handleScope),
    Effect.mapError(failed(`open the log ${options.path}`))
  )
  yield* Effect.addFinalizer(() => Scope.close(handleScope, Exit.void))

  let buffer: Array<string> = []
  let waiters: Array<Deferred.Deferred<void, OutboxError>> = []
  let bytes = options.bytes
  let records = options.records
  // After a failed write the file may end mid-line, so the next group starts with a newline.
  let resync = false
  const wake = Latch.makeUnsafe(false)

  const appendGroup = (lines: Array<string>) =>
    Effect.gen(function*() {
      if (lines.length > 0) {
        const data = encoder.encode((resync ? "\n" : "") + lines.join("\n") + "\n")
        yield* file.writeAll(data)
        bytes += data.length
        records += lines.length
      }
      yield* file.sync
      resync = false
    }).pipe(
      Effect.tapError(() => Effect.sync(() => resync = true)),
      Effect.mapError(failed(`write the log ${options.path}`))
    )

  // Directory fsync makes the rename durable. NOTE: where the platform cannot open a directory this step is skipped,
  // and a crash right after a compaction may bring back the log from before it.
  const syncDirectory = Effect.scoped(
    Effect.flatMap(fs.open(options.directory, { flag: "r" }), (directory) => directory.sync)
  ).pipe(Effect.ignore)

  const compact = Effect.gen(function*() {
    const snapshotRecords = options.snapshot()
    const data = encoder.encode(snapshotRecords.map((record) => JSON.stringify(record) + "\n").join(""))
    yield* Effect.scoped(Effect.gen(function*() {
      const target = yield* fs.open(compactPath, { flag: "w" })
      yield* target.writeAll(data)
      yield* target.sync
    }))
    yield* fs.rename(compactPath, options.path)
    yield* syncDirectory
    yield* Scope.close(handleScope, Exit.void)
    handleScope = yield* Scope.make()
    file = yield* fs.open(options.path, { flag: "a" }).pipe(Scope.provide(handleScope))
    bytes = data.length
    records = snapshotRecords.length
  }).pipe(
    Effect.catchCause((cause) => Effect.logWarning(`outbox log ${options.path}: compaction failed`, cause))
  )

  yield* Effect.gen(function*() {
    while (true) {
      yield* wake.await
      wake.closeUnsafe()
      const lines = buffer
      const group = waiters
      buffer = []
      waiters = []
      const exit = yield* Effect.exit(appendGroup(lines))
      for (const waiter of group) Deferred.doneUnsafe(waiter, exit)
      if (Exit.isSuccess(exit) && bytes > options.compactAfterBytes && records > 2 * options.liveRecords()) {
        yield* compact
      }
    }
  }).pipe(Effect.interruptible, Effect.forkScoped)

  const journal: Journal = {
    write: (record) => {
      buffer.push(JSON.stringify(record))
      wake.openUnsafe()
    },
    flush: Effect.suspend(() => {
      const waiter = Deferred.makeUnsafe<void, OutboxError>()
      waiters.push(waiter)
      wake.openUnsafe()
      return Deferred.await(waiter)
    })
  }
  return journal
})
