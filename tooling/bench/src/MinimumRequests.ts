/**
 * The fewest requests a full snapshot can make, computed from the simulator's state alone — not
 * from the connector — for a token that may read everything in every account. The same rules as
 * the connector's own request-economy test (`packages/cloudflare/test/fixtures/MinimumRequests.ts`,
 * which is test code and not exported, hence this copy):
 *
 * - every page-number or cursor listing costs max(1, ⌈n / max per_page⌉) requests at the largest
 *   page size each endpoint allows (an empty listing still costs one request to learn it is empty);
 * - collections returned whole (settings, DNSSEC, lists, scripts, routes, page rules) cost one;
 * - per zone, one ruleset listing, then one request per entry point that exists in the phases the
 *   connector reads (Sensitive Data Detection only on Enterprise zones);
 * - a list's items cost nothing when the list says it has none;
 * - the retired legacy rate limits cost one request (the 410 that says so).
 */
import type { Simulator } from "@plumbline/cloudflare-simulator"
import { State } from "@plumbline/cloudflare-simulator"

const pages = (n: number, perPage: number): number => Math.max(1, Math.ceil(n / perPage))

/** The zone phases whose entry points the connector reads (plus the response firewall on Enterprise). */
export const PHASES: ReadonlyArray<string> = [
  "http_request_firewall_custom",
  "http_request_firewall_managed",
  "http_ratelimit",
  "http_request_transform",
  "http_request_late_transform",
  "http_response_headers_transform",
  "http_request_dynamic_redirect"
]

/** The phases read in a zone on `plan`. */
export const phasesFor = (plan: string): ReadonlyArray<string> =>
  plan === "enterprise" ? [...PHASES, "http_response_firewall_managed"] : PHASES

/** Maximum page sizes the API documents. */
export const MAX = { accounts: 50, zones: 50, dns: 5000, rulesets: 50, firewall: 100, accessRules: 1000, listItems: 500 } as const

/** The minimum and where it goes. */
export interface Minimum {
  readonly total: number
  readonly breakdown: Readonly<Record<string, number>>
}

/** The minimum number of requests of a full snapshot of `state`. */
export const minimumRequests = (state: Simulator.Simulator["state"]): Minimum => {
  const breakdown: Record<string, number> = {}
  const add = (key: string, n: number) => {
    breakdown[key] = (breakdown[key] ?? 0) + n
  }
  add("accounts", pages(state.accounts.length, MAX.accounts))
  for (const account of state.accounts) {
    const zones = state.zones.filter((z) => z.account.id === account.id)
    add("zones", pages(zones.length, MAX.zones))
    add(
      "account_ip_access_rules",
      pages(state.accessRules.filter((r) => r.scope.type === "account" && r.scope.id === account.id).length, MAX.accessRules)
    )
    add("ip_lists", 1)
    for (const list of state.lists.get(account.id) ?? []) if (list.num_items > 0) add("ip_list_items", pages(list.items.length, MAX.listItems))
    add("workers_scripts", 1)
    for (const zone of zones) {
      const plan = zone.plan.legacy_id
      add("zone_settings", 1)
      add("dnssec", 1)
      add("dns_records", pages((state.dnsRecords.get(zone.id) ?? []).length, MAX.dns))
      const visible = state.rulesets.filter(
        (rs) =>
          (rs.owner.kind === "zone" && rs.owner.zoneId === zone.id) ||
          (rs.owner.kind === "managed" && State.planAtLeast(plan, rs.minPlan ?? "free"))
      )
      add("rulesets_listing", pages(visible.length, MAX.rulesets))
      const phases = phasesFor(plan)
      add("entry_points", visible.filter((rs) => rs.owner.kind === "zone" && rs.kind === "zone" && phases.includes(rs.phase)).length)
      add("legacy_firewall_rules", pages((state.firewallRules.get(zone.id) ?? []).length, MAX.firewall))
      add("legacy_filters", pages((state.filters.get(zone.id) ?? []).length, MAX.firewall))
      add("legacy_rate_limits_410", 1)
      const zoneRules = state.accessRules.filter(
        (r) => (r.scope.type === "zone" && r.scope.id === zone.id) || (r.scope.type === "account" && r.scope.id === zone.account.id)
      )
      add("zone_ip_access_rules", pages(zoneRules.length, MAX.accessRules))
      add("workers_routes", 1)
      add("page_rules", 1)
    }
  }
  return { total: Object.values(breakdown).reduce((a, b) => a + b, 0), breakdown }
}
