/**
 * One Schema-checked configuration for the library and the relay, read from
 * an optional YAML file and `PAGERDUTY_*` environment variables.
 *
 * Strings in the file may reference environment variables as `${VAR}` or
 * `${VAR:-default}` (`$${` writes a literal `${`). A documented scalar
 * setting can also be set by its variable, `PAGERDUTY_` followed by its path
 * in upper case (`server.port` is `PAGERDUTY_SERVER_PORT`), which wins over
 * the file. Secrets are decoded into `Redacted`, and a secret written as a
 * `sealed:v1:` envelope (see `Crypto`) is opened with the `keys` ring while
 * loading. Every problem is reported with its path, for example
 * `routes[2].routing_key: expected 32 characters, got 31`.
 *
 * The decoded value keeps the file's snake_case keys, so a key in code reads
 * the same as in the file and in `docs/relay.example.yaml`.
 *
 * @example
 * ```ts
 * import { Config } from "@effect-pagerduty/pagerduty"
 * import { Effect } from "effect"
 *
 * const config = Config.parse({
 *   text: "pagerduty: { region: eu }\nintake: { insecure_no_auth: true }\n" +
 *     "routes: [{ name: main, routing_key: ${ROUTING_KEY} }]\n",
 *   env: { ROUTING_KEY: "0123456789abcdef0123456789abcdef" }
 * })
 * // Effect<RelayConfigShape, ConfigError>
 * ```
 *
 * @since 0.1.0
 * @stability experimental
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Yaml from "effect/encoding/Yaml"
import * as FileSystem from "effect/FileSystem"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "./Crypto.ts"
import * as Errors from "./Errors.ts"
import { type Problem, toProblems } from "./internal/configIssues.ts"
import * as Fields from "./internal/configSchema.ts"
import { Keys, RelayConfigSchema, type RelayConfigShape } from "./internal/configSections.ts"
import { applyEnvironment, expand } from "./internal/configSources.ts"

export {
  AuditSettings,
  AuditSink,
  BasicCredential,
  Intake,
  IntakeAuth,
  JwtAuth,
  Keys,
  Outbox,
  PagerDuty,
  Policy,
  Redis,
  RelayConfigSchema,
  type RelayConfigShape,
  Route,
  Server,
  Webhooks
} from "./internal/configSections.ts"

/**
 * A configuration that cannot be used, with every problem found.
 *
 * @since 0.1.0
 * @category errors
 */
export class Invalid extends Schema.TaggedClass<Invalid>()("Invalid", {
  source: Schema.String,
  problems: Schema.Array(Schema.Struct({ path: Schema.String, message: Schema.String }))
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    const lines = this.problems.map((problem) => `  ${problem.path}: ${problem.message}`)
    const count = this.problems.length === 1 ? "1 problem" : `${this.problems.length} problems`
    return `configuration from ${this.source} is invalid (${count}):\n${lines.join("\n")}`
  }
}

/**
 * A configuration file that could not be read.
 *
 * @since 0.1.0
 * @category errors
 */
export class Unreadable extends Schema.TaggedClass<Unreadable>()("Unreadable", {
  path: Schema.String,
  detail: Schema.String
}) {
  readonly retryable = false
  readonly httpStatus = 500
  readonly logLevel = "Error" as const
  get message() {
    return `configuration file ${this.path} could not be read: ${this.detail}`
  }
}

/**
 * The error of loading a configuration.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  reason: Schema.Union([Invalid, Unreadable])
}) {
  readonly [Errors.TypeId] = Errors.TypeId
  override get message() {
    return this.reason.message
  }
}

const invalid = (source: string, problems: ReadonlyArray<Problem>) =>
  new ConfigError({ reason: new Invalid({ source, problems: [...problems] }) })

const withOrigins = (problems: ReadonlyArray<Problem>, origins: ReadonlyMap<string, string>) =>
  problems.map((problem) => {
    const variable = origins.get(problem.path)
    return variable === undefined ? problem : { path: problem.path, message: `${problem.message} (from ${variable})` }
  })

const readFile = (file: string): Effect.Effect<string, ConfigError, FileSystem.FileSystem> =>
  FileSystem.FileSystem.use((fs) => fs.readFileString(file)).pipe(
    Effect.mapError((error) => new ConfigError({ reason: new Unreadable({ path: file, detail: error.message }) }))
  )

/** Values a configuration may contain once YAML aliases are expanded; real ones hold a few hundred. */
const maxNodes = 100_000

const exceedsNodes = (root: unknown, limit: number): boolean => {
  let count = 0
  const stack: Array<unknown> = [root]
  while (stack.length > 0) {
    const node = stack.pop()
    if (++count > limit) return true
    if (Array.isArray(node)) stack.push(...node)
    else if (Predicate.isObject(node)) stack.push(...Object.values(node))
  }
  return false
}

const readTree = Effect.fnUntraced(function*(
  text: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  source: string,
  section?: string
): Effect.fn.Return<{ tree: Record<string, unknown>; origins: Map<string, string> }, ConfigError> {
  let raw: unknown = {}
  if (text !== undefined && text.trim() !== "") {
    try {
      raw = Yaml.parse(text)
    } catch (error) {
      return yield* invalid(source, [{ path: "(root)", message: `YAML syntax error: ${(error as Error).message}` }])
    }
  }
  if (raw === null || raw === undefined) raw = {}
  // YAML aliases share one parsed node, so a small file can describe a tree of billions of
  // nodes ("billion laughs"). Such a tree is rejected before anything walks it.
  if (exceedsNodes(raw, maxNodes)) {
    return yield* invalid(source, [{
      path: "(root)",
      message: `the configuration expands to more than ${maxNodes} values (through YAML aliases?); write it out plainly`
    }])
  }
  if (!Predicate.isObject(raw) || Array.isArray(raw)) {
    return yield* invalid(source, [{ path: "(root)", message: "expected a mapping at the top of the file" }])
  }

  // Only the requested section is expanded, so unset variables elsewhere do not matter.
  const selected = section === undefined
    ? raw
    : section in raw
    ? { [section]: (raw as Record<string, unknown>)[section] }
    : {}
  const problems: Array<Problem> = []
  const tree = expand(selected, env, problems) as Record<string, unknown>
  if (problems.length > 0) return yield* invalid(source, problems)
  const origins = applyEnvironment(tree, env)
  if (section !== undefined) {
    for (const key of Object.keys(tree)) if (key !== section) delete tree[key]
  }
  return { tree, origins }
})

const parseOptions = { errors: "all", onExcessProperty: "error", reportInput: true } as const

const decodeKeys = (tree: unknown, source: string, origins: ReadonlyMap<string, string>) =>
  Schema.decodeUnknownEffect(Keys)(tree, parseOptions).pipe(
    Effect.mapError((error) => invalid(source, withOrigins(toProblems(error.issue, ["keys"]), origins)))
  )

const keyRingOf = (keys: typeof Keys.Type, source: string) =>
  Crypto.makeKeyRing({
    current: keys.current,
    ring: Object.fromEntries(Object.entries(keys.ring).map(([id, key]) => [id, Redacted.make(key)]))
  }).pipe(
    Effect.mapError((error) =>
      invalid(source, [{
        path: error.reason._tag === "InvalidKey" && error.reason.keyId in keys.ring
          ? `keys.ring.${error.reason.keyId}`
          : "keys.current",
        message: error.message
      }])
    )
  )

/**
 * Reads only the `keys` section of a configuration and builds its key ring,
 * so values can be sealed for a file whose other sections are not complete yet.
 *
 * @since 0.1.0
 * @category loading
 */
export const loadKeyRing = Effect.fnUntraced(function*(options: {
  readonly file?: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}): Effect.fn.Return<Crypto.KeyRing, ConfigError, FileSystem.FileSystem> {
  const source = options.file ?? "the environment"
  const text = options.file === undefined ? undefined : yield* readFile(options.file)
  const { origins, tree } = yield* readTree(text, options.env, source, "keys")
  if (tree.keys === undefined) {
    return yield* invalid(source, [{ path: "keys", message: "missing: sealing needs keys.current and keys.ring" }])
  }
  return yield* keyRingOf(yield* decodeKeys(tree.keys, source, origins), source)
})

const openerFor = (ring: Crypto.KeyRing) => (sealed: string) =>
  Crypto.open(ring, sealed).pipe(
    Effect.map((bytes) => new TextDecoder().decode(bytes)),
    Effect.mapError((error) => error.message),
    Effect.provide(Crypto.layerWebCrypto)
  )

/**
 * Decodes a configuration from YAML text (empty for none) and an environment.
 *
 * @since 0.1.0
 * @category loading
 */
export const parse = Effect.fnUntraced(function*(options: {
  readonly text?: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
  /** Name of the source in messages, such as the file path. */
  readonly source?: string | undefined
}): Effect.fn.Return<RelayConfigShape, ConfigError> {
  const source = options.source ?? "the environment"
  const { origins, tree } = yield* readTree(options.text, options.env, source)

  // The key ring is decoded first, because sealed values anywhere else need it.
  let opener: ((sealed: string) => Effect.Effect<string, string>) | undefined
  if (tree.keys !== undefined) {
    opener = openerFor(yield* keyRingOf(yield* decodeKeys(tree.keys, source, origins), source))
  }

  const decoded = Schema.decodeUnknownEffect(RelayConfigSchema)(tree, parseOptions)
  return yield* (opener === undefined ? decoded : Effect.provideService(decoded, Fields.SealedOpener, opener)).pipe(
    Effect.mapError((error) => invalid(source, withOrigins(toProblems(error.issue), origins)))
  )
})

/**
 * Reads the YAML file (when given) and decodes it with the environment.
 *
 * @since 0.1.0
 * @category loading
 */
export const load = Effect.fnUntraced(function*(options: {
  readonly file?: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}): Effect.fn.Return<RelayConfigShape, ConfigError, FileSystem.FileSystem> {
  if (options.file === undefined) return yield* parse({ env: options.env })
  const text = yield* readFile(options.file)
  return yield* parse({ text, env: options.env, source: options.file })
})

/**
 * Lists every secret of a configuration, for redaction by value (see `Audit`).
 *
 * @since 0.1.0
 * @category secrets
 */
export const secretsOf = (config: RelayConfigShape): ReadonlyArray<Redacted.Redacted<string>> => {
  const { auth } = config.intake
  return [
    ...(config.pagerduty.token ? [config.pagerduty.token] : []),
    ...(auth.bearer_tokens ?? []),
    ...(auth.basic ?? []).map((credential) => credential.password),
    ...(auth.jwt ? [auth.jwt.secret] : []),
    ...config.routes.map((route) => route.routing_key),
    ...(config.redis ? [config.redis.url] : []),
    ...(config.webhooks?.secrets ?? []),
    ...(config.audit?.chain_key ? [config.audit.chain_key] : []),
    ...Object.values(config.keys?.ring ?? {}).map((key) => Redacted.make(key))
  ]
}

/**
 * The loaded configuration as a service.
 *
 * @since 0.1.0
 * @category services
 */
export class RelayConfig extends Context.Service<RelayConfig, RelayConfigShape>()(
  "@effect-pagerduty/pagerduty/Config/RelayConfig"
) {}

/**
 * Provides {@link RelayConfig} from a file and an environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: {
  readonly file?: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}): Layer.Layer<RelayConfig, ConfigError, FileSystem.FileSystem> => Layer.effect(RelayConfig, load(options))

/**
 * Provides {@link RelayConfig} from a YAML file, with the process environment
 * given by the caller (the library does not read `process.env` itself).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFile = (
  file: string,
  env: Readonly<Record<string, string | undefined>>
): Layer.Layer<RelayConfig, ConfigError, FileSystem.FileSystem> => layer({ file, env })
