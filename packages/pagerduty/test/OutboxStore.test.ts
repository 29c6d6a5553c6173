import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Option } from "effect"
import { OutboxStore } from "../src/OutboxStore.ts"
import { makeTestItem, stores } from "./support/outboxStores.ts"

const noClaimWithin = (millis: number) =>
  Effect.flatMap(
    OutboxStore,
    (store) => store.claim.pipe(Effect.timeoutOption(Duration.millis(millis)), Effect.map(Option.isNone))
  )

for (const store of stores) {
  describe(`OutboxStore (${store.name})`, () => {
    const run = <A, E>(effect: Effect.Effect<A, E, OutboxStore>, options?: { readonly maxDepth?: number }) =>
      effect.pipe(Effect.provide(store.layer(options)))

    it.live("claims, then completes an item", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const item = makeTestItem("disk-full")
        yield* outbox.offer(item)
        const claim = yield* outbox.claim
        expect(claim.item.id).toBe(item.id)
        expect(claim.item.attempts).toBe(1)
        expect(claim.item.body).toBe(item.body)
        expect((yield* outbox.stats).inFlight).toBe(1)
        yield* outbox.complete(claim)
        const stats = yield* outbox.stats
        expect(stats.depth).toBe(0)
        expect(stats.inFlight).toBe(0)
      })))

    it.live("stores an id once", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const item = makeTestItem("k")
        yield* outbox.offer(item)
        yield* outbox.offer(item)
        expect((yield* outbox.stats).depth).toBe(1)
      })))

    it.live("hands out one item per dedup key, oldest first", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const trigger = makeTestItem("k", "trigger")
        const resolve = makeTestItem("k", "resolve")
        const other = makeTestItem("j")
        yield* outbox.offer(trigger)
        yield* outbox.offer(resolve)
        yield* outbox.offer(other)
        const first = yield* outbox.claim
        const second = yield* outbox.claim
        expect(first.item.id).toBe(trigger.id)
        expect(second.item.id).toBe(other.id)
        expect(yield* noClaimWithin(150)).toBe(true)
        yield* outbox.complete(first)
        const third = yield* outbox.claim
        expect(third.item.id).toBe(resolve.id)
      })))

    it.live("holds a retried item's key until notBefore", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const trigger = makeTestItem("k", "trigger")
        const resolve = makeTestItem("k", "resolve")
        yield* outbox.offer(trigger)
        yield* outbox.offer(resolve)
        const first = yield* outbox.claim
        const now = yield* Clock.currentTimeMillis
        yield* outbox.retry(first, { notBefore: now + 400, lastError: "timed out" })
        expect(yield* noClaimWithin(150)).toBe(true)
        const [listed] = yield* outbox.list({ state: "queued", limit: 1 })
        expect(listed?.lastError).toBe("timed out")
        expect(listed?.notBefore).toBe(now + 400)
        const again = yield* outbox.claim
        expect(again.item.id).toBe(trigger.id)
        expect(again.item.attempts).toBe(2)
        expect((yield* Clock.currentTimeMillis) >= now + 400).toBe(true)
      })))

    it.live("releases without counting the attempt", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        yield* outbox.offer(makeTestItem("k"))
        yield* outbox.release(yield* outbox.claim)
        const again = yield* outbox.claim
        expect(again.item.attempts).toBe(1)
      })))

    it.live("ignores a settlement with a stale token", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        yield* outbox.offer(makeTestItem("k"))
        const first = yield* outbox.claim
        yield* outbox.release(first)
        const second = yield* outbox.claim
        yield* outbox.complete(first)
        expect((yield* outbox.stats).depth).toBe(1)
        yield* outbox.complete(second)
        expect((yield* outbox.stats).depth).toBe(0)
      })))

    it.live("dead-letters, lists, replays and purges", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const item = makeTestItem("k")
        const next = makeTestItem("k", "resolve")
        yield* outbox.offer(item)
        yield* outbox.offer(next)
        const claim = yield* outbox.claim
        yield* outbox.deadLetter(claim, {
          reason: "Rejected",
          detail: "invalid event",
          lastResponse: "{\"status\":\"invalid event\"}",
          at: 5
        })
        const stats = yield* outbox.stats
        expect(stats.deadLetters).toBe(1)
        expect(stats.depth).toBe(1)
        const [dead] = yield* outbox.list({ state: "dead" })
        expect(dead?.item.id).toBe(item.id)
        expect(dead?.deadLetter?.reason).toBe("Rejected")
        expect(dead?.deadLetter?.lastResponse).toBe("{\"status\":\"invalid event\"}")
        expect(dead?.item.attempts).toBe(1)

        // the next item of the key is no longer blocked
        const following = yield* outbox.claim
        expect(following.item.id).toBe(next.id)
        yield* outbox.complete(following)

        expect(yield* outbox.replay()).toBe(1)
        expect((yield* outbox.stats).deadLetters).toBe(0)
        const replayed = yield* outbox.claim
        expect(replayed.item.id).toBe(item.id)
        expect(replayed.item.attempts).toBe(1)
        expect(replayed.item.replayedAt).toBeGreaterThan(0)
        yield* outbox.deadLetter(replayed, { reason: "Expired", detail: "too old", at: 6 })
        expect(yield* outbox.purge({ state: "dead" })).toBe(1)
        expect((yield* outbox.stats).deadLetters).toBe(0)
      })))

    it.live("replays only the given ids", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const a = makeTestItem("a")
        const b = makeTestItem("b")
        yield* outbox.offer(a)
        yield* outbox.offer(b)
        for (let i = 0; i < 2; i++) {
          yield* outbox.deadLetter(yield* outbox.claim, { reason: "Rejected", detail: "no", at: i })
        }
        expect(yield* outbox.replay({ ids: [b.id, "missing"] })).toBe(1)
        const [left] = yield* outbox.list({ state: "dead" })
        expect(left?.item.id).toBe(a.id)
      })))

    it.live("purges queued items but keeps held ones", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        yield* outbox.offer(makeTestItem("a"))
        yield* outbox.offer(makeTestItem("a"))
        yield* outbox.offer(makeTestItem("b"))
        const held = yield* outbox.claim
        expect(yield* outbox.purge({ state: "queued" })).toBe(2)
        const [left] = yield* outbox.list({ state: "queued" })
        expect(left?.item.id).toBe(held.item.id)
        expect(left?.state).toBe("in-flight")
        yield* outbox.complete(held)
        expect(yield* noClaimWithin(100)).toBe(true)
      })))

    it.live("fails with Full at maxDepth", () =>
      run(
        Effect.gen(function*() {
          const outbox = yield* OutboxStore
          yield* outbox.offer(makeTestItem("a"))
          yield* outbox.offer(makeTestItem("b"))
          const error = yield* Effect.flip(outbox.offer(makeTestItem("c")))
          expect(error.reason._tag).toBe("Full")
          expect(error.reason.retryable).toBe(true)
          expect(error.reason.httpStatus).toBe(503)
          if (error.reason._tag === "Full") {
            expect(error.reason.maxDepth).toBe(2)
            expect(Duration.toMillis(error.reason.retryAfter)).toBe(30_000)
          }
        }),
        { maxDepth: 2 }
      ))

    it.live("rejects a body carrying a routing key", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        const item = makeTestItem("k", "trigger", { body: JSON.stringify({ routing_key: "R0UT1NGKEY" }) })
        const error = yield* Effect.flip(outbox.offer(item))
        expect(error.reason._tag).toBe("InvalidItem")
        expect((yield* outbox.stats).depth).toBe(0)
      })))

    it.live("reports the oldest item", () =>
      run(Effect.gen(function*() {
        const outbox = yield* OutboxStore
        yield* outbox.offer(makeTestItem("a", "trigger", { enqueuedAt: 2_000 }))
        yield* outbox.offer(makeTestItem("b", "trigger", { enqueuedAt: 3_000 }))
        expect((yield* outbox.stats).oldestEnqueuedAt).toBe(2_000)
      })))
  })
}
