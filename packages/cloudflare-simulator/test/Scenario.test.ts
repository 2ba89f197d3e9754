import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Scenario, Simulator } from "../src/index.js"
import { call } from "./Request.js"

const redpine = () => Simulator.make({ scenario: "redpine", rateLimit: false })

describe("Scenario", () => {
  it("redpine: redpine.io on Pro and a second zone on Free, in one account", () => {
    const sim = redpine()
    assert.deepStrictEqual(
      sim.state.zones.map((z) => [z.name, z.plan.legacy_id, z.account.id]),
      [
        ["redpine.io", "pro", sim.state.accounts[0]!.id],
        ["redpine.dev", "free", sim.state.accounts[0]!.id]
      ]
    )
  })

  it("redpine: active WAF custom rules incl. /admin, the Cloudflare managed ruleset, a bad-actor list used by a block rule", () => {
    const sim = redpine()
    const io = sim.state.zones[0]!
    const own = sim.state.rulesets.filter((r) => r.owner.kind === "zone" && r.owner.zoneId === io.id)
    const custom = own.find((r) => r.phase === "http_request_firewall_custom")!
    assert.isTrue(custom.rules.some((r) => r.enabled && r.action === "block" && (r.expression ?? "").includes("/admin")))
    assert.isTrue(custom.rules.some((r) => r.enabled && r.action === "block" && (r.expression ?? "").includes("$bad_actors")))
    const managed = own.find((r) => r.phase === "http_request_firewall_managed")!
    const execute = managed.rules.find((r) => r.action === "execute")!
    assert.strictEqual(execute.action_parameters?.["id"], "efb7b8c949ac4650a09736fc376e9aee")
    assert.isDefined(execute.action_parameters?.["overrides"])
    const list = sim.state.lists.get(sim.state.accounts[0]!.id)!.find((l) => l.name === "bad_actors")!
    assert.strictEqual(list.kind, "ip")
    assert.strictEqual(list.num_items, list.items.length)
    assert.deepStrictEqual(
      ["http_request_transform", "http_request_late_transform", "http_response_headers_transform", "http_request_dynamic_redirect"].map((p) => own.some((r) => r.phase === p)),
      [true, true, true, true]
    )
  })

  it("redpine: no rate limiting rule covers POST /login; SPF present, DMARC missing", () => {
    const sim = redpine()
    const io = sim.state.zones[0]!
    const rl = sim.state.rulesets.find((r) => r.owner.kind === "zone" && r.owner.zoneId === io.id && r.phase === "http_ratelimit")!
    assert.isAbove(rl.rules.length, 0)
    assert.isFalse(rl.rules.some((r) => (r.expression ?? "").includes("/login")))
    const records = sim.state.dnsRecords.get(io.id)!
    assert.isTrue(records.some((r) => r.type === "TXT" && r.name === "redpine.io" && r.content.includes("v=spf1")))
    assert.isFalse(records.some((r) => r.name.startsWith("_dmarc.")))
    const types = new Set(records.map((r) => r.type))
    for (const t of ["A", "AAAA", "CNAME", "MX", "TXT", "CAA", "SRV", "NS"]) assert.isTrue(types.has(t), t)
  })

  it("redpine: Workers, routes, page rules and the onboarding tokens", () => {
    const sim = redpine()
    const account = sim.state.accounts[0]!.id
    assert.deepStrictEqual(sim.state.workerScripts.get(account)!.map((w) => w.id), ["redpine-edge-auth", "redpine-og-images"])
    assert.strictEqual(sim.state.workerRoutes.get(sim.state.zones[0]!.id)!.length, 3)
    assert.strictEqual(sim.state.pageRules.get(sim.state.zones[0]!.id)!.length, 1)
    assert.deepStrictEqual(Object.keys(sim.tokens), ["scoped", "account", "accountOwned", "revoked", "expired", "customer"])
    const scoped = sim.state.tokens.find((t) => t.name === "scoped")!
    assert.deepStrictEqual(scoped.policies, [
      { permissionGroups: ["Zone Read", "Firewall Services Read"], resource: { kind: "zones", zoneIds: [sim.state.zones[0]!.id] } }
    ])
    assert.isTrue(sim.tokens["accountOwned"]!.startsWith("cfat_"))
    assert.isTrue(sim.tokens["scoped"]!.startsWith("cfut_"))
    assert.strictEqual(sim.state.tokens.find((t) => t.name === "revoked")!.status, "disabled")
  })

  it("is deterministic: same seed, same bytes; another seed, other ids", async () => {
    const bytes = async (sim: Simulator.Simulator) => {
      const res = await sim.handle(
        new Request(`https://api.cloudflare.com/client/v4/zones/${sim.state.zones[0]!.id}/dns_records`, { headers: { authorization: `Bearer ${sim.tokens["account"]}` } })
      )
      return res.text()
    }
    const config = { seed: 5, accounts: 1, zonesPerAccount: 3, recordsPerZone: 20 }
    assert.strictEqual(await bytes(Simulator.make({ scenario: config })), await bytes(Simulator.make({ scenario: config })))
    assert.strictEqual(await bytes(redpine()), await bytes(redpine()))
    assert.notStrictEqual(redpine().state.zones[0]!.id, Simulator.make({ scenario: "redpine", seed: 2 }).state.zones[0]!.id)
    assert.notStrictEqual(Simulator.make({ scenario: config }).state.zones[0]!.id, Simulator.make({ scenario: { ...config, seed: 6 } }).state.zones[0]!.id)
  })

  it("uses 32-character lowercase hex ids everywhere", () => {
    const sim = Simulator.make({ scenario: { seed: 9, accounts: 2, zonesPerAccount: 4, recordsPerZone: 10 } })
    const ids = [
      ...sim.state.accounts.map((a) => a.id),
      ...sim.state.zones.map((z) => z.id),
      ...[...sim.state.dnsRecords.values()].flat().map((r) => r.id),
      ...sim.state.rulesets.flatMap((r) => [r.id, ...r.rules.map((x) => x.id)]),
      ...sim.state.tokens.map((t) => t.id)
    ]
    assert.isAbove(ids.length, 100)
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/)
  })

  // Building 100,000 records takes about two seconds on an idle machine; a loaded two-core CI
  // runner may be ten times slower, hence a stated budget well above the 30 s default.
  it("large: 1,000 zones, 100,000 DNS records and rules on most zones", async () => {
    const sim = Simulator.make({ scenario: "large", rateLimit: false })
    assert.strictEqual(sim.state.zones.length, 1000)
    assert.strictEqual(sim.state.dnsRecords.size, 1000)
    const zonesWithRules = new Set(sim.state.rulesets.flatMap((r) => (r.owner.kind === "zone" ? [r.owner.zoneId] : [])))
    assert.isAbove(zonesWithRules.size, 800)
    // Records are built lazily; reading one zone through the API builds only that zone.
    const zone = sim.state.zones[500]!
    const page = await call(sim, "GET", `/zones/${zone.id}/dns_records?per_page=1`, "account")
    assert.strictEqual((page.body["result_info"] as { total_count: number }).total_count, 100)
    let total = 0
    for (const records of sim.state.dnsRecords.values()) total += records.length
    assert.strictEqual(total, 100_000)
    const zones = await call(sim, "GET", "/zones?per_page=50", "account")
    assert.deepStrictEqual(zones.body["result_info"], { page: 1, per_page: 50, count: 50, total_count: 1000, total_pages: 20 })
  }, 120_000)

  it("rejects an invalid generator config", () => {
    assert.throws(() => Scenario.buildScenario({ seed: 1, accounts: 0, zonesPerAccount: 1, recordsPerZone: 1 }), /InvalidConfig/)
  })

  it("the README lists the redpine tokens exactly", () => {
    const readme = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8")
    const documented = Object.fromEntries([...readme.matchAll(/^\| `(\w+)` \| `(cf[ua]t_[^`]+)` \|/gm)].map((m) => [m[1], m[2]]))
    assert.deepStrictEqual(documented, redpine().tokens)
  })
})
