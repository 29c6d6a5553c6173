import { IoRedis } from "@effect-pagerduty/redis"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redis from "effect/persistence/Redis"
import * as Queue from "effect/Queue"
import * as Redacted from "effect/Redacted"
import * as References from "effect/References"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { redisCluster, redisSentinel, redisServer } from "../../../test/support/redisServers.ts"

const echoScript = Redis.script((key: string, value: string) => [key, value], {
  numberOfKeys: 1,
  lua: `redis.call("SET", KEYS[1], ARGV[1]) return redis.call("GET", KEYS[1])`
}).withReturnType<string>()

const redisOf = (options: IoRedis.Options) =>
  Effect.map(Layer.build(IoRedis.layer(options)), (context) => ({
    redis: Context.get(context, Redis.Redis),
    io: Context.get(context, IoRedis.IoRedis)
  }))

// The outage tests provoke the library's reconnection warnings on purpose.
const live = <A, E>(name: string, body: () => Effect.Effect<A, E, Scope.Scope>) =>
  it.live(name, () => Effect.provideService(body(), References.MinimumLogLevel, "Error"))

// Waits until a command succeeds again, for the recovery checks.
const untilOk = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.retry(effect, { schedule: Schedule.spaced("100 millis"), times: 100 })

describe("IoRedis standalone", () => {
  live("sends commands and returns replies", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const { redis } = yield* redisOf({ topology: IoRedis.standalone({ host: server.host, port: server.port }) })
      assert.strictEqual(yield* redis.send<string>("SET", "k", "v"), "OK")
      assert.strictEqual(yield* redis.send<string>("GET", "k"), "v")
      assert.strictEqual(yield* redis.send<number>("INCRBY", "n", "3"), 3)
    }))

  live("runs scripts through the script helpers", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const { redis } = yield* redisOf({ topology: IoRedis.standalone({ host: server.host, port: server.port }) })
      const run = redis.eval(echoScript)
      assert.strictEqual(yield* run("s", "first"), "first")
      yield* redis.send("SCRIPT", "FLUSH")
      assert.strictEqual(yield* run("s", "after flush"), "after flush")
    }))

  live("runs blocking commands on a reserved connection", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const { redis } = yield* redisOf({
        topology: IoRedis.standalone({ host: server.host, port: server.port }),
        commandTimeout: "200 millis"
      })
      const popped = yield* Effect.scoped(Effect.gen(function*() {
        const connection = yield* redis.reserve
        const fiber = yield* Effect.forkChild(connection.send<[string, string]>("BLPOP", "list", "5"))
        // Longer than commandTimeout, which reserved connections do not apply.
        yield* Effect.sleep("400 millis")
        yield* redis.send("RPUSH", "list", "item")
        return yield* Fiber.await(fiber)
      }))
      assert.deepStrictEqual(popped, Exit.succeed(["list", "item"] as [string, string]))
    }))

  live("delivers published messages to subscribers", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const { redis } = yield* redisOf({ topology: IoRedis.standalone({ host: server.host, port: server.port }) })
      const queue = yield* redis.subscribe("events")
      yield* redis.send("PUBLISH", "events", "hello")
      const message = yield* Queue.take(queue)
      assert.deepStrictEqual(message, { channel: "events", message: "hello" })
    }))

  live("fails a command while Redis is down, then recovers", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const { io, redis } = yield* redisOf({
        topology: IoRedis.standalone({ host: server.host, port: server.port }),
        commandTimeout: "500 millis",
        maxReconnectDelay: "200 millis"
      })
      const queue = yield* redis.subscribe("events")
      yield* redis.send("SET", "k", "v")
      yield* Effect.promise(() => server.stop())

      // A bound well above commandTimeout: the command must fail, not hang.
      const failed = yield* redis.send("GET", "k").pipe(Effect.timeout("5 seconds"), Effect.exit)
      assert.isTrue(Exit.isFailure(failed))
      const error = Exit.isFailure(failed) ? failed.cause.reasons[0] : undefined
      assert.strictEqual(error?._tag, "Fail")
      assert.instanceOf(error?._tag === "Fail" ? error.error : undefined, Redis.RedisError)

      yield* Effect.promise(() => server.start())
      assert.strictEqual(yield* untilOk(redis.send<string>("PING")), "PONG")
      assert.isTrue(yield* io.isReady)
      // The subscriber subscribed again after reconnecting.
      yield* untilOk(
        redis.send<number>("PUBLISH", "events", "back").pipe(
          Effect.flatMap((receivers) => receivers > 0 ? Effect.void : Effect.fail("no subscriber yet"))
        )
      )
      assert.deepStrictEqual(yield* Queue.take(queue), { channel: "events", message: "back" })
    }))

  live("fails to build when no server answers", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      yield* Effect.promise(() => server.stop())
      const exit = yield* redisOf({
        topology: IoRedis.standalone({ host: server.host, port: server.port }),
        connectTimeout: "500 millis"
      }).pipe(Effect.timeout("10 seconds"), Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
    }))

  live("builds without a server when awaitReady is off", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      yield* Effect.promise(() => server.stop())
      const { redis } = yield* redisOf({
        topology: IoRedis.standalone({ host: server.host, port: server.port }),
        awaitReady: false,
        maxReconnectDelay: "100 millis"
      })
      const failed = yield* Effect.exit(redis.send("PING"))
      assert.isTrue(Exit.isFailure(failed))
      yield* Effect.promise(() => server.start())
      assert.strictEqual(yield* untilOk(redis.send<string>("PING")), "PONG")
    }))

  live("quits its connections when the scope closes", () =>
    Effect.gen(function*() {
      const server = yield* redisServer()
      const scope = yield* Scope.make()
      const { io } = yield* redisOf({ topology: IoRedis.standalone({ host: server.host, port: server.port }) }).pipe(
        Scope.provide(scope)
      )
      assert.isTrue(yield* io.isReady)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(io.client.status, "end")
    }))

  live("reads the URL and password from configuration", () =>
    Effect.gen(function*() {
      const server = yield* redisServer({ args: ["--requirepass", "s3cret"] })
      const context = yield* Layer.build(IoRedis.layerConfig()).pipe(
        Effect.provide(ConfigProvider.layer(ConfigProvider.fromUnknown({
          REDIS_URL: server.url,
          REDIS_PASSWORD: "s3cret"
        })))
      )
      const redis = Context.get(context, Redis.Redis)
      assert.strictEqual(yield* redis.send<string>("PING"), "PONG")
    }))

  live("rejects a wrong password", () =>
    Effect.gen(function*() {
      const server = yield* redisServer({ args: ["--requirepass", "s3cret"] })
      const exit = yield* Layer.build(IoRedis.layerConfig({
        url: Config.succeed(server.url),
        password: Config.succeed(Redacted.make("wrong"))
      })).pipe(Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
    }))
})

describe("IoRedis Cluster", () => {
  live("sends commands and scripts to the node owning each key", () =>
    Effect.gen(function*() {
      const cluster = yield* redisCluster
      const { redis } = yield* redisOf({ topology: IoRedis.cluster({ nodes: [cluster.nodes[0]!] }) })
      const run = redis.eval(echoScript)
      // These keys hash to slots on different nodes of a three-node Cluster.
      const keys = ["a", "b", "c", "d", "e", "f"]
      for (const key of keys) {
        assert.strictEqual(yield* run(key, `value of ${key}`), `value of ${key}`)
      }
      for (const key of keys) {
        assert.strictEqual(yield* redis.send<string>("GET", key), `value of ${key}`)
      }
    }))

  live("loads a script again on a node that lost it", () =>
    Effect.gen(function*() {
      const cluster = yield* redisCluster
      const { redis } = yield* redisOf({ topology: IoRedis.cluster({ nodes: [cluster.nodes[0]!] }) })
      const run = redis.eval(echoScript)
      assert.strictEqual(yield* run("x", "1"), "1")
      for (const node of cluster.nodes) {
        const { redis: direct } = yield* redisOf({ topology: IoRedis.standalone({ host: node.host, port: node.port }) })
        yield* direct.send("SCRIPT", "FLUSH")
      }
      assert.strictEqual(yield* run("x", "2"), "2")
    }))

  live("delivers published messages to subscribers", () =>
    Effect.gen(function*() {
      const cluster = yield* redisCluster
      const { redis } = yield* redisOf({ topology: IoRedis.cluster({ nodes: [cluster.nodes[0]!] }) })
      const queue = yield* redis.subscribe("cluster-events")
      yield* redis.send("PUBLISH", "cluster-events", "hello")
      assert.deepStrictEqual(yield* Queue.take(queue), { channel: "cluster-events", message: "hello" })
    }))

  live("fails within bounds while the node owning a key is down", () =>
    Effect.gen(function*() {
      const cluster = yield* redisCluster
      const { redis } = yield* redisOf({
        topology: IoRedis.cluster({ nodes: cluster.nodes }),
        commandTimeout: "500 millis"
      })
      yield* redis.send("SET", "a", "1")
      const slot = yield* redis.send<number>("CLUSTER", "KEYSLOT", "a")
      const slots = yield* redis.send<Array<[number, number, [string, number]]>>("CLUSTER", "SLOTS")
      const owner = slots.find(([from, to]) => slot >= from && slot <= to)![2][1]
      const node = cluster.nodes.find((node) => node.port === owner)!
      yield* Effect.promise(() => node.stop())
      const failed = yield* redis.send("GET", "a").pipe(Effect.timeout("10 seconds"), Effect.exit)
      assert.isTrue(Exit.isFailure(failed))
      yield* Effect.promise(() => node.start())
      // The node keeps nothing on disk, so it comes back empty.
      assert.strictEqual(yield* untilOk(redis.send<string>("SET", "a", "2")), "OK")
      assert.strictEqual(yield* redis.send<string>("GET", "a"), "2")
    }))
})

describe("IoRedis Sentinel", () => {
  live("finds the primary through the Sentinel", () =>
    Effect.gen(function*() {
      const setup = yield* redisSentinel
      const { redis } = yield* redisOf({
        topology: IoRedis.sentinel({
          sentinels: [{ host: setup.sentinel.host, port: setup.sentinel.port }],
          name: setup.name
        })
      })
      assert.strictEqual(yield* redis.send<string>("SET", "k", "v"), "OK")
      const role = yield* redis.send<Array<unknown>>("ROLE")
      assert.strictEqual(role[0], "master")
      assert.strictEqual(yield* redis.eval(echoScript)("s", "v"), "v")
    }))

  live("reads a Sentinel URL", () =>
    Effect.gen(function*() {
      const setup = yield* redisSentinel
      const context = yield* Layer.build(IoRedis.layerConfig({ url: Config.succeed(setup.url) }))
      const redis = Context.get(context, Redis.Redis)
      assert.strictEqual(yield* redis.send<string>("PING"), "PONG")
    }))
})

describe("IoRedis.parseUrl", () => {
  it("parses a standalone URL with credentials and database", () => {
    const parsed = IoRedis.parseUrl("redis://user:p%40ss@10.0.0.1:6380/2")
    assert.deepStrictEqual(parsed.topology, { _tag: "Standalone", host: "10.0.0.1", port: 6380, db: 2 })
    assert.strictEqual(parsed.username, "user")
    assert.strictEqual(parsed.password === undefined ? undefined : Redacted.value(parsed.password), "p@ss")
  })

  it("parses Sentinel and Cluster URLs", () => {
    assert.deepStrictEqual(IoRedis.parseUrl("redis+sentinel://a:1,b/primary").topology, {
      _tag: "Sentinel",
      sentinels: [{ host: "a", port: 1 }, { host: "b", port: 26379 }],
      name: "primary",
      db: undefined
    })
    assert.deepStrictEqual(IoRedis.parseUrl("redis+cluster://a:7000,b:7001").topology, {
      _tag: "Cluster",
      nodes: [{ host: "a", port: 7000 }, { host: "b", port: 7001 }]
    })
  })

  it("rejects an unknown scheme without repeating the password", () => {
    const error = (() => {
      try {
        IoRedis.parseUrl("http://user:hunter2@host")
      } catch (error) {
        return error
      }
    })()
    assert.instanceOf(error, RangeError)
    assert.notInclude((error as RangeError).message, "hunter2")
  })

  it("rejects an invalid port", () => {
    assert.throws(() => IoRedis.parseUrl("redis://host:99999"), RangeError)
  })
})
