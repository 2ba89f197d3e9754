/**
 * Constructors for state objects in wire shape, shared by the seeded generator and the named
 * scenarios. Every id, token and timestamp comes from the caller's PRNG and clock so output is
 * reproducible.
 */
import type { Phase } from "../Permissions.js"
import type {
  AccessRule,
  AccessRuleOwner,
  Account,
  ApiToken,
  CustomList,
  Dnssec,
  DnsRecord,
  Json,
  PlanId,
  Ruleset,
  RulesetOwner,
  RulesetRule,
  Zone,
  ZoneSetting
} from "../State.js"
import { MANAGED_RULESET_IDS } from "../State.js"
import type { Prng } from "./prng.js"

/** The generator context: a PRNG and a deterministic clock for `created_on`-style stamps. */
export interface Ctx {
  readonly rng: Prng
  /** Milliseconds since the epoch at which the scenario "was created". */
  readonly epoch: number
}

/** A timestamp `days` (fractional) after the scenario epoch, in Cloudflare's format. */
export const stamp = (ctx: Ctx, days: number): string => new Date(ctx.epoch + Math.round(days * 86_400_000)).toISOString()

/** A random timestamp within the first `maxDays` days. */
export const randomStamp = (ctx: Ctx, maxDays = 400): string => stamp(ctx, ctx.rng.next() * maxDays)

const PLAN_META: Record<PlanId, { id: string; name: string; price: number }> = {
  free: { id: "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", name: "Free Website", price: 0 },
  pro: { id: "a577b510288e82b26486fa3e51a2b6f1", name: "Pro Website", price: 25 },
  business: { id: "bf7e5d3f1c35e7e1ed2c5bfd0ea3c8c2", name: "Business Website", price: 250 },
  enterprise: { id: "e592fd9519420ba7405e1307bff33214", name: "Enterprise Website", price: 5000 }
}

/** Page rule quota per plan (API-NOTES §5.9). */
export const PAGE_RULE_QUOTA: Record<PlanId, number> = { free: 3, pro: 20, business: 50, enterprise: 125 }

/** Builds an account. */
export const makeAccount = (ctx: Ctx, name: string, type: Account["type"] = "standard"): Account => ({
  id: ctx.rng.hexId(),
  name,
  type,
  created_on: stamp(ctx, 0),
  settings: { enforce_twofactor: false }
})

const NS_NAMES = ["ada", "bob", "cruz", "dana", "elle", "finn", "gail", "hugo", "iris", "jack", "kara", "liam"]

/** Builds a zone of an account on a plan. */
export const makeZone = (ctx: Ctx, account: Account, name: string, plan: PlanId): Zone => {
  const created = ctx.rng.next() * 200
  const ns1 = ctx.rng.pick(NS_NAMES)
  const ns2 = ctx.rng.pick(NS_NAMES.filter((n) => n !== ns1))
  const meta = PLAN_META[plan]
  return {
    id: ctx.rng.hexId(),
    name,
    status: "active",
    paused: false,
    type: "full",
    development_mode: 0,
    name_servers: [`${ns1}.ns.cloudflare.com`, `${ns2}.ns.cloudflare.com`],
    original_name_servers: ["ns1.registrar-servers.com", "ns2.registrar-servers.com"],
    original_registrar: "namecheap, inc.",
    original_dnshost: null,
    vanity_name_servers: [],
    created_on: stamp(ctx, created),
    modified_on: stamp(ctx, created + 30),
    activated_on: stamp(ctx, created + 0.1),
    meta: {
      step: 2,
      custom_certificate_quota: plan === "enterprise" ? 10 : plan === "business" ? 1 : 0,
      page_rule_quota: PAGE_RULE_QUOTA[plan],
      phishing_detected: false,
      cdn_only: false,
      dns_only: false,
      foundation_dns: false
    },
    owner: { id: account.id, type: "organization", name: account.name },
    account: { id: account.id, name: account.name },
    tenant: {},
    tenant_unit: {},
    permissions: [],
    plan: {
      id: meta.id,
      name: meta.name,
      price: meta.price,
      currency: "USD",
      frequency: plan === "free" ? "" : "monthly",
      legacy_id: plan,
      is_subscribed: plan !== "free",
      can_subscribe: plan !== "enterprise",
      legacy_discount: false,
      externally_managed: false
    },
    cname_suffix: "cdn.cloudflare.net"
  }
}

/** Settings a security audit reads; values loosened or tightened by `posture`. */
export const makeSettings = (ctx: Ctx, plan: PlanId, posture: "strict" | "lax"): Array<ZoneSetting> => {
  const strict = posture === "strict"
  const on = (b: boolean) => (b ? "on" : "off")
  const at = randomStamp(ctx)
  const s = (id: string, value: Json, editable = true): ZoneSetting => ({ id, value, editable, modified_on: at })
  return [
    s("0rtt", on(strict)),
    s("always_use_https", on(strict)),
    s("automatic_https_rewrites", "on"),
    s("browser_check", "on"),
    s("challenge_ttl", 1800),
    s("email_obfuscation", "on"),
    s("hotlink_protection", "off"),
    s("http3", "on"),
    s("ipv6", "on"),
    s("min_tls_version", strict ? "1.2" : "1.0"),
    s("opportunistic_encryption", "on"),
    s("security_header", {
      strict_transport_security: {
        enabled: strict,
        max_age: strict ? 31536000 : 0,
        include_subdomains: strict,
        preload: false,
        nosniff: strict
      }
    }),
    s("security_level", strict ? "high" : "medium"),
    s("server_side_exclude", "on"),
    s("ssl", strict ? "strict" : "flexible"),
    s("tls_1_3", strict ? "zrt" : "on"),
    // The legacy WAF toggle only exists on paid plans; Free zones see it, off and not editable.
    s("waf", plan === "free" ? "off" : "on", plan !== "free"),
    s("websockets", "on")
  ]
}

/** DNSSEC details; an active zone gets a DS record. */
export const makeDnssec = (ctx: Ctx, zoneName: string, active: boolean): Dnssec => {
  if (!active) {
    return {
      status: "disabled",
      algorithm: null,
      digest: null,
      digest_algorithm: null,
      digest_type: null,
      ds: null,
      flags: null,
      key_tag: null,
      key_type: null,
      public_key: null,
      modified_on: null,
      dnssec_multi_signer: false,
      dnssec_presigned: false
    }
  }
  const keyTag = ctx.rng.range(1000, 65000)
  const digest = (ctx.rng.hexId() + ctx.rng.hexId()).toUpperCase()
  return {
    status: "active",
    algorithm: "13",
    digest,
    digest_algorithm: "SHA256",
    digest_type: "2",
    ds: `${zoneName}. 3600 IN DS ${keyTag} 13 2 ${digest}`,
    flags: 257,
    key_tag: keyTag,
    key_type: "ECDSAP256SHA256",
    public_key: `${ctx.rng.token(43)}${ctx.rng.token(43)}==`,
    modified_on: randomStamp(ctx),
    dnssec_multi_signer: false,
    dnssec_presigned: false
  }
}

const PROXIABLE = new Set(["A", "AAAA", "CNAME"])

/** The type-specific part of a DNS record. */
export interface RecordSpec {
  readonly type: string
  readonly name: string
  readonly content: string
  readonly proxied?: boolean
  readonly ttl?: number
  readonly priority?: number
  readonly data?: { readonly [key: string]: Json }
  readonly comment?: string | null
  readonly tags?: ReadonlyArray<string>
}

/** Builds a DNS record (of the zone whose listing it is put in: the record itself does not name it). */
export const makeRecord = (ctx: Ctx, spec: RecordSpec, at?: string): DnsRecord => {
  const created = at ?? randomStamp(ctx)
  const proxiable = PROXIABLE.has(spec.type)
  const record: DnsRecord = {
    id: ctx.rng.hexId(),
    name: spec.name,
    type: spec.type,
    content: spec.content,
    proxiable,
    proxied: proxiable && (spec.proxied ?? false),
    ttl: spec.ttl ?? 1,
    tags: [...(spec.tags ?? [])],
    // CNAME records carry their flattening setting; the others send an empty object; `meta` keys are
    // present only when meaningful (TypeScript SDK record types, see the connector's API-NOTES.md).
    settings: spec.type === "CNAME" ? { flatten_cname: false } : {},
    meta: {},
    created_on: created,
    modified_on: created
  }
  if (spec.comment !== undefined && spec.comment !== null) {
    record.comment = spec.comment
    record.comment_modified_on = created
  }
  if (record.tags.length > 0) record.tags_modified_on = created
  if (spec.priority !== undefined) record.priority = spec.priority
  if (spec.data !== undefined) record.data = spec.data
  return record
}

/** Builds a rule; ids, version and timestamps are filled in. */
export const makeRule = (
  ctx: Ctx,
  rule: Omit<RulesetRule, "id" | "version" | "ref" | "last_updated" | "description" | "enabled"> & {
    readonly description?: string
    readonly enabled?: boolean
    readonly ref?: string
  },
  at: string
): RulesetRule => {
  const id = ctx.rng.hexId()
  return {
    ...rule,
    id,
    version: "1",
    ref: rule.ref ?? id,
    description: rule.description ?? "",
    enabled: rule.enabled ?? true,
    last_updated: at
  }
}

/** Builds a ruleset. Entry points (`kind: "zone"` / `"root"`) are named after their phase. */
export const makeRuleset = (
  ctx: Ctx,
  owner: RulesetOwner,
  phase: Phase,
  rules: ReadonlyArray<RulesetRule>,
  options: { readonly kind?: Ruleset["kind"]; readonly name?: string; readonly description?: string; readonly version?: number; readonly at?: string } = {}
): Ruleset => ({
  id: ctx.rng.hexId(),
  name: options.name ?? (owner.kind === "zone" ? "default" : `${phase} entry point`),
  description: options.description ?? "",
  kind: options.kind ?? (owner.kind === "zone" ? "zone" : "root"),
  phase,
  version: String(options.version ?? 1),
  last_updated: options.at ?? randomStamp(ctx),
  rules: [...rules],
  owner
})

const MANAGED_CATEGORIES = ["wordpress", "joomla", "xss", "sqli", "rce", "lfi", "php", "drupal", "directory-traversal"]

/** The managed rulesets Cloudflare publishes, with a handful of rules each (no expressions). */
export const makeManagedRulesets = (ctx: Ctx): Array<Ruleset> => {
  const defs: ReadonlyArray<[string, string, string, PlanId, number]> = [
    [MANAGED_RULESET_IDS.freeManaged, "Cloudflare Free Managed Ruleset", "Free managed rules for high-impact vulnerabilities", "free", 4],
    [MANAGED_RULESET_IDS.cloudflareManaged, "Cloudflare Managed Ruleset", "Created by the Cloudflare security team, this ruleset is designed to provide fast and effective protection for all your applications.", "pro", 8],
    [MANAGED_RULESET_IDS.owaspCore, "Cloudflare OWASP Core Ruleset", "Cloudflare's implementation of the Open Web Application Security Project (OWASP) ModSecurity Core Rule Set.", "pro", 6],
    [MANAGED_RULESET_IDS.exposedCredentials, "Cloudflare Exposed Credentials Check Ruleset", "Exposed credentials check rules", "pro", 3]
  ]
  return defs.map(([id, name, description, minPlan, count]) => {
    const at = stamp(ctx, 300)
    const rules = Array.from({ length: count }, (_, i) => {
      const category = MANAGED_CATEGORIES[(i * 3 + count) % MANAGED_CATEGORIES.length] ?? "xss"
      const rule: RulesetRule = {
        id: ctx.rng.hexId(),
        version: "1",
        action: i % 3 === 0 ? "log" : "block",
        description: `${name.replace("Cloudflare ", "")} - ${category} rule ${i + 1}`,
        enabled: i % 4 !== 3,
        ref: ctx.rng.hexId(),
        last_updated: at,
        categories: [category]
      }
      return rule
    })
    return {
      id,
      name,
      description,
      kind: "managed" as const,
      phase: "http_request_firewall_managed" as const,
      version: "71",
      last_updated: at,
      rules,
      owner: { kind: "managed" as const },
      minPlan
    }
  })
}

/** Builds an IP access rule of a zone or an account; an account rule's wire `scope` is `organization`. */
export const makeAccessRule = (
  ctx: Ctx,
  owner: AccessRuleOwner,
  mode: AccessRule["mode"],
  configuration: AccessRule["configuration"],
  notes: string
): AccessRule => {
  const at = randomStamp(ctx)
  return {
    id: ctx.rng.hexId(),
    mode,
    allowed_modes: ["whitelist", "block", "challenge", "js_challenge", "managed_challenge"],
    notes,
    configuration,
    ...(owner.kind === "account" ? { scope: { id: owner.accountId, type: "organization" as const } } : {}),
    created_on: at,
    modified_on: at,
    owner
  }
}

/** Builds an IP list with items. */
export const makeIpList = (ctx: Ctx, name: string, description: string, ips: ReadonlyArray<string>): CustomList => {
  const at = randomStamp(ctx)
  const items = ips.map((ip, i) => ({ id: ctx.rng.hexId(), ip, comment: `entry ${i + 1}`, created_on: at, modified_on: at }))
  return {
    id: ctx.rng.hexId(),
    name,
    description,
    kind: "ip",
    num_items: items.length,
    num_referencing_filters: 0,
    created_on: at,
    modified_on: at,
    items
  }
}

/** Builds an API token. User tokens start `cfut_`, account-owned ones `cfat_`. */
export const makeToken = (
  ctx: Ctx,
  name: string,
  owner: ApiToken["owner"],
  policies: ApiToken["policies"],
  status: ApiToken["status"] = "active"
): ApiToken => ({
  name,
  id: ctx.rng.hexId(),
  value: `${owner.kind === "user" ? "cfut_" : "cfat_"}${ctx.rng.token(40)}`,
  owner,
  status,
  policies
})

/** Zone-level groups of a read-only audit token (API-NOTES §7). */
export const READ_ZONE_GROUPS: ReadonlyArray<string> = [
  "Zone Read",
  "Zone Settings Read",
  "DNS Read",
  "Zone WAF Read",
  "Firewall Services Read",
  "Transform Rules Read",
  "Page Rules Read",
  "Workers Routes Read",
  "Dynamic URL Redirects Read",
  "Config Settings Read",
  "Cache Settings Read",
  "Origin Read"
]

/** Account-level groups of a read-only audit token (API-NOTES §7). */
export const READ_ACCOUNT_GROUPS: ReadonlyArray<string> = [
  "Account Settings Read",
  "Account Rulesets Read",
  "Account WAF Read",
  "Account Firewall Access Rules Read",
  "Account Filter Lists Read",
  "Workers Scripts Read",
  "Mass URL Redirects Read"
]
