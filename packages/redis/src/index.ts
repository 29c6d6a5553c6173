/**
 * The ioredis implementation of `effect/persistence`'s `Redis` service.
 *
 * @since 0.1.0
 */
export * as IoRedis from "./IoRedis.ts"
