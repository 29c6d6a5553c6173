import * as Pagination from "@effect-pagerduty/pagerduty/Pagination"
import * as RestClient from "@effect-pagerduty/pagerduty/RestClient"
import * as RestApi from "@effect-pagerduty/simulator/RestApi"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { withSimulator } from "./support/restServer.ts"

const client = RestClient.RestClient
const simulator = RestApi.RestSimulator

const offsetsOf = (requests: ReadonlyArray<RestApi.RecordedRequest>) =>
  requests.map((request) => {
    const query = new Map(request.query)
    return { offset: Number(query.get("offset")), limit: Number(query.get("limit")) }
  })

describe("RestClient classic pagination", () => {
  for (const limit of [1, 25, 100]) {
    it.live(`reads every incident with limit ${limit}`, () =>
      withSimulator(
        Effect.gen(function*() {
          const pd = yield* client
          const sim = yield* simulator
          const incidents = yield* Stream.runCollect(pd.listIncidents({ limit }))
          expect(incidents.length).toBe(130)
          expect(new Set(incidents.map((incident) => incident.id)).size).toBe(130)
          expect(incidents.map((incident) => incident.incident_number)).toEqual(
            Array.from({ length: 130 }, (_, index) => index + 1)
          )
          const pages = offsetsOf(yield* sim.requests)
          expect(pages.length).toBe(Math.ceil(130 / limit))
          expect(pages.map((page) => page.offset)).toEqual(pages.map((_, index) => index * limit))
        }),
        { simulator: { incidents: 130 } }
      ))
  }

  it.live("advances by the records received when the server caps the page", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        // Request 100 but respond with pages of 40, as a server with a lower cap would.
        for (let page = 0; page < 3; page++) {
          const items = sim.store.incidents.slice(page * 40, page * 40 + 40)
          yield* sim.injectFault({
            _tag: "Status",
            status: 200,
            body: { incidents: items, limit: 40, offset: page * 40, more: page < 2, total: null }
          })
        }
        const incidents = yield* Stream.runCollect(pd.listIncidents({ limit: 100 }))
        expect(incidents.length).toBe(120)
        expect(offsetsOf(yield* sim.requests).map((page) => page.offset)).toEqual([0, 40, 80])
      })
    ))

  it.live("stops at 10,000 records with LimitReached instead of a 400", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        let received = 0
        const error = yield* Effect.flip(
          Stream.runForEach(pd.listIncidents({ limit: 100 }), () =>
            Effect.sync(() => {
              received += 1
            }))
        )
        expect(error._tag).toBe("PaginationError")
        expect(error.reason._tag).toBe("LimitReached")
        expect(received).toBe(10_000)
        const requests = yield* sim.requests
        expect(requests.every((request) => request.status === 200)).toBe(true)
        expect(offsetsOf(requests).every((page) => page.offset + page.limit <= 10_000)).toBe(true)
      }),
      { simulator: { incidents: 10_050 } }
    ))

  it.live("shrinks the last page to end exactly at 10,000", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const sim = yield* simulator
        const incidents = yield* Stream.runCollect(pd.listIncidents({ limit: 70, onLimitReached: "end" }))
        expect(incidents.length).toBe(10_000)
        const pages = offsetsOf(yield* sim.requests)
        expect(pages.at(-1)).toEqual({ offset: 9940, limit: 60 })
      }),
      { simulator: { incidents: 10_050 } }
    ))

  it.live("ends normally when the last record is number 10,000", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const incidents = yield* Stream.runCollect(pd.listIncidents({ limit: 100 }))
        expect(incidents.length).toBe(10_000)
      }),
      { simulator: { incidents: 10_000 } }
    ))

  it.live("fails on a page that reports more but has no records", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      yield* sim.injectFault({
        _tag: "Status",
        status: 200,
        body: { incidents: sim.store.incidents.slice(0, 25), limit: 25, offset: 0, more: true }
      })
      yield* sim.injectFault({
        _tag: "Status",
        status: 200,
        body: { incidents: [], limit: 25, offset: 25, more: true }
      })
      const error = yield* Effect.flip(Stream.runCollect(pd.listIncidents()))
      expect(error._tag).toBe("PaginationError")
      if (error._tag !== "PaginationError") return
      expect(error.reason._tag).toBe("OffsetNotAdvancing")
      expect(error.message).toContain("offset 25")
      expect((yield* sim.requests).length).toBe(2)
    })))

  it.live("lets the simulator reject a page past the cap", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const error = yield* Effect.flip(pd.request("GET", "/incidents", { query: { offset: 9950, limit: 100 } }))
        expect(error.reason._tag).toBe("BadRequest")
      }),
      { simulator: { incidents: 10 } }
    ))
})

describe("RestClient cursor pagination", () => {
  it.live("follows next_cursor until it is null", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      const records = yield* Stream.runCollect(pd.listAuditRecords({ limit: 25 }))
      expect(records.map((record) => record.id)).toEqual(sim.store.auditRecords.map((record) => record.id))
      const cursors = (yield* sim.requests).map((request) => new Map(request.query).get("cursor"))
      expect(cursors).toEqual([undefined, "pos=25&sig=a+b/c==", "pos=50&sig=a+b/c=="])
    })))

  it.live("ends on an empty last page", () =>
    withSimulator(
      Effect.gen(function*() {
        const pd = yield* client
        const records = yield* Stream.runCollect(pd.listAuditRecords())
        expect(records.length).toBe(0)
      }),
      { simulator: { auditRecords: 0 } }
    ))

  it.live("fails when next_cursor repeats the cursor sent", () =>
    withSimulator(Effect.gen(function*() {
      const pd = yield* client
      const sim = yield* simulator
      const page = { records: sim.store.auditRecords.slice(0, 2), limit: 2, next_cursor: "again" }
      yield* sim.injectFault({ _tag: "Status", status: 200, body: page }, { times: 2 })
      const error = yield* Effect.flip(Stream.runCollect(pd.listAuditRecords({ limit: 2 })))
      expect(error._tag).toBe("PaginationError")
      if (error._tag !== "PaginationError") return
      expect(error.reason._tag).toBe("CursorNotAdvancing")
    })))
})

describe("Pagination limits", () => {
  it("exports PagerDuty's classic cap", () => {
    expect(Pagination.maxClassicRecords).toBe(10_000)
    expect(Pagination.maxLimit).toBe(100)
  })
})
