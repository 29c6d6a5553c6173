import { Duration, Effect, Redacted, Schema, Stream } from "effect"
import * as Digest from "effect/crypto/Digest"
import * as Cache from "../Cache.ts"
import * as RestResources from "../RestResources.ts"
import type { Operations } from "./restOperations.ts"

/** Settings of the cached reads. */
export interface CachedOptions {
  /** How long a cached service, user, escalation policy or priority list is served; defaults to 5 minutes. */
  readonly timeToLive?: Duration.Input | undefined
}

const encoder = new TextEncoder()

/**
 * Wraps the reads of slowly changing resources (`getService`, `getUser`,
 * `getEscalationPolicy`, `listPriorities`) in `Cache.getOrLoad`.
 *
 * Entries live in the namespace `pagerduty-rest:<account>`, where `<account>`
 * is a SHA-256 prefix of the base URL and `Authorization` value, so clients
 * with different tokens never share entries and no key contains a token. When
 * the cache store fails, the read goes to PagerDuty directly and the failure
 * is logged once at warning level.
 */
export const withCache = (
  operations: Operations,
  identity: { readonly baseUrl: string; readonly authorization: Redacted.Redacted<string> },
  options?: CachedOptions
): Effect.Effect<Operations, never, Cache.Cache | Digest.Digest> =>
  Effect.gen(function*() {
    const root = yield* Cache.Cache
    const digest = yield* Digest.Digest
    const account = yield* digest.digestHex(
      Digest.sha256,
      encoder.encode(`${identity.baseUrl}\n${Redacted.value(identity.authorization)}`)
    )
    const cache = Cache.namespace(Cache.namespace(root, "pagerduty-rest"), account.slice(0, 32))
    const timeToLive = options?.timeToLive ?? Duration.minutes(5)

    const cached = <A, E>(view: Cache.TypedCacheView<A>, key: string, load: Effect.Effect<A, E>) =>
      view.getOrLoad(key, load, timeToLive).pipe(
        Effect.catchTag("CacheError", (error) =>
          Effect.logWarning("RestClient cache failed; reading from PagerDuty directly", error).pipe(
            Effect.andThen(load)
          ))
      )

    const services = Cache.schema(cache, RestResources.Service)
    const users = Cache.schema(cache, RestResources.User)
    const policies = Cache.schema(cache, RestResources.EscalationPolicy)
    const priorities = Cache.schema(cache, Schema.Array(RestResources.Priority))

    return {
      ...operations,
      getService: (id: string) =>
        cached(services, `service:${id}`, operations.getService(id)),
      getUser: (id: string) =>
        cached(users, `user:${id}`, operations.getUser(id)),
      getEscalationPolicy: (id: string) =>
        cached(policies, `escalation_policy:${id}`, operations.getEscalationPolicy(id)),
      listPriorities: (listOptions?: Parameters<Operations["listPriorities"]>[0]) =>
        Stream.fromIterableEffect(
          cached(priorities, "priorities", Stream.runCollect(operations.listPriorities(listOptions)))
        )
    }
  })
