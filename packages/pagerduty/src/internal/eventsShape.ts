// Stand-in for the EventsV2 module's types until it is merged; same names and shapes.
import { DateTime, Effect } from "effect"

export type Severity = "critical" | "error" | "warning" | "info"

const known: Record<string, Severity> = { critical: "critical", error: "error", warning: "warning", info: "info" }

export const normalizeSeverity = (input: string | null | undefined, fallback: Severity = "error"): Severity =>
  input === null || input === undefined ? fallback : known[input.trim().toLowerCase()] ?? fallback

export interface Link {
  readonly href: string
  readonly text?: string | undefined
}

export interface Image {
  readonly src: string
  readonly href?: string | undefined
  readonly alt?: string | undefined
}

export interface Payload {
  readonly summary: string
  readonly source: string
  readonly severity: Severity
  readonly timestamp?: DateTime.Utc | undefined
  readonly component?: string | undefined
  readonly group?: string | undefined
  readonly class?: string | undefined
  readonly custom_details?: { readonly [x: string]: unknown } | undefined
}

export interface Trigger {
  readonly event_action: "trigger"
  readonly dedup_key?: string | undefined
  readonly payload: Payload
  readonly links?: ReadonlyArray<Link> | undefined
  readonly images?: ReadonlyArray<Image> | undefined
  readonly client?: string | undefined
  readonly client_url?: string | undefined
}

export interface Acknowledge {
  readonly event_action: "acknowledge"
  readonly dedup_key: string
}

export interface Resolve {
  readonly event_action: "resolve"
  readonly dedup_key: string
}

export type AlertEvent = Trigger | Acknowledge | Resolve

export const prepare = (event: AlertEvent) => Effect.succeed({ event, adjustments: [] as ReadonlyArray<unknown> })
