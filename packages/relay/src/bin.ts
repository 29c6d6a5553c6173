#!/usr/bin/env node
/**
 * The `pd-relay` command line.
 *
 * @since 0.1.0
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import * as AuditCommand from "./commands/audit.ts"
import * as ConfigCommand from "./commands/config.ts"
import * as OutboxCommand from "./commands/outbox.ts"
import * as SecretCommand from "./commands/secret.ts"
import * as SendCommand from "./commands/send.ts"
import * as ServeCommand from "./commands/serve.ts"
import * as WebhookCommand from "./commands/webhook.ts"

/**
 * The root command with every subcommand.
 *
 * @since 0.1.0
 * @category commands
 */
export const root = Command.make("pd-relay").pipe(
  Command.withDescription("Relay alerts from Alertmanager, Grafana and other sources to PagerDuty without losing one"),
  Command.withSubcommands([
    ServeCommand.command,
    SendCommand.command,
    OutboxCommand.command,
    WebhookCommand.command,
    AuditCommand.command,
    ConfigCommand.command,
    SecretCommand.command
  ])
)

/**
 * Runs the command line with the given arguments.
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(root, { version: "0.1.0" })

if (import.meta.main) {
  run.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain)
}
