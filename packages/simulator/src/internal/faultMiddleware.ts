import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as Effect from "effect/Effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as Http from "node:http"
import * as Faults from "../Faults.ts"

/** The prefix of the control API, whose routes are never faulted. */
export const controlPrefix = "/_sim/"

const pathOf = (url: string): string => {
  const end = url.search(/[?#]/)
  return end === -1 ? url : url.slice(0, end)
}

const respond = (fault: typeof Faults.Respond.Type): HttpServerResponse.HttpServerResponse => {
  const headers = fault.headers ?? {}
  if (fault.body === undefined) return HttpServerResponse.empty({ status: fault.status, headers })
  if (typeof fault.body === "string") {
    const hasType = Object.keys(headers).some((name) => name.toLowerCase() === "content-type")
    return HttpServerResponse.text(fault.body, {
      status: fault.status,
      headers,
      ...(hasType ? {} : { contentType: "text/plain" })
    })
  }
  return HttpServerResponse.jsonUnsafe(fault.body, { status: fault.status, headers })
}

// Destroys the socket under the request. Global middleware runs uninterruptibly, so the request
// still ends with a response value, which Node discards because the socket is gone.
const disconnect = (request: HttpServerRequest.HttpServerRequest, mode: "close" | "reset") =>
  Effect.sync(() => {
    const socket = (NodeHttpServerRequest.toIncomingMessage(request) as Http.IncomingMessage).socket
    if (mode === "reset") socket.resetAndDestroy()
    else socket.destroy()
    return HttpServerResponse.empty({ status: 500 })
  })

/**
 * Global router middleware that gets the fault for each request outside the
 * control API from {@link Faults.Faults} and applies it.
 */
export const layer = HttpRouter.middleware(
  Effect.gen(function*() {
    const faults = yield* Faults.Faults
    return (app) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const path = pathOf(request.url)
        if (path.startsWith(controlPrefix)) return yield* app
        const fault = yield* faults.next(request.method, path)
        switch (fault._tag) {
          case "PassThrough":
            return yield* app
          case "Delay":
            yield* Effect.sleep(fault.millis)
            return yield* app
          case "Respond":
            if (fault.delayMillis !== undefined) yield* Effect.sleep(fault.delayMillis)
            return respond(fault)
          case "Disconnect":
            if (fault.delayMillis !== undefined) yield* Effect.sleep(fault.delayMillis)
            return yield* disconnect(request, fault.mode ?? "reset")
        }
      })
  }),
  { global: true }
)
