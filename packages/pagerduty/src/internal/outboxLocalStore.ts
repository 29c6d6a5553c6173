/**
 * An `OutboxStore` over the in-process `Engine`, optionally writing every
 * change to a journal (the file store's log).
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Latch from "effect/Latch"
import type { Claim, DeadLetter, OutboxItem } from "../OutboxStore.ts"
import { Full, OutboxError, OutboxStore } from "../OutboxStore.ts"
import { checkItem } from "./outboxCommon.ts"
import { Engine } from "./outboxEngine.ts"

/** A change as the file store's log records it, one JSON object per line. */
export type JournalRecord =
  | { readonly t: "put"; readonly item: OutboxItem }
  | { readonly t: "ack"; readonly id: string }
  | {
    readonly t: "retry"
    readonly id: string
    readonly attempts: number
    readonly notBefore: number
    readonly lastError: string
  }
  | { readonly t: "dead"; readonly id: string; readonly attempts: number; readonly deadLetter: DeadLetter }
  | { readonly t: "deadItem"; readonly item: OutboxItem; readonly deadLetter: DeadLetter }
  | { readonly t: "revive"; readonly id: string; readonly at: number }
  | { readonly t: "purge"; readonly id: string; readonly state: "queued" | "dead" }

export interface Journal {
  /** Buffers a record; it reaches the disk with the next group commit. */
  readonly write: (record: JournalRecord) => void
  /** Waits until every record written so far is on disk. */
  readonly flush: Effect.Effect<void, OutboxError>
}

/** Applies a record read back from the log. */
export const applyRecord = (engine: Engine, record: JournalRecord): void => {
  switch (record.t) {
    case "put":
      engine.put(record.item)
      return
    case "ack":
      engine.complete(record.id)
      return
    case "retry":
      engine.retry(record.id, undefined, record.notBefore, record.lastError, record.attempts)
      return
    case "dead":
      engine.kill(record.id, undefined, record.deadLetter, record.attempts)
      return
    case "deadItem":
      engine.putDead(record.item, record.deadLetter)
      return
    case "revive":
      engine.revive(record.id, record.at)
      return
    case "purge":
      if (record.state === "queued") engine.purgeQueued(record.id)
      else engine.purgeDead(record.id)
      return
  }
}

export const make = Effect.fnUntraced(function*(options: {
  readonly kind: "memory" | "file"
  readonly maxDepth: number
  readonly fullRetryAfter: Duration.Duration
  readonly engine?: Engine | undefined
  readonly journal?: Journal | undefined
  readonly pending?: Map<string, OutboxItem> | undefined
}) {
  const engine = options.engine ?? new Engine()
  const journal = options.journal
  // Woken on every change that can make an item due; closed before each scan.
  const latch = Latch.makeUnsafe(false)
  // Offers written to the journal but not yet applied, counted against maxDepth. The file store's
  // compaction copies them too, because their records may already be durable.
  const pending = options.pending ?? new Map<string, OutboxItem>()

  const write = (record: JournalRecord) => {
    if (journal !== undefined) journal.write(record)
  }
  const flush = journal === undefined ? Effect.void : journal.flush

  const offer = (item: OutboxItem) =>
    Effect.suspend(() => {
      const invalid = checkItem(item)
      if (invalid !== undefined) return Effect.fail(invalid)
      if (engine.has(item.id)) return Effect.void
      // A concurrent offer of the same id returns once that offer's record is durable.
      if (pending.has(item.id)) return flush
      const depth = engine.queued.size + pending.size
      if (depth >= options.maxDepth) {
        return Effect.fail(
          new OutboxError({
            reason: new Full({ depth, maxDepth: options.maxDepth, retryAfter: options.fullRetryAfter })
          })
        )
      }
      if (journal === undefined) {
        engine.put(item)
        latch.openUnsafe()
        return Effect.void
      }
      // The item becomes claimable only once its record is durable, so an ack can never precede its put in the log.
      pending.set(item.id, item)
      write({ t: "put", item })
      return Effect.onExit(Effect.uninterruptible(flush), (exit) =>
        Effect.sync(() => {
          // One synchronous step, so a compaction sees the item either pending or queued.
          pending.delete(item.id)
          if (exit._tag === "Success") {
            engine.put(item)
            latch.openUnsafe()
          }
        }))
    })

  const claim: Effect.Effect<Claim> = Effect.gen(function*() {
    while (true) {
      latch.closeUnsafe()
      const now = yield* Clock.currentTimeMillis
      const result = engine.claim(now)
      if (typeof result !== "number") {
        // Another waiter may find the next due key.
        latch.openUnsafe()
        return result
      }
      if (result === Infinity) {
        yield* latch.await
      } else {
        yield* Effect.race(latch.await, Effect.sleep(Duration.millis(result - now)))
      }
    }
  })

  const settle = (changed: boolean, record: JournalRecord) =>
    Effect.sync(() => {
      if (!changed) return
      write(record)
      latch.openUnsafe()
    })

  return OutboxStore.of({
    kind: options.kind,
    offer,
    claim,
    complete: (claim) =>
      Effect.suspend(() => settle(engine.complete(claim.item.id, claim.token), { t: "ack", id: claim.item.id })),
    retry: (claim, { lastError, notBefore }) =>
      Effect.suspend(() =>
        settle(engine.retry(claim.item.id, claim.token, notBefore, lastError), {
          t: "retry",
          id: claim.item.id,
          attempts: claim.item.attempts,
          notBefore,
          lastError
        })
      ),
    deadLetter: (claim, deadLetter) =>
      Effect.suspend(() =>
        settle(engine.kill(claim.item.id, claim.token, deadLetter), {
          t: "dead",
          id: claim.item.id,
          attempts: claim.item.attempts,
          deadLetter
        })
      ),
    // A release is not logged: after a restart the attempt it undoes was never recorded.
    release: (claim) => Effect.sync(() => engine.release(claim.item.id, claim.token) && latch.openUnsafe()),
    list: ({ limit, offset, state }) =>
      Effect.sync(() => engine.list(state, offset ?? 0, limit ?? Number.POSITIVE_INFINITY)),
    replay: (replayOptions) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const ids = replayOptions?.ids ?? Array.from(engine.dead.keys()).slice(0, replayOptions?.limit)
        let count = 0
        for (const id of ids) {
          if (engine.revive(id, now) === undefined) continue
          write({ t: "revive", id, at: now })
          count++
        }
        if (count > 0) latch.openUnsafe()
        yield* flush
        return count
      }),
    purge: ({ ids, state }) =>
      Effect.gen(function*() {
        const source = state === "queued" ? engine.queued : engine.dead
        let count = 0
        for (const id of ids ?? Array.from(source.keys())) {
          const removed = state === "queued" ? engine.purgeQueued(id) : engine.purgeDead(id)
          if (!removed) continue
          write({ t: "purge", id, state })
          count++
        }
        yield* flush
        return count
      }),
    stats: Effect.sync(() => engine.stats())
  })
})
