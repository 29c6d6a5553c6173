import * as Effect from "effect/Effect"
import * as Redis from "effect/persistence/Redis"
import { chain, emptyHead, type Entry, type Hasher, type Head, toLine } from "./auditChain.ts"

/** The keys of an audit stream, hash-tagged so a Redis Cluster keeps them in one slot. */
export const keysOf = (stream: string) => ({ stream: `{${stream}}`, head: `{${stream}}:head` })

const parseHead = (text: string | null | undefined): Head => {
  if (text === null || text === undefined) return emptyHead
  const [seq, hash] = text.split(" ")
  return { seq: Number(seq), hash: hash ?? emptyHead.hash }
}

// Redis scripts cannot compute SHA-256, so the client chains the batch after
// the head it last saw, and the script appends it only if that is still the
// head. Otherwise it returns the current head, and the client chains again.
const appendScript = Redis.script(
  (stream: string, head: string, expected: string, next: string, pairs: ReadonlyArray<string>) => [
    stream,
    head,
    expected,
    next,
    ...pairs
  ],
  {
    numberOfKeys: 2,
    lua: `
local current = redis.call("GET", KEYS[2])
if current == false then current = "0 ${emptyHead.hash}" end
if current ~= ARGV[1] then return current end
for i = 3, #ARGV, 2 do
  redis.call("XADD", KEYS[1], "*", "hash", ARGV[i], "record", ARGV[i + 1])
end
redis.call("SET", KEYS[2], ARGV[2])
return "OK"
`
  }
).withReturnType<string>()

const maxAttempts = 50

/** A failure of the Redis sink, before it is wrapped in the module's error. */
export type RedisSinkFailure =
  | { readonly _tag: "Redis"; readonly error: Redis.RedisError }
  | { readonly _tag: "Contention"; readonly attempts: number }

/** Makes the append function of a Redis Streams sink. */
export const makeRedisAppend = (stream: string, hasher: Hasher) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const keys = keysOf(stream)
    const run = redis.eval(appendScript)
    let known: Head | undefined

    return (entries: ReadonlyArray<Entry>): Effect.Effect<Head, RedisSinkFailure> =>
      Effect.gen(function*() {
        let head = known ?? parseHead(
          yield* redis.send<string | null>("GET", keys.head).pipe(
            Effect.mapError((error): RedisSinkFailure => ({ _tag: "Redis", error }))
          )
        )
        for (let attempt = 1; attempt <= maxAttempts; attempt++) {
          const chained = yield* chain(head, entries, hasher)
          const pairs = chained.records.flatMap((record) => [record.hash, toLine(record)])
          const result = yield* run(
            keys.stream,
            keys.head,
            `${head.seq} ${head.hash}`,
            `${chained.head.seq} ${chained.head.hash}`,
            pairs
          ).pipe(Effect.mapError((error): RedisSinkFailure => ({ _tag: "Redis", error })))
          if (result === "OK") {
            known = chained.head
            return chained.head
          }
          head = parseHead(result)
        }
        known = undefined
        return yield* Effect.fail<RedisSinkFailure>({ _tag: "Contention", attempts: maxAttempts })
      })
  })

/** Reads every record line of an audit stream, oldest first, in pages. */
export const readStream = (stream: string) =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const keys = keysOf(stream)
    const lines: Array<string> = []
    let start = "-"
    while (true) {
      const page = yield* redis.send<ReadonlyArray<readonly [string, ReadonlyArray<string>]>>(
        "XRANGE",
        keys.stream,
        start,
        "+",
        "COUNT",
        "1000"
      )
      for (const [, fields] of page) {
        const index = fields.indexOf("record")
        lines.push(index === -1 ? "" : fields[index + 1] ?? "")
      }
      if (page.length < 1000) return lines
      start = `(${page[page.length - 1]![0]}`
    }
  })
