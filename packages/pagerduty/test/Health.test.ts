import { NodeRedis } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted, References, Schedule, Scope } from "effect"
import type { HttpServerResponse } from "effect/http"
import type * as Redis from "effect/persistence/Redis"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as Health from "../src/Health.ts"

const bodyOf = (response: HttpServerResponse.HttpServerResponse): Health.Report => {
  const body = response.body
  if (body._tag !== "Uint8Array") throw new Error(`unexpected body ${body._tag}`)
  return JSON.parse(new TextDecoder().decode(body.body))
}

const withHealth = <A, E>(effect: Effect.Effect<A, E, Health.Health | Scope.Scope>) =>
  effect.pipe(Effect.scoped, Effect.provide(Health.layer({ secrets: [Redacted.make("s3cret-password")] })))

describe("Health", () => {
  it.effect("reports every check up", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("process", Effect.void, { kind: "liveness" })
      yield* health.register("store", Effect.succeed("ok"), { kind: "readiness" })
      const report = yield* health.run()
      expect(report.status).toBe("up")
      expect(report.checks.map((check) => [check.name, check.kind, check.status])).toEqual([
        ["process", "liveness", "up"],
        ["store", "readiness", "up"]
      ])
      expect(typeof report.checks[0]!.latency_ms).toBe("number")
    })))

  it.effect("answers 503 with the failing check", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("process", Effect.void, { kind: "liveness" })
      yield* health.register("redis", Effect.fail(new Error("connection refused")), { kind: "readiness" })

      const live = yield* Health.liveHandler
      expect(live.status).toBe(200)
      expect(bodyOf(live).checks.map((check) => check.name)).toEqual(["process"])

      const ready = yield* Health.readyHandler
      expect(ready.status).toBe(503)
      expect(bodyOf(ready)).toMatchObject({
        status: "down",
        checks: [{ name: "redis", kind: "readiness", status: "down", error: "connection refused" }]
      })

      const combined = yield* Health.handler
      expect(combined.status).toBe(503)
      expect(bodyOf(combined).checks).toHaveLength(2)
    })))

  it.effect("reports a defect as down", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("broken", Effect.die("bug"), { kind: "liveness" })
      const report = yield* health.run("liveness")
      expect(report.checks[0]?.status).toBe("down")
      expect(report.checks[0]?.error).toBe("bug")
    })))

  it.live("reports a slow check as timed out", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("slow", Effect.sleep("5 seconds"), { kind: "readiness", timeout: "50 millis" })
      const report = yield* health.run("readiness")
      expect(report.status).toBe("down")
      expect(report.checks[0]?.error).toBe("timed out after 50ms")
    })))

  it.effect("removes secrets from failure messages", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      yield* health.register("redis", Effect.fail("auth failed for redis://:s3cret-password@host"), {
        kind: "readiness"
      })
      const report = yield* health.run()
      expect(report.checks[0]?.error).toBe("auth failed for redis://:[redacted]@host")
    })))

  it.effect("unregisters a check when its scope closes", () =>
    withHealth(Effect.gen(function*() {
      const health = yield* Health.Health
      const scope = yield* Scope.make()
      yield* health.register("temporary", Effect.fail("down"), { kind: "readiness" }).pipe(Scope.provide(scope))
      expect((yield* health.run()).status).toBe("down")
      yield* Scope.close(scope, Exit.void)
      const report = yield* health.run()
      expect(report.status).toBe("up")
      expect(report.checks).toHaveLength(0)
    })))
})

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0))
    })
  })

const hasRedisServer = (() => {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/** Starts a private redis-server on a port with its own directory, resolving once it accepts connections. */
const startRedis = (port: number, dir: string) =>
  Effect.callback<ChildProcess, Error>((resume) => {
    const child = spawn("redis-server", [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "no"
    ], { stdio: ["ignore", "pipe", "inherit"] })
    let output = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("Ready to accept connections")) resume(Effect.succeed(child))
    })
    child.on("exit", (code) => resume(Effect.fail(new Error(`redis-server exited with ${code}: ${output}`))))
  })

const stopRedis = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGTERM")
  })

const waitForStatus = (expected: number) =>
  Health.readyHandler.pipe(
    Effect.flatMap((response) =>
      response.status === expected ? Effect.succeed(response) : Effect.fail(`status ${response.status}`)
    ),
    Effect.retry({ schedule: Schedule.spaced("100 millis"), times: 100 })
  )

describe("Health with Redis", () => {
  it.live("registers a Redis check through its layer", () =>
    Effect.gen(function*() {
      const response = yield* Health.readyHandler
      expect(response.status).toBe(200)
      expect(bodyOf(response).checks.map((check) => check.name)).toEqual(["redis"])
    }).pipe(
      Effect.provide(
        Health.layerRedisCheck().pipe(
          Layer.provideMerge(Layer.merge(Health.layer(), NodeRedis.layer({ url: "redis://127.0.0.1:6379" })))
        )
      )
    ))

  it.live("turns not ready while its Redis is down", () =>
    Effect.gen(function*() {
      if (!hasRedisServer) {
        return yield* Effect.die(
          new Error("redis-server is not on PATH; install it with `apt-get install redis-server`")
        )
      }
      const port = yield* Effect.promise(freePort)
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pd-health-redis-"))
      let server = yield* startRedis(port, dir)
      yield* Effect.addFinalizer(() => stopRedis(server))

      yield* Effect.gen(function*() {
        const health = yield* Health.Health
        const redis = yield* Effect.context<Redis.Redis>()
        yield* health.register("redis", Effect.provide(Health.redisPing, redis), {
          kind: "readiness",
          timeout: "300 millis"
        })

        const up = yield* Health.readyHandler
        expect(up.status).toBe(200)

        yield* stopRedis(server)
        const down = yield* waitForStatus(503)
        expect(bodyOf(down).checks[0]).toMatchObject({ name: "redis", status: "down" })

        server = yield* startRedis(port, dir)
        const back = yield* waitForStatus(200)
        expect(bodyOf(back).checks[0]).toMatchObject({ name: "redis", status: "up" })
      }).pipe(
        Effect.provide(Layer.merge(Health.layer(), NodeRedis.layer({ url: `redis://127.0.0.1:${port}` })))
      )
      // The client logs each lost connection as a warning, which is expected here.
    }).pipe(Effect.scoped, Effect.provideService(References.MinimumLogLevel, "Error")))
})
