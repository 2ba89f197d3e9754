/**
 * The Cloudflare dashboard link that pre-fills the "create API token" form with the read permission
 * groups the connector needs, for the connect page (issue #13). Cloudflare's documented user-token
 * template URL (https://developers.cloudflare.com/fundamentals/api/how-to/account-owned-token-template/):
 * `https://dash.cloudflare.com/profile/api-tokens?permissionGroupKeys=<URL-encoded JSON array of
 * { key, type }>&accountId=*&zoneId=all&name=<token name>`, `type` one of read, edit, revoke, run,
 * purge. The page documents keys for a few groups only; a group without a documented key is left
 * out of the link (a guessed key could pre-fill nothing, or the wrong group) and the connect page
 * lists it by name for the customer to add by hand.
 */
import { Permissions } from "@plumbline/cloudflare"

/**
 * The documented permission keys of the groups the connector reads (from the page's "Permission
 * reference" table: account_settings, workers_scripts, workers_routes, zone_dns, zone,
 * firewall_services, page_rules).
 */
export const documentedKeys: Readonly<Partial<Record<Permissions.Permission, string>>> = {
  [Permissions.Permission.ZoneRead]: "zone",
  [Permissions.Permission.DnsRead]: "zone_dns",
  [Permissions.Permission.FirewallServicesRead]: "firewall_services",
  [Permissions.Permission.PageRulesRead]: "page_rules",
  [Permissions.Permission.WorkersRoutesRead]: "workers_routes",
  [Permissions.Permission.AccountSettingsRead]: "account_settings",
  [Permissions.Permission.WorkersScriptsRead]: "workers_scripts"
}

/** Zone-level reads the posture checks stand on: the token should have all of them. */
export const requiredPermissions: ReadonlyArray<string> = Permissions.template.zone

/** Account-level reads that add account rulesets, IP lists and Workers; the zone checks run without them. */
export const optionalPermissions: ReadonlyArray<string> = Permissions.template.account

/** Why each optional permission is worth granting, as the connector says (issue #15: the audit log). */
export const permissionPurposes: Readonly<Record<string, string>> = Object.fromEntries(
  optionalPermissions.flatMap((p) => {
    const purpose = Permissions.purposes[p as Permissions.Permission]
    return purpose === undefined ? [] : [[p, purpose] as const]
  })
)

/** The template link for `permissions`, the token named `name`. */
export const url = (permissions: ReadonlyArray<string>, name: string): string => {
  const keys = permissions.flatMap((p) => {
    const key = documentedKeys[p as Permissions.Permission]
    return key === undefined ? [] : [{ key, type: "read" }]
  })
  // encodeURIComponent, as the page's example (`%5B%7B%22key%22%3A…`, `name=Custom%20Token`), not form encoding.
  const encoded = encodeURIComponent(JSON.stringify(keys))
  return `https://dash.cloudflare.com/profile/api-tokens?permissionGroupKeys=${encoded}&accountId=*&zoneId=all&name=${encodeURIComponent(name)}`
}
