/**
 * `send trigger|acknowledge|resolve`: sends one Events API v2 event built
 * from flags or read from a JSON file, and prints the dedup key PagerDuty
 * returns.
 *
 * The routing key comes from a route of the configuration (`--route NAME`
 * with `--config FILE`) or from the `PAGERDUTY_ROUTING_KEY` environment
 * variable, never from an argument, where it would be kept in the shell
 * history and shown in the process list.
 *
 * @since 0.1.0
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import type * as EventsV2 from "@effect-pagerduty/pagerduty/EventsV2"
import * as Notification from "@effect-pagerduty/pagerduty/Notification"
import * as Sanitize from "@effect-pagerduty/pagerduty/Sanitize"
import { NodeHttpClient } from "@effect/platform-node"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FileSystem from "effect/FileSystem"
import * as Option from "effect/Option"
import type * as PlatformError from "effect/PlatformError"
import * as Redacted from "effect/Redacted"
import * as Stdio from "effect/Stdio"
import * as Stream from "effect/Stream"
import { CommandFailed } from "./failure.ts"
import { type JsonEvent, parseCustomDetails, parseJsonEvent, splitUrlAndText } from "./sendInput.ts"

/**
 * The environment variable that contains the routing key when no `--route` is
 * given.
 *
 * @since 0.1.0
 * @category constants
 */
export const routingKeyVariable = "PAGERDUTY_ROUTING_KEY"

type Env = Readonly<Record<string, string | undefined>>

const fail = (message: string) => Effect.andThen(Console.error(message), Effect.fail(new CommandFailed({ message })))

const optionalString = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)

const repeated = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.atLeast(0))

const commonFlags = {
  config: Flag.String("config").pipe(
    Flag.withAlias("c"),
    Flag.withDescription(
      "Path of the relay's YAML configuration file. --route picks one of its routes, and its pagerduty section " +
        "sets the Events API URL"
    ),
    Flag.optional
  ),
  route: optionalString(
    "route",
    `Name of the route in the --config file whose routing key is used; without it the key is read from ${routingKeyVariable}`
  ),
  eventsUrl: optionalString(
    "events-url",
    "Base URL of the Events API v2, such as http://127.0.0.1:8080 (/v2/enqueue is appended); " +
      "overrides pagerduty.events_url and pagerduty.region of the --config file"
  ),
  json: optionalString(
    "json",
    "File holding the event as Events API v2 JSON without routing_key, or - for standard input; " +
      "flags given as well replace the file's fields"
  ),
  dedupKey: optionalString(
    "dedup-key",
    "dedup_key of the alert (up to 255 characters; longer keys are sent as their SHA-256)"
  ),
  timeout: Flag.Int("timeout").pipe(
    Flag.withDescription("Seconds the send may take, retries included (default 60)"),
    Flag.withDefault(60)
  )
}

const triggerFlags = {
  ...commonFlags,
  summary: optionalString("summary", "payload.summary: one line describing the problem (cut to 1024 code points)"),
  source: optionalString("source", "payload.source: the affected system, preferably a hostname or FQDN"),
  severity: Flag.Literals("severity", ["critical", "error", "warning", "info"]).pipe(
    Flag.withDescription("payload.severity of the alert"),
    Flag.optional
  ),
  timestamp: optionalString("timestamp", "payload.timestamp: when the problem began, RFC 3339 with an offset"),
  component: optionalString("component", "payload.component: the part of the source that is affected"),
  group: optionalString("group", "payload.group: a logical grouping of components"),
  eventClass: optionalString("class", "payload.class: the type of the event"),
  customDetail: repeated(
    "custom-detail",
    "payload.custom_details entry, repeatable: key=value sets a string, key:=json sets a JSON value"
  ),
  link: repeated(
    "link",
    "Link shown on the alert, repeatable: an http(s) URL, optionally followed by a space and its text"
  ),
  image: repeated(
    "image",
    "Image shown on the alert, repeatable: an https URL, optionally followed by a space and its alt text"
  ),
  client: optionalString("client", "client: name of the tool that sent the event"),
  clientUrl: optionalString("client-url", "client_url: an http(s) URL of that tool")
}

interface CommonInput {
  readonly config: Option.Option<string>
  readonly route: Option.Option<string>
  readonly eventsUrl: Option.Option<string>
  readonly json: Option.Option<string>
  readonly dedupKey: Option.Option<string>
  readonly timeout: number
}

type TriggerInput = CommonInput & {
  readonly summary: Option.Option<string>
  readonly source: Option.Option<string>
  readonly severity: Option.Option<EventsV2.Severity>
  readonly timestamp: Option.Option<string>
  readonly component: Option.Option<string>
  readonly group: Option.Option<string>
  readonly eventClass: Option.Option<string>
  readonly customDetail: ReadonlyArray<string>
  readonly link: ReadonlyArray<string>
  readonly image: ReadonlyArray<string>
  readonly client: Option.Option<string>
  readonly clientUrl: Option.Option<string>
}

// Flags that set each field, shown next to a problem with that field.
const flagOfField: Record<string, string> = {
  dedup_key: "--dedup-key",
  "payload.summary": "--summary",
  "payload.source": "--source",
  "payload.severity": "--severity",
  "payload.timestamp": "--timestamp",
  "payload.component": "--component",
  "payload.group": "--group",
  "payload.class": "--class",
  client: "--client",
  client_url: "--client-url"
}

const flagHint = (field: string): string => {
  const direct = flagOfField[field]
  if (direct !== undefined) return ` (${direct})`
  if (/^links\b/.test(field)) return " (--link)"
  if (/^images\b/.test(field)) return " (--image)"
  if (field.startsWith("payload.custom_details")) return " (--custom-detail)"
  return ""
}

const notificationFailure = (error: Notification.NotificationError) => {
  if (error.reason._tag === "TooLarge") return fail(error.message)
  const lines = error.reason.problems.map((problem) =>
    `  ${problem.field}${flagHint(problem.field)}: ${problem.value}: ${problem.problem}`
  )
  return fail(`the event is invalid:\n${lines.join("\n")}`)
}

const readInput = (file: string): Effect.Effect<string, CommandFailed, Stdio.Stdio | FileSystem.FileSystem> => {
  const read: Effect.Effect<string, PlatformError.PlatformError, Stdio.Stdio | FileSystem.FileSystem> = file === "-"
    ? Stdio.Stdio.use((stdio) => stdio.stdin.pipe(Stream.decodeText(), Stream.mkString))
    : FileSystem.FileSystem.use((fs) => fs.readFileString(file))
  return read.pipe(
    Effect.catch((error) => fail(`could not read ${file === "-" ? "standard input" : file}: ${error.message}`))
  )
}

const readJson = (common: CommonInput, action: string) =>
  Effect.gen(function*() {
    if (Option.isNone(common.json)) return {} as JsonEvent
    const file = common.json.value
    const source = file === "-" ? "standard input" : file
    const parsed = parseJsonEvent(yield* readInput(file), source, action)
    return typeof parsed === "string" ? yield* fail(parsed) : parsed
  })

interface Destination {
  readonly routingKey: Redacted.Redacted<string>
  readonly client: EventsClient.Options
}

const resolveDestination = Effect.fnUntraced(function*(common: CommonInput, env: Env) {
  const config = Option.isNone(common.config)
    ? undefined
    : yield* Config.load({ file: common.config.value, env }).pipe(Effect.catch((error) => fail(error.message)))

  let routingKey: Redacted.Redacted<string>
  if (Option.isSome(common.route)) {
    const name = common.route.value
    if (config === undefined || Option.isNone(common.config)) {
      return yield* fail("--route needs --config FILE, the configuration that defines the route")
    }
    const route = config.routes.find((candidate) => candidate.name === name)
    if (route === undefined) {
      const names = config.routes.map((candidate) => candidate.name).join(", ")
      return yield* fail(`no route named ${JSON.stringify(name)} in ${common.config.value}; routes: ${names}`)
    }
    routingKey = route.routing_key
  } else {
    const value = env[routingKeyVariable]?.trim()
    if (value === undefined || value === "") {
      return yield* fail(`no routing key: set ${routingKeyVariable} or pass --route NAME with --config FILE`)
    }
    routingKey = Redacted.make(value)
  }

  if (common.timeout <= 0) return yield* fail(`--timeout must be a number of seconds above 0, got ${common.timeout}`)
  const deadline = Duration.seconds(common.timeout)
  if (Option.isSome(common.eventsUrl)) {
    const url = common.eventsUrl.value
    if (Sanitize.httpUrl(url) === undefined) {
      return yield* fail(`--events-url must be an absolute http or https URL, got ${JSON.stringify(url)}`)
    }
    return { routingKey, client: { baseUrl: url, deadline } } satisfies Destination
  }
  const pagerduty = config?.pagerduty
  if (pagerduty?.events_url !== undefined) {
    return { routingKey, client: { baseUrl: pagerduty.events_url, deadline } } satisfies Destination
  }
  if (pagerduty?.region !== undefined) {
    return { routingKey, client: { region: pagerduty.region, deadline } } satisfies Destination
  }
  return yield* fail("no Events API URL: pass --events-url URL, or --config FILE with pagerduty.events_url or region")
})

const deliver = Effect.fnUntraced(function*(destination: Destination, event: EventsV2.AlertEvent) {
  const accepted = yield* Effect.gen(function*() {
    const client = yield* EventsClient.EventsClient
    return yield* client.send(destination.routingKey, event)
  }).pipe(
    Effect.provide(EventsClient.layer(destination.client)),
    Effect.provide(NodeHttpClient.layerUndici),
    Effect.catch((error) => fail(`the event was not accepted: ${error.message}`))
  )
  yield* Console.log(accepted.dedup_key ?? "")
})

const orElse = <A>(flag: Option.Option<A>, fallback: unknown): A | undefined =>
  Option.isSome(flag) ? flag.value : (fallback as A | undefined)

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const flagLinks = (values: ReadonlyArray<string>): Array<EventsV2.Link> =>
  values.map((value) => {
    const { text, url } = splitUrlAndText(value)
    return text === undefined ? { href: url } : { href: url, text }
  })

const flagImages = (values: ReadonlyArray<string>): Array<EventsV2.Image> =>
  values.map((value) => {
    const { text, url } = splitUrlAndText(value)
    return text === undefined ? { src: url } : { src: url, alt: text }
  })

// Values from the JSON input are passed unchecked: Notification.build checks
// every field whatever its type and reports each problem.
const triggerNotification = (input: TriggerInput, json: JsonEvent, details: Record<string, unknown>) => {
  const payload = json.payload ?? {}
  const jsonLinks: unknown = json.links ?? []
  const jsonImages: unknown = json.images ?? []
  const jsonDetails: unknown = payload.custom_details ?? {}
  return Notification.make({
    summary: orElse(input.summary, payload.summary)!,
    source: orElse(input.source, payload.source)!,
    severity: orElse(input.severity, payload.severity)!,
    dedupKey: orElse(input.dedupKey, json.dedup_key),
    timestamp: orElse(input.timestamp, payload.timestamp),
    component: orElse(input.component, payload.component),
    group: orElse(input.group, payload.group),
    class: orElse(input.eventClass, payload.class),
    client: orElse(input.client, json.client),
    clientUrl: orElse(input.clientUrl, json.client_url),
    links: (Array.isArray(jsonLinks) ? [...jsonLinks, ...flagLinks(input.link)] : jsonLinks) as Array<EventsV2.Link>,
    images: (Array.isArray(jsonImages) ? [...jsonImages, ...flagImages(input.image)] : jsonImages) as Array<
      EventsV2.Image
    >,
    customDetails: (isRecord(jsonDetails) ? { ...jsonDetails, ...details } : jsonDetails) as Record<string, unknown>
  })
}

/**
 * Sends a trigger built from flags and the optional JSON input.
 *
 * @since 0.1.0
 * @category handlers
 */
export const trigger = Effect.fnUntraced(function*(input: TriggerInput, env: Env) {
  const json = yield* readJson(input, "trigger")
  const { details, problems } = parseCustomDetails(input.customDetail)
  if (problems.length > 0) return yield* fail(problems.join("\n"))
  const event = yield* Notification.build(triggerNotification(input, json, details)).pipe(
    Effect.catch(notificationFailure)
  )
  yield* deliver(yield* resolveDestination(input, env), event)
})

/**
 * Sends an acknowledge or resolve for the dedup key of the flags or the JSON
 * input.
 *
 * @since 0.1.0
 * @category handlers
 */
export const followUp = Effect.fnUntraced(function*(action: "acknowledge" | "resolve", input: CommonInput, env: Env) {
  const json = yield* readJson(input, action)
  const dedupKey = orElse<string>(input.dedupKey, json.dedup_key)
  if (dedupKey === undefined) {
    return yield* fail(`send ${action} needs --dedup-key KEY or dedup_key in the --json input`)
  }
  const built: Effect.Effect<EventsV2.AlertEvent, Notification.NotificationError> = action === "acknowledge"
    ? Notification.acknowledge(dedupKey)
    : Notification.resolve(dedupKey)
  const event = yield* built.pipe(Effect.catch(notificationFailure))
  yield* deliver(yield* resolveDestination(input, env), event)
})

const examples = [
  {
    command:
      "PAGERDUTY_ROUTING_KEY=$(cat key.txt) pd-relay send trigger --events-url http://127.0.0.1:8080 --summary 'disk full' --source db-1 --severity critical",
    description: "Open an alert with the routing key from the environment"
  },
  {
    command: "pd-relay send resolve --config relay.yaml --route main --dedup-key db-1/disk",
    description: "Resolve it through a route of the configuration"
  }
]

/**
 * Builds the `send` command group, reading the routing key from `env`.
 *
 * @since 0.1.0
 * @category commands
 */
export const make = (env: Env) => {
  const triggerCommand = Command.make("trigger", triggerFlags, (input) => trigger(input, env)).pipe(
    Command.withDescription("Send a trigger event, opening an alert or adding to the open one with its dedup key"),
    Command.withExamples(examples)
  )
  const acknowledgeCommand = Command.make("acknowledge", commonFlags, (input) => followUp("acknowledge", input, env))
    .pipe(Command.withDescription("Send an acknowledge event for the open alert with --dedup-key"))
  const resolveCommand = Command.make("resolve", commonFlags, (input) => followUp("resolve", input, env)).pipe(
    Command.withDescription("Send a resolve event for the open alert with --dedup-key")
  )
  return Command.make("send").pipe(
    Command.withDescription(
      `Send one Events API v2 event and print the dedup key PagerDuty returns. The routing key comes from --route ` +
        `or ${routingKeyVariable}, never from an argument.`
    ),
    Command.withSubcommands([triggerCommand, acknowledgeCommand, resolveCommand])
  )
}

/**
 * The `send` command group, reading the routing key from the process
 * environment.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = make(process.env)
