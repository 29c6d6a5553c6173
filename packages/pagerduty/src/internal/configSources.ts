import * as Predicate from "effect/Predicate"
import type { Problem } from "./configIssues.ts"
import { formatPath } from "./configIssues.ts"

const reference = /\$(\$)?\{([^}]*)\}/g
const variableName = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML
 * tree, and `$${` with a literal `${`.
 *
 * Expansion happens after parsing, so a variable's value can never change the
 * structure of the document. A reference to a missing variable without a
 * default is a problem naming the variable and the path.
 */
export const expand = (
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  problems: Array<Problem>,
  path: ReadonlyArray<PropertyKey> = []
): unknown => {
  if (typeof value === "string") {
    return value.replace(reference, (whole, escaped: string | undefined, body: string) => {
      if (escaped !== undefined) return whole.slice(1)
      const separator = body.indexOf(":-")
      const name = separator === -1 ? body : body.slice(0, separator)
      if (!variableName.test(name)) {
        problems.push({ path: formatPath(path), message: `\${${body}} is not a valid variable reference` })
        return whole
      }
      const found = env[name]
      if (found !== undefined && found !== "") return found
      if (separator !== -1) return body.slice(separator + 2)
      if (found === "") return found
      problems.push({
        path: formatPath(path),
        message: `environment variable ${name} is not set; set it or write \${${name}:-default}`
      })
      return whole
    })
  }
  if (Array.isArray(value)) return value.map((item, index) => expand(item, env, problems, [...path, index]))
  if (Predicate.isObject(value)) {
    const out: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) out[key] = expand(item, env, problems, [...path, key])
    return out
  }
  return value
}

/**
 * The documented scalar settings that environment variables override, from
 * variable name to path. Values stay strings; the schema reads numbers and
 * booleans from strings too.
 */
export const environmentSettings: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["PAGERDUTY_REGION", ["pagerduty", "region"]],
  ["PAGERDUTY_EVENTS_URL", ["pagerduty", "events_url"]],
  ["PAGERDUTY_REST_URL", ["pagerduty", "rest_url"]],
  ["PAGERDUTY_TOKEN", ["pagerduty", "token"]],
  ["PAGERDUTY_FROM", ["pagerduty", "from"]],
  ["PAGERDUTY_SERVER_HOST", ["server", "host"]],
  ["PAGERDUTY_SERVER_PORT", ["server", "port"]],
  ["PAGERDUTY_SERVER_BODY_LIMIT_BYTES", ["server", "body_limit_bytes"]],
  ["PAGERDUTY_SERVER_SHUTDOWN_TIMEOUT_SECONDS", ["server", "shutdown_timeout_seconds"]],
  ["PAGERDUTY_INTAKE_INSECURE_NO_AUTH", ["intake", "insecure_no_auth"]],
  ["PAGERDUTY_POLICY_EVENTS_PER_MINUTE", ["policy", "events_per_minute"]],
  ["PAGERDUTY_POLICY_REST_REQUESTS_PER_MINUTE", ["policy", "rest_requests_per_minute"]],
  ["PAGERDUTY_POLICY_BREAKER_FAILURES", ["policy", "breaker", "failures"]],
  ["PAGERDUTY_POLICY_BREAKER_OPEN_SECONDS", ["policy", "breaker", "open_seconds"]],
  ["PAGERDUTY_POLICY_CONCURRENCY", ["policy", "concurrency"]],
  ["PAGERDUTY_POLICY_ATTEMPT_TIMEOUT_SECONDS", ["policy", "attempt_timeout_seconds"]],
  ["PAGERDUTY_OUTBOX_STORE", ["outbox", "store"]],
  ["PAGERDUTY_OUTBOX_PATH", ["outbox", "path"]],
  ["PAGERDUTY_OUTBOX_MAX_DEPTH", ["outbox", "max_depth"]],
  ["PAGERDUTY_OUTBOX_MAX_AGE_SECONDS", ["outbox", "max_age_seconds"]],
  ["PAGERDUTY_OUTBOX_LEASE_SECONDS", ["outbox", "lease_seconds"]],
  ["PAGERDUTY_REDIS_URL", ["redis", "url"]],
  ["PAGERDUTY_WEBHOOKS_PATH", ["webhooks", "path"]],
  ["PAGERDUTY_WEBHOOKS_BAD_SIGNATURE_STATUS", ["webhooks", "bad_signature_status"]],
  ["PAGERDUTY_KEYS_CURRENT", ["keys", "current"]]
]

/**
 * Writes the set `PAGERDUTY_*` variables over a configuration tree and returns
 * the paths each one set, so messages can name the variable.
 */
export const applyEnvironment = (
  tree: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>
): Map<string, string> => {
  const origins = new Map<string, string>()
  for (const [name, path] of environmentSettings) {
    const value = env[name]
    if (value === undefined || value === "") continue
    let node: Record<string, unknown> = tree
    for (const segment of path.slice(0, -1)) {
      const next = node[segment]
      if (Predicate.isObject(next) && !Array.isArray(next)) {
        node = next as Record<string, unknown>
      } else {
        const created: Record<string, unknown> = {}
        node[segment] = created
        node = created
      }
    }
    node[path[path.length - 1]!] = value
    origins.set(formatPath(path), name)
  }
  return origins
}
