import type * as Redacted from "effect/Redacted"
import * as RedactedValue from "effect/Redacted"

/** A host and port of one Redis server, Sentinel or Cluster node. */
export interface Address {
  readonly host: string
  readonly port: number
}

/** The arrangement of the servers: one server, a Sentinel-managed primary or a Cluster. */
export type Topology =
  | { readonly _tag: "Standalone"; readonly host: string; readonly port: number; readonly db?: number | undefined }
  | {
    readonly _tag: "Sentinel"
    readonly sentinels: ReadonlyArray<Address>
    readonly name: string
    readonly db?: number | undefined
  }
  | { readonly _tag: "Cluster"; readonly nodes: ReadonlyArray<Address> }

/** A topology read from a URL, with the credentials the URL carried. */
export interface ParsedUrl {
  readonly topology: Topology
  readonly username: string | undefined
  readonly password: Redacted.Redacted<string> | undefined
}

const defaultPort = 6379
const defaultSentinelPort = 26379

const parseAddress = (text: string, fallbackPort: number): Address => {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text)
  if (match === null || match[1] === undefined) {
    throw new RangeError(`IoRedis: invalid host "${text}" in the Redis URL; expected host or host:port`)
  }
  const host = match[1].startsWith("[") ? match[1].slice(1, -1) : match[1]
  const port = match[2] === undefined ? fallbackPort : Number(match[2])
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`IoRedis: invalid port ${match[2]} in the Redis URL; expected 1 to 65535`)
  }
  return { host, port }
}

const parseDb = (text: string | undefined): number | undefined => {
  if (text === undefined || text === "") return undefined
  const db = Number(text)
  if (!Number.isInteger(db) || db < 0) {
    throw new RangeError(`IoRedis: invalid database "${text}" in the Redis URL; expected an integer >= 0`)
  }
  return db
}

/**
 * Parses `redis://[user:password@]host[:port][/db]`,
 * `redis+sentinel://[user:password@]host[:port][,host[:port]...]/primary-name[/db]` and
 * `redis+cluster://[user:password@]host[:port][,host[:port]...]`.
 *
 * The error messages never repeat the credentials part of the URL.
 */
export const parseUrl = (url: string): ParsedUrl => {
  const schemeMatch = /^(redis|redis\+sentinel|redis\+cluster):\/\/(.*)$/.exec(url)
  if (schemeMatch === null) {
    throw new RangeError(
      "IoRedis: the Redis URL must start with redis://, redis+sentinel:// or redis+cluster://"
    )
  }
  const scheme = schemeMatch[1]!
  let rest = schemeMatch[2]!
  let username: string | undefined
  let password: Redacted.Redacted<string> | undefined
  const at = rest.lastIndexOf("@")
  if (at >= 0) {
    const credentials = rest.slice(0, at)
    rest = rest.slice(at + 1)
    const colon = credentials.indexOf(":")
    const user = colon >= 0 ? credentials.slice(0, colon) : ""
    const secret = colon >= 0 ? credentials.slice(colon + 1) : credentials
    username = user === "" ? undefined : decodeURIComponent(user)
    password = secret === "" ? undefined : RedactedValue.make(decodeURIComponent(secret))
  }
  const [hostsPart = "", ...pathParts] = rest.split("/")
  const hosts = hostsPart.split(",").filter((host) => host !== "")
  if (hosts.length === 0) {
    throw new RangeError(`IoRedis: the Redis URL names no host; expected ${scheme}://host:port`)
  }
  switch (scheme) {
    case "redis": {
      if (hosts.length > 1) {
        throw new RangeError("IoRedis: a redis:// URL names one host; use redis+cluster:// or redis+sentinel://")
      }
      const { host, port } = parseAddress(hosts[0]!, defaultPort)
      return { topology: { _tag: "Standalone", host, port, db: parseDb(pathParts[0]) }, username, password }
    }
    case "redis+sentinel": {
      const name = pathParts[0]
      if (name === undefined || name === "") {
        throw new RangeError("IoRedis: a redis+sentinel:// URL needs the primary's name as its path")
      }
      return {
        topology: {
          _tag: "Sentinel",
          sentinels: hosts.map((host) => parseAddress(host, defaultSentinelPort)),
          name: decodeURIComponent(name),
          db: parseDb(pathParts[1])
        },
        username,
        password
      }
    }
    default:
      return {
        topology: { _tag: "Cluster", nodes: hosts.map((host) => parseAddress(host, defaultPort)) },
        username,
        password
      }
  }
}
