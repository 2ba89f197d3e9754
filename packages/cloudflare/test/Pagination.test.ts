import { assert, describe, it } from "@effect/vitest"
import { Simulator, State } from "@plumbline/cloudflare-simulator"
import { Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import * as SimHttp from "./fixtures/SimHttp.js"

const hex = (n: number, salt: number) => (salt * 1_000_000 + n).toString(16).padStart(32, "0")

const countRequests = (requests: ReadonlyArray<SimHttp.Recorded>, suffix: string) => requests.filter((r) => r.url.pathname.endsWith(suffix)).length

const readOne = (sim: Simulator.Simulator, resource: string, zone?: string) =>
  SimHttp.snapshotOf(sim, sim.tokens["account"]!, { resources: [resource], ...(zone === undefined ? {} : { zones: [zone] }) })

const recordCount = (snapshot: Snapshot.Snapshot, resource: string) => {
  const results = snapshot.results.filter((r) => r.resource === resource)
  for (const r of results) assert.strictEqual(r.status._tag, "ok", r.key)
  return Snapshot.recordsOf(snapshot, resource).length
}

describe("Page boundaries", () => {
  for (const n of [0, 1, 5000, 5001]) {
    it.effect(`DNS records: ${n} records at 5,000 per page`, () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        const zone = sim.state.zones.find((z) => z.name === "redpine.dev")!
        const template = sim.state.dnsRecords.get(zone.id)![0]!
        sim.state.dnsRecords.set(
          zone.id,
          Array.from({ length: n }, (_, i): State.DnsRecord => ({ ...template, id: hex(i, 1), type: "A", name: `h${i}.redpine.dev`, content: "192.0.2.1" }))
        )
        const { requests, snapshot } = yield* readOne(sim, "dns_records", "redpine.dev")
        assert.strictEqual(recordCount(snapshot, "dns_records"), n)
        assert.strictEqual(countRequests(requests, "/dns_records"), Math.max(1, Math.ceil(n / 5000)))
      })
    )
  }

  for (const n of [0, 1, 100, 101]) {
    it.effect(`legacy firewall rules: ${n} rules at 100 per page`, () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        const zone = sim.state.zones.find((z) => z.name === "redpine.io")!
        sim.state.firewallRules.set(
          zone.id,
          Array.from({ length: n }, (_, i): State.FirewallRule => ({
            id: hex(i, 2),
            paused: false,
            description: `rule ${i}`,
            action: "block",
            priority: i,
            filter: { id: hex(i, 3), expression: `ip.src eq 192.0.2.${i % 250}`, paused: false, description: "" }
          }))
        )
        const { requests, snapshot } = yield* readOne(sim, "legacy_firewall_rules", "redpine.io")
        assert.strictEqual(recordCount(snapshot, "legacy_firewall_rules"), n)
        assert.strictEqual(countRequests(requests, "/firewall/rules"), Math.max(1, Math.ceil(n / 100)))
      })
    )
  }

  for (const n of [0, 1, 500, 501]) {
    it.effect(`list items: ${n} items at 500 per page (cursors.after)`, () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        const account = sim.state.accounts[0]!
        const lists = sim.state.lists.get(account.id)!
        const list = lists.find((l) => l.name === "bad_actors")!
        sim.state.lists.set(account.id, [list])
        list.items = Array.from({ length: n }, (_, i): State.ListItem => ({
          id: hex(i, 4),
          ip: `10.${Math.floor(i / 250)}.${i % 250}.1`,
          comment: "",
          created_on: "2025-01-06T00:00:00Z",
          modified_on: "2025-01-06T00:00:00Z"
        }))
        list.num_items = n
        const { requests, snapshot } = yield* readOne(sim, "ip_list_items")
        assert.strictEqual(recordCount(snapshot, "ip_list_items"), n)
        // An empty list costs nothing: its summary says so.
        assert.strictEqual(countRequests(requests, "/items"), n === 0 ? 0 : Math.ceil(n / 500))
      })
    )
  }

  for (const n of [50, 51]) {
    it.effect(`ruleset listing: ${n} rulesets at 50 per page (result_info.cursor)`, () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        const zone = sim.state.zones.find((z) => z.name === "redpine.io")!
        const visible = sim.state.rulesets.filter(
          (rs) => (rs.owner.kind === "zone" && rs.owner.zoneId === zone.id) || (rs.owner.kind === "managed" && State.planAtLeast(zone.plan.legacy_id, rs.minPlan ?? "free"))
        ).length
        for (let i = visible; i < n; i++) {
          sim.state.rulesets.push({
            id: hex(i, 5),
            name: `custom ${i}`,
            description: "",
            kind: "custom",
            phase: "http_request_firewall_custom",
            version: "1",
            last_updated: "2025-01-06T00:00:00Z",
            rules: [],
            owner: { kind: "zone", zoneId: zone.id }
          })
        }
        const { requests, snapshot } = yield* readOne(sim, "waf_custom_rules", "redpine.io")
        assert.strictEqual(recordCount(snapshot, "waf_custom_rules"), 4)
        assert.strictEqual(countRequests(requests, "/rulesets"), n <= 50 ? 1 : 2)
      })
    )
  }

  for (const n of [1, 50, 51]) {
    it.effect(`zones: ${n} zones at 50 per page`, () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: { seed: 11, accounts: 1, zonesPerAccount: n, recordsPerZone: 1 }, rateLimit: false })
        const { requests, snapshot } = yield* readOne(sim, "zones")
        assert.strictEqual(recordCount(snapshot, "zones"), n)
        assert.strictEqual(countRequests(requests, "/zones"), Math.ceil(n / 50))
      })
    )
  }
})

