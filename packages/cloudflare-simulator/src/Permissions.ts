/**
 * The permission groups the simulator knows, with the scope each applies to, and the groups each
 * ruleset phase needs. Names follow the 2026 operations file (`x-api-token-group`); the
 * dashboard's alternative names that the API treats as the same thing ("Zone WAF" and "Firewall
 * Services") are accepted for each other, as API-NOTES §7 records.
 */
import { createHash } from "node:crypto"

/** Where a permission group applies. */
export type PermissionScope = "zone" | "account" | "user"

/** One entry of `GET /user/tokens/permission_groups`. */
export interface PermissionGroup {
  readonly id: string
  readonly name: string
  readonly scope: PermissionScope
}

const SCOPE_URN: Record<PermissionScope, string> = {
  zone: "com.cloudflare.api.account.zone",
  account: "com.cloudflare.api.account",
  user: "com.cloudflare.api.user"
}

/** The Cloudflare scope URN of a permission group, as `scopes[]` reports it. */
export const scopeUrn = (scope: PermissionScope): string => SCOPE_URN[scope]

// Ids Cloudflare publishes in the schema examples are kept; the rest are derived from the name so
// they are stable across runs.
const KNOWN_IDS: Record<string, string> = {
  "Billing Read": "7cf72faf220841aabcfdfab81c43c4f6",
  "Workers KV Storage Read": "8b47d2786a534c08a1f94ee8f9f599ef",
  "Workers Scripts Read": "1a71c399035b4950a1bd1466bbe4f420",
  "Workers Scripts Write": "e086da7e2179491d91ee5f35b3ca210a"
}

const groupId = (name: string): string =>
  KNOWN_IDS[name] ?? createHash("md5").update(`permission-group:${name}`).digest("hex")

const readWrite = (scope: PermissionScope, base: string, write = "Write"): Array<[string, PermissionScope]> => [
  [`${base} Read`, scope],
  [`${base} ${write}`, scope]
]

const DEFINITIONS: ReadonlyArray<[string, PermissionScope]> = [
  ...readWrite("zone", "Zone"),
  ...readWrite("zone", "Zone Settings"),
  ...readWrite("zone", "DNS"),
  ...readWrite("zone", "Zone WAF"),
  ...readWrite("zone", "Firewall Services"),
  ...readWrite("zone", "Transform Rules"),
  ...readWrite("zone", "Zone Transform Rules"),
  ...readWrite("zone", "Page Rules"),
  ...readWrite("zone", "Workers Routes"),
  ...readWrite("zone", "Dynamic URL Redirects"),
  ...readWrite("zone", "Config Settings"),
  ...readWrite("zone", "Cache Settings"),
  ...readWrite("zone", "Origin"),
  ...readWrite("zone", "Response Compression"),
  ...readWrite("zone", "Custom Errors"),
  ...readWrite("zone", "Bot Management"),
  ...readWrite("zone", "Sanitize"),
  ...readWrite("zone", "HTTP DDoS Managed Ruleset"),
  ...readWrite("zone", "Managed headers"),
  ...readWrite("zone", "Logs"),
  ...readWrite("zone", "Analytics"),
  ...readWrite("zone", "SSL and Certificates"),
  ...readWrite("account", "Account Settings"),
  ...readWrite("account", "Account Rulesets"),
  ...readWrite("account", "Account WAF"),
  ...readWrite("account", "Account Firewall Access Rules"),
  ...readWrite("account", "Account Filter Lists", "Edit"),
  ...readWrite("account", "Workers Scripts"),
  ...readWrite("account", "Mass URL Redirects"),
  ...readWrite("account", "Magic Firewall"),
  ...readWrite("account", "L4 DDoS Managed Ruleset"),
  ...readWrite("account", "Account API Tokens"),
  ...readWrite("account", "Billing"),
  ...readWrite("user", "API Tokens")
]

/** Every permission group, sorted by name. */
export const permissionGroups: ReadonlyArray<PermissionGroup> = DEFINITIONS.map(([name, scope]) => ({
  id: groupId(name),
  name,
  scope
})).sort((a, b) => a.name.localeCompare(b.name))

const byName = new Map(permissionGroups.map((g) => [g.name, g]))

/** Looks up a group by its name. */
export const permissionGroup = (name: string): PermissionGroup | undefined => byName.get(name)

/**
 * Names that grant the same thing. The operations file calls Zone Read "Zone Zone Read" on
 * `GET /zones`; the WAF phases are "Zone WAF" in the API and "Firewall Services" in older
 * tokens; transform rules appear as both "Transform Rules" and "Zone Transform Rules".
 */
const ALIASES: ReadonlyArray<ReadonlyArray<string>> = [
  ["Zone WAF Read", "Firewall Services Read"],
  ["Zone WAF Write", "Firewall Services Write"],
  ["Transform Rules Read", "Zone Transform Rules Read"],
  ["Transform Rules Write", "Zone Transform Rules Write"]
]

/** Expands a list of accepted groups with their aliases. */
export const withAliases = (names: ReadonlyArray<string>): ReadonlyArray<string> => {
  const out = new Set(names)
  for (const set of ALIASES) if (set.some((n) => out.has(n))) for (const n of set) out.add(n)
  return [...out]
}

/** A ruleset phase the simulator serves. */
export const PHASES = [
  "ddos_l4",
  "ddos_l7",
  "http_config_settings",
  "http_custom_errors",
  "http_log_custom_fields",
  "http_ratelimit",
  "http_request_cache_settings",
  "http_request_dynamic_redirect",
  "http_request_firewall_custom",
  "http_request_firewall_managed",
  "http_request_late_transform",
  "http_request_origin",
  "http_request_redirect",
  "http_request_sanitize",
  "http_request_sbfm",
  "http_request_transform",
  "http_response_compression",
  "http_response_firewall_managed",
  "http_response_headers_transform",
  "magic_transit",
  "magic_transit_ids_managed",
  "magic_transit_managed",
  "magic_transit_ratelimit"
] as const

/** A ruleset phase. */
export type Phase = (typeof PHASES)[number]

/** Is this string a phase the simulator knows? */
export const isPhase = (s: string): s is Phase => (PHASES as ReadonlyArray<string>).includes(s)

/** The product a phase belongs to: the base of its permission group names, per level. */
const PHASE_GROUP: Record<Phase, { readonly zone: string | null; readonly account: string | null }> = {
  http_request_firewall_custom: { zone: "Zone WAF", account: "Account WAF" },
  http_request_firewall_managed: { zone: "Zone WAF", account: "Account WAF" },
  http_ratelimit: { zone: "Zone WAF", account: "Account WAF" },
  http_response_firewall_managed: { zone: "Zone WAF", account: "Account WAF" },
  http_request_transform: { zone: "Transform Rules", account: null },
  http_request_late_transform: { zone: "Transform Rules", account: null },
  http_response_headers_transform: { zone: "Transform Rules", account: null },
  http_request_dynamic_redirect: { zone: "Dynamic URL Redirects", account: null },
  http_request_redirect: { zone: null, account: "Mass URL Redirects" },
  http_request_origin: { zone: "Origin", account: null },
  http_config_settings: { zone: "Config Settings", account: null },
  http_request_cache_settings: { zone: "Cache Settings", account: null },
  http_response_compression: { zone: "Response Compression", account: null },
  http_custom_errors: { zone: "Custom Errors", account: null },
  ddos_l7: { zone: "HTTP DDoS Managed Ruleset", account: "L4 DDoS Managed Ruleset" },
  ddos_l4: { zone: null, account: "L4 DDoS Managed Ruleset" },
  http_request_sbfm: { zone: "Bot Management", account: null },
  http_request_sanitize: { zone: "Sanitize", account: null },
  http_log_custom_fields: { zone: "Logs", account: null },
  magic_transit: { zone: null, account: "Magic Firewall" },
  magic_transit_managed: { zone: null, account: "Magic Firewall" },
  magic_transit_ids_managed: { zone: null, account: "Magic Firewall" },
  magic_transit_ratelimit: { zone: null, account: "Magic Firewall" }
}

/**
 * The groups that may read (or write) a phase's entry point. At zone level the phase's own group
 * (with aliases) is needed; at account level the phase's account group or Account Rulesets.
 */
export const phaseGroups = (phase: Phase, level: "zone" | "account", access: "Read" | "Write"): ReadonlyArray<string> => {
  const base = PHASE_GROUP[phase][level]
  const accountRulesets = `Account Rulesets ${access}`
  if (level === "zone") return base === null ? [] : withAliases([`${base} ${access}`])
  return base === null ? [accountRulesets] : withAliases([`${base} ${access}`, accountRulesets])
}
