import { Duration, Effect } from "effect"
import * as Digest from "effect/crypto/Digest"
import { dual } from "effect/Function"
import * as Cache from "../Cache.ts"
import type * as EventsV2 from "../EventsV2.ts"
import { canonicalJson } from "./canonicalJson.ts"
import { make, type Pipeline } from "./pipelineCore.ts"

/**
 * Options of the dedupe stage.
 *
 * @since 0.1.0
 * @category options
 */
export interface DedupeOptions {
  /** How long a passed event suppresses its repeats. */
  readonly window: Duration.Input
  /** Cache namespace of the stored keys, so that pipelines sharing a cache keep apart. Defaults to `pipeline-dedupe`. */
  readonly namespace?: string | undefined
}

const encoder = new TextEncoder()

const checkWindow = (window: Duration.Input): void => {
  const millis = Duration.toMillis(window)
  if (!(millis > 0) || !Number.isFinite(millis)) {
    throw new RangeError(`dedupe window must be a positive, finite duration, got ${String(window)}`)
  }
}

const keyOf = (event: EventsV2.AlertEvent): Effect.Effect<string, never, Digest.Digest> =>
  Digest.Digest.use((digest) => digest.digestHex(Digest.sha256, encoder.encode(canonicalJson(event))))

const viewOf = (namespace: string) => Cache.Cache.use((cache) => Effect.succeed(Cache.namespace(cache, namespace)))

/**
 * A stage that drops an event when an event with the same `dedup_key`, the
 * same `event_action` and the same content passed within the window.
 *
 * Details: the cache key is the SHA-256 of the event's canonical JSON (keys
 * sorted at every level). The event contains its dedup key and action, so
 * the dedup key, the action and every other field must match. The window
 * starts when an event first passes and is not extended by the repeats it
 * drops. An event that differs in any field passes, a `resolve` after a
 * `trigger` for example.
 *
 * Gotchas: place it after `format`, whose output is the prepared event, so
 * that two events compare equal exactly when they would be sent equal. The
 * key is stored as soon as the event passes, so when a later stage fails, a
 * retry of the same notification within the window is dropped. Use
 * {@link dedupeWith} around the later stages to delete the key on failure.
 *
 * @since 0.1.0
 * @category stages
 */
export const dedupe = <A extends EventsV2.AlertEvent>(
  options: DedupeOptions
): Pipeline<A, A, Cache.CacheError, Cache.Cache | Digest.Digest> => {
  checkWindow(options.window)
  const namespace = options.namespace ?? "pipeline-dedupe"
  return make("dedupe", (event: A) =>
    Effect.gen(function*() {
      const view = yield* viewOf(namespace)
      const first = yield* view.setIfAbsent(yield* keyOf(event), "1", options.window)
      return first ? [event] : []
    }))
}

/**
 * Runs `next` only for events that pass the dedupe window (see
 * {@link dedupe}), and deletes an event's key when `next` fails, so the
 * sender's retry of the same notification is not dropped.
 *
 * @since 0.1.0
 * @category stages
 */
export const dedupeWith: {
  <A extends EventsV2.AlertEvent>(
    options: DedupeOptions
  ): <B, E, R>(next: Pipeline<A, B, E, R>) => Pipeline<A, B, E | Cache.CacheError, R | Cache.Cache | Digest.Digest>
  <A extends EventsV2.AlertEvent, B, E, R>(
    next: Pipeline<A, B, E, R>,
    options: DedupeOptions
  ): Pipeline<A, B, E | Cache.CacheError, R | Cache.Cache | Digest.Digest>
} = dual(2, <A extends EventsV2.AlertEvent, B, E, R>(
  next: Pipeline<A, B, E, R>,
  options: DedupeOptions
): Pipeline<A, B, E | Cache.CacheError, R | Cache.Cache | Digest.Digest> => {
  checkWindow(options.window)
  const namespace = options.namespace ?? "pipeline-dedupe"
  return make(`dedupe > ${next.name}`, (event: A) =>
    Effect.gen(function*() {
      const view = yield* viewOf(namespace)
      const key = yield* keyOf(event)
      const first = yield* view.setIfAbsent(key, "1", options.window)
      if (!first) return []
      return yield* next.run(event).pipe(
        Effect.onError(() =>
          Effect.ignore(view.delete(key), {
            log: "Warn",
            message: "dedupe failed to delete the key of a failed event, so a retry within the window is dropped"
          })
        )
      )
    }))
})
