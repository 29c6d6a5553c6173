/**
 * PagerDuty's two pagination styles as `Stream`s.
 *
 * Classic (offset) pagination sends `limit` and `offset` and reads `more`.
 * PagerDuty serves at most 10,000 records this way: a request with
 * `offset + limit > 10000` is rejected with 400. {@link classic} never sends
 * that request. It shrinks the last page's `limit` so that it ends exactly at
 * record 10,000, and if PagerDuty still reports `more: true` there, the stream
 * fails with a `PaginationError` whose reason is `LimitReached`, after every
 * record before it has been emitted. Catch that reason to keep the partial
 * result, or pass `onLimitReached: "end"` to end the stream quietly instead.
 * The way to read further is to narrow the query with filters (a shorter time
 * range, fewer services).
 *
 * Cursor pagination sends `cursor` (and `limit`) and follows `next_cursor`
 * until it is `null`.
 *
 * @example
 * ```ts
 * import { Pagination } from "@effect-pagerduty/pagerduty"
 * import { Effect, Stream } from "effect"
 *
 * const numbers = Array.from({ length: 60 }, (_, i) => i)
 * const stream = Pagination.classic(({ offset, limit }) =>
 *   Effect.succeed({ items: numbers.slice(offset, offset + limit), more: offset + limit < numbers.length })
 * , { limit: 25 })
 * // Stream.runCollect(stream) emits 0 … 59 in three requests
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Effect, Option, Schema, Stream } from "effect"
import * as Errors from "./Errors.ts"

/**
 * The number of records classic pagination can reach: `offset + limit` may
 * not exceed it.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxClassicRecords = 10_000

/**
 * The largest `limit` PagerDuty accepts on classic pagination.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLimit = 100

/**
 * The stream stopped at the 10,000-record limit of classic pagination while
 * PagerDuty still reported more records.
 *
 * @since 0.1.0
 * @category reasons
 */
export class LimitReached extends Schema.TaggedClass<LimitReached>()("LimitReached", {
  offset: Schema.Number,
  maxRecords: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 400
  readonly logLevel = "Warn" as const
  get message() {
    return `classic pagination stopped at offset ${this.offset}: PagerDuty serves at most ${this.maxRecords} records this way; narrow the query with filters or a shorter time range`
  }
}

/**
 * PagerDuty reported `more: true` on a page without records, so the offset
 * would not advance and the same page would be requested forever.
 *
 * @since 0.1.0
 * @category reasons
 */
export class OffsetNotAdvancing extends Schema.TaggedClass<OffsetNotAdvancing>()("OffsetNotAdvancing", {
  offset: Schema.Number,
  limit: Schema.Number
}) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `classic pagination returned no records at offset ${this.offset} (limit ${this.limit}) but reported more; the stream stopped to avoid requesting the same page again`
  }
}

/**
 * A cursor page returned the cursor it was requested with as `next_cursor`.
 *
 * @since 0.1.0
 * @category reasons
 */
export class CursorNotAdvancing extends Schema.TaggedClass<CursorNotAdvancing>()("CursorNotAdvancing", {
  cursor: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 502
  readonly logLevel = "Error" as const
  get message() {
    return `cursor pagination returned the same next_cursor it was given (${this.cursor}); the stream stopped to avoid requesting the same page again`
  }
}

/**
 * The error of a pagination stream that stopped early.
 *
 * @since 0.1.0
 * @category errors
 */
export class PaginationError extends Schema.TaggedError<PaginationError>()("PaginationError", {
  reason: Schema.Union([LimitReached, OffsetNotAdvancing, CursorNotAdvancing])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * The `limit` and `offset` of one classic page request.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClassicRequest {
  readonly offset: number
  readonly limit: number
}

/**
 * One classic page: its records and PagerDuty's `more` flag.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClassicPage<A> {
  readonly items: ReadonlyArray<A>
  readonly more: boolean
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ClassicOptions {
  /** Records per page, 1 to 100; PagerDuty's default is 25. */
  readonly limit?: number | undefined
  /** The offset of the first record; defaults to 0. */
  readonly offset?: number | undefined
  /**
   * The behaviour when PagerDuty still reports more records at record 10,000:
   * `"fail"` (the default) fails with `LimitReached` after the records before
   * it, `"end"` ends the stream without a signal.
   */
  readonly onLimitReached?: "fail" | "end" | undefined
}

const checkLimit = (name: string, limit: number | undefined, fallback: number): number => {
  const value = limit ?? fallback
  if (!Number.isInteger(value) || value < 1 || value > maxLimit) {
    throw new RangeError(`${name}: limit must be an integer from 1 to ${maxLimit}, got ${value}`)
  }
  return value
}

type ClassicState =
  | { readonly _tag: "Next"; readonly offset: number }
  | { readonly _tag: "LimitReached"; readonly offset: number }

/**
 * Streams every record of a classic (offset) paginated endpoint.
 *
 * The next offset is the previous offset plus the number of records received,
 * so a server that returns fewer records than requested loses none. The
 * stream ends on `more: false`, and fails with `OffsetNotAdvancing` when a
 * page reports more records but contains none.
 *
 * @since 0.1.0
 * @category constructors
 */
export const classic = <A, E, R>(
  fetchPage: (request: ClassicRequest) => Effect.Effect<ClassicPage<A>, E, R>,
  options?: ClassicOptions
): Stream.Stream<A, E | PaginationError, R> => {
  const limit = checkLimit("Pagination.classic", options?.limit, 25)
  const start = options?.offset ?? 0
  if (!Number.isInteger(start) || start < 0) {
    throw new RangeError(`Pagination.classic: offset must be a non-negative integer, got ${start}`)
  }
  const onLimitReached = options?.onLimitReached ?? "fail"
  const limitReached = (offset: number) =>
    new PaginationError({ reason: new LimitReached({ offset, maxRecords: maxClassicRecords }) })

  const initial: ClassicState = start >= maxClassicRecords
    ? { _tag: "LimitReached", offset: start }
    : { _tag: "Next", offset: start }

  return Stream.paginate(
    initial,
    (state): Effect.Effect<readonly [ReadonlyArray<A>, Option.Option<ClassicState>], E | PaginationError, R> => {
      if (state._tag === "LimitReached") {
        return onLimitReached === "end" ? Effect.succeed([[], Option.none()]) : Effect.fail(limitReached(state.offset))
      }
      const { offset } = state
      // Shrink the last page so that offset + limit never passes the cap.
      const pageLimit = Math.min(limit, maxClassicRecords - offset)
      return Effect.flatMap(fetchPage({ offset, limit: pageLimit }), (page) => {
        if (!page.more) return Effect.succeed([page.items, Option.none()] as const)
        if (page.items.length === 0) {
          return Effect.fail(new PaginationError({ reason: new OffsetNotAdvancing({ offset, limit: pageLimit }) }))
        }
        const next = offset + page.items.length
        const nextState: ClassicState = next >= maxClassicRecords
          ? { _tag: "LimitReached", offset: next }
          : { _tag: "Next", offset: next }
        return Effect.succeed([page.items, Option.some(nextState)] as const)
      })
    }
  )
}

/**
 * The `cursor` and `limit` of one cursor page request; `cursor` is
 * `undefined` on the first request.
 *
 * @since 0.1.0
 * @category models
 */
export interface CursorRequest {
  readonly cursor: string | undefined
  readonly limit: number | undefined
}

/**
 * One cursor page: its records and PagerDuty's `next_cursor`.
 *
 * @since 0.1.0
 * @category models
 */
export interface CursorPage<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null | undefined
}

/**
 * Streams every record of a cursor paginated endpoint, following
 * `next_cursor` until it is `null` (or missing or empty).
 *
 * The cursor is passed to `fetchPage` as PagerDuty returned it; the caller
 * puts it in the query string, where it must be URL-encoded once (as
 * `UrlParams` does). The stream fails with `CursorNotAdvancing` when a page
 * returns the cursor it was requested with.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cursor = <A, E, R>(
  fetchPage: (request: CursorRequest) => Effect.Effect<CursorPage<A>, E, R>,
  options?: { readonly limit?: number | undefined }
): Stream.Stream<A, E | PaginationError, R> => {
  const limit = options?.limit
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) {
    throw new RangeError(`Pagination.cursor: limit must be a positive integer, got ${limit}`)
  }
  return Stream.paginate(
    undefined as string | undefined,
    (current): Effect.Effect<readonly [ReadonlyArray<A>, Option.Option<string>], E | PaginationError, R> =>
      Effect.flatMap(fetchPage({ cursor: current, limit }), (page) => {
        const next = page.nextCursor
        if (next === null || next === undefined || next === "") {
          return Effect.succeed([page.items, Option.none()] as const)
        }
        if (next === current) {
          return Effect.fail(new PaginationError({ reason: new CursorNotAdvancing({ cursor: next }) }))
        }
        return Effect.succeed([page.items, Option.some(next)] as const)
      })
  )
}
