/**
 * Private Redis servers for tests: standalone, a three-node Cluster and a
 * Sentinel with a primary and a replica, each on free loopback ports with its
 * own directory under the OS temp dir. Never touches the shared Redis on 6379.
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"

const host = "127.0.0.1"

/** One `redis-server` process that can be stopped and started again on the same port and directory. */
export interface RedisServer {
  readonly host: string
  readonly port: number
  readonly dir: string
  readonly url: string
  /** Stops the server with SIGTERM (SIGKILL after 5 s) and waits for it to exit. */
  readonly stop: () => Promise<void>
  /** Kills the server with SIGKILL, as a crash would. */
  readonly kill: () => Promise<void>
  /** Starts the server again with the same port, directory and arguments. */
  readonly start: () => Promise<void>
  readonly restart: () => Promise<void>
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /** Turns on `--appendonly yes --appendfsync always`, so data survives a restart. */
  readonly appendOnly?: boolean
  /** Further `redis-server` arguments. */
  readonly args?: ReadonlyArray<string>
  /** A fixed port. By default a free one is chosen. */
  readonly port?: number
  /** Runs `redis-server CONFIG --sentinel` with this configuration file text instead of a plain server. */
  readonly sentinelConfig?: (port: number, dir: string) => string
}

const installHint = "install them with `apt-get install redis-server redis-tools` (Debian/Ubuntu)"

let checked = false
const requireBinaries = () => {
  if (checked) return
  for (const binary of ["redis-server", "redis-cli"]) {
    const result = ChildProcess.spawnSync(binary, ["--version"], { stdio: "ignore" })
    if (result.error !== undefined || result.status !== 0) {
      throw new Error(`${binary} was not found on PATH; the Redis tests start private servers, so ${installHint}`)
    }
  }
  checked = true
}

const live = new Set<ChildProcess.ChildProcess>()
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL")
})

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = Net.createServer()
    server.once("error", () => resolve(false))
    server.listen(port, host, () => server.close(() => resolve(true)))
  })

/**
 * Finds a free port below 55000 whose Cluster bus port (port + 10000) is free too.
 */
export const freePort = async (): Promise<number> => {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = Net.createServer()
      server.once("error", reject)
      server.listen(0, host, () => {
        const address = server.address() as Net.AddressInfo
        server.close(() => resolve(address.port))
      })
    })
    if (port < 55000 && await isFree(port + 10000)) return port
  }
  throw new Error("no free port pair for a private Redis server was found")
}

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

/** Runs `redis-cli -p PORT ARGS...` and returns its output. */
export const cli = (port: number, ...args: ReadonlyArray<string>): Promise<string> =>
  new Promise((resolve, reject) => {
    ChildProcess.execFile(
      "redis-cli",
      ["-h", host, "-p", String(port), ...args],
      { timeout: 30_000 },
      (error, stdout) => {
        if (error) reject(error)
        else resolve(stdout.trim())
      }
    )
  })

const waitFor = async (what: string, check: () => Promise<boolean>, timeoutMillis = 15_000) => {
  const deadline = Date.now() + timeoutMillis
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return
    await sleep(50)
  }
  throw new Error(`timed out after ${timeoutMillis} ms waiting for ${what}`)
}

const exited = (child: ChildProcess.ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("exit", () => resolve())
  })

/** Starts a private `redis-server` on 127.0.0.1 and waits until it replies to `PING`. */
export const startRedis = async (options: RedisServerOptions = {}): Promise<RedisServer> => {
  requireBinaries()
  const port = options.port ?? await freePort()
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), `effect-pagerduty-redis-${port}-`))
  let child: ChildProcess.ChildProcess | undefined

  const args = async (): Promise<Array<string>> => {
    if (options.sentinelConfig !== undefined) {
      const file = Path.join(dir, "sentinel.conf")
      // Sentinel rewrites its configuration file, so it is written only once.
      await Fs.access(file).catch(() => Fs.writeFile(file, options.sentinelConfig!(port, dir)))
      return [file, "--sentinel"]
    }
    return [
      "--port",
      String(port),
      "--bind",
      host,
      "--dir",
      dir,
      "--save",
      "",
      "--daemonize",
      "no",
      "--logfile",
      Path.join(dir, "redis.log"),
      ...(options.appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]),
      ...(options.args ?? [])
    ]
  }

  const start = async () => {
    const spawned = ChildProcess.spawn("redis-server", await args(), { stdio: "ignore" })
    child = spawned
    live.add(spawned)
    spawned.once("exit", () => live.delete(spawned))
    await waitFor(`redis-server on port ${port}`, async () => {
      if (spawned.exitCode !== null) throw new Error(`redis-server on port ${port} exited with ${spawned.exitCode}`)
      const reply = await cli(port, "PING")
      // A server started with --requirepass replies NOAUTH, which still shows it is up.
      return reply === "PONG" || reply.startsWith("NOAUTH")
    })
  }

  const signal = async (name: NodeJS.Signals) => {
    const current = child
    if (current === undefined) return
    child = undefined
    const timer = setTimeout(() => current.kill("SIGKILL"), 5_000)
    current.kill(name)
    await exited(current)
    clearTimeout(timer)
  }

  await start()
  return {
    host,
    port,
    dir,
    url: `redis://${host}:${port}`,
    stop: () => signal("SIGTERM"),
    kill: () => signal("SIGKILL"),
    start,
    restart: async () => {
      await signal("SIGTERM")
      await start()
    }
  }
}

/** Stops a server and removes its directory. */
export const removeRedis = async (server: RedisServer) => {
  await server.kill()
  await Fs.rm(server.dir, { recursive: true, force: true })
}

/** A three-primary Cluster without replicas. */
export interface RedisCluster {
  readonly nodes: ReadonlyArray<RedisServer>
  readonly url: string
}

/** Starts three Cluster-enabled servers and joins them into one Cluster covering all slots. */
export const startCluster = async (): Promise<RedisCluster> => {
  const nodes: Array<RedisServer> = []
  for (let index = 0; index < 3; index++) {
    nodes.push(
      await startRedis({
        args: [
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          "nodes.conf",
          "--cluster-node-timeout",
          "2000"
        ]
      })
    )
  }
  const addresses = nodes.map((node) => `${host}:${node.port}`)
  await new Promise<void>((resolve, reject) => {
    ChildProcess.execFile(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
      (error) => (error ? reject(error) : resolve())
    )
  })
  for (const node of nodes) {
    await waitFor(
      `cluster_state:ok on port ${node.port}`,
      async () => (await cli(node.port, "CLUSTER", "INFO")).includes("cluster_state:ok")
    )
  }
  return { nodes, url: `redis+cluster://${addresses.join(",")}` }
}

/** A primary, a replica and one Sentinel that monitors them under {@link sentinelName}. */
export interface RedisSentinel {
  readonly primary: RedisServer
  readonly replica: RedisServer
  readonly sentinel: RedisServer
  readonly name: string
  readonly url: string
}

/** The name under which the Sentinel monitors its primary. */
export const sentinelName = "effect-pagerduty-primary"

/** Starts a primary, a replica of it and a Sentinel, and waits until the Sentinel reports both. */
export const startSentinel = async (): Promise<RedisSentinel> => {
  const primary = await startRedis()
  const replica = await startRedis({ args: ["--replicaof", host, String(primary.port)] })
  await waitFor(
    "the replica to sync",
    async () => (await cli(replica.port, "INFO", "replication")).includes("master_link_status:up")
  )
  const sentinel = await startRedis({
    sentinelConfig: (port, dir) =>
      [
        `port ${port}`,
        `bind ${host}`,
        `dir ${dir}`,
        `logfile ${Path.join(dir, "sentinel.log")}`,
        `sentinel monitor ${sentinelName} ${host} ${primary.port} 1`,
        `sentinel down-after-milliseconds ${sentinelName} 1000`,
        `sentinel failover-timeout ${sentinelName} 5000`,
        ""
      ].join("\n")
  })
  await waitFor(
    "the Sentinel to find the replica",
    async () => (await cli(sentinel.port, "SENTINEL", "REPLICAS", sentinelName)).includes(String(replica.port))
  )
  return {
    primary,
    replica,
    sentinel,
    name: sentinelName,
    url: `redis+sentinel://${host}:${sentinel.port}/${sentinelName}`
  }
}

/** Starts a private server for the current scope and removes it when the scope closes. */
export const redisServer = (options?: RedisServerOptions): Effect.Effect<RedisServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startRedis(options)),
    (server) => Effect.promise(() => removeRedis(server))
  )

/** Starts a private Cluster for the current scope and removes it when the scope closes. */
export const redisCluster: Effect.Effect<RedisCluster, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startCluster()),
  (cluster) => Effect.promise(() => Promise.all(cluster.nodes.map(removeRedis)))
)

/** Starts a private Sentinel set-up for the current scope and removes it when the scope closes. */
export const redisSentinel: Effect.Effect<RedisSentinel, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() => startSentinel()),
  ({ primary, replica, sentinel }) => Effect.promise(() => Promise.all([sentinel, replica, primary].map(removeRedis)))
)
