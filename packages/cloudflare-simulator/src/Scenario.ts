/**
 * Scenarios: a seeded generator of accounts, zones, records and rules, and the two named worlds
 * the project relies on — `redpine` (the onboarding story) and `large` (1,000 zones, 100,000 DNS
 * records). The same seed always yields the same ids, tokens and bytes.
 */
import { Data } from "effect"
import type { Ctx, RecordSpec } from "./internal/builders.js"
import {
  makeAccessRule,
  makeAccount,
  makeDnssec,
  makeIpList,
  makeManagedRulesets,
  makeRecord,
  makeRule,
  makeRuleset,
  makeSettings,
  makeToken,
  makeZone,
  READ_ACCOUNT_GROUPS,
  READ_ZONE_GROUPS,
  stamp
} from "./internal/builders.js"
import { makePrng } from "./internal/prng.js"
import { permissionGroups } from "./Permissions.js"
import { RULE_LIMITS } from "./Plans.js"
import type { Account, ApiToken, DnsRecord, PlanId, Ruleset, State, Zone } from "./State.js"
import { MANAGED_RULESET_IDS } from "./State.js"

/** Rule-count limits per plan and phase; kept here for existing importers, the limits live in `Plans`. */
export { phaseRuleLimit } from "./Plans.js"

/** Options of the seeded generator. */
export interface ScenarioConfig {
  readonly seed: number
  readonly accounts: number
  readonly zonesPerAccount: number
  readonly recordsPerZone: number
  /** Rules per configured phase (capped by the zone's plan). Default 3. */
  readonly rulesPerPhase?: number
  /** Share of zones that get rulesets, 0–1. Default 0.8. */
  readonly ruleCoverage?: number
  /** Plans to draw zones from (uniformly). Default all four. */
  readonly plans?: ReadonlyArray<PlanId>
}

/** A scenario: a name or a generator config. */
export type ScenarioInput = "redpine" | "large" | ScenarioConfig

/** A scenario was asked for that cannot be built. */
export class ScenarioError extends Data.TaggedError("ScenarioError")<{
  readonly reason: "UnknownScenario" | "InvalidConfig"
  readonly detail: string
}> {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

/** The `large` scenario's parameters: 4 accounts × 250 zones × 100 records. */
export const LARGE: ScenarioConfig = { seed: 1000, accounts: 4, zonesPerAccount: 250, recordsPerZone: 100, rulesPerPhase: 3, ruleCoverage: 0.9 }

/** The fixed creation date of every scenario, so timestamps do not depend on the wall clock. */
const EPOCH = Date.UTC(2025, 0, 6, 9, 0, 0)

const emptyState = (): State => ({
  accounts: [],
  zones: [],
  settings: new Map(),
  dnssec: new Map(),
  dnsRecords: new Map(),
  rulesets: [],
  firewallRules: new Map(),
  filters: new Map(),
  legacyRateLimits: new Map(),
  accessRules: [],
  lists: new Map(),
  workerScripts: new Map(),
  workerRoutes: new Map(),
  pageRules: new Map(),
  tokens: []
})

/**
 * A map of DNS records that builds each zone's records the first time they are read, so that a
 * 100,000-record scenario costs nothing until a test touches it. Iterating the map builds all.
 */
class LazyRecords extends Map<string, Array<DnsRecord>> {
  #pending: Map<string, () => Array<DnsRecord>>
  constructor(pending: Map<string, () => Array<DnsRecord>>) {
    super()
    this.#pending = pending
  }
  #materialize(key: string): void {
    const build = this.#pending.get(key)
    if (build !== undefined) {
      this.#pending.delete(key)
      super.set(key, build())
    }
  }
  #materializeAll(): void {
    for (const key of [...this.#pending.keys()]) this.#materialize(key)
  }
  override get(key: string): Array<DnsRecord> | undefined {
    this.#materialize(key)
    return super.get(key)
  }
  override has(key: string): boolean {
    return this.#pending.has(key) || super.has(key)
  }
  override set(key: string, value: Array<DnsRecord>): this {
    this.#pending.delete(key)
    return super.set(key, value)
  }
  override delete(key: string): boolean {
    const pending = this.#pending.delete(key)
    return super.delete(key) || pending
  }
  override get size(): number {
    return super.size + this.#pending.size
  }
  override entries(): MapIterator<[string, Array<DnsRecord>]> {
    this.#materializeAll()
    return super.entries()
  }
  override values(): MapIterator<Array<DnsRecord>> {
    this.#materializeAll()
    return super.values()
  }
  override keys(): MapIterator<string> {
    this.#materializeAll()
    return super.keys()
  }
  override forEach(cb: (value: Array<DnsRecord>, key: string, map: Map<string, Array<DnsRecord>>) => void, thisArg?: unknown): void {
    this.#materializeAll()
    super.forEach(cb, thisArg)
  }
  override [Symbol.iterator](): MapIterator<[string, Array<DnsRecord>]> {
    return this.entries()
  }
}

const allGroups = permissionGroups.filter((g) => g.scope !== "user").map((g) => g.name)

/**
 * The standard token set every scenario carries, by name:
 * `scoped` (one zone, Zone Read + Firewall Services Read), `account` (read-only, every account),
 * `accountOwned` (`cfat_`, read-only, first account), `revoked` (disabled), `expired`, and
 * `customer` (the customer's own read-write token, used to play the dashboard).
 */
const standardTokens = (ctx: Ctx, accounts: ReadonlyArray<Account>, scopedZone: Zone): Array<ApiToken> => {
  const first = accounts[0]
  if (first === undefined) return []
  const readAll = accounts.map((a) => ({
    permissionGroups: [...READ_ZONE_GROUPS, ...READ_ACCOUNT_GROUPS],
    resource: { kind: "account" as const, accountId: a.id }
  }))
  const expired = makeToken(ctx, "expired", { kind: "user" }, readAll, "expired")
  expired.expires_on = stamp(ctx, 200)
  return [
    makeToken(ctx, "scoped", { kind: "user" }, [
      { permissionGroups: ["Zone Read", "Firewall Services Read"], resource: { kind: "zones", zoneIds: [scopedZone.id] } }
    ]),
    makeToken(ctx, "account", { kind: "user" }, readAll),
    makeToken(ctx, "accountOwned", { kind: "account", accountId: first.id }, [
      { permissionGroups: [...READ_ZONE_GROUPS, ...READ_ACCOUNT_GROUPS], resource: { kind: "account", accountId: first.id } }
    ]),
    makeToken(ctx, "revoked", { kind: "user" }, readAll, "disabled"),
    expired,
    makeToken(ctx, "customer", { kind: "user" }, [
      ...accounts.map((a) => ({ permissionGroups: allGroups, resource: { kind: "account" as const, accountId: a.id } })),
      { permissionGroups: ["API Tokens Read", "API Tokens Write"], resource: { kind: "user" as const } }
    ])
  ]
}

// ---------------------------------------------------------------------------------------------
// redpine
// ---------------------------------------------------------------------------------------------

/** The onboarding story's world (see README "Scenarios"). */
const redpine = (seed: number): State => {
  const ctx: Ctx = { rng: makePrng(`redpine:${seed}`), epoch: EPOCH }
  const state = emptyState()
  const account = makeAccount(ctx, "Redpine")
  state.accounts.push(account)
  const io = makeZone(ctx, account, "redpine.io", "pro")
  const dev = makeZone(ctx, account, "redpine.dev", "free")
  state.zones.push(io, dev)

  state.settings.set(io.id, makeSettings(ctx, "pro", "strict"))
  state.settings.set(dev.id, makeSettings(ctx, "free", "lax"))
  state.dnssec.set(io.id, makeDnssec(ctx, io.name, true))
  state.dnssec.set(dev.id, makeDnssec(ctx, dev.name, false))

  const ioRecords: ReadonlyArray<RecordSpec> = [
    { type: "A", name: "redpine.io", content: "203.0.113.10", proxied: true, comment: "origin" },
    { type: "AAAA", name: "redpine.io", content: "2001:db8::10", proxied: true },
    { type: "CNAME", name: "www.redpine.io", content: "redpine.io", proxied: true },
    { type: "A", name: "api.redpine.io", content: "203.0.113.20", proxied: true, tags: ["team:platform"] },
    { type: "A", name: "admin.redpine.io", content: "203.0.113.30", proxied: true },
    { type: "CNAME", name: "status.redpine.io", content: "redpine.statuspage.io", proxied: false, ttl: 3600 },
    { type: "MX", name: "redpine.io", content: "aspmx.l.google.com", priority: 1, ttl: 3600 },
    { type: "MX", name: "redpine.io", content: "alt1.aspmx.l.google.com", priority: 5, ttl: 3600 },
    { type: "TXT", name: "redpine.io", content: "\"v=spf1 include:_spf.google.com ~all\"", ttl: 3600, comment: "SPF" },
    { type: "TXT", name: "redpine.io", content: "\"google-site-verification=rp-7c1f0a9e\"", ttl: 3600 },
    { type: "TXT", name: "google._domainkey.redpine.io", content: "\"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr3d\"", ttl: 3600 },
    { type: "CAA", name: "redpine.io", content: "0 issue \"letsencrypt.org\"", ttl: 3600, data: { flags: 0, tag: "issue", value: "letsencrypt.org" } },
    {
      type: "SRV",
      name: "_sip._tcp.redpine.io",
      content: "10 5060 sip.redpine.io",
      priority: 10,
      ttl: 3600,
      data: { priority: 10, weight: 10, port: 5060, target: "sip.redpine.io" }
    },
    { type: "NS", name: "lab.redpine.io", content: "ns1.lab-dns.net", ttl: 86400 }
  ]
  state.dnsRecords.set(io.id, ioRecords.map((r) => makeRecord(ctx, io, r)))
  state.dnsRecords.set(
    dev.id,
    [
      { type: "A", name: "redpine.dev", content: "203.0.113.40", proxied: true },
      { type: "CNAME", name: "docs.redpine.dev", content: "redpine.github.io", proxied: true },
      { type: "TXT", name: "redpine.dev", content: "\"v=spf1 -all\"", ttl: 3600 }
    ].map((r) => makeRecord(ctx, dev, r))
  )

  // Bad-actor list, referenced by a blocking rule.
  const badActors = makeIpList(ctx, "bad_actors", "IPs seen credential-stuffing /login", [
    "192.0.2.14",
    "192.0.2.77",
    "198.51.100.0/24",
    "203.0.113.250",
    "2001:db8:bad::/64"
  ])
  badActors.num_referencing_filters = 1
  const redirectsAt = stamp(ctx, 150)
  const legacyRedirects = {
    id: ctx.rng.hexId(),
    name: "legacy_redirects",
    description: "Old marketing URLs",
    kind: "redirect" as const,
    num_items: 2,
    num_referencing_filters: 1,
    created_on: redirectsAt,
    modified_on: redirectsAt,
    items: [
      { id: ctx.rng.hexId(), redirect: { source_url: "redpine.io/pricing-old", target_url: "https://redpine.io/pricing", status_code: 301 as const }, comment: "", created_on: redirectsAt, modified_on: redirectsAt },
      { id: ctx.rng.hexId(), redirect: { source_url: "redpine.io/jobs", target_url: "https://redpine.io/careers", status_code: 302 as const }, comment: "", created_on: redirectsAt, modified_on: redirectsAt }
    ]
  }
  state.lists.set(account.id, [badActors, legacyRedirects])

  state.rulesets.push(...makeManagedRulesets(ctx))
  const at = stamp(ctx, 320)
  const zone = { kind: "zone" as const, zoneId: io.id }
  state.rulesets.push(
    makeRuleset(
      ctx,
      zone,
      "http_request_firewall_custom",
      [
        makeRule(
          ctx,
          {
            action: "block",
            expression: "(http.request.uri.path contains \"/admin\" and not ip.src in {198.51.100.7 203.0.113.0/24})",
            description: "Block /admin outside the office"
          },
          at
        ),
        makeRule(ctx, { action: "block", expression: "(ip.src in $bad_actors)", description: "Block bad actors" }, at),
        makeRule(ctx, { action: "managed_challenge", expression: "(http.user_agent contains \"sqlmap\" or http.user_agent eq \"\")", description: "Challenge scanners" }, at),
        makeRule(ctx, { action: "skip", expression: "(http.request.uri.path eq \"/healthz\")", description: "Let health checks through", enabled: false, action_parameters: { ruleset: "current" } }, at)
      ],
      { version: 7, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_firewall_managed",
      [
        makeRule(
          ctx,
          {
            action: "execute",
            expression: "true",
            description: "Cloudflare Managed Ruleset",
            action_parameters: {
              id: MANAGED_RULESET_IDS.cloudflareManaged,
              overrides: {
                categories: [{ category: "wordpress", enabled: false }],
                rules: [{ id: "5de7edfa648c4d6891dc3e7f84534ffa", action: "block", enabled: true }]
              }
            }
          },
          at
        )
      ],
      { version: 3, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_ratelimit",
      [
        makeRule(
          ctx,
          {
            action: "block",
            expression: "(http.request.uri.path wildcard \"/api/*\")",
            description: "Throttle the public API",
            ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 100, mitigation_timeout: 600 }
          },
          at
        )
      ],
      { version: 2, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "(http.request.uri.path wildcard \"/blog/*\")",
            description: "Serve the blog from /posts",
            action_parameters: { uri: { path: { expression: "wildcard_replace(http.request.uri.path, \"/blog/*\", \"/posts/${1}\")" } } }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_late_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "true",
            description: "Tell the origin who forwarded",
            action_parameters: { headers: { "X-Forwarded-Host": { operation: "set", expression: "http.host" } } }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_response_headers_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "true",
            description: "Security headers",
            action_parameters: {
              headers: {
                "X-Frame-Options": { operation: "set", value: "DENY" },
                "X-Content-Type-Options": { operation: "set", value: "nosniff" },
                "X-Powered-By": { operation: "remove" }
              }
            }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_dynamic_redirect",
      [
        makeRule(
          ctx,
          {
            action: "redirect",
            expression: "(http.host eq \"www.redpine.io\")",
            description: "www to apex",
            action_parameters: {
              from_value: {
                status_code: 301,
                target_url: { expression: "concat(\"https://redpine.io\", http.request.uri.path)" },
                preserve_query_string: true
              }
            }
          },
          at
        )
      ],
      { at }
    ),
    // Bulk redirects live at account level (all plans).
    makeRuleset(
      ctx,
      { kind: "account", accountId: account.id },
      "http_request_redirect",
      [
        makeRule(
          ctx,
          {
            action: "redirect",
            expression: "http.request.full_uri in $legacy_redirects",
            description: "Legacy marketing redirects",
            action_parameters: { from_list: { name: "legacy_redirects", key: "http.request.full_uri" } }
          },
          at
        )
      ],
      { at }
    ),
    // The Free zone: only the Free Managed Ruleset, one custom rule, no rate limiting rules.
    makeRuleset(
      ctx,
      { kind: "zone", zoneId: dev.id },
      "http_request_firewall_managed",
      [
        makeRule(
          ctx,
          { action: "execute", expression: "true", description: "Free Managed Ruleset", action_parameters: { id: MANAGED_RULESET_IDS.freeManaged } },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      { kind: "zone", zoneId: dev.id },
      "http_request_firewall_custom",
      [makeRule(ctx, { action: "block", expression: "(ip.src in $bad_actors)", description: "Block bad actors" }, at)],
      { at }
    )
  )

  // Legacy products on the older Free zone: one firewall rule with its filter, one old rate limit.
  const filter = { id: ctx.rng.hexId(), expression: "(http.request.uri.path contains \"/wp-login.php\")", paused: false, description: "WordPress login probes" }
  state.filters.set(dev.id, [filter])
  state.firewallRules.set(dev.id, [
    { id: ctx.rng.hexId(), paused: false, description: "Block WordPress probes", action: "block", priority: null, filter, created_on: stamp(ctx, 20), modified_on: stamp(ctx, 20) }
  ])
  state.filters.set(io.id, [])
  state.firewallRules.set(io.id, [])
  state.legacyRateLimits.set(dev.id, [
    {
      id: ctx.rng.hexId(),
      disabled: false,
      description: "Old login throttle (pre-rulesets)",
      match: { request: { methods: ["POST"], schemes: ["HTTP", "HTTPS"], url: "redpine.dev/login" }, response: { origin_traffic: true }, headers: [] },
      threshold: 20,
      period: 60,
      action: { mode: "ban", timeout: 600 },
      bypass: []
    }
  ])

  state.accessRules.push(
    makeAccessRule(ctx, { id: account.id, type: "account", name: account.name }, "block", { target: "ip_range", value: "192.0.2.0/24" }, "Known scanner range"),
    makeAccessRule(ctx, { id: io.id, type: "zone", name: io.name }, "whitelist", { target: "ip", value: "198.51.100.7" }, "Office"),
    makeAccessRule(ctx, { id: io.id, type: "zone", name: io.name }, "challenge", { target: "asn", value: "AS64496" }, "Hosting ASN with abuse history")
  )

  const created = stamp(ctx, 100)
  state.workerScripts.set(account.id, [
    {
      id: "redpine-edge-auth",
      etag: ctx.rng.hexId() + ctx.rng.hexId(),
      created_on: created,
      modified_on: stamp(ctx, 310),
      usage_model: "standard",
      compatibility_date: "2025-01-01",
      compatibility_flags: ["nodejs_compat"],
      handlers: ["fetch"],
      has_assets: false,
      has_modules: true,
      logpush: false,
      tail_consumers: null,
      tags: null
    },
    {
      id: "redpine-og-images",
      etag: ctx.rng.hexId() + ctx.rng.hexId(),
      created_on: created,
      modified_on: stamp(ctx, 250),
      usage_model: "standard",
      compatibility_date: "2024-09-23",
      compatibility_flags: [],
      handlers: ["fetch", "scheduled"],
      has_assets: true,
      has_modules: true,
      logpush: false,
      placement_mode: "smart",
      tail_consumers: [{ service: "redpine-edge-auth" }],
      tags: ["marketing"]
    }
  ])
  state.workerRoutes.set(io.id, [
    { id: ctx.rng.hexId(), pattern: "redpine.io/api/*", script: "redpine-edge-auth" },
    { id: ctx.rng.hexId(), pattern: "redpine.io/og/*", script: "redpine-og-images" },
    { id: ctx.rng.hexId(), pattern: "redpine.io/static/*" }
  ])
  state.workerRoutes.set(dev.id, [])
  state.pageRules.set(io.id, [
    {
      id: ctx.rng.hexId(),
      priority: 1,
      status: "active",
      targets: [{ target: "url", constraint: { operator: "matches", value: "redpine.io/legacy/*" } }],
      actions: [{ id: "forwarding_url", value: { url: "https://redpine.io/$1", status_code: 301 } }],
      created_on: stamp(ctx, 40),
      modified_on: stamp(ctx, 40)
    }
  ])
  state.pageRules.set(dev.id, [
    {
      id: ctx.rng.hexId(),
      priority: 1,
      status: "active",
      targets: [{ target: "url", constraint: { operator: "matches", value: "http://*redpine.dev/*" } }],
      actions: [{ id: "always_use_https" }],
      created_on: stamp(ctx, 30),
      modified_on: stamp(ctx, 30)
    }
  ])

  state.tokens.push(...standardTokens(ctx, state.accounts, io))
  return state
}

// ---------------------------------------------------------------------------------------------
// seeded generator
// ---------------------------------------------------------------------------------------------

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
  for (const spec of base.slice(0, count)) out.push(makeRecord(ctx, zone, spec))
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
    out.push(makeRecord(ctx, zone, spec))
  }
  if (rng.chance(0.5)) out.push(makeRecord(ctx, zone, { type: "TXT", name: `_dmarc.${zone.name}`, content: "\"v=DMARC1; p=quarantine\"", ttl: 3600 }))
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

const zoneRulesets = (ctx: Ctx, zone: Zone, plan: PlanId, rulesPerPhase: number): Array<Ruleset> => {
  const rng = ctx.rng
  const owner = { kind: "zone" as const, zoneId: zone.id }
  const at = stamp(ctx, 300 + rng.next() * 60)
  const out: Array<Ruleset> = []
  const limits = RULE_LIMITS[plan]
  const custom = Array.from({ length: Math.min(rulesPerPhase, limits.custom) }, () =>
    makeRule(ctx, { action: rng.pick(["block", "managed_challenge", "js_challenge", "challenge"]), expression: rng.pick(EXPRESSIONS), description: `custom ${rng.token(6)}` }, at)
  )
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

const validateConfig = (config: ScenarioConfig): void => {
  const ints: ReadonlyArray<[string, number]> = [
    ["accounts", config.accounts],
    ["zonesPerAccount", config.zonesPerAccount],
    ["recordsPerZone", config.recordsPerZone]
  ]
  for (const [name, value] of ints) {
    if (!Number.isInteger(value) || value < 0) throw new ScenarioError({ reason: "InvalidConfig", detail: `${name} must be a non-negative integer` })
  }
  if (config.accounts < 1 || config.zonesPerAccount < 1) {
    throw new ScenarioError({ reason: "InvalidConfig", detail: "a scenario needs at least one account with one zone" })
  }
}

/** Generates a world from a config; same config, same world. */
const generate = (config: ScenarioConfig): State => {
  validateConfig(config)
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
    state.accessRules.push(makeAccessRule(ctx, { id: account.id, type: "account", name: account.name }, "block", { target: "ip", value: `192.0.2.${a + 1}` }, "generated"))
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
        state.accessRules.push(makeAccessRule(ctx, { id: zone.id, type: "zone", name: zone.name }, "challenge", { target: "country", value: "T1" }, "Tor"))
      }
    }
  }
  state.dnsRecords = new LazyRecords(pendingRecords)
  const first = state.zones[0]
  if (first !== undefined) state.tokens.push(...standardTokens(ctx, state.accounts, first))
  return state
}

/** Builds the state of a scenario. `seed` overrides the config's seed (or redpine's default 1). */
export const buildScenario = (input: ScenarioInput, seed?: number): State => {
  if (input === "redpine") return redpine(seed ?? 1)
  if (input === "large") return generate(seed === undefined ? LARGE : { ...LARGE, seed })
  if (typeof input === "object" && input !== null) return generate(seed === undefined ? input : { ...input, seed })
  throw new ScenarioError({ reason: "UnknownScenario", detail: String(input) })
}
