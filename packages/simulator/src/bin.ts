#!/usr/bin/env node
/**
 * The `pd-simulator` command: serves the PagerDuty simulator until SIGINT or
 * SIGTERM.
 *
 * ```sh
 * pnpm pd-simulator --port 8080 --events-per-minute 600
 * ```
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Command, Flag } from "effect/cli"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as RestApi from "./RestApi.ts"
import * as Simulator from "./Simulator.ts"

const command = Command.make(
  "pd-simulator",
  {
    port: Flag.Int("port").pipe(
      Flag.withDescription("TCP port to listen on; 0 (the default) picks a free port"),
      Flag.withDefault(0)
    ),
    host: Flag.String("host").pipe(
      Flag.withDescription("address to listen on (default 127.0.0.1)"),
      Flag.withDefault("127.0.0.1")
    ),
    eventsPerMinute: Flag.Int("events-per-minute").pipe(
      Flag.withDescription(
        "Events API events allowed per routing key in any 60-second window (default 120, as PagerDuty documents); 0 disables the limit"
      ),
      Flag.withDefault(120)
    ),
    retryAfter: Flag.Boolean("retry-after").pipe(
      Flag.withDescription("add a Retry-After header (seconds) to 429 responses, which PagerDuty does not document"),
      Flag.withDefault(false)
    )
  },
  Effect.fnUntraced(function*({ eventsPerMinute, host, port, retryAfter }) {
    if (eventsPerMinute < 0) {
      return yield* Effect.die(new RangeError(`--events-per-minute must be 0 or more, got ${eventsPerMinute}`))
    }
    const simulator = yield* Simulator.start({
      host,
      port,
      rateLimit: eventsPerMinute === 0 ? false : { limit: eventsPerMinute, windowMillis: 60_000, retryAfter },
      routes: [RestApi.layer()]
    })
    yield* Console.log(`PagerDuty simulator listening on ${simulator.url}`)
    yield* Console.log(`Events API: ${simulator.url}/v2/enqueue, control API: ${simulator.url}/_sim/`)
    yield* Console.log(`REST API: ${simulator.url}/incidents, /services, /users, ... (seeded data)`)
    return yield* Effect.never
  }, Effect.scoped)
).pipe(
  Command.withDescription(
    "Serve a PagerDuty simulator (Events API v2 and a REST API v2 subset) with fault injection and a control API under /_sim/"
  )
)

if (import.meta.main) {
  command.pipe(
    Command.run({ version: "0.1.0" }),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
}
