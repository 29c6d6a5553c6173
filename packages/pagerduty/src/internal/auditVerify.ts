import type * as Digest from "effect/crypto/Digest"
import type * as Mac from "effect/crypto/Mac"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Redis from "effect/persistence/Redis"
import type * as PlatformError from "effect/PlatformError"
import * as Predicate from "effect/Predicate"
import type * as Redacted from "effect/Redacted"
import { type ChainedRecord, emptyHead, genesis, hashOf, type Head, makeHasher } from "./auditChain.ts"
import { keysOf, readStream } from "./auditRedis.ts"

/**
 * The outcome of checking a chain: intact with its head, or broken at the
 * first line where it stops holding.
 */
export type VerifyResult =
  | { readonly _tag: "Intact"; readonly records: number; readonly head: Head }
  | {
    readonly _tag: "Broken"
    /** 1-based line (or stream position) of the first record found wrong. */
    readonly line: number
    readonly problem: "modified" | "removed" | "reordered" | "malformed" | "truncated"
    readonly message: string
  }

const isRecord = (value: unknown): value is ChainedRecord => {
  if (!Predicate.isObject(value)) return false
  const record = value as Record<string, unknown>
  return typeof record.seq === "number" && typeof record.prev === "string" && typeof record.hash === "string" &&
    typeof record.time === "string" && typeof record.actor === "string" && typeof record.action === "string" &&
    typeof record.target === "string" && typeof record.outcome === "string" && Predicate.isObject(record.details)
}

const parse = (line: string): ChainedRecord | undefined => {
  try {
    const value: unknown = JSON.parse(line)
    return isRecord(value) ? value : undefined
  } catch {
    return undefined
  }
}

/**
 * Checks a chain of record lines, oldest first, and reports the first record
 * that was modified, removed, moved or is not a record.
 *
 * Pass the `chainKey` the sinks wrote with; without one the hashes are
 * SHA-256.
 *
 * NOTE: without a chain key the hashes are not keyed, so a writer who
 * recomputes every hash after a change produces a chain that verifies.
 * Comparing the head with one kept elsewhere (`expectedHead`) detects that,
 * and also a removed tail.
 */
export const verify = Effect.fnUntraced(function*(
  lines: ReadonlyArray<string>,
  options?: {
    readonly expectedHead?: Head | undefined
    readonly chainKey?: Redacted.Redacted<string> | undefined
  }
): Effect.fn.Return<VerifyResult, never, Digest.Digest | Mac.Mac> {
  const hasher = yield* makeHasher(options?.chainKey)
  const numbered = lines.map((text, index) => ({ text, line: index + 1 })).filter(({ text }) => text.trim() !== "")
  const parsed = numbered.map(({ line, text }) => ({ line, record: parse(text) }))
  let previous: Head = emptyHead
  let previousLine = 0

  for (let index = 0; index < parsed.length; index++) {
    const { line, record } = parsed[index]!
    if (record === undefined) {
      return { _tag: "Broken", line, problem: "malformed", message: `line ${line} is not an audit record` }
    }
    const { hash, ...unsigned } = record
    if ((yield* hashOf(unsigned, hasher)) !== hash) {
      return {
        _tag: "Broken",
        line,
        problem: "modified",
        message: `record ${record.seq} on line ${line} was modified: its hash does not match its contents`
      }
    }
    const expectedSeq = previous.seq + 1
    if (record.seq > expectedSeq) {
      const later = parsed.slice(index + 1).some((other) => other.record?.seq === expectedSeq)
      return later
        ? {
          _tag: "Broken",
          line,
          problem: "reordered",
          message: `record ${record.seq} on line ${line} comes before record ${expectedSeq}`
        }
        : {
          _tag: "Broken",
          line,
          problem: "removed",
          message: record.seq === expectedSeq + 1
            ? `record ${expectedSeq} is missing before line ${line}`
            : `records ${expectedSeq} to ${record.seq - 1} are missing before line ${line}`
        }
    }
    if (record.seq < expectedSeq) {
      return {
        _tag: "Broken",
        line,
        problem: "reordered",
        message: `record ${record.seq} on line ${line} comes after record ${previous.seq}`
      }
    }
    if (record.prev !== previous.hash) {
      // This record is intact and in place, so the one before it was replaced by a record with a recomputed hash.
      return previousLine === 0
        ? {
          _tag: "Broken",
          line,
          problem: "modified",
          message: `record ${record.seq} on line ${line} does not start a chain: prev is not ${genesis.slice(0, 8)}...`
        }
        : {
          _tag: "Broken",
          line: previousLine,
          problem: "modified",
          message:
            `record ${previous.seq} on line ${previousLine} was replaced: the next record's prev does not match it`
        }
    }
    previous = { seq: record.seq, hash: record.hash }
    previousLine = line
  }

  const expected = options?.expectedHead
  if (expected !== undefined && (expected.seq !== previous.seq || expected.hash !== previous.hash)) {
    return {
      _tag: "Broken",
      line: previousLine + 1,
      problem: expected.seq > previous.seq ? "truncated" : "modified",
      message: expected.seq > previous.seq
        ? `records ${previous.seq + 1} to ${expected.seq} are missing at the end`
        : `the chain ends at record ${previous.seq}, not at the expected head ${expected.seq}`
    }
  }
  return { _tag: "Intact", records: parsed.length, head: previous }
})

/** Reads a JSON Lines audit file and checks its chain. */
export const verifyFile = (
  path: string,
  options?: { readonly chainKey?: Redacted.Redacted<string> | undefined }
): Effect.Effect<VerifyResult, PlatformError.PlatformError, FileSystem.FileSystem | Digest.Digest | Mac.Mac> =>
  Effect.flatMap(
    FileSystem.FileSystem.use((fs) => fs.readFileString(path)),
    (text) => verify(text.split("\n"), { chainKey: options?.chainKey })
  )

/**
 * Reads a Redis audit stream and checks its chain, including that it ends at
 * the head the writers stored, which detects removed records at the end.
 */
export const verifyStream = (
  stream: string,
  options?: { readonly chainKey?: Redacted.Redacted<string> | undefined }
): Effect.Effect<VerifyResult, Redis.RedisError, Redis.Redis | Digest.Digest | Mac.Mac> =>
  Effect.gen(function*() {
    const redis = yield* Redis.Redis
    const lines = yield* readStream(stream)
    const head = yield* redis.send<string | null>("GET", keysOf(stream).head)
    if (head === null) return yield* verify(lines, { chainKey: options?.chainKey })
    const [seq, hash] = head.split(" ")
    return yield* verify(lines, { expectedHead: { seq: Number(seq), hash: hash ?? "" }, chainKey: options?.chainKey })
  })
