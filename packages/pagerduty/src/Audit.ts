/**
 * Append-only, hash-chained audit records with secret redaction, written to
 * pluggable sinks: a JSON Lines file, a Redis Stream, standard output.
 *
 * Each record carries its position (`seq`) and the hash of the record before
 * it (`prev`), and its own `hash` covers every other field. Each sink keeps
 * one chain, also when several processes write to it. The file sink holds an
 * exclusive lock file while it reads the last record and appends a batch. The
 * Redis sink appends a batch with a script that checks the head first.
 * {@link verify} reports the first record that was modified, removed or
 * moved. With a chain key the hashes are HMAC-SHA-256, so a writer without
 * the key cannot produce a chain that verifies.
 *
 * @example
 * ```ts
 * import { Audit } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const program = Effect.gen(function*() {
 *   const audit = yield* Audit.Audit
 *   yield* audit.log({ actor: "relay", action: "event.sent", target: "route:platform", outcome: "success" })
 * })
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import type * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Digest from "effect/crypto/Digest"
import * as Mac from "effect/crypto/Mac"
import * as SecureRandom from "effect/crypto/SecureRandom"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as RedisService from "effect/persistence/Redis"
import * as Queue from "effect/Queue"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import * as Config from "./Config.ts"
import * as Errors from "./Errors.ts"
import {
  chain,
  type ChainedRecord,
  emptyHead,
  type Entry,
  type Head,
  makeHasher,
  toLine
} from "./internal/auditChain.ts"
import { type FileSinkOptions, makeFileAppend } from "./internal/auditFile.ts"
import { redact } from "./internal/auditRedact.ts"
import { makeRedisAppend } from "./internal/auditRedis.ts"

export {
  /**
   * A record as stored: the entry with its `seq`, `prev` and `hash`.
   *
   * @since 0.1.0
   * @category models
   */
  type ChainedRecord as AuditRecord,
  /**
   * Replaces secrets in a value: fields whose name marks a secret, every
   * `Redacted`, and every occurrence of a configured secret's value.
   *
   * @since 0.1.0
   * @category redaction
   */
  redact
}
export { verify, verifyFile, type VerifyResult, verifyStream } from "./internal/auditVerify.ts"

/**
 * The audited actions.
 *
 * @since 0.1.0
 * @category models
 */
export type Action = "event.sent" | "incident.updated" | "webhook.received" | "config.loaded" | "breaker.opened"

/**
 * An event to record, as given to {@link Audit.log}. `details` is redacted
 * before it reaches any sink.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuditEntry {
  /** The acting party: `relay`, `cli`, `webhook:<subscription id>`. */
  readonly actor: string
  readonly action: Action
  /** The object acted on: `route:<name>`, `incident:<id>`, `breaker:<key hash>`. */
  readonly target: string
  readonly outcome: "success" | "failure" | "rejected"
  readonly details?: { readonly [key: string]: unknown } | undefined
}

/**
 * A sink that failed to store records.
 *
 * @since 0.1.0
 * @category errors
 */
export class SinkFailed extends Schema.TaggedClass<SinkFailed>()("SinkFailed", {
  sink: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = true
  readonly httpStatus = 503
  readonly logLevel = "Error" as const
  get message() {
    return `audit sink ${this.sink} failed: ${this.detail}`
  }
}

/**
 * An audit source that could not be read for verification.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unreadable extends Schema.TaggedClass<Unreadable>()("Unreadable", {
  source: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `audit records from ${this.source} could not be read: ${this.detail}`
  }
}

/**
 * The error of this module.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuditError extends Schema.TaggedError<AuditError>()("AuditError", {
  reason: Schema.Union([SinkFailed, Unreadable])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

/**
 * A destination of audit records: it chains a batch of redacted entries after
 * its own head and stores them.
 *
 * @since 0.1.0
 * @category models
 */
export interface Sink {
  readonly name: string
  readonly append: (entries: ReadonlyArray<Entry>) => Effect.Effect<void, AuditError>
}

const sinkFailed = (sink: string, detail: string) => new AuditError({ reason: new SinkFailed({ sink, detail }) })

/**
 * Options shared by the sinks: a key turns the chain's SHA-256 hashes into
 * HMAC-SHA-256, so only a holder of the key can write a chain that verifies.
 *
 * @since 0.1.0
 * @category sinks
 */
export interface ChainOptions {
  readonly chainKey?: Redacted.Redacted<string> | undefined
}

/**
 * A JSON Lines file sink: each batch is chained under the lock file
 * `<path>.lock`, appended in one write and fsynced before its callers resume.
 *
 * @since 0.1.0
 * @category sinks
 */
export const fileSink = (
  options: FileSinkOptions & ChainOptions
): Effect.Effect<Sink, never, FileSystem.FileSystem | SecureRandom.SecureRandom | Digest.Digest | Mac.Mac> =>
  Effect.gen(function*() {
    const append = yield* makeFileAppend(options, yield* makeHasher(options.chainKey))
    const name = `file:${options.path}`
    return {
      name,
      append: (entries) =>
        append(entries).pipe(
          Effect.mapError((failure) =>
            sinkFailed(
              name,
              failure._tag === "Io"
                ? `could not ${failure.operation}: ${failure.error.message}`
                : `lock ${failure.lockPath} still held after ${failure.waited.toString()}; remove it if no writer runs`
            )
          ),
          Effect.asVoid
        )
    }
  })

/**
 * A Redis Streams sink writing to the stream `{<stream>}` with its head in
 * `{<stream>}:head`.
 *
 * @since 0.1.0
 * @category sinks
 */
export const redisSink = (
  stream: string,
  options?: ChainOptions
): Effect.Effect<Sink, never, RedisService.Redis | Digest.Digest | Mac.Mac> =>
  Effect.gen(function*() {
    const append = yield* makeRedisAppend(stream, yield* makeHasher(options?.chainKey))
    const name = `redis:${stream}`
    return {
      name,
      append: (entries) =>
        append(entries).pipe(
          Effect.mapError((failure) =>
            sinkFailed(
              name,
              failure._tag === "Redis"
                ? failure.error.message
                : `the head changed on each of ${failure.attempts} attempts`
            )
          ),
          Effect.asVoid
        )
    }
  })

/**
 * A sink printing one JSON record a line on standard output, chained from the
 * start of the process.
 *
 * @since 0.1.0
 * @category sinks
 */
export const stdoutSink = (
  options?: ChainOptions
): Effect.Effect<Sink, never, Stdio.Stdio | Digest.Digest | Mac.Mac> =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const hasher = yield* makeHasher(options?.chainKey)
    let head: Head = emptyHead
    return {
      name: "stdout",
      append: (entries) =>
        Effect.gen(function*() {
          const chained = yield* chain(head, entries, hasher)
          const text = chained.records.map((record) => `${toLine(record)}\n`).join("")
          yield* Stream.run(Stream.make(text), stdio.stdout())
          head = chained.head
        }).pipe(Effect.mapError((error) => sinkFailed("stdout", error.message)))
    }
  })

/**
 * An in-memory sink, for tests and embedded use; `records` reads what it holds.
 *
 * @since 0.1.0
 * @category sinks
 */
export const memorySink = (options?: ChainOptions): Effect.Effect<
  { readonly sink: Sink; readonly records: Effect.Effect<ReadonlyArray<ChainedRecord>> },
  never,
  Digest.Digest | Mac.Mac
> =>
  Effect.gen(function*() {
    const hasher = yield* makeHasher(options?.chainKey)
    const stored: Array<ChainedRecord> = []
    let head: Head = emptyHead
    return {
      sink: {
        name: "memory",
        append: (entries) =>
          Effect.map(chain(head, entries, hasher), (chained) => {
            stored.push(...chained.records)
            head = chained.head
          })
      },
      records: Effect.sync(() => [...stored])
    }
  })

/**
 * The audit log.
 *
 * @since 0.1.0
 * @category services
 */
export class Audit extends Context.Service<Audit, {
  /**
   * Redacts an entry, stamps it with the `Clock`'s time and returns once
   * every sink has stored it. Concurrent calls share a batch per sink.
   */
  readonly log: (entry: AuditEntry) => Effect.Effect<void, AuditError>
}>()("@effect-pagerduty/pagerduty/Audit") {}

interface Pending {
  readonly entry: Entry
  readonly done: Deferred.Deferred<void, AuditError>
}

const maxBatch = 1000

const startWriter = (sink: Sink): Effect.Effect<Queue.Queue<Pending, Cause.Done>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const queue = yield* Queue.make<Pending, Cause.Done>()
    const writer = yield* Effect.forkScoped(
      Effect.gen(function*() {
        while (true) {
          const taken = yield* Effect.exit(Queue.takeBetween(queue, 1, maxBatch))
          if (Exit.isFailure(taken)) return
          const batch = taken.value
          const result = yield* Effect.exit(sink.append(batch.map((pending) => pending.entry)))
          for (const pending of batch) yield* Deferred.done(pending.done, result)
        }
      })
    )
    // On shutdown the queue ends, and the writer stores what was already queued before the scope closes.
    yield* Effect.addFinalizer(() => Effect.andThen(Queue.end(queue), Fiber.await(writer)))
    return queue
  })

/**
 * Makes the audit log over sinks, redacting the given secrets by value.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = Effect.fnUntraced(function*(options: {
  readonly sinks: ReadonlyArray<Sink>
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}) {
  const secrets = options.secrets ?? []
  const queues = yield* Effect.forEach(options.sinks, startWriter)
  return Audit.of({
    log: (entry) =>
      Effect.gen(function*() {
        const now = yield* DateTime.now
        const redacted: Entry = {
          time: DateTime.formatIso(now),
          actor: redact(entry.actor, secrets) as string,
          action: entry.action,
          target: redact(entry.target, secrets) as string,
          outcome: entry.outcome,
          details: (redact(entry.details ?? {}, secrets) ?? {}) as Entry["details"]
        }
        const waits = yield* Effect.forEach(queues, (queue) =>
          Effect.gen(function*() {
            const done = yield* Deferred.make<void, AuditError>()
            const offered = yield* Queue.offer(queue, { entry: redacted, done })
            if (!offered) yield* Deferred.fail(done, sinkFailed("audit", "the audit log is shut down"))
            return done
          }))
        yield* Effect.forEach(waits, Deferred.await, { concurrency: "unbounded", discard: true })
      })
  })
})

const cryptoLayer = Layer.merge(Digest.layerWebCrypto, Mac.layerWebCrypto).pipe(
  Layer.provideMerge(SecureRandom.layerWebCrypto)
)

/**
 * Provides {@link Audit} over sinks built by the given effects.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <R>(options: {
  readonly sinks: ReadonlyArray<Effect.Effect<Sink, never, R>>
  readonly secrets?: ReadonlyArray<Redacted.Redacted<string>> | undefined
}): Layer.Layer<Audit, never, Exclude<R, Digest.Digest | Mac.Mac | SecureRandom.SecureRandom>> =>
  Layer.effect(
    Audit,
    Effect.gen(function*() {
      const sinks = yield* Effect.all(options.sinks)
      return yield* make({ sinks, secrets: options.secrets })
    })
  ).pipe(Layer.provide(cryptoLayer)) as Layer.Layer<
    Audit,
    never,
    Exclude<R, Digest.Digest | Mac.Mac | SecureRandom.SecureRandom>
  >

/**
 * Provides {@link Audit} from the `audit` section of {@link Config.RelayConfig},
 * redacting every secret of the configuration. Without an `audit` section no
 * record is stored. A `redis` sink needs the persistence `Redis` service,
 * which this layer uses when it is present.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig: Layer.Layer<Audit, AuditError, Config.RelayConfig | FileSystem.FileSystem | Stdio.Stdio> =
  Layer.effect(
    Audit,
    Effect.gen(function*() {
      const config = yield* Config.RelayConfig
      const redis = yield* Effect.serviceOption(RedisService.Redis)
      const sinks = yield* Effect.forEach(config.audit?.sinks ?? [], (settings): Effect.Effect<
        Sink,
        AuditError,
        FileSystem.FileSystem | Stdio.Stdio | Digest.Digest | Mac.Mac | SecureRandom.SecureRandom
      > => {
        const chainKey = config.audit?.chain_key
        switch (settings.type) {
          case "file":
            return fileSink({ path: settings.path, chainKey })
          case "stdout":
            return stdoutSink({ chainKey })
          case "redis":
            return Option.isSome(redis)
              ? Effect.provideService(redisSink(settings.stream, { chainKey }), RedisService.Redis, redis.value)
              : Effect.fail(
                sinkFailed(`redis:${settings.stream}`, "no Redis service is provided; add a Redis layer to the program")
              )
        }
      })
      return yield* make({ sinks, secrets: Config.secretsOf(config) })
    })
  ).pipe(Layer.provide(cryptoLayer))
