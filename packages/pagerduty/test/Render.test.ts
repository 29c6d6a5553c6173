import { describe, expect, it } from "@effect/vitest"
import { DateTime, Schema } from "effect"
import * as Alert from "../src/Alert.ts"
import * as Render from "../src/Render.ts"
import * as RestResources from "../src/RestResources.ts"
import * as WebhookEvent from "../src/WebhookEvent.ts"
import { readShared } from "./fixtures.ts"

const incident: RestResources.Incident = {
  id: "PT4KHLK",
  type: "incident",
  incident_number: 1234,
  title: "The server is on fire.",
  html_url: "https://acme.pagerduty.com/incidents/PT4KHLK",
  status: "triggered",
  urgency: "high",
  service: {
    id: "PWIXJZS",
    type: "service_reference",
    summary: "My Mail Service",
    html_url: "https://acme.pagerduty.com/services/PWIXJZS"
  },
  assignments: [
    { at: null, assignee: { id: "P1", type: "user_reference", summary: "Earline Greenholt" } },
    { at: null, assignee: { id: "P2", type: "user_reference", summary: "Ada" } }
  ]
}

const hostile = "[click](https://evil.example) <script>alert(1)</script>\r\n# pwned\u202E\u0000"

const alert = (fields: Partial<ConstructorParameters<typeof Alert.Alert>[0]> = {}) =>
  new Alert.Alert({
    source: "alertmanager",
    status: "firing",
    labels: { alertname: "DiskFull", instance: "db-1" },
    annotations: {},
    fingerprint: "c0ffee",
    name: "DiskFull",
    summary: "disk 95% full",
    severity: "critical",
    links: [],
    images: [],
    details: {},
    ...fields
  })

const envelope = (name: string) => Schema.decodeUnknownSync(WebhookEvent.Envelope)(JSON.parse(readShared(name))).event

describe("Render.incidentText", () => {
  it("renders the title, link and fields", () => {
    expect(Render.incidentText(incident)).toBe(
      [
        "#1234 The server is on fire. <https://acme.pagerduty.com/incidents/PT4KHLK>",
        "Status: triggered",
        "Urgency: high",
        "Service: My Mail Service <https://acme.pagerduty.com/services/PWIXJZS>",
        "Assigned to: Earline Greenholt, Ada"
      ].join("\n")
    )
  })

  it("keeps hostile titles on one line", () => {
    const text = Render.incidentText({ id: "P1", type: "incident", title: hostile })
    expect(text).toBe("[click](https://evil.example) <script>alert(1)</script> # pwned")
  })

  it("renders text details as the body", () => {
    const text = Render.incidentText({
      id: "P1",
      type: "incident",
      title: "t",
      body: { details: "line 1\r\nline 2\u0000" }
    })
    expect(text).toBe("t\n\nline 1\nline 2")
  })
})

describe("Render.incidentMarkdown", () => {
  it("links the title and escapes text", () => {
    expect(Render.incidentMarkdown(incident)).toBe(
      [
        "**[\\#1234 The server is on fire.](https://acme.pagerduty.com/incidents/PT4KHLK)**",
        "",
        "- **Status:** triggered",
        "- **Urgency:** high",
        "- **Service:** [My Mail Service](https://acme.pagerduty.com/services/PWIXJZS)",
        "- **Assigned to:** Earline Greenholt, Ada"
      ].join("\n")
    )
  })

  it("escapes link syntax and HTML in a title", () => {
    expect(Render.incidentMarkdown({ id: "P1", type: "incident", title: hostile })).toBe(
      "**\\[click\\]\\(https\\://evil.example\\) \\<script\\>alert\\(1\\)\\</script\\> # pwned**"
    )
  })

  it("links only http and https URLs", () => {
    const markdown = Render.incidentMarkdown({
      id: "P1",
      type: "incident",
      title: "t",
      html_url: "javascript:alert(1)"
    })
    expect(markdown).toBe("**t**")
  })

  it("encodes parentheses in link destinations", () => {
    const markdown = Render.incidentMarkdown({
      id: "P1",
      type: "incident",
      title: "t",
      html_url: "https://a.example/x)[y](https://evil.example"
    })
    expect(markdown).toBe("**[t](https://a.example/x%29[y]%28https://evil.example)**")
  })

  it("quotes a hostile body line by line", () => {
    const markdown = Render.incidentMarkdown({ id: "P1", type: "incident", title: "t", body: { details: hostile } })
    expect(markdown).toBe(
      "**t**\n\n> \\[click\\]\\(https\\://evil.example\\) \\<script\\>alert\\(1\\)\\</script\\>\n> \\# pwned"
    )
  })

  it("bounds long titles by code points", () => {
    const markdown = Render.incidentMarkdown({ id: "P1", type: "incident", title: "\u{1F525}".repeat(100) }, {
      maxLineLength: 10
    })
    expect(markdown).toBe(`**${"\u{1F525}".repeat(9)}…**`)
  })
})

describe("Render options", () => {
  it("rejects a line length below 1", () => {
    expect(() => Render.incidentText(incident, { maxLineLength: 0 })).toThrow(
      "Render: option maxLineLength must be a whole number of at least 1, got 0"
    )
  })
})

describe("Render.alertText", () => {
  it("renders an alert with labels and links", () => {
    const text = Render.alertText(alert({
      generatorURL: "https://prometheus.example/graph?g0.expr=up",
      startsAt: DateTime.makeUnsafe("2026-03-01T09:00:00Z"),
      description: "only 5% left",
      links: [new Alert.Link({ href: "https://runbooks.example/disk", text: "Runbook" })]
    }))
    expect(text).toBe(
      [
        "[FIRING] DiskFull: disk 95% full <https://prometheus.example/graph?g0.expr=up>",
        "Severity: critical",
        "Started: 2026-03-01T09:00:00.000Z",
        "Fingerprint: c0ffee",
        "",
        "only 5% left",
        "",
        "Labels:",
        "- alertname=DiskFull",
        "- instance=db-1",
        "",
        "Links:",
        "- Runbook <https://runbooks.example/disk>"
      ].join("\n")
    )
  })
})

describe("Render.alertMarkdown", () => {
  it("escapes a hostile summary and label", () => {
    const markdown = Render.alertMarkdown(alert({ summary: "<img src=x onerror=alert(1)>", labels: { "a*": "[b]" } }))
    expect(markdown).toBe(
      [
        "**\\[FIRING\\] DiskFull: \\<img src=x onerror=alert\\(1\\)\\>**",
        "",
        "- **Severity:** critical",
        "- **Fingerprint:** c0ffee",
        "",
        "**Labels:**",
        "",
        "- a\\*=\\[b\\]"
      ].join("\n")
    )
  })
})

describe("Render.alertGroupText", () => {
  it("lists the alerts and counts the rest", () => {
    const group = new Alert.AlertGroup({
      source: "alertmanager",
      groupKey: "{}:{alertname=\"DiskFull\"}",
      status: "firing",
      receiver: "pagerduty",
      receiverRaw: "pagerduty",
      groupLabels: { alertname: "DiskFull" },
      commonLabels: { alertname: "DiskFull" },
      commonAnnotations: {},
      externalURL: "https://alertmanager.example",
      truncatedAlerts: 0,
      alerts: [alert(), alert({ fingerprint: "b", summary: "disk 99% full" }), alert({ status: "resolved" })]
    })
    expect(Render.alertGroupText(group, { maxAlerts: 2 })).toBe(
      [
        "[FIRING:2] DiskFull <https://alertmanager.example/>",
        "Receiver: pagerduty",
        "Firing: 2",
        "Resolved: 1",
        "",
        "Alerts:",
        "- [FIRING] DiskFull: disk 95% full",
        "- [FIRING] DiskFull: disk 99% full",
        "- … and 1 more"
      ].join("\n")
    )
    expect(Render.alertGroupMarkdown(group, { maxAlerts: 1 })).toBe(
      [
        "**[\\[FIRING:2\\] DiskFull](https://alertmanager.example/)**",
        "",
        "- **Receiver:** pagerduty",
        "- **Firing:** 2",
        "- **Resolved:** 1",
        "",
        "**Alerts:**",
        "",
        "- \\[FIRING\\] DiskFull: disk 95% full",
        "- … and 2 more"
      ].join("\n")
    )
  })
})

describe("Render.webhookEventText", () => {
  it("renders an incident event", () => {
    const event = envelope("webhooks-v3/incident.priority_updated.json")
    expect(Render.webhookEventText(event)).toBe(
      [
        "Incident priority updated: #2 A little bump in the road <https://acme.pagerduty.com/incidents/PGR0VU2>",
        "Status: triggered",
        "Urgency: high",
        "Priority: P1 <https://acme.pagerduty.com/account/incident_priorities>",
        "Service: API Service <https://acme.pagerduty.com/services/PF9KMXH>",
        "Assigned to: User 123",
        "By: Tenex Engineer <https://acme.pagerduty.com/users/PLH1HKV>",
        "Client: PagerDuty",
        "Occurred: 2020-10-02T18:45:22.169Z",
        "Event: incident.priority_updated 5ac64822-4adc-4fda-ade0-410becf0de4f"
      ].join("\n")
    )
  })

  it("renders a note with its content", () => {
    const event = envelope("webhooks-v3/samples/annotated_v3.json")
    expect(Render.webhookEventMarkdown(event)).toBe(
      [
        "**Incident annotated: [Critical: Checkout API High Latency](https://harsh0303.pagerduty.com/incidents/Q3B15VLMF3ASBD)**",
        "",
        "- **By:** [Harsh Santwani](https://harsh0303.pagerduty.com/users/PXRUEF2)",
        "- **Occurred:** 2026-04-01T02:18:59.674Z",
        "- **Event:** incident.annotated 01GI0KTE33V5QXBVIJDEVJFUNE",
        "",
        "> Running KILL on long-running queries from the reporting-service."
      ].join("\n")
    )
  })

  it("renders an unknown event type", () => {
    const event = Schema.decodeUnknownSync(WebhookEvent.Envelope)({
      event: {
        id: "E1",
        event_type: "incident.future_thing",
        resource_type: "incident",
        occurred_at: "2026-01-01T00:00:00Z",
        agent: null,
        client: null,
        data: { surprise: true }
      }
    }).event
    expect(Render.webhookEventText(event)).toBe(
      "Incident future thing\nOccurred: 2026-01-01T00:00:00Z\nEvent: incident.future_thing E1"
    )
  })
})
