/**
 * `serve`: runs the relay until SIGTERM or SIGINT.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Command from "effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Serve from "../Serve.ts"
import * as Telemetry from "../Telemetry.ts"
import { configFlag } from "./config.ts"
import { CommandFailed } from "./failure.ts"

/**
 * The `serve` command.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make(
  "serve",
  { config: configFlag },
  Effect.fnUntraced(function*({ config }) {
    const loaded = yield* Config.load({ file: Option.getOrUndefined(config), env: process.env }).pipe(
      Effect.catchTag(
        "ConfigError",
        (error) =>
          Effect.andThen(Console.error(error.message), Effect.fail(new CommandFailed({ message: error.message })))
      )
    )
    // OTLP export of spans and metrics, when OTEL_EXPORTER_OTLP_* variables are set.
    yield* Serve.run(loaded).pipe(Effect.provide(Telemetry.layer(process.env)))
  })
).pipe(
  Command.withDescription(
    "Run the relay: the HTTP intake for Alertmanager, Grafana and Events API v2 payloads, the outbox and its " +
      "delivery workers. Stops on SIGTERM or SIGINT after finishing deliveries in flight."
  )
)
