import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpClient } from "effect/http"
import * as RestApi from "../src/RestApi.ts"
import * as Simulator from "../src/Simulator.ts"

describe("RestApi in the simulator", () => {
  it.live("serves REST next to the Events API", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.Simulator
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get(`${simulator.url}/priorities`, {
        headers: { authorization: "Token token=any-token" }
      })
      expect(response.status).toBe(200)
      const body = (yield* response.json) as { priorities: ReadonlyArray<unknown> }
      expect(body.priorities.length).toBe(5)
    }).pipe(
      Effect.provide(Layer.mergeAll(Simulator.layer({ routes: [RestApi.layer()] }), NodeHttpClient.layerUndici)),
      Effect.scoped
    ))
})
