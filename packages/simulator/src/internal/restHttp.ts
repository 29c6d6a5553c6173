/**
 * Responses, pagination and authentication rules of the simulated REST API.
 */
import type { Json, Rejection } from "./restStore.ts"

/** A status and JSON body, before rate-limit headers are added. */
export interface JsonResponse {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/** Builds PagerDuty's error body. */
export const errorBody = (code: number, message: string, errors?: ReadonlyArray<string>) => ({
  error: errors === undefined || errors.length === 0 ? { message, code } : { message, code, errors }
})

/** Turns a store rejection into a response. */
export const rejected = (rejection: Rejection): JsonResponse => ({
  status: rejection.status,
  body: errorBody(rejection.code, rejection.message, rejection.errors)
})

/** Builds a 400 response with code 2001. */
export const invalidInput = (...errors: Array<string>): JsonResponse => ({
  status: 400,
  body: errorBody(2001, "Invalid Input Provided", errors)
})

/** The 404 response. */
export const notFound: JsonResponse = { status: 404, body: errorBody(2100, "Not Found") }

/** The records classic pagination serves: `offset + limit` may not pass it. */
export const maxClassicRecords = 10_000

/**
 * Serves one classic page. `limit` defaults to 25 and is capped at 100, as
 * PagerDuty does. A request with `offset + limit > 10000` is rejected with 400.
 */
export const classicPage = (items: ReadonlyArray<Json>, query: URLSearchParams, key: string): JsonResponse => {
  const limitText = query.get("limit")
  const offsetText = query.get("offset")
  const requested = limitText === null ? 25 : Number(limitText)
  const offset = offsetText === null ? 0 : Number(offsetText)
  if (!Number.isInteger(requested) || requested < 1) return invalidInput("limit must be a positive integer")
  if (!Number.isInteger(offset) || offset < 0) return invalidInput("offset must be a non-negative integer")
  const limit = Math.min(requested, 100)
  // NOTE: PagerDuty documents the 400 past offset + limit = 10000 but not its body; this wording is the simulator's own.
  if (offset + limit > maxClassicRecords) {
    return invalidInput(`Offset plus limit must not exceed ${maxClassicRecords}; narrow the query with filters`)
  }
  const page = items.slice(offset, offset + limit)
  return {
    status: 200,
    body: {
      [key]: page,
      limit,
      offset,
      more: offset + page.length < items.length,
      total: query.get("total") === "true" ? items.length : null
    }
  }
}

// The cursor contains "&", "+", "/" and "=" on purpose: a client that does not
// URL-encode it sends a different cursor and gets a 400.
const cursorSuffix = "&sig=a+b/c=="

const encodeCursor = (position: number) => `pos=${position}${cursorSuffix}`

const decodeCursor = (cursor: string): number | undefined => {
  const match = /^pos=(\d+)&sig=a\+b\/c==$/.exec(cursor)
  return match === null ? undefined : Number(match[1])
}

/** Serves one cursor page; `next_cursor` is `null` on the last page. */
export const cursorPage = (items: ReadonlyArray<Json>, query: URLSearchParams, key: string): JsonResponse => {
  const limitText = query.get("limit")
  const requested = limitText === null ? 25 : Number(limitText)
  if (!Number.isInteger(requested) || requested < 1) return invalidInput("limit must be a positive integer")
  const limit = Math.min(requested, 100)
  const cursor = query.get("cursor")
  const position = cursor === null ? 0 : decodeCursor(cursor)
  if (position === undefined) return invalidInput("cursor is not valid")
  const page = items.slice(position, position + limit)
  const next = position + page.length
  return {
    status: 200,
    body: { [key]: page, limit, next_cursor: next < items.length ? encodeCursor(next) : null }
  }
}

/** The token of an `Authorization` header in one of PagerDuty's two formats. */
export const parseAuthorization = (header: string | undefined): string | undefined => {
  if (header === undefined) return undefined
  const match = /^Token token=(\S+)$/.exec(header) ?? /^Bearer (\S+)$/.exec(header)
  return match === null ? undefined : match[1]
}

/** Reads a repeated array parameter such as `statuses[]`. */
export const arrayParam = (query: URLSearchParams, name: string): ReadonlyArray<string> => query.getAll(`${name}[]`)
