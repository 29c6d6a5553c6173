/**
 * The store behind the pipeline's dedupe stage. It keeps each key for a time
 * to live and reports whether a key is new.
 *
 * @since 0.1.0
 * @stability experimental
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"

/**
 * A set of keys that each expire after their own time to live.
 *
 * @since 0.1.0
 * @category services
 */
export class DedupeStore extends Context.Service<DedupeStore, {
  /**
   * Stores `key` for `ttl` unless it is already stored and unexpired.
   * Succeeds with `true` when the key was stored, `false` when it was present.
   */
  readonly setIfAbsent: (key: string, ttl: Duration.Input) => Effect.Effect<boolean>
}>()("effect-pagerduty/DedupeStore") {}

/**
 * Options of the in-memory store.
 *
 * @since 0.1.0
 * @category options
 */
export interface MemoryOptions {
  /** Number of stored keys above which expired keys are swept on the next write. Defaults to 10,000. */
  readonly sweepThreshold?: number | undefined
}

/**
 * Makes an in-memory store that reads time from `Clock`, so `TestClock`
 * drives its expiry in tests.
 *
 * NOTE: it lives in one process; relays that share a dedupe window across
 * processes need a store backed by a shared cache.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory = (options: MemoryOptions = {}): Effect.Effect<DedupeStore["Service"]> => {
  const sweepThreshold = options.sweepThreshold ?? 10_000
  if (!Number.isInteger(sweepThreshold) || sweepThreshold < 1) {
    throw new RangeError(`sweepThreshold must be a positive integer, got ${sweepThreshold}`)
  }
  return Effect.sync(() => {
    const expiries = new Map<string, number>()
    const sweep = (now: number) => {
      for (const [key, expiresAt] of expiries) {
        if (expiresAt <= now) expiries.delete(key)
      }
    }
    return DedupeStore.of({
      setIfAbsent: (key, ttl) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          const expiresAt = expiries.get(key)
          if (expiresAt !== undefined && expiresAt > now) return false
          if (expiries.size >= sweepThreshold) sweep(now)
          expiries.set(key, now + Duration.toMillis(ttl))
          return true
        })
    })
  })
}

/**
 * A layer of the in-memory store.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory = (options?: MemoryOptions): Layer.Layer<DedupeStore> =>
  Layer.effect(DedupeStore, makeMemory(options))
