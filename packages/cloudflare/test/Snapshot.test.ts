import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Json, Snapshot } from "@plumbline/core"
import { Duration, Effect } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { CloudflareConnector } from "../src/index.js"
import { minimumRequests } from "./fixtures/MinimumRequests.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const { snapshotOf } = SimHttp

const GOLDEN = fileURLToPath(new URL("./golden/redpine.snapshot.json", import.meta.url))

const records = (snapshot: Snapshot.Snapshot, resource: string, zone?: string) =>
  Snapshot.recordsOf(snapshot, resource)
    .filter((r) => zone === undefined || r.scope.name === zone)
    .map((r) => r.record.value as { readonly [key: string]: Json.Json })

const statusOf = (snapshot: Snapshot.Snapshot, resource: string, scopeName: string) =>
  snapshot.results.find((r) => r.resource === resource && r.scope.name === scopeName)?.status

/** The snapshot as the golden file holds it: canonical JSON, the package version left out. */
const goldenText = (snapshot: Snapshot.Snapshot) => {
  const value = JSON.parse(Snapshot.toJson(snapshot)) as { connector: { version: string } }
  value.connector.version = "<version>"
  return `${Json.stringify(value, 2)}\n`
}

describe("Snapshot of redpine", () => {
  it.effect("matches the reviewed golden file", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!)
      const text = goldenText(snapshot)
      // Regenerate only on purpose: `pnpm golden` (scripts/update-golden.mjs) sets the flag.
      if (process.env["PLUMBLINE_UPDATE_GOLDEN"] === "1" || !existsSync(GOLDEN)) {
        if (process.env["CI"] !== undefined && process.env["PLUMBLINE_UPDATE_GOLDEN"] !== "1") assert.fail("golden file missing in CI")
        writeFileSync(GOLDEN, text)
      }
      assert.strictEqual(text, readFileSync(GOLDEN, "utf8"))
    })
  )

  it.effect("reads the protection entry points the rulesets listing leaves out", () =>
    Effect.gen(function* () {
      const protection = ["http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit"]
      const clean = Simulator.make({ scenario: "redpine", rateLimit: false })
      const hidden = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/rulesets", effect: { kind: "unlisted", phases: protection } }] }
      })
      const expected = (yield* snapshotOf(clean, clean.tokens["account"]!)).snapshot
      const { snapshot } = yield* snapshotOf(hidden, hidden.tokens["account"]!)
      for (const resource of ["waf_custom_rules", "managed_rulesets", "rate_limit_rules"]) {
        assert.isAbove(records(expected, resource, "redpine.io").length, 0, resource)
        assert.deepStrictEqual(records(snapshot, resource), records(expected, resource), resource)
      }
      assert.strictEqual(statusOf(snapshot, "rate_limit_rules", "redpine.io")?._tag, "ok")
    })
  )

  it.effect("tells the redpine story", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!)
      assert.strictEqual(snapshot.outcome, "complete")
      // WAF custom rules, one guarding /admin and one blocking the bad_actors list.
      const waf = records(snapshot, "waf_custom_rules", "redpine.io")
      assert.isTrue(waf.some((r) => String(r["expression"]).includes("/admin") && r["action"] === "block"))
      assert.isTrue(waf.some((r) => String(r["expression"]).includes("$bad_actors") && r["action"] === "block"))
      assert.isTrue(records(snapshot, "ip_list_items").some((i) => i["list_name"] === "bad_actors"))
      // The Cloudflare Managed Ruleset is deployed on the Pro zone.
      const managed = records(snapshot, "managed_rulesets", "redpine.io")
      assert.isTrue(managed.some((r) => r["action"] === "execute" && (r["executes"] as { id: string }).id === "efb7b8c949ac4650a09736fc376e9aee"))
      // Rate limiting exists, but nothing covers POST /login.
      const rl = records(snapshot, "rate_limit_rules", "redpine.io")
      assert.isAbove(rl.length, 0)
      assert.isTrue(rl.every((r) => r["ratelimit"] !== undefined))
      assert.isFalse(rl.some((r) => String(r["expression"]).includes("/login")))
      // SPF present, DMARC absent.
      const dns = records(snapshot, "dns_records", "redpine.io")
      assert.isTrue(dns.some((r) => r["type"] === "TXT" && String(r["content"]).includes("v=spf1")))
      assert.isFalse(dns.some((r) => String(r["name"]).startsWith("_dmarc.")))
      // Strict TLS on the Pro zone.
      const ssl = records(snapshot, "zone_settings", "redpine.io").find((s) => s["id"] === "ssl")
      assert.strictEqual(ssl?.["value"], "strict")
      // The Free zone: plan-gated resources skipped with the reason, its rate limiting phase empty.
      const gated = statusOf(snapshot, "sensitive_data_rules", "redpine.dev")
      assert.strictEqual(gated?._tag, "skipped")
      assert.strictEqual(gated?._tag === "skipped" ? gated.reason : undefined, "plan")
      const freeManaged = records(snapshot, "managed_rulesets", "redpine.dev")
      assert.deepStrictEqual(freeManaged.map((r) => (r["executes"] as { id: string }).id), ["77454fe2d30c4220b5701f6fdfb893ba"])
      assert.strictEqual(statusOf(snapshot, "rate_limit_rules", "redpine.dev")?._tag, "ok")
      assert.strictEqual(records(snapshot, "rate_limit_rules", "redpine.dev").length, 0)
      const zones = records(snapshot, "zones")
      assert.deepStrictEqual(zones.map((z) => [z["name"], z["plan"]]).sort(), [["redpine.dev", "free"], ["redpine.io", "pro"]])
      // The legacy rate limits are retired: skipped (feature), not failed.
      const legacy = statusOf(snapshot, "legacy_rate_limits", "redpine.dev")
      assert.strictEqual(legacy?._tag === "skipped" ? legacy.reason : legacy?._tag, "feature")
      // Every resource was read or deliberately skipped; nothing failed or was forbidden.
      assert.deepStrictEqual(snapshot.results.filter((r) => r.status._tag === "failed" || r.status._tag === "forbidden").map((r) => r.key), [])
      for (const resource of CloudflareConnector.resources) {
        assert.isTrue(snapshot.results.some((r) => r.resource === resource.name), `no result for ${resource.name}`)
      }
    })
  )

  it.effect("two runs give byte-identical content", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const a = yield* snapshotOf(sim, sim.tokens["account"]!)
      const b = yield* snapshotOf(sim, sim.tokens["account"]!, { concurrency: 1 })
      assert.strictEqual(Snapshot.contentHash(a.snapshot), Snapshot.contentHash(b.snapshot))
    })
  )

  it.effect("selects zones by name", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!, { zones: ["redpine.io"] })
      const zoneScopes = new Set(snapshot.results.filter((r) => r.scope.kind === "zone").map((r) => r.scope.name))
      assert.deepStrictEqual([...zoneScopes], ["redpine.io"])
    })
  )
})

describe("Request economy", () => {
  it.effect("redpine costs exactly the minimum number of requests", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { requests, snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!)
      const minimum = minimumRequests(sim.state)
      assert.strictEqual(minimum.total, 38, JSON.stringify(minimum.breakdown))
      assert.strictEqual(snapshot.requestCount, minimum.total)
      assert.strictEqual(requests.length, minimum.total)
      // No request repeated: shared reads (the ruleset listing, the lists) went out once.
      const urls = requests.map((r) => r.url.toString())
      assert.strictEqual(new Set(urls).size, urls.length)
    })
  )

  it.effect("stays inside the per-token budget: no 429 when the budget matches Cloudflare's limit", () =>
    Effect.gen(function* () {
      const clock = { now: 1_800_000_000_000 }
      const sim = Simulator.make({ scenario: "redpine", rateLimit: { limit: 10, windowMs: 300_000 }, now: () => clock.now })
      const fake = SimHttp.make(sim)
      const connector = yield* Effect.provide(
        CloudflareConnector.CloudflareConnector,
        SimHttp.connectorLayer(fake, sim.tokens["account"]!, { budget: { limit: 10, window: Duration.minutes(5), margin: Duration.seconds(1) } })
      )
      const snapshot = yield* SimHttp.drive(connector.snapshot(), clock, 20_000)
      assert.strictEqual(snapshot?.outcome, "complete")
      assert.strictEqual(fake.requests.filter((r) => r.status === 429).length, 0)
      assert.strictEqual(fake.requests.length, 38)
    })
  )

  it.effect("a generated scenario costs exactly the minimum number of requests", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: { seed: 7, accounts: 2, zonesPerAccount: 51, recordsPerZone: 8, rulesPerPhase: 2, ruleCoverage: 0.9 },
        rateLimit: false
      })
      const { requests, snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!, {}, {
        budget: { limit: 100_000, window: Duration.minutes(5) },
        // Under the TestClock no budget may wait: the per-client-IP one is off too.
        clientIpBudget: false
      })
      const minimum = minimumRequests(sim.state)
      assert.strictEqual(snapshot.outcome, "complete")
      assert.strictEqual(snapshot.results.filter((r) => r.status._tag === "failed").length, 0)
      assert.strictEqual(snapshot.requestCount, minimum.total, JSON.stringify(minimum.breakdown))
      assert.strictEqual(requests.length, minimum.total)
      // 51 zones per account take two pages of 50.
      assert.strictEqual(requests.filter((r) => r.url.pathname.endsWith("/zones")).length, 4)
      // Every plan is present, so plan gates and empty entry points are both exercised.
      assert.deepStrictEqual(new Set(sim.state.zones.map((z) => z.plan.legacy_id)).size, 4)
    }),
    // Heavy: 102 zones, about 1,000 requests through the simulator; 15–30 s alone on two cores,
    // twice that when the machine is shared, so a generous explicit timeout.
    { timeout: 180_000 }
  )
})
