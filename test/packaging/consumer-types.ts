// Type-checked by test/packaging.test.ts in a fresh project where the packed
// packages are installed, so it compiles against their declaration files. In
// this workspace `pnpm check` compiles it against the sources.
import * as EventsClient from "@effect-pagerduty/pagerduty/EventsClient"
import * as EventsV2 from "@effect-pagerduty/pagerduty/EventsV2"
import { IoRedis } from "@effect-pagerduty/redis"
import * as Serve from "@effect-pagerduty/relay/Serve"
import { Simulator } from "@effect-pagerduty/simulator"

export const maxSummaryLength: number = EventsV2.maxSummaryLength
export const eventsClientLayer: typeof EventsClient.layer = EventsClient.layer
export const startSimulator: typeof Simulator.start = Simulator.start
export const redisLayer: typeof IoRedis.layer = IoRedis.layer
export const runRelay: typeof Serve.run = Serve.run

// `EventsV2Error` comes from a declaration file under `internal/`. If that
// import did not resolve, the type would be `any` and this line would compile.
// @ts-expect-error a string is not an EventsV2Error
export const notAnError: EventsV2.EventsV2Error = "invalid"

// @ts-expect-error modules under internal/ are not exported
export const hidden = import("@effect-pagerduty/pagerduty/internal/prepare")
