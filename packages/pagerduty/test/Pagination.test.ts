import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Pagination from "../src/Pagination.ts"

const records = (count: number) => Array.from({ length: count }, (_, index) => index)

// A classic endpoint over `data` that serves at most `cap` records per page.
const endpoint = (data: ReadonlyArray<number>, cap = 100) => {
  const requests: Array<Pagination.ClassicRequest> = []
  const fetchPage = (request: Pagination.ClassicRequest) =>
    Effect.sync(() => {
      requests.push(request)
      if (request.offset + request.limit > Pagination.maxClassicRecords) throw new Error("would be a 400")
      const items = data.slice(request.offset, request.offset + Math.min(request.limit, cap))
      return { items, more: request.offset + items.length < data.length }
    })
  return { requests, fetchPage }
}

describe("Pagination.classic", () => {
  for (const limit of [1, 25, 100]) {
    it.effect(`reads every record with limit ${limit}`, () =>
      Effect.gen(function*() {
        const { fetchPage, requests } = endpoint(records(260))
        const items = yield* Stream.runCollect(Pagination.classic(fetchPage, { limit }))
        expect(items).toEqual(records(260))
        expect(requests.length).toBe(Math.ceil(260 / limit))
      }))
  }

  it.effect("advances by the records received", () =>
    Effect.gen(function*() {
      const { fetchPage, requests } = endpoint(records(100), 30)
      const items = yield* Stream.runCollect(Pagination.classic(fetchPage, { limit: 100 }))
      expect(items).toEqual(records(100))
      expect(requests.map((request) => request.offset)).toEqual([0, 30, 60, 90])
    }))

  it.effect("starts at the given offset", () =>
    Effect.gen(function*() {
      const { fetchPage } = endpoint(records(60))
      const items = yield* Stream.runCollect(Pagination.classic(fetchPage, { limit: 25, offset: 50 }))
      expect(items).toEqual(records(60).slice(50))
    }))

  it.effect("fails with LimitReached after record 10,000", () =>
    Effect.gen(function*() {
      const { fetchPage, requests } = endpoint(records(10_001))
      let count = 0
      const error = yield* Effect.flip(
        Stream.runForEach(Pagination.classic(fetchPage, { limit: 100 }), () =>
          Effect.sync(() => {
            count += 1
          }))
      )
      expect(error.reason._tag).toBe("LimitReached")
      expect(count).toBe(10_000)
      expect(requests.length).toBe(100)
      expect(error.message).toContain("offset 10000")
    }))

  it.effect("ends quietly at the limit when asked", () =>
    Effect.gen(function*() {
      const { fetchPage } = endpoint(records(12_000))
      const items = yield* Stream.runCollect(Pagination.classic(fetchPage, { limit: 100, onLimitReached: "end" }))
      expect(items.length).toBe(10_000)
    }))

  it.effect("shrinks the page that would pass the limit", () =>
    Effect.gen(function*() {
      const { fetchPage, requests } = endpoint(records(10_050))
      const error = yield* Effect.flip(Stream.runDrain(Pagination.classic(fetchPage, { limit: 70, offset: 9_900 })))
      expect(error.reason._tag).toBe("LimitReached")
      expect(requests).toEqual([{ offset: 9_900, limit: 70 }, { offset: 9_970, limit: 30 }])
    }))

  it.effect("fails at once for an offset at the limit", () =>
    Effect.gen(function*() {
      const { fetchPage, requests } = endpoint(records(20_000))
      const error = yield* Effect.flip(Stream.runDrain(Pagination.classic(fetchPage, { offset: 10_000 })))
      expect(error.reason._tag).toBe("LimitReached")
      expect(requests).toEqual([])
    }))

  it.effect("fails when more is reported without records", () =>
    Effect.gen(function*() {
      const stream = Pagination.classic(() => Effect.succeed({ items: [], more: true }), { limit: 10 })
      const error = yield* Effect.flip(Stream.runDrain(stream))
      expect(error.reason._tag).toBe("OffsetNotAdvancing")
    }))

  it.effect("ends on an empty last page", () =>
    Effect.gen(function*() {
      const items = yield* Stream.runCollect(Pagination.classic(() => Effect.succeed({ items: [], more: false })))
      expect(items).toEqual([])
    }))

  it("rejects a limit outside 1 to 100", () => {
    const fetchPage = () => Effect.succeed({ items: [], more: false })
    expect(() => Pagination.classic(fetchPage, { limit: 0 })).toThrow(RangeError)
    expect(() => Pagination.classic(fetchPage, { limit: 101 })).toThrow(
      "limit must be an integer from 1 to 100, got 101"
    )
    expect(() => Pagination.classic(fetchPage, { offset: -1 })).toThrow(RangeError)
  })
})

describe("Pagination.cursor", () => {
  const cursorEndpoint = (data: ReadonlyArray<number>, size: number) => {
    const cursors: Array<string | undefined> = []
    const fetchPage = (request: Pagination.CursorRequest) =>
      Effect.sync(() => {
        cursors.push(request.cursor)
        const start = request.cursor === undefined ? 0 : Number(request.cursor.slice("at ".length))
        const next = start + size
        return { items: data.slice(start, next), nextCursor: next < data.length ? `at ${next}` : null }
      })
    return { cursors, fetchPage }
  }

  it.effect("follows next_cursor until null", () =>
    Effect.gen(function*() {
      const { cursors, fetchPage } = cursorEndpoint(records(25), 10)
      const items = yield* Stream.runCollect(Pagination.cursor(fetchPage, { limit: 10 }))
      expect(items).toEqual(records(25))
      expect(cursors).toEqual([undefined, "at 10", "at 20"])
    }))

  it.effect("treats a missing or empty next_cursor as the end", () =>
    Effect.gen(function*() {
      for (const nextCursor of [undefined, ""]) {
        const items = yield* Stream.runCollect(Pagination.cursor(() => Effect.succeed({ items: [1], nextCursor })))
        expect(items).toEqual([1])
      }
    }))

  it.effect("fails when the cursor repeats", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Stream.runDrain(Pagination.cursor(() => Effect.succeed({ items: [1], nextCursor: "same" })))
      )
      expect(error.reason._tag).toBe("CursorNotAdvancing")
    }))
})
