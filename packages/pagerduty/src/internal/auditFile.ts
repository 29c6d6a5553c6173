import * as Clock from "effect/Clock"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Hex from "effect/encoding/Hex"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import * as Random from "effect/Random"
import { chain, emptyHead, type Entry, type Hasher, type Head, headOfLine, toLine } from "./auditChain.ts"

/** Options of the JSON Lines file sink. */
export interface FileSinkOptions {
  readonly path: string
  /** How long a writer waits for the lock before failing. Default 10 seconds. */
  readonly lockTimeout?: Duration.Input | undefined
  /** Age after which a lock file is taken to be left by a crashed writer and removed. Default 30 seconds. */
  readonly staleLockAfter?: Duration.Input | undefined
}

/** A failure of the file sink, before it is wrapped in the module's error. */
export type FileSinkFailure =
  | { readonly _tag: "Io"; readonly operation: string; readonly error: PlatformError.PlatformError }
  | { readonly _tag: "LockTimeout"; readonly lockPath: string; readonly waited: Duration.Duration }

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const newline = 10

const io = (operation: string) => (error: PlatformError.PlatformError): FileSinkFailure => ({
  _tag: "Io",
  operation,
  error
})

/**
 * Takes the lock file `<path>.lock` by creating it exclusively (`wx`), which
 * only one process can do at a time, and removes it after `body`.
 *
 * NOTE: a lock older than `staleLockAfter` is removed as left by a crashed
 * writer. Two writers that find the same stale lock at once can both remove
 * it, and then one can remove the other's new lock, so the stale limit must
 * stay far above the time a batch holds the lock.
 */
const withLock = <A, E, R>(
  fs: FileSystem.FileSystem,
  lockPath: string,
  options: FileSinkOptions,
  body: Effect.Effect<A, E, R>
): Effect.Effect<A, E | FileSinkFailure, R | SecureRandom.SecureRandom> =>
  Effect.gen(function*() {
    const timeout = Duration.fromInputUnsafe(options.lockTimeout ?? "10 seconds")
    const staleAfter = Duration.toMillis(Duration.fromInputUnsafe(options.staleLockAfter ?? "30 seconds"))
    const token = Hex.encode(
      yield* SecureRandom.SecureRandom.use((random) => random.randomBytes(16)).pipe(Effect.orDie)
    )
    const started = yield* Clock.currentTimeMillis
    let pause = 1
    while (true) {
      const created = yield* fs.writeFileString(lockPath, token, { flag: "wx" }).pipe(
        Effect.as(true),
        Effect.catchIf(
          (error) => error.reason._tag === "AlreadyExists",
          () => Effect.succeed(false)
        ),
        Effect.mapError(io("create the lock file"))
      )
      if (created) break

      const now = yield* Clock.currentTimeMillis
      const info = yield* fs.stat(lockPath).pipe(Effect.option)
      const modified = Option.flatMap(info, (stat) => stat.mtime)
      if (Option.isSome(modified) && now - modified.value.getTime() > staleAfter) {
        yield* fs.remove(lockPath).pipe(Effect.ignore)
        continue
      }
      if (now - started > Duration.toMillis(timeout)) {
        return yield* Effect.fail<FileSinkFailure>({ _tag: "LockTimeout", lockPath, waited: timeout })
      }
      // A short random pause keeps waiting writers from retrying in step.
      yield* Effect.sleep(Duration.millis(pause * (0.5 + (yield* Random.next))))
      pause = Math.min(pause * 2, 8)
    }
    return yield* body.pipe(
      Effect.ensuring(
        // Remove the lock only while it is still ours.
        fs.readFileString(lockPath).pipe(
          Effect.flatMap((content) => content === token ? fs.remove(lockPath) : Effect.void),
          Effect.ignore
        )
      )
    )
  })

/**
 * Reads the head of the chain from the end of the file. A last line without
 * its line break is cut off, because it is a write that a crash interrupted
 * before any caller saw it succeed.
 */
const readHead = Effect.fnUntraced(function*(file: FileSystem.File) {
  const size = Number((yield* Effect.mapError(file.stat, io("stat the audit file"))).size)
  if (size === 0) return emptyHead
  let window = Math.min(size, 64 * 1024)
  while (true) {
    const start = size - window
    const buffer = new Uint8Array(window)
    const read = yield* file.read(buffer, { position: BigInt(start) }).pipe(Effect.mapError(io("read the audit file")))
    const bytes = buffer.subarray(0, read)
    let end = bytes.length
    if (bytes[end - 1] !== newline) {
      const lastBreak = bytes.lastIndexOf(newline)
      if (lastBreak === -1 && start > 0) {
        window = Math.min(size, window * 2)
        continue
      }
      yield* file.truncate(start + lastBreak + 1).pipe(Effect.mapError(io("truncate an interrupted write")))
      end = lastBreak + 1
      if (end === 0) return emptyHead
    }
    const previousBreak = bytes.lastIndexOf(newline, end - 2)
    if (previousBreak === -1 && start > 0) {
      window = Math.min(size, window * 2)
      continue
    }
    const line = decoder.decode(bytes.subarray(previousBreak + 1, end - 1))
    // A last line that is not a record restarts the chain rather than stopping the audit log;
    // verification then reports that line as malformed.
    return headOfLine(line) ?? emptyHead
  }
})

/**
 * Makes the append function of a JSON Lines file sink: one lock, one read of
 * the head, one write and one fsync per batch.
 */
export const makeFileAppend = (options: FileSinkOptions, hasher: Hasher) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const random = yield* SecureRandom.SecureRandom
    const lockPath = `${options.path}.lock`
    return (entries: ReadonlyArray<Entry>): Effect.Effect<Head, FileSinkFailure> =>
      withLock(
        fs,
        lockPath,
        options,
        Effect.scoped(Effect.gen(function*() {
          const file = yield* fs.open(options.path, { flag: "a+" }).pipe(Effect.mapError(io("open the audit file")))
          const head = yield* readHead(file)
          const chained = yield* chain(head, entries, hasher)
          const text = chained.records.map((record) => `${toLine(record)}\n`).join("")
          yield* file.writeAll(encoder.encode(text)).pipe(Effect.mapError(io("append to the audit file")))
          yield* file.sync.pipe(Effect.mapError(io("fsync the audit file")))
          return chained.head
        }))
      ).pipe(Effect.provideService(SecureRandom.SecureRandom, random))
  })
