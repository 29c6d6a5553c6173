/**
 * Lua scripts of the Redis store. Each runs atomically on the server.
 *
 * Layout under the prefix `P` (which carries a hash tag, so every key lands
 * in one Cluster slot):
 *
 * - `P items` hash id -> item JSON; `P enqueued` zset id -> ready time (depth, age, listing)
 * - `P attempts` hash id -> attempts; `P retry` hash id -> `{notBefore, lastError}`
 * - `P key:<dedupKey>` list of ids, oldest first
 * - `P due` zset dedupKey -> time its head may be claimed (keys nobody holds)
 * - `P leases` zset dedupKey -> lease expiry; `P owners` hash dedupKey -> claim token
 * - `P dead` hash id -> `{item, deadLetter}` JSON; `P deadIndex` zset id -> dead-letter time
 *
 * Settlements are fenced on the claim token, so a worker whose lease was
 * recovered cannot settle the newer claim of another worker.
 */
import * as Redis from "effect/persistence/Redis"

// Releases the key's lease if `token` still holds it; returns from the script otherwise.
const fence = (owners: string, leases: string, key: string, token: string) => `
if redis.call("HGET", ${owners}, ${key}) ~= ${token} then
  return 0
end
redis.call("HDEL", ${owners}, ${key})
redis.call("ZREM", ${leases}, ${key})
`

// Removes an item's queued state (not its dead letter).
const forget = (items: string, enqueued: string, attempts: string, retry: string, id: string) => `
redis.call("HDEL", ${items}, ${id})
redis.call("ZREM", ${enqueued}, ${id})
redis.call("HDEL", ${attempts}, ${id})
redis.call("HDEL", ${retry}, ${id})
`

/** Returns 1 when stored, 0 for a known id, and `-(depth + 1)` when full. */
export const offer = Redis.script(
  (
    ...args: [
      items: string,
      enqueued: string,
      due: string,
      owners: string,
      list: string,
      dead: string,
      id: string,
      item: string,
      readyAt: number,
      maxDepth: number,
      dedupKey: string
    ]
  ) => args,
  {
    numberOfKeys: 6,
    lua: `
local id = ARGV[1]
if redis.call("HEXISTS", KEYS[1], id) == 1 or redis.call("HEXISTS", KEYS[6], id) == 1 then
  return 0
end
local depth = redis.call("ZCARD", KEYS[2])
if depth >= tonumber(ARGV[4]) then
  return -(depth + 1)
end
redis.call("HSET", KEYS[1], id, ARGV[2])
redis.call("ZADD", KEYS[2], ARGV[3], id)
if redis.call("RPUSH", KEYS[5], id) == 1 and redis.call("HEXISTS", KEYS[4], ARGV[5]) == 0 then
  redis.call("ZADD", KEYS[3], ARGV[3], ARGV[5])
end
return 1
`
  }
).withReturnType<number>()

/**
 * Recovers expired leases, then claims the heads of up to `count` due keys.
 * Returns flat `[dedupKey, id, item, attempts, token]` groups.
 *
 * NOTE: the per-key lists are named from data inside the script rather than
 * passed as KEYS. They share the prefix's hash tag, so on Redis Cluster they
 * live in the script's slot, which Redis 7 accepts for scripts that declare no
 * `no-cluster` flag.
 */
export const claim = Redis.script(
  (
    ...args: [
      due: string,
      leases: string,
      owners: string,
      items: string,
      attempts: string,
      now: number,
      leaseMillis: number,
      token: string,
      listPrefix: string,
      count: number
    ]
  ) => args,
  {
    numberOfKeys: 5,
    lua: `
local now = tonumber(ARGV[1])
local expired = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now, "LIMIT", 0, 100)
for _, key in ipairs(expired) do
  redis.call("ZREM", KEYS[2], key)
  redis.call("HDEL", KEYS[3], key)
  if redis.call("LLEN", ARGV[4] .. key) > 0 then
    redis.call("ZADD", KEYS[1], now, key)
  end
end
local keys = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", now, "LIMIT", 0, tonumber(ARGV[5]))
local result = {}
for i, key in ipairs(keys) do
  redis.call("ZREM", KEYS[1], key)
  local list = ARGV[4] .. key
  while true do
    local id = redis.call("LINDEX", list, 0)
    if not id then
      break
    end
    local item = redis.call("HGET", KEYS[4], id)
    if item then
      local attempts = redis.call("HINCRBY", KEYS[5], id, 1)
      local token = ARGV[3] .. ":" .. i
      redis.call("ZADD", KEYS[2], now + tonumber(ARGV[2]), key)
      redis.call("HSET", KEYS[3], key, token)
      table.insert(result, key)
      table.insert(result, id)
      table.insert(result, item)
      table.insert(result, attempts)
      table.insert(result, token)
      break
    end
    -- an id whose item is gone (purged) is dropped
    redis.call("LPOP", list)
  end
end
return result
`
  }
).withReturnType<ReadonlyArray<string | number> | null>()

export const complete = Redis.script(
  (
    ...args: [
      owners: string,
      leases: string,
      items: string,
      enqueued: string,
      attempts: string,
      retry: string,
      due: string,
      list: string,
      dedupKey: string,
      id: string,
      token: string,
      now: number
    ]
  ) => args,
  {
    numberOfKeys: 8,
    lua: `
${fence("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[3]")}
redis.call("LREM", KEYS[8], 1, ARGV[2])
${forget("KEYS[3]", "KEYS[4]", "KEYS[5]", "KEYS[6]", "ARGV[2]")}
if redis.call("LLEN", KEYS[8]) > 0 then
  redis.call("ZADD", KEYS[7], ARGV[4], ARGV[1])
end
return 1
`
  }
).withReturnType<number>()

export const retry = Redis.script(
  (
    ...args: [
      owners: string,
      leases: string,
      retry: string,
      due: string,
      dedupKey: string,
      id: string,
      token: string,
      notBefore: number,
      state: string
    ]
  ) => args,
  {
    numberOfKeys: 4,
    lua: `
${fence("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[3]")}
redis.call("HSET", KEYS[3], ARGV[2], ARGV[5])
redis.call("ZADD", KEYS[4], ARGV[4], ARGV[1])
return 1
`
  }
).withReturnType<number>()

export const release = Redis.script(
  (
    ...args: [
      owners: string,
      leases: string,
      attempts: string,
      due: string,
      dedupKey: string,
      id: string,
      token: string,
      now: number
    ]
  ) => args,
  {
    numberOfKeys: 4,
    lua: `
${fence("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[3]")}
redis.call("HINCRBY", KEYS[3], ARGV[2], -1)
redis.call("ZADD", KEYS[4], ARGV[4], ARGV[1])
return 1
`
  }
).withReturnType<number>()

export const deadLetter = Redis.script(
  (
    ...args: [
      owners: string,
      leases: string,
      items: string,
      enqueued: string,
      attempts: string,
      retry: string,
      due: string,
      list: string,
      dead: string,
      deadIndex: string,
      dedupKey: string,
      id: string,
      token: string,
      now: number,
      record: string
    ]
  ) => args,
  {
    numberOfKeys: 10,
    lua: `
${fence("KEYS[1]", "KEYS[2]", "ARGV[1]", "ARGV[3]")}
redis.call("LREM", KEYS[8], 1, ARGV[2])
${forget("KEYS[3]", "KEYS[4]", "KEYS[5]", "KEYS[6]", "ARGV[2]")}
redis.call("HSET", KEYS[9], ARGV[2], ARGV[5])
redis.call("ZADD", KEYS[10], ARGV[4], ARGV[2])
if redis.call("LLEN", KEYS[8]) > 0 then
  redis.call("ZADD", KEYS[7], ARGV[4], ARGV[1])
end
return 1
`
  }
).withReturnType<number>()

export const renew = Redis.script(
  (...args: [owners: string, leases: string, dedupKey: string, token: string, expiresAt: number]) => args,
  {
    numberOfKeys: 2,
    lua: `
if redis.call("HGET", KEYS[1], ARGV[1]) ~= ARGV[2] then
  return 0
end
redis.call("ZADD", KEYS[2], "XX", ARGV[3], ARGV[1])
return 1
`
  }
).withReturnType<number>()

/** Moves one dead letter to the tail of its key; returns 0 when it is no longer dead. */
export const revive = Redis.script(
  (
    ...args: [
      dead: string,
      deadIndex: string,
      items: string,
      enqueued: string,
      owners: string,
      due: string,
      list: string,
      id: string,
      item: string,
      at: number,
      dedupKey: string
    ]
  ) => args,
  {
    numberOfKeys: 7,
    lua: `
local id = ARGV[1]
if redis.call("HDEL", KEYS[1], id) == 0 then
  return 0
end
redis.call("ZREM", KEYS[2], id)
redis.call("HSET", KEYS[3], id, ARGV[2])
redis.call("ZADD", KEYS[4], ARGV[3], id)
if redis.call("RPUSH", KEYS[7], id) == 1 and redis.call("HEXISTS", KEYS[5], ARGV[4]) == 0 then
  redis.call("ZADD", KEYS[6], ARGV[3], ARGV[4])
end
return 1
`
  }
).withReturnType<number>()

/** Removes a queued item unless a worker holds it; returns 1 when removed. */
export const purgeQueued = Redis.script(
  (
    ...args: [
      items: string,
      enqueued: string,
      attempts: string,
      retry: string,
      owners: string,
      due: string,
      list: string,
      id: string,
      dedupKey: string
    ]
  ) => args,
  {
    numberOfKeys: 7,
    lua: `
local id = ARGV[1]
if redis.call("HEXISTS", KEYS[1], id) == 0 then
  return 0
end
if redis.call("HEXISTS", KEYS[5], ARGV[2]) == 1 and redis.call("LINDEX", KEYS[7], 0) == id then
  return 0
end
redis.call("LREM", KEYS[7], 1, id)
${forget("KEYS[1]", "KEYS[2]", "KEYS[3]", "KEYS[4]", "id")}
if redis.call("LLEN", KEYS[7]) == 0 then
  redis.call("ZREM", KEYS[6], ARGV[2])
end
return 1
`
  }
).withReturnType<number>()

export const purgeDead = Redis.script(
  (...args: [dead: string, deadIndex: string, id: string]) => args,
  {
    numberOfKeys: 2,
    lua: `
redis.call("ZREM", KEYS[2], ARGV[1])
return redis.call("HDEL", KEYS[1], ARGV[1])
`
  }
).withReturnType<number>()
