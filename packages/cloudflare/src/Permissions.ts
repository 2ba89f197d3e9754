/**
 * The exact Cloudflare permission (token permission group) each resource needs to be read, as
 * the 2026 operations file (`x-api-token-group`) and the dashboard name them. These are the
 * strings a customer looks for when editing a token, so they are what `PermissionMissing`,
 * snapshots (`forbidden`) and connection set-up (`grants`) report.
 */

/** The read permission groups the connector uses. */
export const Permission = {
  AccountSettingsRead: "Account Settings Read",
  AccountRulesetsRead: "Account Rulesets Read",
  AccountFirewallAccessRulesRead: "Account Firewall Access Rules Read",
  AccountFilterListsRead: "Account Filter Lists Read",
  WorkersScriptsRead: "Workers Scripts Read",
  ZoneRead: "Zone Read",
  ZoneSettingsRead: "Zone Settings Read",
  DnsRead: "DNS Read",
  ZoneWafRead: "Zone WAF Read",
  FirewallServicesRead: "Firewall Services Read",
  TransformRulesRead: "Transform Rules Read",
  DynamicUrlRedirectsRead: "Dynamic URL Redirects Read",
  PageRulesRead: "Page Rules Read",
  WorkersRoutesRead: "Workers Routes Read"
} as const

/** One of the permission groups above. */
export type Permission = (typeof Permission)[keyof typeof Permission]

/**
 * Per resource: the permission to grant, and the other groups Cloudflare also accepts for the same
 * read (for example Account Rulesets Read on the zone's account opens every zone entry point).
 */
export const byResource: Readonly<Record<string, { readonly permission: Permission; readonly alternatives: ReadonlyArray<string> }>> = {
  accounts: { permission: Permission.AccountSettingsRead, alternatives: [] },
  zones: { permission: Permission.ZoneRead, alternatives: [] },
  zone_settings: { permission: Permission.ZoneSettingsRead, alternatives: [] },
  dnssec: { permission: Permission.DnsRead, alternatives: [] },
  dns_records: { permission: Permission.DnsRead, alternatives: [] },
  waf_custom_rules: { permission: Permission.ZoneWafRead, alternatives: [Permission.FirewallServicesRead, Permission.AccountRulesetsRead] },
  managed_rulesets: { permission: Permission.ZoneWafRead, alternatives: [Permission.FirewallServicesRead, Permission.AccountRulesetsRead] },
  rate_limit_rules: { permission: Permission.ZoneWafRead, alternatives: [Permission.FirewallServicesRead, Permission.AccountRulesetsRead] },
  // `listAccountRulesets` / `getAccountEntrypointRuleset` also accept Account WAF Read (2026 operations).
  account_rules: { permission: Permission.AccountRulesetsRead, alternatives: ["Account WAF Read"] },
  sensitive_data_rules: { permission: Permission.ZoneWafRead, alternatives: [Permission.FirewallServicesRead, Permission.AccountRulesetsRead] },
  transform_rules: { permission: Permission.TransformRulesRead, alternatives: ["Zone Transform Rules Read"] },
  redirect_rules: { permission: Permission.DynamicUrlRedirectsRead, alternatives: ["Single Redirect Read"] },
  legacy_firewall_rules: { permission: Permission.FirewallServicesRead, alternatives: [] },
  legacy_filters: { permission: Permission.FirewallServicesRead, alternatives: [] },
  legacy_rate_limits: { permission: Permission.FirewallServicesRead, alternatives: [] },
  ip_access_rules: { permission: Permission.FirewallServicesRead, alternatives: [] },
  account_ip_access_rules: { permission: Permission.AccountFirewallAccessRulesRead, alternatives: [] },
  ip_lists: { permission: Permission.AccountFilterListsRead, alternatives: [] },
  ip_list_items: { permission: Permission.AccountFilterListsRead, alternatives: [] },
  workers_scripts: { permission: Permission.WorkersScriptsRead, alternatives: [] },
  workers_routes: { permission: Permission.WorkersRoutesRead, alternatives: [] },
  // `worker-domain-list-domains` accepts Workers Scripts Read (or Write), as the scripts listing
  // (https://developers.cloudflare.com/api/resources/workers/subresources/domains/methods/list/).
  workers_custom_domains: { permission: Permission.WorkersScriptsRead, alternatives: [] },
  page_rules: { permission: Permission.PageRulesRead, alternatives: [Permission.ZoneRead] }
}

/** The permission a resource needs (throws on an unknown name: a programming error). */
export const forResource = (resource: string): Permission => {
  const entry = byResource[resource]
  if (entry === undefined) throw new Error(`No permission declared for resource "${resource}"`)
  return entry.permission
}

/** The read-only token template that lets the connector read everything (API-NOTES §7). */
export const template: { readonly zone: ReadonlyArray<Permission>; readonly account: ReadonlyArray<Permission> } = {
  zone: [
    Permission.ZoneRead,
    Permission.ZoneSettingsRead,
    Permission.DnsRead,
    Permission.ZoneWafRead,
    Permission.FirewallServicesRead,
    Permission.TransformRulesRead,
    Permission.DynamicUrlRedirectsRead,
    Permission.PageRulesRead,
    Permission.WorkersRoutesRead
  ],
  account: [
    Permission.AccountSettingsRead,
    Permission.AccountRulesetsRead,
    Permission.AccountFirewallAccessRulesRead,
    Permission.AccountFilterListsRead,
    Permission.WorkersScriptsRead
  ]
}

/**
 * Why an optional permission is worth granting, for a set-up wizard. Account Settings Read opens
 * the account audit log, the change feed's best mode (ChangeFeed.ts).
 */
export const purposes: Readonly<Partial<Record<Permission, string>>> = {
  [Permission.AccountSettingsRead]: "for faster change detection (the account audit log)"
}
