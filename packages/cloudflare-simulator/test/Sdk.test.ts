import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import Cloudflare from "cloudflare"
import { serve, Simulator, State } from "../src/index.js"
import type { RunningServer } from "../src/Server.js"

const sim = Simulator.make({
  scenario: { seed: 77, accounts: 2, zonesPerAccount: 7, recordsPerZone: 33, rulesPerPhase: 3 },
  rateLimit: false
})
const redpine = Simulator.make({ scenario: "redpine", rateLimit: false })
let server: RunningServer
let redpineServer: RunningServer

beforeAll(async () => {
  server = await serve(sim, { port: 0 })
  redpineServer = await serve(redpine, { port: 0 })
})
afterAll(async () => {
  await server.close()
  await redpineServer.close()
})

const client = (baseURL: string, apiToken: string) => new Cloudflare({ apiToken, baseURL, maxRetries: 0 })

const sorted = (xs: Iterable<string>) => [...xs].sort()
const roundTrip = <A>(a: A): A => JSON.parse(JSON.stringify(a)) as A
const byId = <A extends { id: string }>(xs: ReadonlyArray<A>): Array<A> => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1))

describe("Sdk", () => {
  it("lists every zone through the SDK's page auto-pagination", async () => {
    const cf = client(server.baseUrl, sim.tokens["account"]!)
    const zones: Array<{ id: string }> = []
    for await (const zone of cf.zones.list({ per_page: 5 })) zones.push(zone)
    assert.strictEqual(zones.length, 14)
    assert.strictEqual(new Set(zones.map((z) => z.id)).size, zones.length)
    // Exactly what the state holds, field for field.
    assert.deepStrictEqual(byId(zones), byId(roundTrip(sim.state.zones)))
  })

  it("lists every DNS record of a zone through auto-pagination", async () => {
    const cf = client(server.baseUrl, sim.tokens["account"]!)
    for (const zone of sim.state.zones.slice(0, 3)) {
      const seen: Array<{ id: string }> = []
      for await (const r of cf.dns.records.list({ zone_id: zone.id, per_page: 7 })) seen.push(r)
      const state = sim.state.dnsRecords.get(zone.id) ?? []
      assert.strictEqual(seen.length, state.length)
      assert.deepStrictEqual(byId(seen), byId(roundTrip(state)))
    }
  })

  it("lists every ruleset of zones and accounts through cursor auto-pagination, and reads them", async () => {
    const cf = client(server.baseUrl, sim.tokens["account"]!)
    for (const zone of sim.state.zones.slice(0, 4)) {
      const listed: Array<Record<string, unknown>> = []
      for await (const rs of cf.rulesets.list({ zone_id: zone.id, per_page: 2 })) listed.push({ ...rs })
      const ids = listed.map((r) => String(r["id"]))
      const expected = sim.state.rulesets.filter(
        (rs) =>
          (rs.owner.kind === "zone" && rs.owner.zoneId === zone.id) ||
          (rs.owner.kind === "managed" && State.planAtLeast(zone.plan.legacy_id, rs.minPlan ?? "free"))
      )
      assert.deepStrictEqual(sorted(ids), sorted(expected.map((r) => r.id)))
      // Summaries carry exactly the state's fields (no rules).
      for (const rs of expected) {
        const got = listed.find((r) => r["id"] === rs.id)
        assert.deepStrictEqual(got, { id: rs.id, name: rs.name, description: rs.description, kind: rs.kind, phase: rs.phase, version: rs.version, last_updated: rs.last_updated })
      }
      const own = sim.state.rulesets.find((rs) => rs.owner.kind === "zone" && rs.owner.zoneId === zone.id)
      if (own !== undefined) {
        const got = await cf.rulesets.get(own.id, { zone_id: zone.id })
        assert.strictEqual(got.version, own.version)
        assert.deepStrictEqual(got.rules.map((r) => r.id), own.rules.map((r) => r.id))
        const entry = await cf.rulesets.phases.get(own.phase, { zone_id: zone.id })
        assert.strictEqual(entry.id, own.id)
      }
    }
    const account = sim.state.accounts[0]!
    const accountIds: Array<string> = []
    for await (const rs of cf.rulesets.list({ account_id: account.id, per_page: 3 })) accountIds.push(rs.id)
    assert.deepStrictEqual(
      sorted(accountIds),
      sorted(sim.state.rulesets.filter((rs) => rs.owner.kind === "managed" || (rs.owner.kind === "account" && rs.owner.accountId === account.id)).map((r) => r.id))
    )
  })

  it("lists and filters an account's Workers Custom Domains through the SDK's single page", async () => {
    const cf = client(redpineServer.baseUrl, redpine.tokens["account"]!)
    const account = redpine.state.accounts[0]!
    const all: Array<{ id: string }> = []
    for await (const domain of cf.workers.domains.list({ account_id: account.id })) all.push(domain)
    assert.deepStrictEqual(all, roundTrip(redpine.state.workerDomains.get(account.id)!))
    const dev = redpine.state.zones.find((z) => z.name === "redpine.dev")!
    const none: Array<unknown> = []
    for await (const domain of cf.workers.domains.list({ account_id: account.id, zone_id: dev.id })) none.push(domain)
    assert.deepStrictEqual(none, [])
  })

  it("verifies user and account-owned tokens, and surfaces 401 for a revoked one", async () => {
    const scoped = await client(redpineServer.baseUrl, redpine.tokens["scoped"]!).user.tokens.verify()
    assert.strictEqual(scoped.status, "active")
    const account = redpine.state.accounts[0]!
    const owned = await client(redpineServer.baseUrl, redpine.tokens["accountOwned"]!).accounts.tokens.verify({ account_id: account.id })
    assert.strictEqual(owned.status, "active")
    const error = await client(redpineServer.baseUrl, redpine.tokens["revoked"]!).user.tokens.verify().catch((e: unknown) => e)
    assert.instanceOf(error, Cloudflare.AuthenticationError)
  })

  it("a zone-scoped token lists only its zone and reads its firewall entry points", async () => {
    const cf = client(redpineServer.baseUrl, redpine.tokens["scoped"]!)
    const names: Array<string> = []
    for await (const zone of cf.zones.list()) names.push(zone.name)
    assert.deepStrictEqual(names, ["redpine.io"])
    const io = redpine.state.zones.find((z) => z.name === "redpine.io")!
    const rl = await cf.rulesets.phases.get("http_ratelimit", { zone_id: io.id })
    assert.strictEqual(rl.rules.length, 1)
    const dev = redpine.state.zones.find((z) => z.name === "redpine.dev")!
    const denied = await cf.zones.get({ zone_id: dev.id }).catch((e: unknown) => e)
    assert.instanceOf(denied, Cloudflare.PermissionDeniedError)
  })
})
