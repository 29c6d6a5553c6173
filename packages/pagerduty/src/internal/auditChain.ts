import * as Digest from "effect/crypto/Digest"
import * as Mac from "effect/crypto/Mac"
import * as Effect from "effect/Effect"
import * as Hex from "effect/encoding/Hex"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"

/** An audit entry after redaction, before it is placed in a chain. */
export interface Entry {
  readonly time: string
  readonly actor: string
  readonly action: string
  readonly target: string
  readonly outcome: string
  readonly details: { readonly [key: string]: unknown }
}

/** An entry placed in a sink's chain. */
export interface ChainedRecord extends Entry {
  /** Position in the sink's chain, from 1. */
  readonly seq: number
  /** `hash` of the previous record, or {@link genesis} for the first. */
  readonly prev: string
  /** SHA-256 (hex) of the canonical JSON of every other field. */
  readonly hash: string
}

/** The head of a chain: the last record's position and hash. */
export interface Head {
  readonly seq: number
  readonly hash: string
}

/** The `prev` of a chain's first record. */
export const genesis = "0".repeat(64)

/** The head of an empty chain. */
export const emptyHead: Head = { seq: 0, hash: genesis }

// Code-unit order, the same in every JavaScript runtime (unlike `localeCompare`).
const compareKeys = (a: string, b: string): number => {
  if (a < b) return -1
  return a > b ? 1 : 0
}

/**
 * Serializes JSON with object keys sorted at every level, so the same record
 * always hashes to the same value whichever process wrote it.
 */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`
  if (Predicate.isObject(value)) {
    const entries = Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => compareKeys(a, b))
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

const encoder = new TextEncoder()

/** Computes a record's `hash` from the canonical bytes of its other fields. */
export type Hasher = (bytes: Uint8Array) => Effect.Effect<string>

/** Hashes with SHA-256, which shows accidental and naive changes. */
export const sha256Hasher: Effect.Effect<Hasher, never, Digest.Digest> = Digest.Digest.use((digest) =>
  Effect.succeed((bytes: Uint8Array) => digest.digestHex(Digest.sha256, bytes))
)

/**
 * Hashes with HMAC-SHA-256 under a key, so only a holder of the key can
 * write a chain that verifies.
 */
export const hmacHasher = (key: Redacted.Redacted<string>): Effect.Effect<Hasher, never, Mac.Mac> =>
  Effect.gen(function*() {
    const mac = yield* Mac.Mac
    const macKey = yield* Effect.orDie(Mac.key(Mac.hmacSha256, encoder.encode(Redacted.value(key))))
    return (bytes: Uint8Array) => Effect.map(Effect.orDie(mac.sign(macKey, bytes)), Hex.encode)
  })

/** Makes the hasher of a chain: HMAC-SHA-256 with a key, SHA-256 without. */
export const makeHasher = (
  key: Redacted.Redacted<string> | undefined
): Effect.Effect<Hasher, never, Digest.Digest | Mac.Mac> => key === undefined ? sha256Hasher : hmacHasher(key)

/** Computes the hash of a record from all its fields but `hash`. */
export const hashOf = (record: Omit<ChainedRecord, "hash">, hasher: Hasher): Effect.Effect<string> =>
  hasher(encoder.encode(canonicalJson({
    seq: record.seq,
    time: record.time,
    actor: record.actor,
    action: record.action,
    target: record.target,
    outcome: record.outcome,
    details: record.details,
    prev: record.prev
  })))

/** Places entries after a head, returning the records and the new head. */
export const chain = Effect.fnUntraced(function*(head: Head, entries: ReadonlyArray<Entry>, hasher: Hasher) {
  const records: Array<ChainedRecord> = []
  let current = head
  for (const entry of entries) {
    const unsigned = { ...entry, seq: current.seq + 1, prev: current.hash }
    const record: ChainedRecord = { ...unsigned, hash: yield* hashOf(unsigned, hasher) }
    records.push(record)
    current = { seq: record.seq, hash: record.hash }
  }
  return { records, head: current }
})

/** Serializes a record as one JSON line (without the line break). */
export const toLine = (record: ChainedRecord): string => canonicalJson(record)

/** Reads the head from the last line of a JSON Lines text, or `undefined` when the line is not a record. */
export const headOfLine = (line: string): Head | undefined => {
  try {
    const parsed: unknown = JSON.parse(line)
    if (
      Predicate.isObject(parsed) && typeof (parsed as { seq?: unknown }).seq === "number" &&
      typeof (parsed as { hash?: unknown }).hash === "string"
    ) {
      const { hash, seq } = parsed as { seq: number; hash: string }
      return { seq, hash }
    }
  } catch {
    return undefined
  }
  return undefined
}
