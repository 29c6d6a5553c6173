/**
 * The file store's lock file: created exclusively, refreshed by a heartbeat
 * that touches its modification time, and taken over once it is older than
 * `staleAfter` (its holder died without removing it).
 */
import * as Clock from "effect/Clock"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import { Locked, OutboxError } from "../OutboxStore.ts"
import { storeFailed } from "./outboxCommon.ts"

const isAlreadyExists = (error: PlatformError.PlatformError) => error.reason._tag === "AlreadyExists"

const readHolder = (fs: FileSystem.FileSystem, path: string) =>
  fs.readFileString(path).pipe(
    Effect.map((text) => {
      try {
        const parsed = JSON.parse(text) as { owner?: unknown; token?: unknown }
        return { owner: String(parsed.owner ?? "an unknown process"), token: String(parsed.token ?? "") }
      } catch {
        return { owner: "an unknown process", token: "" }
      }
    }),
    Effect.orElseSucceed(() => ({ owner: "an unknown process", token: "" }))
  )

export const acquire = Effect.fnUntraced(function*(options: {
  readonly path: string
  readonly owner: string
  readonly staleAfter: Duration.Duration
  readonly refreshInterval: Duration.Duration
}) {
  const fs = yield* FileSystem.FileSystem
  const token = SecureRandom.uuidV4Unsafe()
  const content = JSON.stringify({ owner: options.owner, token })
  const failed = (operation: string) => (cause: unknown) => storeFailed("file", operation, cause)
  const locked = (holder: string) =>
    new OutboxError({ reason: new Locked({ path: options.path, holder, staleAfter: options.staleAfter }) })

  const create = fs.writeFileString(options.path, content, { flag: "wx" }).pipe(
    Effect.as(true),
    Effect.catchIf(isAlreadyExists, () => Effect.succeed(false)),
    Effect.mapError(failed(`create the lock file ${options.path}`))
  )

  if (!(yield* create)) {
    const holder = yield* readHolder(fs, options.path)
    const info = yield* fs.stat(options.path).pipe(Effect.mapError(failed(`read the lock file ${options.path}`)))
    const now = yield* Clock.currentTimeMillis
    const touchedAt = Option.match(info.mtime, { onNone: () => now, onSome: (date) => date.getTime() })
    if (now - touchedAt < Duration.toMillis(options.staleAfter)) return yield* locked(holder.owner)
    // The holder stopped refreshing the lock, so it is gone. Two processes taking over at once both remove the stale
    // file, but only one exclusive create succeeds.
    yield* fs.remove(options.path, { force: true }).pipe(
      Effect.mapError(failed(`remove the stale lock ${options.path}`))
    )
    if (!(yield* create)) return yield* locked((yield* readHolder(fs, options.path)).owner)
  }

  // NOTE: a heartbeat delayed past `staleAfter` (a stopped or swapped-out process) lets another process take the lock
  // over while this one still runs; the heartbeat then finds a foreign token and logs it, but cannot stop the writes.
  let warned = false
  yield* Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep(options.refreshInterval)
      const now = yield* Clock.currentTimeMillis
      const holder = yield* readHolder(fs, options.path)
      if (holder.token !== token) {
        if (!warned) yield* Effect.logError(`outbox lock ${options.path} was taken over by ${holder.owner}`)
        warned = true
        continue
      }
      yield* fs.utimes(options.path, now, now).pipe(
        Effect.catchCause((cause) => Effect.logWarning(`failed to refresh outbox lock ${options.path}`, cause))
      )
    }
  }).pipe(Effect.interruptible, Effect.forkScoped)

  yield* Effect.addFinalizer(() =>
    readHolder(fs, options.path).pipe(
      Effect.flatMap((holder) => holder.token === token ? fs.remove(options.path, { force: true }) : Effect.void),
      Effect.ignore
    )
  )
})
