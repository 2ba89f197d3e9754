import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "../src/index.js"
import { call, code } from "./Request.js"

const make = () => Simulator.make({ scenario: "redpine", rateLimit: false })
const zoneId = (sim: Simulator.Simulator, name: string) => sim.state.zones.find((z) => z.name === name)!.id

describe("Api", () => {
  it("wraps results in the v4 envelope with page-based result_info", async () => {
    const sim = make()
    const a = await call(sim, "GET", "/zones?per_page=5")
    assert.strictEqual(a.status, 200)
    assert.strictEqual(a.body["success"], true)
    assert.deepStrictEqual(a.body["errors"], [])
    assert.deepStrictEqual(a.body["messages"], [])
    assert.deepStrictEqual(a.body["result_info"], { page: 1, per_page: 5, count: 2, total_count: 2, total_pages: 1 })
    const beyond = await call(sim, "GET", "/zones?per_page=5&page=2")
    assert.deepStrictEqual(beyond.body["result"], [])
    assert.strictEqual((beyond.body["result_info"] as { count: number }).count, 0)
  })

  it("lists an account without zones as an empty page, as Cloudflare does", async () => {
    const sim = make()
    const account = sim.state.zones[0]!.account.id
    sim.state.zones = sim.state.zones.filter((z) => z.account.id !== account)
    const empty = await call(sim, "GET", `/zones?account.id=${account}`, "account")
    assert.strictEqual(empty.status, 200)
    assert.deepStrictEqual(empty.body["result"], [])
  })

  it("answers 401 / 1000 for unknown, revoked and expired tokens", async () => {
    const sim = make()
    for (const token of ["cfut_nope", "revoked", "expired"]) {
      const a = await call(sim, "GET", "/zones", token)
      assert.strictEqual(a.status, 401, token)
      assert.strictEqual(code(a), 1000)
      assert.strictEqual(a.body["success"], false)
      assert.isNull(a.body["result"])
    }
  })

  it("answers 400 for missing or malformed credentials", async () => {
    const sim = make()
    assert.strictEqual(code(await call(sim, "GET", "/zones", null)), 9106)
    const res = await sim.handle(new Request("https://api.cloudflare.com/client/v4/zones", { headers: { authorization: "Token abc" } }))
    assert.strictEqual(res.status, 400)
    assert.strictEqual(((await res.json()) as { errors: Array<{ code: number }> }).errors[0]?.code, 6003)
  })

  it("answers 403 / 10000 for a missing permission group and for a zone outside the token", async () => {
    const sim = make()
    const io = zoneId(sim, "redpine.io")
    const dev = zoneId(sim, "redpine.dev")
    const forbidden = [
      `/zones/${dev}`,
      `/zones/${io}/dns_records`,
      `/zones/${io}/dnssec`,
      `/zones/${io}/settings`,
      `/zones/${io}/workers/routes`,
      `/zones/${io}/rulesets/phases/http_request_transform/entrypoint`,
      `/accounts/${sim.state.accounts[0]!.id}/rulesets`,
      `/accounts/${sim.state.accounts[0]!.id}/workers/scripts`,
      "/user/tokens/permission_groups"
    ]
    for (const path of forbidden) {
      const a = await call(sim, "GET", path, "scoped")
      assert.strictEqual(a.status, 403, path)
      assert.strictEqual(code(a), 10000, path)
    }
    const allowed = [
      `/zones/${io}`,
      `/zones/${io}/firewall/rules`,
      `/zones/${io}/firewall/access_rules/rules`,
      `/zones/${io}/pagerules`,
      `/zones/${io}/rulesets`,
      `/zones/${io}/rulesets/phases/http_request_firewall_custom/entrypoint`,
      `/zones/${io}/rulesets/phases/http_ratelimit/entrypoint`,
      "/user/tokens/verify"
    ]
    for (const path of allowed) assert.strictEqual((await call(sim, "GET", path, "scoped")).status, 200, path)
  })

  it("answers 404 / 7003 for unknown ids and 404 / 7000 for unknown routes", async () => {
    const sim = make()
    const io = zoneId(sim, "redpine.io")
    for (const path of ["/zones/0123456789abcdef0123456789abcdef", `/zones/${io}/dns_records/0123456789abcdef0123456789abcdef`, `/zones/${io}/rulesets/0123456789abcdef0123456789abcdef`]) {
      const a = await call(sim, "GET", path)
      assert.strictEqual(a.status, 404, path)
      assert.strictEqual(code(a), 7003, path)
    }
    assert.strictEqual(code(await call(sim, "GET", "/nothing/here")), 7000)
  })

  it("answers 400 / 6008 for out-of-range paging and invalid parameters", async () => {
    const sim = make()
    const io = zoneId(sim, "redpine.io")
    const bad = [
      "/zones?per_page=4",
      "/zones?per_page=51",
      "/zones?page=0",
      "/zones?direction=sideways",
      "/accounts?per_page=51",
      `/zones/${io}/dns_records?type=BOGUS`,
      `/zones/${io}/dns_records?per_page=0`,
      `/zones/${io}/firewall/rules?per_page=101`,
      `/zones/${io}/rulesets?cursor=garbage`,
      `/zones/${io}/rulesets/phases/not_a_phase/entrypoint`
    ]
    for (const path of bad) {
      const a = await call(sim, "GET", path)
      assert.strictEqual(a.status, 400, path)
      assert.strictEqual(code(a), 6008, path)
    }
    assert.strictEqual((await call(sim, "GET", "/zones?per_page=50")).status, 200)
    assert.strictEqual((await call(sim, "GET", `/zones/${io}/dns_records?per_page=5000000`)).status, 200)
  })

  it("answers 404 / 10003 for a phase entry point that was never configured", async () => {
    const sim = make()
    const a = await call(sim, "GET", `/zones/${zoneId(sim, "redpine.dev")}/rulesets/phases/http_ratelimit/entrypoint`)
    assert.strictEqual(a.status, 404)
    assert.strictEqual(code(a), 10003)
    assert.include((a.body["errors"] as Array<{ message: string }>)[0]?.message ?? "", "http_ratelimit")
  })

  it("refuses account-owned tokens where the API does", async () => {
    const sim = make()
    const account = sim.state.accounts[0]!.id
    const list = await call(sim, "GET", "/accounts", "accountOwned")
    assert.strictEqual(list.status, 400)
    assert.strictEqual(code(list), 1001)
    assert.strictEqual((await call(sim, "GET", "/user/tokens/verify", "accountOwned")).status, 401)
    assert.strictEqual((await call(sim, "GET", `/accounts/${account}/rules/lists`, "accountOwned")).status, 403)
    assert.strictEqual((await call(sim, "GET", `/accounts/${account}/tokens/verify`, "accountOwned")).status, 200)
    assert.strictEqual((await call(sim, "GET", `/accounts/${account}/tokens/verify`, "account")).status, 401)
    assert.strictEqual((await call(sim, "GET", "/zones", "accountOwned")).status, 200)
  })

  it("answers the retired legacy rate-limits endpoint with 410 Gone", async () => {
    const sim = make()
    const a = await call(sim, "GET", `/zones/${zoneId(sim, "redpine.dev")}/rate_limits`)
    assert.strictEqual(a.status, 410)
    assert.strictEqual(a.body["success"], false)
    const served = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
    const b = await call(served, "GET", `/zones/${zoneId(served, "redpine.dev")}/rate_limits`)
    assert.strictEqual((b.body["result"] as Array<unknown>).length, 1)
    assert.strictEqual(code(await call(served, "GET", `/zones/${zoneId(served, "redpine.dev")}/rate_limits?per_page=7`)), 6008)
  })

  it("answers plan-gated features as Cloudflare does", async () => {
    const sim = make()
    const dev = zoneId(sim, "redpine.dev")
    const io = zoneId(sim, "redpine.io")
    const names = async (zone: string) =>
      ((await call(sim, "GET", `/zones/${zone}/rulesets`)).body["result"] as Array<{ name: string; kind: string }>).filter((r) => r.kind === "managed").map((r) => r.name)
    assert.deepStrictEqual(await names(dev), ["Cloudflare Free Managed Ruleset"])
    assert.include(await names(io), "Cloudflare Managed Ruleset")
    assert.strictEqual((await call(sim, "GET", `/zones/${dev}/rulesets/efb7b8c949ac4650a09736fc376e9aee`)).status, 404)
    const customErrors = await call(sim, "PUT", `/zones/${dev}/rulesets/phases/http_custom_errors/entrypoint`, "customer", {
      rules: [{ action: "serve_error", expression: "true", action_parameters: { content: "oops" } }]
    })
    assert.strictEqual(customErrors.status, 403)
    assert.strictEqual(code(customErrors), 20120)
    const freeRateLimit = await call(sim, "PUT", `/zones/${dev}/rulesets/phases/http_ratelimit/entrypoint`, "customer", {
      rules: [{ action: "block", expression: "true", ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 10 } }]
    })
    assert.strictEqual(freeRateLimit.status, 403)
    const cfManagedOnFree = await call(sim, "PUT", `/zones/${dev}/rulesets/phases/http_request_firewall_managed/entrypoint`, "customer", {
      rules: [{ action: "execute", expression: "true", action_parameters: { id: "efb7b8c949ac4650a09736fc376e9aee" } }]
    })
    assert.strictEqual(cfManagedOnFree.status, 403)
    const tagsOnFree = await call(sim, "POST", `/zones/${dev}/dns_records`, "customer", { type: "A", name: "x", content: "192.0.2.1", tags: ["a:b"] })
    assert.strictEqual(tagsOnFree.status, 400)
    const settings = (await call(sim, "GET", `/zones/${dev}/settings/waf`)).body["result"] as { editable: boolean; value: string }
    assert.deepStrictEqual([settings.value, settings.editable], ["off", false])
  })

  it("reads a single account-level IP access rule, and zone listings include inherited account rules", async () => {
    const sim = make()
    const account = sim.state.accounts[0]!.id
    const rule = sim.state.accessRules.find((r) => r.owner.kind === "account")!
    const one = await call(sim, "GET", `/accounts/${account}/firewall/access_rules/rules/${rule.id}`)
    const { owner: _owner, ...wire } = rule
    assert.deepStrictEqual(one.body["result"], wire)
    // As the SDK types it: an inherited account rule has scope `organization`; the zone's own have none.
    const zoneList = await call(sim, "GET", `/zones/${zoneId(sim, "redpine.io")}/firewall/access_rules/rules`, "scoped")
    const scopes = (zoneList.body["result"] as Array<{ scope?: { type: string } }>).map((r) => r.scope?.type ?? "(none)").sort()
    assert.deepStrictEqual(scopes, ["(none)", "(none)", "organization"])
    assert.strictEqual((await call(sim, "GET", `/accounts/${account}/firewall/access_rules/rules`, "scoped")).status, 403)
  })

  it("lists an account's Workers Custom Domains whole, filtered exactly by zone, hostname, service and environment", async () => {
    const sim = make()
    const account = sim.state.accounts[0]!.id
    const io = zoneId(sim, "redpine.io")
    sim.state.workerDomains.set(account, [
      ...sim.state.workerDomains.get(account)!,
      { id: "d2", cert_id: "c2", environment: "staging", hostname: "img.redpine.dev", service: "redpine-og-images", zone_id: zoneId(sim, "redpine.dev"), zone_name: "redpine.dev" }
    ])
    const ids = async (query: string) => {
      const a = await call(sim, "GET", `/accounts/${account}/workers/domains${query}`, "account")
      assert.strictEqual(a.status, 200, query)
      assert.isUndefined(a.body["result_info"], "not paginated")
      return (a.body["result"] as Array<{ id: string }>).map((d) => d.id)
    }
    const auth = sim.state.workerDomains.get(account)![0]!
    assert.deepStrictEqual(auth, { ...auth, hostname: "auth.redpine.io", service: "redpine-edge-auth", zone_id: io, zone_name: "redpine.io" })
    assert.deepStrictEqual(await ids(""), [auth.id, "d2"])
    assert.deepStrictEqual(await ids(`?zone_id=${io}`), [auth.id])
    assert.deepStrictEqual(await ids("?zone_name=redpine.dev"), ["d2"])
    assert.deepStrictEqual(await ids("?hostname=auth.redpine.io&service=redpine-edge-auth"), [auth.id])
    assert.deepStrictEqual(await ids("?environment=staging"), ["d2"])
    assert.deepStrictEqual(await ids("?hostname=auth.redpine"), [])
    const one = await call(sim, "GET", `/accounts/${account}/workers/domains/d2`, "account")
    assert.strictEqual((one.body["result"] as { hostname: string }).hostname, "img.redpine.dev")
    // Workers Scripts Read (or Write) on the account: the zone-scoped token has neither.
    assert.strictEqual((await call(sim, "GET", `/accounts/${account}/workers/domains`, "scoped")).status, 403)
  })

  it("refuses account-level WAF phases on a non-Enterprise account", async () => {
    const sim = make()
    const a = await call(sim, "PUT", `/accounts/${sim.state.accounts[0]!.id}/rulesets/phases/http_request_firewall_custom/entrypoint`, "customer", {
      rules: [{ action: "block", expression: "true" }]
    })
    assert.deepStrictEqual([a.status, code(a)], [403, 20120])
  })

  it("lists permission groups for a token that holds API Tokens Read", async () => {
    const sim = make()
    const a = await call(sim, "GET", "/user/tokens/permission_groups?name=DNS%20Read")
    assert.strictEqual(a.status, 200)
    const result = a.body["result"] as Array<{ name: string; scopes: Array<string> }>
    assert.deepStrictEqual(result.map((g) => [g.name, g.scopes]), [["DNS Read", ["com.cloudflare.api.account.zone"]]])
    assert.strictEqual((await call(sim, "GET", "/user/tokens/permission_groups", "account")).status, 403)
  })

  it("filters and orders zones and DNS records", async () => {
    const sim = make()
    const io = zoneId(sim, "redpine.io")
    const zones = await call(sim, "GET", "/zones?name=contains:.dev")
    assert.deepStrictEqual((zones.body["result"] as Array<{ name: string }>).map((z) => z.name), ["redpine.dev"])
    const txt = await call(sim, "GET", `/zones/${io}/dns_records?type=TXT&content.contains=spf1`)
    assert.strictEqual((txt.body["result"] as Array<unknown>).length, 1)
    const dmarc = await call(sim, "GET", `/zones/${io}/dns_records?name=_dmarc.redpine.io`)
    assert.deepStrictEqual(dmarc.body["result"], [])
    const paged = await call(sim, "GET", `/zones/${io}/dns_records?per_page=4&page=2&order=name&direction=desc`)
    assert.deepStrictEqual(paged.body["result_info"], { page: 2, per_page: 4, count: 4, total_count: 14, total_pages: 4 })
  })

  it("lists custom list items with after/before cursors", async () => {
    const sim = make()
    const account = sim.state.accounts[0]!.id
    const list = sim.state.lists.get(account)!.find((l) => l.name === "bad_actors")!
    const seen: Array<string> = []
    let cursor: string | undefined = undefined
    for (let i = 0; i < 10; i++) {
      const a = await call(sim, "GET", `/accounts/${account}/rules/lists/${list.id}/items?per_page=2${cursor === undefined ? "" : `&cursor=${cursor}`}`)
      seen.push(...(a.body["result"] as Array<{ ip: string }>).map((x) => x.ip))
      cursor = ((a.body["result_info"] as { cursors: { after?: string } }).cursors.after)
      if (cursor === undefined) break
    }
    assert.deepStrictEqual(seen, list.items.map((x) => x.ip))
    assert.strictEqual(code(await call(sim, "GET", `/accounts/${account}/rules/lists/${list.id}/items?per_page=501`)), 6008)
  })
})
