import { assert, describe, it } from "@effect/vitest"
import { ChangeFeed } from "@plumbline/core"
import { Schema } from "effect"
import { AuditMapping } from "../src/index.js"

// Entries are shaped like the SDK's `AuditListResponse` (v2) and `AuditLog` (v1).
const ctx: AuditMapping.Context = {
  root: "connection:c1",
  accountOfZone: (z) => (z === "z1" || z === "z2" ? "a1" : undefined),
  zonesOfAccount: (a) => (a === "a1" ? ["z1", "z2"] : []),
  zoneByName: (n) => (n === "one.example" ? "z1" : undefined)
}

const v2 = (fields: { uri?: string; method?: string; type?: string; zone?: string; account?: string; result?: string; action?: string }) =>
  Schema.decodeUnknownSync(AuditMapping.V2Entry)({
    id: "e1",
    account: { id: fields.account ?? "a1", name: "Example" },
    action: { description: "d", result: fields.result ?? "success", time: "2026-03-02T10:00:00Z", type: fields.action ?? "update" },
    actor: { id: "u1", context: "dash", email: "a@example.com", type: "user" },
    ...(fields.uri === undefined ? {} : { raw: { cf_ray_id: "r", method: fields.method ?? "PUT", status_code: 200, uri: fields.uri } }),
    resource: { id: "x", product: "p", type: fields.type ?? "thing", scope: "zones" },
    ...(fields.zone === undefined ? {} : { zone: { id: fields.zone, name: "one.example" } })
  })

const v1 = (fields: { type?: string; zoneId?: string; zoneName?: string; result?: boolean }) =>
  Schema.decodeUnknownSync(AuditMapping.V1Entry)({
    id: "e1",
    action: { result: fields.result ?? true, type: "change" },
    actor: { id: "u1", email: "a@example.com", ip: "198.51.100.1", type: "user" },
    interface: "UI",
    metadata: { ...(fields.zoneId === undefined ? {} : { zone_id: fields.zoneId }), ...(fields.zoneName === undefined ? {} : { zone_name: fields.zoneName }) },
    owner: { id: "a1" },
    resource: { id: "x", type: fields.type ?? "thing" },
    when: "2026-03-02T10:00:00Z"
  })

/** Marks as `scope[resources]` strings (`scope` alone for a whole scope), sorted. */
const show = (marks: ReadonlyArray<ChangeFeed.Mark>): Array<string> =>
  AuditMapping.merge(marks).map((m) => (m.resources === undefined ? m.scope : `${m.scope}[${m.resources.join(",")}]`))

const RULESETS = `[${[...AuditMapping.RULESET_RESOURCES].sort().join(",")}]`

describe("AuditMapping: v2 entries to marks", () => {
  const cases: ReadonlyArray<readonly [string, Parameters<typeof v2>[0], ReadonlyArray<string>]> = [
    ["a DNS record created", { uri: "/client/v4/zones/z1/dns_records", method: "POST", zone: "z1" }, ["zone:z1[dns_records]"]],
    ["a DNS record changed in the dashboard", { uri: "/api/v4/zones/z1/dns_records/abc?x=1", zone: "z1" }, ["zone:z1[dns_records]"]],
    ["DNSSEC", { uri: "/client/v4/zones/z1/dnssec", zone: "z1" }, ["zone:z1[dnssec]"]],
    ["a zone setting", { uri: "/client/v4/zones/z1/settings/ssl", method: "PATCH", zone: "z1" }, ["zone:z1[zone_settings]"]],
    ["the custom WAF entry point", { uri: "/client/v4/zones/z1/rulesets/phases/http_request_firewall_custom/entrypoint", zone: "z1" }, ["zone:z1[waf_custom_rules]"]],
    ["the rate limiting entry point", { uri: "/client/v4/zones/z1/rulesets/phases/http_ratelimit/entrypoint", zone: "z1" }, ["zone:z1[rate_limit_rules]"]],
    ["a transform phase", { uri: "/client/v4/zones/z1/rulesets/phases/http_request_late_transform/entrypoint", zone: "z1" }, ["zone:z1[transform_rules]"]],
    ["a phase no resource reads", { uri: "/client/v4/zones/z1/rulesets/phases/http_request_cache_settings/entrypoint", zone: "z1" }, [`zone:z1${RULESETS}`]],
    ["a rule of a ruleset (phase unknown)", { uri: "/client/v4/zones/z1/rulesets/rs1/rules/r1", method: "PATCH", zone: "z1" }, [`zone:z1${RULESETS}`]],
    ["a zone IP access rule", { uri: "/client/v4/zones/z1/firewall/access_rules/rules/r1", zone: "z1" }, ["zone:z1[ip_access_rules]"]],
    ["a legacy firewall rule", { uri: "/client/v4/zones/z1/firewall/rules/r1", zone: "z1" }, ["zone:z1[legacy_filters,legacy_firewall_rules]"]],
    ["a legacy filter", { uri: "/client/v4/zones/z1/filters/f1", zone: "z1" }, ["zone:z1[legacy_filters,legacy_firewall_rules]"]],
    ["a legacy rate limit", { uri: "/client/v4/zones/z1/rate_limits/l1", zone: "z1" }, ["zone:z1[legacy_rate_limits]"]],
    ["a Workers route", { uri: "/client/v4/zones/z1/workers/routes/w1", zone: "z1" }, ["zone:z1[workers_routes]"]],
    ["a page rule", { uri: "/client/v4/zones/z1/pagerules/p1", zone: "z1" }, ["zone:z1[page_rules]"]],
    ["the zone itself (plan, pause)", { uri: "/client/v4/zones/z1", method: "PATCH", zone: "z1" }, ["account:a1[zones]", "zone:z1"]],
    ["a zone added", { uri: "/client/v4/zones", method: "POST" }, ["account:a1[zones]"]],
    [
      "an account IP access rule (inherited by every zone)",
      { uri: "/client/v4/accounts/a1/firewall/access_rules/rules", method: "POST" },
      ["account:a1[account_ip_access_rules]", "zone:z1[ip_access_rules]", "zone:z2[ip_access_rules]"]
    ],
    ["a list item", { uri: "/client/v4/accounts/a1/rules/lists/l1/items", method: "POST" }, ["account:a1[ip_list_items,ip_lists]"]],
    ["a Workers script", { uri: "/client/v4/accounts/a1/workers/scripts/s1", method: "PUT" }, ["account:a1[workers_scripts]"]],
    ["the account's settings", { uri: "/client/v4/accounts/a1", method: "PUT" }, ["connection:c1[accounts]"]],
    [
      "an account ruleset (read per zone, as account_rules)",
      { uri: "/client/v4/accounts/a1/rulesets/phases/http_request_firewall_custom/entrypoint" },
      ["zone:z1[account_rules]", "zone:z2[account_rules]"]
    ],
    ["an account custom ruleset's rule", { uri: "/client/v4/accounts/a1/rulesets/rs1/rules/r1", method: "PATCH" }, ["zone:z1[account_rules]", "zone:z2[account_rules]"]],
    ["no URI, an account ruleset", { type: "ruleset" }, ["zone:z1[account_rules]", "zone:z2[account_rules]"]],
    ["a member invited (nothing read)", { uri: "/client/v4/accounts/a1/members", method: "POST" }, []],
    ["a token changed (what Plumbline can read may change)", { uri: "/client/v4/user/tokens/t1", method: "DELETE" }, ["connection:c1"]],
    ["an unknown product in a zone: the whole zone", { uri: "/client/v4/zones/z1/spectrum/apps/s1", type: "spectrum_app", zone: "z1" }, ["zone:z1"]],
    ["an unknown account product: the whole connection", { uri: "/client/v4/accounts/a1/magic/routes", type: "magic_route" }, ["connection:c1"]],
    ["no URI, a known type", { type: "dns_record", zone: "z1" }, ["zone:z1[dns_records]"]],
    ["no URI, a ruleset in a zone", { type: "ruleset", zone: "z1" }, [`zone:z1${RULESETS}`]],
    ["no URI, an unknown type in a zone", { type: "load_balancer", zone: "z1" }, ["zone:z1"]],
    ["no URI, an unknown type, no zone", { type: "load_balancer" }, ["connection:c1"]],
    ["no URI, a zone-level type but no zone", { type: "dns_record" }, ["connection:c1"]],
    ["a failed action changed nothing", { uri: "/client/v4/zones/z1/dns_records", zone: "z1", result: "failure" }, []],
    ["a read changed nothing", { uri: "/client/v4/zones/z1/dns_records", zone: "z1", action: "view" }, []]
  ]
  for (const [name, fields, expected] of cases) {
    it(name, () => {
      assert.deepStrictEqual(show(AuditMapping.marksOfV2(v2(fields), ctx)), [...expected])
    })
  }

  it("names the entry, the action and the path in the reason", () => {
    const [mark] = AuditMapping.marksOfV2(v2({ uri: "/client/v4/zones/z1/dns_records", method: "POST", zone: "z1", action: "create" }), ctx)
    assert.strictEqual(mark?.reason, "audit log e1: create thing (POST /zones/z1/dns_records)")
  })
})

describe("AuditMapping: v1 entries to marks", () => {
  const cases: ReadonlyArray<readonly [string, Parameters<typeof v1>[0], ReadonlyArray<string>]> = [
    ["a DNS record, zone by name", { type: "dns_record", zoneName: "one.example" }, ["zone:z1[dns_records]"]],
    ["a setting, zone by id", { type: "zone_setting", zoneId: "z2" }, ["zone:z2[zone_settings]"]],
    ["a list (account from the owner)", { type: "list_item" }, ["account:a1[ip_list_items,ip_lists]"]],
    ["an unknown type in a zone", { type: "healthcheck", zoneId: "z1" }, ["zone:z1"]],
    ["an unknown type, no zone", { type: "healthcheck" }, ["connection:c1"]],
    ["an unknown zone name and a zone type", { type: "dns_record", zoneName: "other.example" }, ["connection:c1"]],
    ["a failed action", { type: "dns_record", zoneId: "z1", result: false }, []]
  ]
  for (const [name, fields, expected] of cases) {
    it(name, () => {
      assert.deepStrictEqual(show(AuditMapping.marksOfV1(v1(fields), ctx)), [...expected])
    })
  }
})

describe("AuditMapping.merge", () => {
  it("lets a whole-scope mark absorb resource marks and unites resource lists", () => {
    const m = (scope: string, resources?: Array<string>) => new ChangeFeed.Mark({ scope, reason: scope, ...(resources === undefined ? {} : { resources }) })
    const merged = AuditMapping.merge([m("zone:z1", ["dns_records"]), m("zone:z2", ["dns_records"]), m("zone:z2", ["dnssec"]), m("zone:z1")])
    assert.deepStrictEqual(
      merged.map((x) => [x.scope, x.resources]),
      [
        ["zone:z1", undefined],
        ["zone:z2", ["dns_records", "dnssec"]]
      ]
    )
  })
})
