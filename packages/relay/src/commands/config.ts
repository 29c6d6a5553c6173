/**
 * `config check`: loads and validates the relay's configuration without
 * starting anything.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { CommandFailed } from "./failure.ts"

/**
 * The `--config FILE` flag shared by the relay's commands.
 *
 * @since 0.1.0
 * @category flags
 */
export const configFlag = Flag.String("config").pipe(
  Flag.withAlias("c"),
  Flag.withDescription("Path of the YAML configuration file; without it only PAGERDUTY_* variables are read"),
  Flag.optional
)

const describeSink = (sink: NonNullable<Config.RelayConfigShape["audit"]>["sinks"][number]): string => {
  switch (sink.type) {
    case "file":
      return `file ${sink.path}`
    case "redis":
      return `redis stream ${sink.stream}`
    case "stdout":
      return "stdout"
  }
}

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`

/**
 * Describes a configuration in a few lines, naming each secret's presence
 * but never its value.
 *
 * @since 0.1.0
 * @category formatting
 */
export const summarize = (config: Config.RelayConfigShape): ReadonlyArray<string> => {
  const { auth } = config.intake
  const pagerduty = config.pagerduty
  const endpoints = [
    pagerduty.region === undefined ? undefined : `region ${pagerduty.region}`,
    pagerduty.events_url === undefined ? undefined : `events ${pagerduty.events_url}`,
    pagerduty.rest_url === undefined ? undefined : `rest ${pagerduty.rest_url}`
  ].filter((part) => part !== undefined)
  const credentials = [
    auth.bearer_tokens?.length ? count(auth.bearer_tokens.length, "bearer token") : undefined,
    auth.basic?.length ? count(auth.basic.length, "basic credential") : undefined,
    auth.jwt ? "JWT (HS256)" : undefined
  ].filter((part) => part !== undefined)
  const lines = [
    `pagerduty: ${endpoints.join(", ")}; token ${pagerduty.token ? "set" : "not set"}`,
    `server: ${config.server.host}:${config.server.port}, body limit ${config.server.body_limit_bytes} bytes`,
    `intake auth: ${credentials.length > 0 ? credentials.join(", ") : "none (insecure_no_auth: true)"}`,
    `routes: ${
      config.routes.map((route) =>
        `${route.name} (${route.source ?? "events"}${route.mode ? `, ${route.mode}` : ""}${
          route.default ? ", default" : ""
        })`
      ).join(", ")
    }`,
    `policy: ${config.policy.events_per_minute} events/min, ${config.policy.rest_requests_per_minute} REST requests/min, ` +
    `breaker ${config.policy.breaker.failures} failures / ${config.policy.breaker.open_seconds} s, ` +
    `concurrency ${config.policy.concurrency}`,
    `outbox: ${config.outbox.store}${config.outbox.path ? ` at ${config.outbox.path}` : ""}, ` +
    `max depth ${config.outbox.max_depth}`,
    `redis: ${config.redis ? "configured" : "not configured"}`,
    `webhooks: ${
      config.webhooks ? `${config.webhooks.path}, ${count(config.webhooks.secrets.length, "signing secret")}` : "off"
    }`,
    `audit: ${config.audit && config.audit.sinks.length > 0 ? config.audit.sinks.map(describeSink).join(", ") : "off"}`
  ]
  if (config.keys) {
    lines.push(`keys: current ${config.keys.current}, ring ${Object.keys(config.keys.ring).join(", ")}`)
  }
  return lines
}

/**
 * Loads a configuration from a file and an environment, printing a summary
 * on success and every problem (to standard error) on failure.
 *
 * @since 0.1.0
 * @category handlers
 */
export const check = Effect.fnUntraced(function*(options: {
  readonly file: string | undefined
  readonly env: Readonly<Record<string, string | undefined>>
}) {
  const result = yield* Effect.result(Config.load(options))
  if (result._tag === "Failure") {
    yield* Console.error(result.failure.message)
    return yield* new CommandFailed({ message: result.failure.message })
  }
  yield* Console.log(`configuration from ${options.file ?? "the environment"} is valid`)
  for (const line of summarize(result.success)) yield* Console.log(`  ${line}`)
})

/**
 * `config check [--config FILE]`, exiting with status 1 when the
 * configuration is invalid.
 *
 * @since 0.1.0
 * @category commands
 */
export const checkCommand = Command.make(
  "check",
  { config: configFlag },
  ({ config }) => check({ file: Option.getOrUndefined(config), env: process.env })
).pipe(Command.withDescription("Load and validate the configuration without starting the relay"))

/**
 * The `config` command group.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("config").pipe(
  Command.withDescription("Inspect the relay's configuration"),
  Command.withSubcommands([checkCommand])
)
