/**
 * The simulator's in-memory state. Every collection holds objects in Cloudflare's own wire shape
 * (field names as the API returns them), so reading state and reading the API give the same
 * values; links between objects (zone → account, record → zone) are by id. Tests may read and
 * mutate the state directly; the request handler sees changes immediately.
 */
import type { Phase } from "./Permissions.js"

/** A JSON value. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** A plan of a zone, by its `legacy_id`. */
export type PlanId = "free" | "pro" | "business" | "enterprise"

/** The plan ladder, lowest first. */
export const PLAN_ORDER: ReadonlyArray<PlanId> = ["free", "pro", "business", "enterprise"]

/** Is plan `a` at least plan `b`? */
export const planAtLeast = (a: PlanId, b: PlanId): boolean => PLAN_ORDER.indexOf(a) >= PLAN_ORDER.indexOf(b)

/** An account (`GET /accounts`). */
export interface Account {
  id: string
  name: string
  type: "standard" | "enterprise"
  created_on: string
  /** As the SDK's `Account.Settings` (cloudflare 7.3.0): the retired name-server defaults are gone. */
  settings: {
    enforce_twofactor: boolean
    abuse_contact_email?: string
  }
}

/** The zone's plan object, as `zone.plan` returns it. */
export interface ZonePlan {
  id: string
  name: string
  price: number
  currency: string
  frequency: string
  legacy_id: PlanId
  is_subscribed: boolean
  can_subscribe: boolean
  legacy_discount: boolean
  externally_managed: boolean
}

/** A zone (`GET /zones`). */
export interface Zone {
  id: string
  name: string
  status: "initializing" | "pending" | "active" | "moved"
  paused: boolean
  type: "full" | "partial" | "secondary" | "internal"
  development_mode: number
  name_servers: Array<string>
  original_name_servers: Array<string> | null
  original_registrar: string | null
  original_dnshost: string | null
  vanity_name_servers: Array<string>
  created_on: string
  modified_on: string
  activated_on: string | null
  meta: {
    step: number
    custom_certificate_quota: number
    page_rule_quota: number
    phishing_detected: boolean
    cdn_only: boolean
    dns_only: boolean
    foundation_dns: boolean
  }
  owner: { id: string; type: string; name: string }
  account: { id: string; name: string }
  /** Members absent, never `null`, when the zone belongs to no tenant (SDK `Zone.Tenant`, `Zone.TenantUnit`). */
  tenant: { id?: string; name?: string }
  tenant_unit: { id?: string }
  permissions: Array<string>
  plan: ZonePlan
  cname_suffix?: string
  verification_key?: string
}

/** A zone setting (`GET /zones/{id}/settings/{setting}`). */
export interface ZoneSetting {
  id: string
  value: Json
  editable: boolean
  modified_on: string | null
}

/** DNSSEC details of a zone. */
export interface Dnssec {
  status: "active" | "pending" | "disabled" | "pending-disabled" | "error"
  algorithm: string | null
  digest: string | null
  digest_algorithm: string | null
  digest_type: string | null
  ds: string | null
  flags: number | null
  key_tag: number | null
  key_type: string | null
  public_key: string | null
  modified_on: string | null
  dnssec_multi_signer: boolean
  dnssec_presigned: boolean
}

/**
 * A DNS record. As the SDK's `RecordResponse` (cloudflare 7.3.0): no `zone_id`/`zone_name` (the
 * zone is the path's) and no `locked`; `meta` holds only the shadowing/glue keys, present when true.
 */
export interface DnsRecord {
  id: string
  name: string
  type: string
  content: string
  proxiable: boolean
  proxied: boolean
  ttl: number
  priority?: number
  data?: { readonly [key: string]: Json }
  comment?: string
  tags: Array<string>
  settings: { readonly [key: string]: Json }
  meta: { is_glue?: boolean; dead_glue?: boolean; shadowed_by?: Array<string>; shadowed_records_count?: number }
  created_on: string
  modified_on: string
  /** When the comment last changed; sent only when the record has one (TypeScript SDK `RecordResponse`). */
  comment_modified_on?: string
  /** When the tags last changed; sent only when the record has some (TypeScript SDK `RecordResponse`). */
  tags_modified_on?: string
}

/** A rule inside a ruleset. */
export interface RulesetRule {
  id: string
  version: string
  action: string
  expression?: string
  description: string
  enabled: boolean
  ref: string
  last_updated: string
  action_parameters?: { readonly [key: string]: Json }
  ratelimit?: { readonly [key: string]: Json }
  logging?: { enabled: boolean }
  categories?: Array<string>
  /** Where a rule reads the credentials it checks against leaked ones (TypeScript SDK rule types). */
  exposed_credential_check?: { username_expression: string; password_expression: string }
}

/** Who owns a ruleset: a zone, an account, or Cloudflare (managed rulesets). */
export type RulesetOwner =
  | { readonly kind: "zone"; readonly zoneId: string }
  | { readonly kind: "account"; readonly accountId: string }
  | { readonly kind: "managed" }

/** A ruleset with its rules and version history. */
export interface Ruleset {
  id: string
  name: string
  description: string
  kind: "managed" | "custom" | "root" | "zone"
  phase: Phase
  version: string
  last_updated: string
  rules: Array<RulesetRule>
  /** Not on the wire: who owns it. */
  owner: RulesetOwner
  /** Not on the wire: the lowest plan that may deploy a managed ruleset. */
  minPlan?: PlanId
  /** Not on the wire: earlier versions (oldest first), recorded by write calls. */
  history?: Array<{ version: string; last_updated: string; rules: Array<RulesetRule> }>
}

/** A legacy firewall filter. */
export interface Filter {
  id: string
  expression: string
  paused: boolean
  description: string
  ref?: string
}

/** A legacy firewall rule, as the SDK's `FirewallRule` (cloudflare 7.3.0) and the 2024 schema: no timestamps. */
export interface FirewallRule {
  id: string
  paused: boolean
  description: string
  action: "block" | "challenge" | "js_challenge" | "managed_challenge" | "allow" | "log" | "bypass"
  /** Absent when the rule has none (the SDK's `priority?: number`, never `null`). */
  priority?: number
  products?: Array<string>
  ref?: string
  filter: Filter
}

/** A legacy rate limit (the product before rate limiting rules). */
export interface LegacyRateLimit {
  id: string
  disabled: boolean
  description: string
  match: {
    request: { methods: Array<string>; schemes: Array<string>; url: string }
    response: { origin_traffic: boolean }
    headers: Array<{ name: string; op: "eq" | "ne"; value: string }>
  }
  threshold: number
  period: number
  action: { mode: "simulate" | "ban" | "challenge" | "js_challenge" | "managed_challenge"; timeout: number }
  bypass: Array<{ name: "url"; value: string }>
  /** The dashboard's "Protect your login" template made this rule (issue #14 §3). */
  login_protect?: boolean
  /** Count behind NAT by request signature (cloudflare-go `RateLimit.Correlate`, Terraform `correlate { by = "nat" }`). */
  correlate?: { by: "nat" }
}

/** Where an IP access rule is defined. Not on the wire: the wire tells only inherited rules apart (`scope`). */
export type AccessRuleOwner = { readonly kind: "zone"; readonly zoneId: string } | { readonly kind: "account"; readonly accountId: string }

/** An IP access rule at zone or account level. */
export interface AccessRule {
  id: string
  mode: "block" | "challenge" | "whitelist" | "js_challenge" | "managed_challenge"
  allowed_modes: Array<string>
  notes: string
  configuration: { target: "ip" | "ip6" | "ip_range" | "asn" | "country"; value: string }
  /**
   * As the SDK's `AccessRuleListResponse.Scope` (cloudflare 7.3.0): `organization` (an account rule,
   * as a zone listing shows it inherited) or `user`; a zone's own rule has none.
   */
  scope?: { id: string; type: "user" | "organization"; email?: string }
  created_on: string
  modified_on: string
  /** Not on the wire: who owns the rule. */
  owner: AccessRuleOwner
}

/** An item of a custom list. */
export interface ListItem {
  id: string
  ip?: string
  hostname?: { url_hostname: string }
  asn?: number
  redirect?: { source_url: string; target_url: string; status_code: 301 | 302 | 307 | 308; preserve_query_string?: boolean }
  comment: string
  created_on: string
  modified_on: string
}

/** A custom list (IP, hostname, ASN or redirect) of an account. */
export interface CustomList {
  id: string
  name: string
  description: string
  kind: "ip" | "redirect" | "hostname" | "asn"
  num_items: number
  num_referencing_filters: number
  created_on: string
  modified_on: string
  /** Not on the wire inline: the items, served by `/items`. */
  items: Array<ListItem>
}

/** A Workers script (metadata only). */
export interface WorkerScript {
  id: string
  etag: string
  created_on: string
  modified_on: string
  usage_model: "standard" | "bundled" | "unbound"
  compatibility_date: string
  compatibility_flags: Array<string>
  handlers: Array<string>
  has_assets: boolean
  has_modules: boolean
  logpush: boolean
  placement_mode?: "smart"
  tail_consumers: Array<{ service: string }> | null
  tags: Array<string> | null
}

/** A Workers route of a zone. */
export interface WorkerRoute {
  id: string
  pattern: string
  script?: string
}

/**
 * A Workers Custom Domain of an account (`GET /accounts/{id}/workers/domains`): a hostname of one of
 * the account's zones served entirely by a Worker. As the SDK's `DomainListResponse` (cloudflare 7.3.0).
 */
export interface WorkerDomain {
  id: string
  /** UUID of the edge certificate Cloudflare issued for the hostname. */
  cert_id: string
  /** Deprecated by Cloudflare; `production` for Workers without environments. */
  environment: string
  hostname: string
  /** The Worker (script name). */
  service: string
  zone_id: string
  zone_name: string
}

/** A page rule. */
export interface PageRule {
  id: string
  priority: number
  status: "active" | "disabled"
  targets: Array<{ target: "url"; constraint: { operator: "matches"; value: string } }>
  actions: Array<{ id: string; value?: Json }>
  created_on: string
  modified_on: string
}

/** What a policy of a token covers. */
export type TokenResource =
  | { readonly kind: "account"; readonly accountId: string }
  | { readonly kind: "zones"; readonly zoneIds: ReadonlyArray<string> }
  | { readonly kind: "user" }

/** One policy of an API token: the groups it grants, over a resource. */
export interface TokenPolicy {
  readonly permissionGroups: ReadonlyArray<string>
  readonly resource: TokenResource
}

/** An API token: user-owned (`cfut_`) or account-owned (`cfat_`). */
export interface ApiToken {
  /** The stable name tests and the README use (`scoped`, `account`, …). */
  name: string
  id: string
  /** The secret sent as `Authorization: Bearer`. */
  value: string
  owner: { readonly kind: "user" } | { readonly kind: "account"; readonly accountId: string }
  status: "active" | "disabled" | "expired"
  not_before?: string
  expires_on?: string
  policies: Array<TokenPolicy>
}

/** The whole simulated world. */
export interface State {
  accounts: Array<Account>
  zones: Array<Zone>
  settings: Map<string, Array<ZoneSetting>>
  dnssec: Map<string, Dnssec>
  dnsRecords: Map<string, Array<DnsRecord>>
  rulesets: Array<Ruleset>
  firewallRules: Map<string, Array<FirewallRule>>
  filters: Map<string, Array<Filter>>
  legacyRateLimits: Map<string, Array<LegacyRateLimit>>
  accessRules: Array<AccessRule>
  lists: Map<string, Array<CustomList>>
  workerScripts: Map<string, Array<WorkerScript>>
  workerRoutes: Map<string, Array<WorkerRoute>>
  /** Workers Custom Domains by account id. */
  workerDomains: Map<string, Array<WorkerDomain>>
  pageRules: Map<string, Array<PageRule>>
  tokens: Array<ApiToken>
}

/** Managed rulesets Cloudflare publishes (ids from the WAF docs). */
export const MANAGED_RULESET_IDS = {
  freeManaged: "77454fe2d30c4220b5701f6fdfb893ba",
  cloudflareManaged: "efb7b8c949ac4650a09736fc376e9aee",
  owaspCore: "4814384a9e5d4991b9815dcfc25d2f1f",
  exposedCredentials: "c2e184081120413c86c3ab7e14069605"
} as const
