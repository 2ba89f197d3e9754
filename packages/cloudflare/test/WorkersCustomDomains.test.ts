import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Connector, Drift, Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const { snapshotOf } = SimHttp

const domainsOf = (snapshot: Snapshot.Snapshot, zone: string) =>
  Snapshot.recordsOf(snapshot, "workers_custom_domains")
    .filter((r) => r.scope.name === zone)
    .map((r) => r.record.value)

describe("Workers Custom Domains", () => {
  it.effect("keeps each domain under the zone its zone_id names, from one listing per account", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const account = sim.state.accounts[0]!.id
      const dev = sim.state.zones.find((z) => z.name === "redpine.dev")!
      sim.state.workerDomains.get(account)!.push({
        id: "0d2c4e6a8b0c4d2e9f1a3b5c7d9e1f3a",
        cert_id: "6c1d3e5f-7a9b-4c1d-8e2f-3a4b5c6d7e8f",
        environment: "production",
        hostname: "img.redpine.dev",
        service: "redpine-og-images",
        zone_id: dev.id,
        zone_name: dev.name
      })
      const { requests, snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!)
      assert.deepStrictEqual(domainsOf(snapshot, "redpine.io"), [
        {
          id: "5d1e0a7c3b9f4e2a8c6d0b1f3e5a7c9d",
          hostname: "auth.redpine.io",
          service: "redpine-edge-auth",
          environment: "production",
          cert_id: "0b6f3c1e-2a4d-4f8b-9c7e-5d3a1f0e2b4c"
        }
      ])
      assert.deepStrictEqual(
        domainsOf(snapshot, "redpine.dev").map((d) => (d as { hostname?: string }).hostname),
        ["img.redpine.dev"]
      )
      // Two zones, one account: the listing went out once.
      assert.strictEqual(requests.filter((r) => r.url.pathname.endsWith("/workers/domains")).length, 1)
    })
  )

  it.effect("a domain moved to another Worker is drift of its zone", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const token = sim.tokens["account"]!
      const before = (yield* snapshotOf(sim, token)).snapshot
      sim.state.workerDomains.get(sim.state.accounts[0]!.id)![0]!.service = "redpine-og-images"
      const after = (yield* snapshotOf(sim, token)).snapshot
      const report = Drift.diff(before, after, { volatile: Connector.volatileFields(CloudflareConnector.connector) })
      assert.deepStrictEqual(
        report.changes.map((c) => [c._tag, c.resource, c.scope.name, c._tag === "changed" ? c.fields.map((f) => f.path) : []]),
        [["changed", "workers_custom_domains", "redpine.io", ["/service"]]]
      )
    })
  )
})
