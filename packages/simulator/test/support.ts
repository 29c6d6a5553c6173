import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import * as Net from "node:net"

/** A 32-character routing key, the length PagerDuty requires. */
export const routingKey = "0123456789abcdef0123456789abcdef"

/** Another valid routing key, for isolation tests. */
export const otherRoutingKey = "fedcba9876543210fedcba9876543210"

/** Reads a fixture from `test/fixtures/events-v2/`. */
export const fixture = (name: string): Record<string, any> =>
  JSON.parse(readFileSync(new URL(`./fixtures/events-v2/${name}`, import.meta.url), "utf8"))

/** A fixture with its example routing key replaced by a valid one. */
export const withKey = (name: string, key = routingKey): Record<string, any> => ({ ...fixture(name), routing_key: key })

/** A minimal valid trigger. */
export const trigger = (dedupKey: string | undefined, key = routingKey, summary = "CPU high on db-1") => ({
  routing_key: key,
  event_action: "trigger",
  ...(dedupKey === undefined ? {} : { dedup_key: dedupKey }),
  payload: { summary, source: "db-1.example.com", severity: "critical" }
})

/** An acknowledge or resolve. */
export const action = (eventAction: "acknowledge" | "resolve", dedupKey: string, key = routingKey) => ({
  routing_key: key,
  event_action: eventAction,
  dedup_key: dedupKey
})

export interface Reply {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: any
}

const toReply = async (response: Response): Promise<Reply> => {
  const text = await response.text()
  let json: unknown = undefined
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, headers: response.headers, text, json }
}

/** Sends a request with fetch and reads the whole response. */
export const request = (url: string, init: RequestInit = {}): Effect.Effect<Reply> =>
  Effect.promise(() => fetch(url, init).then(toReply))

/** POSTs `body`, serialised as JSON unless it is a string. */
export const post = (url: string, body: unknown, headers: Record<string, string> = {}): Effect.Effect<Reply> =>
  request(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })

/** How a raw connection ended. */
export interface SocketEnd {
  readonly received: string
  readonly error: string | undefined
}

/**
 * Sends a raw HTTP/1.1 POST over a fresh TCP connection and reports what came
 * back before the connection ended, and the socket error code if any.
 */
export const rawPost = (url: string, path: string, body: string): Effect.Effect<SocketEnd> =>
  Effect.callback<SocketEnd>((resume) => {
    const { hostname, port } = new URL(url)
    const socket = Net.connect({ host: hostname, port: Number(port) })
    let received = ""
    let error: string | undefined = undefined
    socket.setEncoding("utf8")
    socket.on("data", (chunk: string) => {
      received += chunk
    })
    socket.on("error", (cause: NodeJS.ErrnoException) => {
      error = cause.code ?? cause.message
    })
    socket.on("close", () => resume(Effect.succeed({ received, error })))
    socket.write(
      `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
    )
  })
