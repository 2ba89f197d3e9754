/**
 * Runnable example of the Effect API: the connector service from configuration
 * (`CLOUDFLARE_API_TOKEN`, `CLOUDFLARE_BASE_URL`), the app's HttpClient and request budget, against
 * the simulator started on 127.0.0.1.
 *
 *   npx tsx examples/effect-simulator.ts
 */
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { HttpPipeline, RequestBudget, Snapshot } from "@plumbline/core"
import { ConfigProvider, Effect, Layer } from "effect"
import { CloudflareConnector } from "../src/index.js"

const sim = Simulator.make({ scenario: "redpine" })
const server = await serve(sim, { port: 0 })

const program = Effect.gen(function* () {
  const cloudflare = yield* CloudflareConnector.CloudflareConnector
  const verification = yield* cloudflare.verify
  const zones = yield* cloudflare.listZones
  const snapshot = yield* cloudflare.snapshot({ zones: zones.map((z) => z.name) })
  yield* Effect.log(`token ${verification.status}; zones ${zones.map((z) => z.name).join(", ")}; ${snapshot.requestCount} requests`)
  const missingDmarc = !Snapshot.recordsOf(snapshot, "dns_records").some((r) => String((r.record.value as { name?: string }).name).startsWith("_dmarc."))
  yield* Effect.log(`DMARC record missing: ${missingDmarc}`)
})

const config = ConfigProvider.fromMap(
  new Map([
    ["CLOUDFLARE_API_TOKEN", sim.tokens["account"]!],
    ["CLOUDFLARE_BASE_URL", server.baseUrl]
  ])
)

await program.pipe(
  Effect.provide(CloudflareConnector.layerConfig()),
  Effect.provide(Layer.merge(HttpPipeline.layerFetch, RequestBudget.layer)),
  Effect.withConfigProvider(config),
  Effect.runPromise
)
await server.close()
