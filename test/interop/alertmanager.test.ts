/**
 * Interoperability with a real Prometheus Alertmanager. One receiver sends
 * every notification four ways: as a webhook to the relay, as a webhook cut
 * to one alert by `max_alerts` to another relay route, through Alertmanager's
 * own PagerDuty notifier with `severity` templated from the `severity` label,
 * and through that notifier with its default severity. Each way uses its own
 * routing key, so the simulator's received events split into four streams by
 * routing key hash. The relay's stream must match Alertmanager's per group
 * key: dedup key, actions, summaries and severity.
 */
import * as Config from "@effect-pagerduty/pagerduty/Config"
import * as Serve from "@effect-pagerduty/relay/Serve"
import * as Simulator from "@effect-pagerduty/simulator/Simulator"
import type * as SimulatorState from "@effect-pagerduty/simulator/SimulatorState"
import { NodeServices } from "@effect/platform-node"
import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Layer, References } from "effect"
import { createHash } from "node:crypto"
import {
  type Alertmanager,
  findAlertmanager,
  installHint,
  type PostableAlert,
  startAlertmanager
} from "../support/alertmanager.ts"
import { validateRequestBody } from "../support/openapi.ts"

const spec = "test/fixtures/pagerduty/openapi/events-v2_openapiv3.json"
const token = "interop-intake-token"
const keys = {
  relay: "relayrelayrelayrelayrelayrelay01",
  templated: "amtemplatedamtemplatedamtemplat2",
  plain: "amplainamplainamplainamplainamp3",
  truncated: "truncatedtruncatedtruncatedtrun4"
} as const
type Stream = keyof typeof keys

const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex")
const streamOf = new Map<string, Stream>(Object.entries(keys).map(([stream, key]) => [sha256(key), stream as Stream]))

// Label values with spaces, `&`, `<`, accents, CJK and an astral emoji. Each
// character is its own grapheme cluster, so a cut by code points and a cut by
// grapheme clusters land on the same place.
const mixed = "Zürich & Genève <primary> 東京 🔥 "
const long = mixed.repeat(40)
// Pairs of `e` and a combining acute accent. The 1024-rune cut falls between
// the two code points of a pair (see the test of truncation below).
const combining = "e\u0301".repeat(600)

/** The posted groups by alertname. Each becomes one Alertmanager group. */
const groups = {
  disk: "DiskFull",
  unicode: "Überlast ⚡ \"Zone\" & <Nord>",
  long: "LongLabels",
  none: "NoSeverity",
  combining: "Combining"
} as const

const startsAt = new Date(Date.now() - 60_000).toISOString()
const alert = (labels: Record<string, string>): PostableAlert => ({
  labels,
  annotations: { summary: `summary of ${labels["instance"] ?? "?"}` },
  startsAt,
  generatorURL: "http://127.0.0.1:9/graph"
})

const diskAlerts = [
  alert({ alertname: groups.disk, instance: "db 1", team: "storage & <ops>", severity: "critical" }),
  alert({ alertname: groups.disk, instance: "db&2", team: "storage & <ops>", severity: "critical" })
]
const diskAdded = alert({ alertname: groups.disk, instance: "db<3>", team: "storage & <ops>", severity: "critical" })
const unicodeAlerts = ["ノード 1", "nœud 2", "Knoten 3"].map((instance) =>
  alert({ alertname: groups.unicode, instance, region: "Zürich–Genève 東京", severity: "warning" })
)
const longAlerts = [
  alert({ alertname: groups.long, instance: "a", detail: long, severity: "critical" }),
  alert({ alertname: groups.long, instance: "b", detail: long, severity: "info" })
]
// No label but alertname is common, so the summary ends in a space.
const noneAlerts = [
  alert({ alertname: groups.none, instance: "x 1", job: "batch" }),
  alert({ alertname: groups.none, instance: "x 2", job: "cron" })
]
const combiningAlerts = [
  alert({ alertname: groups.combining, instance: "c1", detail: combining, severity: "warning" }),
  alert({ alertname: groups.combining, instance: "c2", detail: combining, severity: "warning" })
]

const resolvedNow = (alerts: ReadonlyArray<PostableAlert>): Array<PostableAlert> =>
  alerts.map((posted) => ({ ...posted, endsAt: new Date(Date.now() - 1_000).toISOString() }))

const alertmanagerConfig = (relayUrl: string, simulatorUrl: string): string => `
global:
  resolve_timeout: 5m
route:
  receiver: ${JSON.stringify(receiver)}
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['team="storage & <ops>"']
      group_by: [alertname, team]
receivers:
  - name: ${JSON.stringify(receiver)}
    webhook_configs:
      - url: ${relayUrl}/alertmanager
        send_resolved: true
        http_config:
          authorization:
            credentials: ${token}
      - url: ${relayUrl}/alertmanager/truncated
        send_resolved: true
        max_alerts: 1
        http_config:
          authorization:
            credentials: ${token}
    pagerduty_configs:
      - routing_key: ${keys.templated}
        url: ${simulatorUrl}/v2/enqueue
        send_resolved: true
        severity: '{{ .CommonLabels.severity }}'
      - routing_key: ${keys.plain}
        url: ${simulatorUrl}/v2/enqueue
        send_resolved: true
`

// A receiver name that Alertmanager escapes as a regular expression and then
// as a query parameter in client_url.
const receiver = "interop.team & ops"

// Group keys as Alertmanager 0.25 writes them: the route's matchers, then the
// group labels, with values quoted as Go's %q does (JSON quoting agrees for
// the characters used here).
const groupKey = (alertname: string): string =>
  alertname === groups.disk
    ? `{}/{team="storage & <ops>"}:{alertname="${groups.disk}", team="storage & <ops>"}`
    : `{}:{alertname=${JSON.stringify(alertname)}}`

/** One received event, parsed from the simulator's raw body. */
interface Received {
  readonly stream: Stream
  readonly status: number
  // The parsed JSON of a request; the tests read the fields they compare.
  readonly body: any
}

const decoder = new TextDecoder()
const parse = (event: SimulatorState.ReceivedEvent): Received | undefined => {
  const stream = event.routingKeyHash === undefined ? undefined : streamOf.get(event.routingKeyHash)
  if (stream === undefined) return undefined
  return { stream, status: event.status, body: JSON.parse(decoder.decode(event.body)) }
}

/** Selects the events of one stream for one group, in arrival order. */
const sequence = (received: ReadonlyArray<Received>, stream: Stream, alertname: string): Array<any> => {
  const dedupKey = sha256(groupKey(alertname))
  return received.filter((event) => event.stream === stream && event.body.dedup_key === dedupKey).map((e) => e.body)
}

const actions = (events: ReadonlyArray<any>): Array<string> => events.map((event) => event.event_action)
const triggers = (events: ReadonlyArray<any>): Array<any> => events.filter((event) => event.event_action === "trigger")
const codePoints = (text: string): number => [...text].length

const quiet = Layer.mergeAll(NodeServices.layer, Layer.succeed(References.MinimumLogLevel, "None"))

const startRelay = (simulatorUrl: string) =>
  Effect.gen(function*() {
    const config = yield* Config.parse({
      env: {},
      text: [
        `pagerduty: { events_url: "${simulatorUrl}" }`,
        "server: { host: 127.0.0.1, port: 0 }",
        `intake: { auth: { bearer_tokens: ["${token}"] } }`,
        "routes:",
        `  - { name: interop, routing_key: "${keys.relay}", default: true }`,
        `  - { name: truncated, routing_key: "${keys.truncated}" }`,
        "outbox: { store: memory }"
      ].join("\n")
    })
    const listening = yield* Deferred.make<string>()
    yield* Effect.forkScoped(Serve.run(config, { onListening: (url) => Deferred.succeed(listening, url) }))
    return yield* Deferred.await(listening)
  })

/** Everything the run collected, in the simulator's arrival order. */
interface Run {
  readonly version: string
  readonly received: ReadonlyArray<Received>
}

const allAlerts = [...diskAlerts, diskAdded, ...unicodeAlerts, ...longAlerts, ...noneAlerts, ...combiningAlerts]

const expectedActions: Record<string, ReadonlyArray<string>> = {
  [groups.disk]: ["trigger", "trigger", "resolve"],
  [groups.unicode]: ["trigger", "trigger", "resolve"],
  [groups.long]: ["trigger", "resolve"],
  [groups.none]: ["trigger", "resolve"],
  [groups.combining]: ["trigger", "resolve"]
}

// Groups whose alerts share one `severity` label. For the others,
// `{{ .CommonLabels.severity }}` renders empty and the simulator rejects the
// event with 400, as PagerDuty does for a blank severity.
const sharedSeverity = [groups.disk, groups.unicode, groups.combining]

const scenario = Effect.gen(function*() {
  const simulator = yield* Simulator.start({ rateLimit: false })
  const relayUrl = yield* startRelay(simulator.url)
  const alertmanager: Alertmanager = yield* Effect.acquireRelease(
    Effect.promise(() => startAlertmanager(alertmanagerConfig(relayUrl, simulator.url))),
    (started) => Effect.promise(() => started.stop())
  )
  const post = (alerts: ReadonlyArray<PostableAlert>) => Effect.promise(() => alertmanager.postAlerts(alerts))
  const received = Effect.map(simulator.events(), (events) => events.flatMap((event) => parse(event) ?? []))

  const missing = (events: ReadonlyArray<Received>, expected: Record<string, ReadonlyArray<string>>) =>
    Object.entries(expected).some(([alertname, want]) => {
      const streams: Array<Stream> = ["relay", "plain"]
      if (sharedSeverity.includes(alertname as never)) streams.push("templated")
      return streams.some((stream) => sequence(events, stream, alertname).length < want.length)
    })

  // Waits until the relay's stream and Alertmanager's default-severity stream
  // hold the expected number of events of each group, the templated stream
  // those of the groups with a shared severity, and the truncated stream a
  // resolve of each group in `resolvedInTruncated`.
  const waitFor = (
    expected: Record<string, ReadonlyArray<string>>,
    resolvedInTruncated: ReadonlyArray<string> = []
  ) =>
    Effect.gen(function*() {
      const until = performance.now() + 15_000
      while (true) {
        const events = yield* received
        const truncatedDone = resolvedInTruncated.every((alertname) =>
          actions(sequence(events, "truncated", alertname)).includes("resolve")
        )
        if (!missing(events, expected) && truncatedDone) return
        if (performance.now() > until) {
          return yield* Effect.die(
            new Error(
              `timed out waiting for ${JSON.stringify(expected)}; the simulator received ${events.length} events. ` +
                `Alertmanager ${alertmanager.version} output (last 4000 characters):\n${
                  alertmanager.logs().slice(-4000)
                }`
            )
          )
        }
        yield* Effect.sleep("100 millis")
      }
    })

  // 1. Every group fires.
  yield* post([...diskAlerts, ...unicodeAlerts, ...longAlerts, ...noneAlerts, ...combiningAlerts])
  yield* waitFor(Object.fromEntries(Object.values(groups).map((name) => [name, ["trigger"]])))

  // 2. One group gains an alert and another loses one, so both send a second
  // trigger. The lost alert is the one Alertmanager sorts first (by instance),
  // the only one a webhook with `max_alerts: 1` carries.
  yield* post([diskAdded, ...resolvedNow(unicodeAlerts.slice(2, 3))])
  yield* waitFor({ [groups.disk]: ["trigger", "trigger"], [groups.unicode]: ["trigger", "trigger"] }, [groups.unicode])

  // 3. Everything resolves.
  yield* post(resolvedNow(allAlerts))
  yield* waitFor(expectedActions, Object.values(groups))
  // Late or repeated sends arriving within another second are compared too.
  yield* Effect.sleep("1 second")
  return { version: alertmanager.version, received: yield* received } satisfies Run
}).pipe(Effect.scoped, Effect.provide(quiet))

const binaryMissing = findAlertmanager() === undefined
// Outside CI a machine without Alertmanager skips the suite, and the suite's
// name says how to install it. Under CI the suite runs and fails with that hint.
const skip = binaryMissing && process.env["CI"] === undefined
const title = skip ? `Alertmanager interop (skipped: Alertmanager not found; ${installHint})` : "Alertmanager interop"

describe.skipIf(skip)(title, () => {
  let run: Run
  beforeAll(async () => {
    run = await Effect.runPromise(scenario)
  }, 45_000)

  const eventsOf = (stream: Stream, alertname: string) => sequence(run.received, stream, alertname)

  it("sends each group under the SHA-256 of its group key", () => {
    for (const alertname of Object.values(groups)) {
      expect(eventsOf("relay", alertname).length, alertname).toBeGreaterThan(0)
      expect(eventsOf("plain", alertname).length, alertname).toBeGreaterThan(0)
    }
    const dedupKeys = (stream: Stream) =>
      new Set(run.received.filter((e) => e.stream === stream).map((e) => e.body.dedup_key))
    expect(dedupKeys("relay")).toEqual(dedupKeys("plain"))
  })

  it("sends the same actions per group", () => {
    for (const [alertname, want] of Object.entries(expectedActions)) {
      expect(actions(eventsOf("plain", alertname)), alertname).toEqual(want)
      expect(actions(eventsOf("relay", alertname)), alertname).toEqual(want)
    }
  })

  it("has every relay event accepted", () => {
    const relay = run.received.filter((event) => event.stream === "relay" || event.stream === "truncated")
    expect(relay.map((event) => event.status)).toEqual(relay.map(() => 202))
  })

  it("sends the same trigger summaries", () => {
    for (const alertname of Object.values(groups).filter((name) => name !== groups.combining)) {
      const ours = triggers(eventsOf("relay", alertname)).map((event) => event.payload.summary)
      const theirs = triggers(eventsOf("plain", alertname)).map((event) => event.payload.summary)
      expect(ours, alertname).toEqual(theirs)
    }
  })

  it("keeps the space that ends a summary without extra labels", () => {
    const [summary] = triggers(eventsOf("relay", groups.none)).map((event) => event.payload.summary)
    expect(summary).toBe(`[FIRING:2] ${groups.none} `)
  })

  it("cuts a summary over 1024 runes as Alertmanager does", () => {
    const [ours] = triggers(eventsOf("relay", groups.long)).map((event) => event.payload.summary as string)
    const [theirs] = triggers(eventsOf("plain", groups.long)).map((event) => event.payload.summary as string)
    expect(codePoints(theirs!)).toBe(1024)
    expect(ours).toBe(theirs)
  })

  it("drops a letter whose combining mark the cut would split", () => {
    // Alertmanager cuts after 1023 runes, between `e` and its accent. The relay
    // cuts before the whole grapheme cluster, so its summary is one rune shorter.
    const [ours] = triggers(eventsOf("relay", groups.combining)).map((event) => event.payload.summary as string)
    const [theirs] = triggers(eventsOf("plain", groups.combining)).map((event) => event.payload.summary as string)
    expect(theirs!.endsWith("e…")).toBe(true)
    expect(codePoints(theirs!)).toBe(1024)
    expect(ours).toBe(`${theirs!.slice(0, -2)}…`)
  })

  it("sends the templated severity where alerts share one", () => {
    for (const alertname of sharedSeverity) {
      const ours = triggers(eventsOf("relay", alertname)).map((event) => event.payload.severity)
      const theirs = triggers(eventsOf("templated", alertname)).map((event) => event.payload.severity)
      expect(ours, alertname).toEqual(theirs)
    }
  })

  it("sends a valid severity where alerts share none", () => {
    // The highest severity label of the firing alerts, else the route's default.
    expect(triggers(eventsOf("relay", groups.long))[0]?.payload.severity).toBe("critical")
    expect(triggers(eventsOf("relay", groups.none))[0]?.payload.severity).toBe("error")
    for (const alertname of [groups.long, groups.none]) {
      const templated = eventsOf("templated", alertname)
      expect(templated.map((event) => event.payload.severity), alertname).toContain("")
    }
  })

  it("sends Alertmanager's default severity without a template", () => {
    const severities = new Set(run.received.filter((e) => e.stream === "plain").map((e) => e.body.payload.severity))
    expect([...severities]).toEqual(["error"])
  })

  it("sends the same client, source and client_url", () => {
    for (const alertname of Object.values(groups)) {
      const [ours] = triggers(eventsOf("relay", alertname))
      const [theirs] = triggers(eventsOf("plain", alertname))
      expect(ours.client, alertname).toBe(theirs.client)
      expect(ours.client_url, alertname).toBe(theirs.client_url)
      expect(ours.payload.source, alertname).toBe(theirs.payload.source)
    }
  })

  it("counts firing and resolved alerts in custom_details", () => {
    for (const alertname of Object.values(groups)) {
      const ours = triggers(eventsOf("relay", alertname))
      const theirs = triggers(eventsOf("plain", alertname))
      expect(ours.length, alertname).toBe(theirs.length)
      ours.forEach((event, index) => {
        const details = theirs[index].payload.custom_details
        // Alertmanager 0.25 sends the counts as strings, the relay as numbers.
        expect(event.payload.custom_details.num_firing, alertname).toBe(Number(details.num_firing))
        expect(event.payload.custom_details.num_resolved, alertname).toBe(Number(details.num_resolved))
        expect(event.payload.custom_details.firing.length, alertname).toBe(Number(details.num_firing))
      })
    }
  })

  it("sees only the alerts a max_alerts webhook keeps", () => {
    // Alertmanager computes status and common labels after cutting the list,
    // so the relay's event describes the kept alert. Its dedup key still matches.
    for (const alertname of Object.values(groups)) {
      const events = eventsOf("truncated", alertname)
      expect(actions(events)[0], alertname).toBe("trigger")
      expect(actions(events).at(-1), alertname).toBe("resolve")
      for (const event of triggers(events)) {
        expect(event.payload.summary.startsWith("[FIRING:1] "), alertname).toBe(true)
        expect(event.payload.custom_details.num_firing, alertname).toBe(1)
      }
    }
  })

  it("resolves early when max_alerts hides firing alerts", () => {
    // The webhook's status comes from the kept alert alone, so the relay
    // resolves while Alertmanager's notifier still sends a trigger.
    const dedupKey = sha256(groupKey(groups.unicode))
    const position = (stream: Stream, action: string) =>
      run.received.findIndex((event) =>
        event.stream === stream && event.body.dedup_key === dedupKey && event.body.event_action === action
      )
    expect(actions(eventsOf("truncated", groups.unicode))).toEqual(["trigger", "resolve"])
    expect(position("truncated", "resolve")).toBeGreaterThan(-1)
    expect(position("truncated", "resolve")).toBeLessThan(position("plain", "resolve"))
  })

  it("sends relay requests that the Events API spec accepts", () => {
    const relay = run.received.filter((event) => event.stream === "relay" || event.stream === "truncated")
    expect(relay.length).toBeGreaterThan(0)
    for (const event of relay) {
      expect(validateRequestBody({ spec, path: "/enqueue", method: "post", body: event.body }), event.body.dedup_key)
        .toEqual([])
    }
  })

  it("finds Alertmanager's requests valid except blank severities", () => {
    const alertmanager = run.received.filter((event) => event.stream === "plain" || event.stream === "templated")
    expect(alertmanager.length).toBeGreaterThan(0)
    for (const event of alertmanager) {
      const errors = validateRequestBody({ spec, path: "/enqueue", method: "post", body: event.body })
      if (event.body.payload.severity === "") {
        expect(errors.join("; "), event.body.dedup_key).toContain("/payload/severity")
        expect(event.status).toBe(400)
      } else {
        expect(errors, `${run.version} ${event.body.dedup_key}`).toEqual([])
      }
    }
  })
})
