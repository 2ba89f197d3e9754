/**
 * The seeded generator behind `large` and custom scenario configs: accounts, zones on the chosen
 * plans, random DNS records (built lazily), rulesets within each plan's limits, lists, Workers and
 * page rules, all drawn from one PRNG so that the same seed gives the same world.
 */
import type { ScenarioConfig } from "../../Scenario.js"
import type { Ctx, RecordSpec } from "../builders.js"
import { makeAccessRule, makeAccount, makeDnssec, makeIpList, makeManagedRulesets, makeRecord, makeRule, makeRuleset, makeSettings, makeZone, stamp } from "../builders.js"
import { makePrng } from "../prng.js"
import { RULE_LIMITS } from "../../Plans.js"
import type { DnsRecord, PlanId, Ruleset, State, Zone } from "../../State.js"
import { MANAGED_RULESET_IDS } from "../../State.js"
import { EPOCH, emptyState, standardTokens } from "./base.js"
import { LazyRecords } from "./records.js"

const WORDS = ["alder", "birch", "cedar", "delta", "ember", "fjord", "grove", "harbor", "indigo", "juniper", "kestrel", "larch", "maple", "nimbus", "onyx", "pine", "quartz", "raven", "spruce", "tundra", "umber", "vale", "willow", "yarrow", "zephyr"]
const TLDS = ["com", "io", "net", "dev", "org", "app"]
const randomRecords = (ctx: Ctx, zone: Zone, count: number): Array<DnsRecord> => {
  const rng = ctx.rng
  const out: Array<DnsRecord> = []
  const base: ReadonlyArray<RecordSpec> = [
    { type: "A", name: zone.name, content: `203.0.113.${rng.range(1, 254)}`, proxied: true },
    { type: "CNAME", name: `www.${zone.name}`, content: zone.name, proxied: true },
    { type: "MX", name: zone.name, content: `mx1.${zone.name}`, priority: 10, ttl: 3600 },
    { type: "TXT", name: zone.name, content: "\"v=spf1 mx -all\"", ttl: 3600 }
  ]
  for (const spec of base.slice(0, count)) out.push(makeRecord(ctx, spec))
  for (let i = out.length; i < count; i++) {
    const host = `${rng.pick(WORDS)}-${i}.${zone.name}`
    const kind = rng.int(10)
    const spec: RecordSpec =
      kind < 4
        ? { type: "A", name: host, content: `198.51.100.${rng.range(1, 254)}`, proxied: rng.chance(0.5) }
        : kind < 6
          ? { type: "AAAA", name: host, content: `2001:db8::${rng.int(65535).toString(16)}`, proxied: rng.chance(0.5) }
          : kind < 8
            ? { type: "CNAME", name: host, content: `${rng.pick(WORDS)}.${zone.name}`, proxied: rng.chance(0.3) }
            : kind < 9
              ? { type: "TXT", name: host, content: `"token=${rng.token(16)}"`, ttl: 300 }
              : { type: "MX", name: host, content: `mx${rng.range(1, 3)}.${zone.name}`, priority: rng.range(0, 50), ttl: 3600 }
    out.push(makeRecord(ctx, spec))
  }
  if (rng.chance(0.5)) out.push(makeRecord(ctx, { type: "TXT", name: `_dmarc.${zone.name}`, content: "\"v=DMARC1; p=quarantine\"", ttl: 3600 }))
  return out.slice(0, count)
}

const EXPRESSIONS = [
  "(http.request.uri.path contains \"/admin\")",
  "(ip.geoip.country in {\"T1\" \"XX\"})",
  "(http.request.method eq \"POST\" and http.request.uri.path eq \"/login\")",
  "(http.user_agent contains \"curl\")",
  "(cf.client.bot)",
  "(http.request.uri.query contains \"union select\")",
  "(ip.src in {192.0.2.0/24})"
]

/** Where a login form's credentials are, for an exposed credentials check. */
const LOGIN_CREDENTIALS = {
  username_expression: "url_decode(http.request.body.form[\"username\"][0])",
  password_expression: "url_decode(http.request.body.form[\"password\"][0])"
}

const zoneRulesets = (ctx: Ctx, zone: Zone, plan: PlanId, rulesPerPhase: number): Array<Ruleset> => {
  const rng = ctx.rng
  const owner = { kind: "zone" as const, zoneId: zone.id }
  const at = stamp(ctx, 300 + rng.next() * 60)
  const out: Array<Ruleset> = []
  const limits = RULE_LIMITS[plan]
  const custom = Array.from({ length: Math.min(rulesPerPhase, limits.custom) }, () => {
    const action = rng.pick(["block", "managed_challenge", "js_challenge", "challenge"])
    const expression = rng.pick(EXPRESSIONS)
    const description = `custom ${rng.token(6)}`
    // Enterprise custom rules may check the login's credentials against leaked ones (exposed
    // credentials check in custom rules is Enterprise-only; shared API-NOTES §5.6).
    const check = plan === "enterprise" && expression.includes("/login") ? { exposed_credential_check: LOGIN_CREDENTIALS } : {}
    return makeRule(ctx, { action, expression, description, ...check }, at)
  })
  out.push(makeRuleset(ctx, owner, "http_request_firewall_custom", custom, { version: rng.range(1, 20), at }))
  const managedId = plan === "free" ? MANAGED_RULESET_IDS.freeManaged : MANAGED_RULESET_IDS.cloudflareManaged
  const managed = [makeRule(ctx, { action: "execute", expression: "true", action_parameters: { id: managedId } }, at)]
  if (plan !== "free" && rng.chance(0.5)) {
    managed.push(
      makeRule(
        ctx,
        { action: "execute", expression: "true", action_parameters: { id: MANAGED_RULESET_IDS.owaspCore, overrides: { categories: [{ category: "paranoia-level-2", enabled: false }] } } },
        at
      )
    )
  }
  out.push(makeRuleset(ctx, owner, "http_request_firewall_managed", managed, { version: rng.range(1, 5), at }))
  if (rng.chance(0.6)) {
    const free = plan === "free"
    const rl = Array.from({ length: Math.min(rulesPerPhase, limits.ratelimit) }, () =>
      makeRule(
        ctx,
        {
          action: "block",
          expression: rng.pick(EXPRESSIONS),
          ratelimit: {
            characteristics: free ? ["cf.colo.id", "ip.src"] : ["cf.colo.id", rng.pick(["ip.src", "http.request.headers[\"x-api-key\"]"])],
            period: free ? 10 : rng.pick([10, 60, 120, 600]),
            requests_per_period: rng.range(5, 500),
            mitigation_timeout: free ? 10 : rng.pick([60, 600, 3600])
          }
        },
        at
      )
    )
    out.push(makeRuleset(ctx, owner, "http_ratelimit", rl, { at }))
  }
  if (rng.chance(0.4)) {
    out.push(
      makeRuleset(
        ctx,
        owner,
        "http_response_headers_transform",
        [makeRule(ctx, { action: "rewrite", expression: "true", action_parameters: { headers: { "X-Frame-Options": { operation: "set", value: "SAMEORIGIN" } } } }, at)],
        { at }
      )
    )
  }
  if (rng.chance(0.3)) {
    out.push(
      makeRuleset(
        ctx,
        owner,
        "http_request_dynamic_redirect",
        [
          makeRule(
            ctx,
            {
              action: "redirect",
              expression: `(http.host eq "www.${zone.name}")`,
              action_parameters: { from_value: { status_code: 301, target_url: { value: `https://${zone.name}/` }, preserve_query_string: true } }
            },
            at
          )
        ],
        { at }
      )
    )
  }
  return out
}

/** Generates a world from a config (already validated); same config, same world. */
export const generate = (config: ScenarioConfig): State => {
  const ctx: Ctx = { rng: makePrng(`generate:${config.seed}`), epoch: EPOCH }
  const rng = ctx.rng
  const plans = config.plans ?? ["free", "pro", "business", "enterprise"]
  const rulesPerPhase = config.rulesPerPhase ?? 3
  const coverage = config.ruleCoverage ?? 0.8
  const state = emptyState()
  const pendingRecords = new Map<string, () => Array<DnsRecord>>()
  state.rulesets.push(...makeManagedRulesets(ctx))
  for (let a = 0; a < config.accounts; a++) {
    const account = makeAccount(ctx, `${rng.pick(WORDS)} ${rng.pick(WORDS)} ${a + 1}`, a === 0 || rng.chance(0.2) ? "enterprise" : "standard")
    state.accounts.push(account)
    const lists = [makeIpList(ctx, `blocklist_${a + 1}`, "Generated IP list", Array.from({ length: rng.range(1, 8) }, (_, i) => `192.0.2.${i + 1}`))]
    state.lists.set(account.id, lists)
    state.accessRules.push(makeAccessRule(ctx, { kind: "account", accountId: account.id }, "block", { target: "ip", value: `192.0.2.${a + 1}` }, "generated"))
    if (account.type === "enterprise") {
      const at = stamp(ctx, 330)
      state.rulesets.push(
        makeRuleset(
          ctx,
          { kind: "account", accountId: account.id },
          "http_request_firewall_custom",
          [makeRule(ctx, { action: "block", expression: rng.pick(EXPRESSIONS), description: "account-wide block" }, at)],
          { at, version: rng.range(1, 9) }
        )
      )
    }
    state.workerScripts.set(
      account.id,
      Array.from({ length: rng.range(0, 3) }, (_, i) => ({
        id: `worker-${a + 1}-${i + 1}`,
        etag: ctx.rng.hexId(),
        created_on: stamp(ctx, 50),
        modified_on: stamp(ctx, 60 + i),
        usage_model: "standard" as const,
        compatibility_date: "2025-01-01",
        compatibility_flags: [],
        handlers: ["fetch"],
        has_assets: false,
        has_modules: true,
        logpush: false,
        tail_consumers: null,
        tags: null
      }))
    )
    for (let z = 0; z < config.zonesPerAccount; z++) {
      const plan = rng.pick(plans)
      const zone = makeZone(ctx, account, `${rng.pick(WORDS)}-${a + 1}-${z + 1}.${rng.pick(TLDS)}`, plan)
      state.zones.push(zone)
      state.settings.set(zone.id, makeSettings(ctx, plan, rng.chance(0.5) ? "strict" : "lax"))
      state.dnssec.set(zone.id, makeDnssec(ctx, zone.name, rng.chance(0.4)))
      const zoneSeed = `${config.seed}:${zone.id}`
      pendingRecords.set(zone.id, () => randomRecords({ rng: makePrng(zoneSeed), epoch: EPOCH }, zone, config.recordsPerZone))
      if (rng.chance(coverage)) state.rulesets.push(...zoneRulesets(ctx, zone, plan, rulesPerPhase))
      state.firewallRules.set(zone.id, [])
      state.filters.set(zone.id, [])
      state.workerRoutes.set(zone.id, [])
      state.pageRules.set(zone.id, [])
      if (rng.chance(0.2)) {
        state.pageRules.set(zone.id, [
          {
            id: ctx.rng.hexId(),
            priority: 1,
            status: "active",
            targets: [{ target: "url", constraint: { operator: "matches", value: `http://*${zone.name}/*` } }],
            actions: [{ id: "always_use_https" }],
            created_on: stamp(ctx, 10),
            modified_on: stamp(ctx, 10)
          }
        ])
      }
      if (rng.chance(0.1)) {
        state.accessRules.push(makeAccessRule(ctx, { kind: "zone", zoneId: zone.id }, "challenge", { target: "country", value: "T1" }, "Tor"))
      }
    }
  }
  state.dnsRecords = new LazyRecords(pendingRecords)
  const first = state.zones[0]
  if (first !== undefined) state.tokens.push(...standardTokens(ctx, state.accounts, first))
  return state
}
