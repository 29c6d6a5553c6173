/**
 * Webhooks per second through WebhookReceiver's route, side by side with a
 * bare node:http server doing the same work: read the body, check the
 * HMAC-SHA256 signature, parse the JSON and de-duplicate the webhook id in
 * memory, then respond 202.
 *
 * Each server runs in its own child process on 127.0.0.1; this process sends
 * signed deliveries (the same body, a unique X-Webhook-Id each) over
 * keep-alive connections and counts 202 answers. Rows:
 *
 * - `bare-node-http`: node:http with node:crypto HMAC, `JSON.parse` and a `Set`.
 * - `effect-empty-route`: an `effect/http` route on NodeHttpServer that reads the
 *   body and answers 202, the framework's own ceiling.
 * - `effect-node-crypto`: WebhookReceiver's route with `Mac` on node:crypto
 *   (`NodeCrypto.layerMac`), memory cache and memory queue, a no-op handler.
 * - `effect-webcrypto`: the same with `Mac.layerWebCrypto`.
 *
 *   node bench/webhooks.ts [seconds per run, default 5] [connections, default 32] [rounds, default 3]
 */
import { spawn } from "node:child_process"
import { createHmac, timingSafeEqual } from "node:crypto"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"

const secret = "bench-signing-secret"
const body = fs.readFileSync(
  path.join(import.meta.dirname, "../test/fixtures/pagerduty/webhooks-v3/samples/triggered_v3.json")
)
const signature = `v1=${createHmac("sha256", secret).update(body).digest("hex")}`

const servers = {
  "effect-empty-route": async () => {
    const { serveEmptyRoute } = await import("./webhooks-receiver.ts")
    return serveEmptyRoute()
  },
  // The library's route on NodeHttpServer, with Mac on node:crypto as a Node program would provide it.
  "effect-node-crypto": async () => {
    const { serveReceiver } = await import("./webhooks-receiver.ts")
    return serveReceiver(secret, "node")
  },
  // The same route with the runtime-agnostic WebCrypto Mac.
  "effect-webcrypto": async () => {
    const { serveReceiver } = await import("./webhooks-receiver.ts")
    return serveReceiver(secret, "webcrypto")
  },
  "bare-node-http": async () => {
    const seen = new Set<string>()
    const key = Buffer.from(secret, "utf8")
    const server = http.createServer((request, response) => {
      const chunks: Array<Buffer> = []
      let size = 0
      request.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size <= 256 * 1024) chunks.push(chunk)
      })
      request.on("end", () => {
        if (size > 256 * 1024) return response.writeHead(413).end()
        const raw = Buffer.concat(chunks)
        const expected = createHmac("sha256", key).update(raw).digest()
        const header = String(request.headers["x-pagerduty-signature"] ?? "")
        let valid = false
        for (const entry of header.split(",")) {
          const trimmed = entry.trim()
          if (!trimmed.startsWith("v1=")) continue
          const given = Buffer.from(trimmed.slice(3), "hex")
          if (given.length === expected.length && timingSafeEqual(given, expected)) valid = true
        }
        if (!valid) return response.writeHead(401).end()
        try {
          JSON.parse(raw.toString("utf8"))
        } catch {
          return response.writeHead(400).end()
        }
        const id = String(request.headers["x-webhook-id"])
        if (!seen.has(id)) seen.add(id)
        response.writeHead(202).end()
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return (server.address() as AddressInfo).port
  }
} as const

type ServerName = keyof typeof servers

const serveChild = async (name: ServerName) => {
  const port = await servers[name]()
  process.send?.({ port })
}

const startChild = (name: ServerName) =>
  new Promise<{ port: number; stop: () => void }>((resolve, reject) => {
    const child = spawn(process.execPath, [import.meta.filename, "--serve", name], {
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.once("error", reject)
    child.once("message", (message: { port: number }) => resolve({ port: message.port, stop: () => child.kill() }))
  })

const load = async (port: number, seconds: number, connections: number) => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections })
  let sequence = 0
  let accepted = 0
  let other = 0
  let counting = false
  const deadline = Date.now() + (seconds + 1) * 1000
  const countFrom = Date.now() + 1000
  const one = () =>
    new Promise<void>((resolve) => {
      const request = http.request({
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/webhooks/pagerduty",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": body.length,
          "x-pagerduty-signature": signature,
          "x-webhook-id": `bench-${process.pid}-${++sequence}`
        }
      }, (response) => {
        response.resume()
        response.on("end", () => {
          if (counting) {
            if (response.statusCode === 202) accepted++
            else other++
          }
          resolve()
        })
      })
      request.on("error", () => {
        other++
        resolve()
      })
      request.end(body)
    })
  const worker = async () => {
    while (Date.now() < deadline) {
      counting = Date.now() >= countFrom
      await one()
    }
  }
  await Promise.all(Array.from({ length: connections }, worker))
  agent.destroy()
  return { perSecond: accepted / seconds, other }
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const main = async () => {
  const seconds = Number(process.argv[2] ?? 5)
  const connections = Number(process.argv[3] ?? 32)
  const rounds = Number(process.argv[4] ?? 3)
  const names = ["bare-node-http", "effect-empty-route", "effect-node-crypto", "effect-webcrypto"] as const
  const rates = new Map<ServerName, Array<number>>(names.map((name) => [name, []]))
  let other = 0

  // Rounds interleave the servers, so a change in the machine's load touches all of them alike.
  for (let round = 0; round < rounds; round++) {
    for (const name of names) {
      const child = await startChild(name)
      const result = await load(child.port, seconds, connections)
      child.stop()
      rates.get(name)!.push(result.perSecond)
      other += result.other
    }
  }

  const bare = median(rates.get("bare-node-http")!)
  process.stdout.write(
    `webhooks per second (median of ${rounds} rounds of ${seconds} s after 1 s warm-up), ` +
      `${connections} keep-alive connections, Node ${process.version}\n`
  )
  for (const name of names) {
    const rate = median(rates.get(name)!)
    const all = rates.get(name)!.map((value) => value.toFixed(0)).join(", ")
    process.stdout.write(
      `${name.padEnd(20)} ${rate.toFixed(0).padStart(8)} /s  ${
        ((rate / bare) * 100).toFixed(0).padStart(4)
      } % of bare` +
        `  (rounds: ${all})\n`
    )
  }
  if (other > 0) process.stdout.write(`${other} answers other than 202\n`)
}

if (process.argv[2] === "--serve") {
  await serveChild(process.argv[3] as ServerName)
} else {
  await main()
}
