import { describe, expectTypeOf, it } from "@effect/vitest"
import { Context, Effect, Schema, Stream } from "effect"
import type * as Digest from "effect/crypto/Digest"
import type * as HttpServerRequest from "effect/http/HttpServerRequest"
import type * as HttpServerResponse from "effect/http/HttpServerResponse"
import type * as Alert from "../src/Alert.ts"
import type * as Cache from "../src/Cache.ts"
import type * as EventsV2 from "../src/EventsV2.ts"
import * as Outbox from "../src/Outbox.ts"
import type * as OutboxStore from "../src/OutboxStore.ts"
import * as Pipeline from "../src/Pipeline.ts"
import * as Sources from "../src/Sources.ts"

// These checks run in `tsc` (pnpm check); the test bodies only keep vitest
// from reporting an empty file.

class SendError extends Schema.TaggedError<SendError>()("SendError", { status: Schema.Number }) {}

class Courier
  extends Context.Service<Courier, { readonly offer: (_: unknown) => Effect.Effect<void> }>()("test/Courier")
{}

const send = (event: unknown): Effect.Effect<{ readonly status: "success" }, SendError, Courier> =>
  Courier.use((outbox) => Effect.as(outbox.offer(event), { status: "success" } as const))

const decodeStage = Pipeline.decode(Sources.AlertmanagerWebhook)
const transformStage = Pipeline.transform(Sources.fromAlertmanager)
const formatStage = Pipeline.format()

const relay = decodeStage.pipe(
  Pipeline.andThen(transformStage),
  Pipeline.andThen(formatStage),
  Pipeline.andThen(Pipeline.dedupe({ window: "5 minutes" })),
  Pipeline.andThen(Pipeline.deliver(send))
)

describe("Pipeline types", () => {
  it("states input, output, errors and services of each stage", () => {
    expectTypeOf(decodeStage).toEqualTypeOf<
      Pipeline.Pipeline<unknown, Sources.AlertmanagerWebhook, Pipeline.PipelineError, never>
    >()
    expectTypeOf(transformStage).toEqualTypeOf<
      Pipeline.Pipeline<Sources.AlertmanagerWebhook, Alert.AlertGroup, Sources.SourceError, never>
    >()
    expectTypeOf(formatStage.run).parameter(0).toEqualTypeOf<Alert.AlertGroup>()
  })

  it("unions errors and services of joined stages", () => {
    expectTypeOf(relay).toEqualTypeOf<
      Pipeline.Pipeline<
        unknown,
        { readonly status: "success" },
        Pipeline.PipelineError | Sources.SourceError | EventsV2.EventsV2Error | Cache.CacheError | SendError,
        Digest.Digest | Cache.Cache | Courier
      >
    >()
  })

  it("types the relay built as the module documentation shows", () => {
    const offer = (event: EventsV2.AlertEvent) =>
      Effect.flatMap(Outbox.makeItem({ route: "default", event }), Outbox.offer)
    const documented = Pipeline.decode(Sources.AlertmanagerWebhook).pipe(
      Pipeline.andThen(Pipeline.transform(Sources.fromAlertmanager)),
      Pipeline.andThen(Pipeline.filter((group: Alert.AlertGroup) => group.receiver !== "blackhole")),
      Pipeline.andThen(Pipeline.format({ defaultSeverity: "warning" })),
      Pipeline.andThen(Pipeline.dedupeWith(Pipeline.deliver(offer), { window: "5 minutes" })),
      Pipeline.audit((entry) => Effect.logDebug("relayed", entry._tag)),
      Pipeline.metrics("alertmanager")
    )
    expectTypeOf(documented).toEqualTypeOf<
      Pipeline.Pipeline<
        unknown,
        void,
        | Pipeline.PipelineError
        | Sources.SourceError
        | EventsV2.EventsV2Error
        | Cache.CacheError
        | OutboxStore.OutboxError,
        Digest.Digest | Cache.Cache | OutboxStore.OutboxStore
      >
    >()
  })

  it("rejects joining stages that do not fit", () => {
    const numbers = Pipeline.map((n: number) => n + 1)
    const strings = Pipeline.map((s: string) => s.length)

    // @ts-expect-error a number output does not fit a string input
    numbers.pipe(Pipeline.andThen(strings))

    // @ts-expect-error a decoded webhook is not an alert group
    decodeStage.pipe(Pipeline.andThen(formatStage))

    // @ts-expect-error the data-first form checks the same way
    Pipeline.andThen(numbers, strings)

    // A narrowing filter makes the join fit.
    const mixed = Pipeline.identity<number | string>()
    const onlyStrings = mixed.pipe(
      Pipeline.andThen(Pipeline.filter((value: number | string): value is string => typeof value === "string")),
      Pipeline.andThen(strings)
    )
    expectTypeOf(onlyStrings).toEqualTypeOf<Pipeline.Pipeline<number | string, number, never, never>>()
  })

  it("types run, runStream and the HTTP handler", () => {
    expectTypeOf(Pipeline.run(relay, {})).toEqualTypeOf<
      Effect.Effect<
        ReadonlyArray<{ readonly status: "success" }>,
        Pipeline.PipelineError | Sources.SourceError | EventsV2.EventsV2Error | Cache.CacheError | SendError,
        Digest.Digest | Cache.Cache | Courier
      >
    >()
    const results = Stream.make(1, 2).pipe(Pipeline.runStream(Pipeline.map((n: number) => `${n}`)))
    expectTypeOf(results).toEqualTypeOf<Stream.Stream<Pipeline.ItemResult<number, string, never>, never, never>>()
    expectTypeOf(Pipeline.toHttpHandler(relay)).toEqualTypeOf<
      Effect.Effect<
        HttpServerResponse.HttpServerResponse,
        never,
        Digest.Digest | Cache.Cache | Courier | HttpServerRequest.HttpServerRequest
      >
    >()

    // @ts-expect-error an HTTP handler needs a pipeline that accepts any JSON body
    Pipeline.toHttpHandler(Pipeline.map((n: number) => n))

    // @ts-expect-error runStream needs items of the pipeline's input type
    Stream.make("a").pipe(Pipeline.runStream(Pipeline.map((n: number) => n)))
  })

  it("keeps a policy's error and service types", () => {
    const stage = Pipeline.deliver(send)
    const withFallback = Pipeline.policy(stage, (effect) => Effect.catch(effect, () => Effect.succeed([])))
    expectTypeOf(withFallback).toEqualTypeOf<
      Pipeline.Pipeline<unknown, { readonly status: "success" }, never, Courier>
    >()
  })
})
