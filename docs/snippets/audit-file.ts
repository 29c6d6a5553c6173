// Writes three keyed audit records to a JSON Lines file.
// Run with: AUDIT_CHAIN_KEY=<32+ characters> node docs/snippets/audit-file.ts /tmp/audit.jsonl
import * as Audit from "@effect-pagerduty/pagerduty/Audit"
import { NodeFileSystem, NodeRuntime } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import { Digest, Mac, SecureRandom } from "effect/crypto"

const path = process.argv[2] ?? "audit.jsonl"
const chainKey = Redacted.make(process.env["AUDIT_CHAIN_KEY"] ?? "")
const routingKey = Redacted.make("R0000000000000000000000000000002")

const program = Effect.gen(function*() {
  const sink = yield* Audit.fileSink({ path, chainKey })
  // Every value of `secrets` is replaced wherever it occurs in a record.
  const audit = yield* Audit.make({ sinks: [sink], secrets: [routingKey] })
  for (const i of [1, 2, 3]) {
    yield* audit.log({
      actor: "relay",
      action: "event.sent",
      target: "route:platform",
      outcome: "success",
      details: { attempt: i, note: `sent with ${Redacted.value(routingKey)}` }
    })
  }
})

const Live = Layer.mergeAll(NodeFileSystem.layer, Digest.layerWebCrypto, Mac.layerWebCrypto).pipe(
  Layer.provideMerge(SecureRandom.layerWebCrypto)
)

NodeRuntime.runMain(Effect.provide(Effect.scoped(program), Live))
