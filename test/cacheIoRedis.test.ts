// The Cache suite against the project's own ioredis implementation of the Redis service.
import { IoRedis } from "@effect-pagerduty/redis"
import { it } from "@effect/vitest"
import { Effect } from "effect"
import { cacheSuite, redisStoreLayer, uniqueRedisPrefix } from "../packages/pagerduty/test/support/cacheSuite.ts"

cacheSuite({
  name: "Redis (ioredis)",
  store: redisStoreLayer(
    uniqueRedisPrefix("cache-ioredis"),
    IoRedis.layer({ topology: IoRedis.standalone({ host: "127.0.0.1", port: 6379 }) })
  ),
  test: it.live,
  elapse: (duration) => Effect.sleep(duration)
})
