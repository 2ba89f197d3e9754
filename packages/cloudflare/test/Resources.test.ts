import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Connector, Drift, Scope, Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { CloudflareConnector, Plans } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const { snapshotOf } = SimHttp

describe("Canonical records", () => {
  it.effect("volatile fields (version, last_updated, modified_on) never show as drift; a real change does", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const token = sim.tokens["account"]!
      const before = (yield* snapshotOf(sim, token)).snapshot
      const io = sim.state.zones.find((z) => z.name === "redpine.io")!
      const custom = sim.state.rulesets.find((rs) => rs.owner.kind === "zone" && rs.owner.zoneId === io.id && rs.phase === "http_request_firewall_custom")!
      custom.version = String(Number(custom.version) + 1)
      custom.last_updated = "2026-11-01T00:00:00.000Z"
      for (const rule of custom.rules) {
        rule.version = String(Number(rule.version) + 1)
        rule.last_updated = "2026-11-01T00:00:00.000Z"
      }
      for (const record of sim.state.dnsRecords.get(io.id)!) record.modified_on = "2026-11-01T00:00:00.000Z"
      io.modified_on = "2026-11-01T00:00:00.000Z"
      const volatile = Connector.volatileFields(CloudflareConnector.connector)
      const quiet = Drift.diff(before, (yield* snapshotOf(sim, token)).snapshot, { volatile })
      assert.isTrue(quiet.isEmpty, JSON.stringify(quiet.changes.map((c) => c.key)))

      const admin = custom.rules.find((r) => r.expression?.includes("/admin"))!
      admin.expression = '(http.request.uri.path contains "/admin")'
      const report = Drift.diff(before, (yield* snapshotOf(sim, token)).snapshot, { volatile })
      assert.deepStrictEqual(
        report.changes.map((c) => [c._tag, c.resource, c._tag === "changed" ? c.fields.map((f) => f.path) : []]),
        [["changed", "waf_custom_rules", ["/expression"]]]
      )
    })
  )

  it.effect("the legacy rate limits are read where the endpoint still answers", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
      const { snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!, { resources: ["legacy_rate_limits"] })
      const dev = snapshot.results.find((r) => r.resource === "legacy_rate_limits" && r.scope.name === "redpine.dev")!
      assert.strictEqual(dev.status._tag, "ok")
      assert.isAbove(Snapshot.recordsOf(snapshot, "legacy_rate_limits").length, 0)
    })
  )

  it.effect("an unprefixed account-owned token with a configured account is verified and read", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const owned = sim.state.tokens.find((t) => t.name === "accountOwned")!
      const legacyValue = "L".repeat(40)
      sim.state.tokens.push({ ...owned, name: "legacyOwned", id: "d".repeat(32), value: legacyValue })
      const accountId = sim.state.accounts[0]!.id
      const fake = SimHttp.make(sim)
      const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, legacyValue, { accountId }))
      const verification = yield* connector.verify
      assert.strictEqual(verification.status, "active")
      const snapshot = yield* connector.snapshot({ resources: ["zones"] })
      assert.strictEqual(snapshot.results.find((r) => r.resource === "accounts")?.status._tag, "ok")
      assert.strictEqual(Snapshot.recordsOf(snapshot, "zones").length, 2)
    })
  )
})

describe("Plans", () => {
  const zone = (plan: string) => new Scope.Scope({ kind: "zone", id: "z", name: "example.com", attributes: { plan } })
  it("gates on the zone plan, letting unknown plans through", () => {
    const enterprise = Plans.requires("enterprise", "Sensitive Data Detection")
    assert.deepStrictEqual(enterprise(zone("free")), {
      _tag: "Unavailable",
      reason: "plan",
      detail: "Sensitive Data Detection needs the Enterprise plan or higher; this zone is on Free"
    })
    assert.strictEqual(enterprise(zone("business"))._tag, "Unavailable")
    assert.strictEqual(enterprise(zone("enterprise"))._tag, "Available")
    assert.strictEqual(enterprise(zone("partners_enterprise"))._tag, "Available")
    assert.strictEqual(Plans.requires("pro", "x")(zone("pro"))._tag, "Available")
  })
})
