/**
 * Legacy security products (firewall rules, filters, rate limits), IP access rules and custom
 * lists.
 */
import type { AccessRule, Account, ApiToken, Filter, FirewallRule, State } from "../../State.js"
import { findAccount, requireAccount, requireZone } from "../access.js"
import { compare, decodeCursor, encodeCursor, fail, pageOf, readBool, readEnum, readPage, readPerPage } from "../http.js"
import type { Route } from "../router.js"

const FIREWALL = ["Firewall Services Read", "Firewall Services Write"]
const ACCESS_RULES_ACCOUNT = ["Account Firewall Access Rules Read", "Account Firewall Access Rules Write"]
const LISTS = ["Account Filter Lists Read", "Account Filter Lists Edit"]
/** Workers scripts and custom domains accept either (operations `worker-script-list-workers`, `worker-domain-list-domains`). */
const WORKERS_SCRIPTS = ["Workers Scripts Read", "Workers Scripts Write"]
/** The documented filters of the custom-domain listing, each an exact match. */
const DOMAIN_FILTERS = ["zone_id", "zone_name", "hostname", "service", "environment"] as const

/** The account whose custom lists the token may read; account-owned tokens may not (API-NOTES §5.7). */
const listsAccount = (state: State, token: ApiToken, accountId: string, path: string): Account => {
  const account = findAccount(state, accountId, path)
  if (token.owner.kind === "account") throw fail.forbidden()
  return requireAccount(state, token, account.id, LISTS, path)
}

const contains = (haystack: string | undefined, needle: string | null): boolean =>
  needle === null || (haystack ?? "").toLowerCase().includes(needle.toLowerCase())

/** An access rule as the API sends it: without the simulator's `owner`. */
const accessRuleWire = ({ owner: _owner, ...wire }: AccessRule) => wire

const ownedByZone = (r: AccessRule, zoneId: string) => r.owner.kind === "zone" && r.owner.zoneId === zoneId
const ownedByAccount = (r: AccessRule, accountId: string) => r.owner.kind === "account" && r.owner.accountId === accountId

const accessRuleList = (rules: ReadonlyArray<AccessRule>, query: URLSearchParams) => {
  const { page, perPage } = readPage(query, { min: 1, max: 1000, default: 20 })
  const mode = readEnum(query, "mode", ["block", "challenge", "whitelist", "js_challenge", "managed_challenge"] as const)
  const target = readEnum(query, "configuration.target", ["ip", "ip_range", "asn", "country"] as const)
  const value = query.get("configuration.value")
  const notes = query.get("notes")
  const match = readEnum(query, "match", ["any", "all"] as const) ?? "all"
  const order = readEnum(query, "order", ["configuration.target", "configuration.value", "mode"] as const)
  const direction = readEnum(query, "direction", ["asc", "desc"] as const) ?? "asc"
  const predicates: Array<(r: AccessRule) => boolean> = []
  if (mode !== undefined) predicates.push((r) => r.mode === mode)
  if (target !== undefined) predicates.push((r) => r.configuration.target === target)
  if (value !== null) predicates.push((r) => r.configuration.value === value)
  if (notes !== null) predicates.push((r) => contains(r.notes, notes))
  const keep = (r: AccessRule) =>
    predicates.length === 0 || (match === "any" ? predicates.some((p) => p(r)) : predicates.every((p) => p(r)))
  const field = (r: AccessRule): string =>
    order === "configuration.target" ? r.configuration.target : order === "configuration.value" ? r.configuration.value : order === "mode" ? r.mode : ""
  const items = rules.filter(keep)
  if (order !== undefined) items.sort((a, b) => (direction === "asc" ? 1 : -1) * compare(field(a), field(b)))
  return pageOf(items.map(accessRuleWire), page, perPage)
}

/** Security routes. */
export const securityRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    template: "/zones/:zone_id/firewall/rules",
    handler: ({ token, params, state, path, query }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      const { page, perPage } = readPage(query, { min: 5, max: 100, default: 25 })
      const action = readEnum(query, "action", ["block", "challenge", "js_challenge", "managed_challenge", "allow", "log", "bypass"] as const)
      const paused = readBool(query, "paused")
      const id = query.get("id")
      const description = query.get("description")
      const rules = (state.firewallRules.get(zone.id) ?? []).filter(
        (r: FirewallRule) =>
          (action === undefined || r.action === action) &&
          (paused === undefined || r.paused === paused) &&
          (id === null || r.id === id) &&
          contains(r.description, description)
      )
      return pageOf(rules, page, perPage)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/firewall/rules/:id",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      const rule = (state.firewallRules.get(zone.id) ?? []).find((r) => r.id === params["id"])
      if (rule === undefined) throw fail.notFound(path)
      return { result: rule }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/filters",
    handler: ({ token, params, state, path, query }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      const { page, perPage } = readPage(query, { min: 5, max: 100, default: 25 })
      const paused = readBool(query, "paused")
      const id = query.get("id")
      const ref = query.get("ref")
      const filters = (state.filters.get(zone.id) ?? []).filter(
        (f: Filter) =>
          (paused === undefined || f.paused === paused) &&
          (id === null || f.id === id) &&
          (ref === null || f.ref === ref) &&
          contains(f.description, query.get("description")) &&
          contains(f.expression, query.get("expression"))
      )
      return pageOf(filters, page, perPage)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/filters/:id",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      const filter = (state.filters.get(zone.id) ?? []).find((f) => f.id === params["id"])
      if (filter === undefined) throw fail.notFound(path)
      return { result: filter }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rate_limits",
    handler: ({ token, params, state, path, query, options }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      if (options.legacyRateLimits === "gone") throw fail.gone()
      const { page, perPage } = readPage(query, { min: 1, max: 1000, default: 20, check: (n) => n === 1 || n % 5 === 0 })
      return pageOf(state.legacyRateLimits.get(zone.id) ?? [], page, perPage)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rate_limits/:id",
    handler: ({ token, params, state, path, options }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      if (options.legacyRateLimits === "gone") throw fail.gone()
      const rl = (state.legacyRateLimits.get(zone.id) ?? []).find((r) => r.id === params["id"])
      if (rl === undefined) throw fail.notFound(path)
      return { result: rl }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/firewall/access_rules/rules",
    handler: ({ token, params, state, path, query }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", FIREWALL, path)
      // Zone listings include the rules inherited from the account (they carry `scope`, type `organization`).
      const rules = state.accessRules.filter((r) => ownedByZone(r, zone.id) || ownedByAccount(r, zone.account.id))
      return accessRuleList(rules, query)
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/firewall/access_rules/rules",
    handler: ({ token, params, state, path, query }) => {
      const account = requireAccount(state, token, params["account_id"] ?? "", ACCESS_RULES_ACCOUNT, path)
      return accessRuleList(state.accessRules.filter((r) => ownedByAccount(r, account.id)), query)
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/firewall/access_rules/rules/:rule_id",
    handler: ({ token, params, state, path }) => {
      const account = requireAccount(state, token, params["account_id"] ?? "", ACCESS_RULES_ACCOUNT, path)
      const rule = state.accessRules.find((r) => ownedByAccount(r, account.id) && r.id === params["rule_id"])
      if (rule === undefined) throw fail.notFound(path)
      return { result: accessRuleWire(rule) }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rules/lists",
    handler: ({ token, params, state, path }) => {
      const account = listsAccount(state, token, params["account_id"] ?? "", path)
      return { result: (state.lists.get(account.id) ?? []).map(({ items: _items, ...list }) => list) }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rules/lists/:list_id",
    handler: ({ token, params, state, path }) => {
      const account = listsAccount(state, token, params["account_id"] ?? "", path)
      const list = (state.lists.get(account.id) ?? []).find((l) => l.id === params["list_id"])
      if (list === undefined) throw fail.notFound(path)
      const { items: _items, ...rest } = list
      return { result: rest }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rules/lists/:list_id/items",
    handler: ({ token, params, state, path, query }) => {
      const account = listsAccount(state, token, params["account_id"] ?? "", path)
      const list = (state.lists.get(account.id) ?? []).find((l) => l.id === params["list_id"])
      if (list === undefined) throw fail.notFound(path)
      const perPage = readPerPage(query, { min: 1, max: 500, default: 25 })
      const search = query.get("search")
      const items = list.items.filter((item) => {
        if (search === null || search === "") return true
        if (item.ip !== undefined) return item.ip.startsWith(search)
        if (item.hostname !== undefined) return item.hostname.url_hostname.includes(search)
        if (item.asn !== undefined) return String(item.asn) === search
        return false
      })
      const cursor = query.get("cursor")
      const offset = cursor === null || cursor === "" ? 0 : decodeCursor(cursor, list.id)
      const slice = items.slice(offset, offset + perPage)
      const cursors: Record<string, string> = {}
      if (offset > 0) cursors["before"] = encodeCursor(Math.max(0, offset - perPage), list.id)
      if (offset + perPage < items.length) cursors["after"] = encodeCursor(offset + perPage, list.id)
      return { result: slice, result_info: { cursors } }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/workers/scripts",
    handler: ({ token, params, state, path }) => {
      const account = requireAccount(state, token, params["account_id"] ?? "", ["Workers Tail Read", "Workers Scripts Read", "Workers Scripts Write"], path)
      return { result: state.workerScripts.get(account.id) ?? [] }
    }
  },
  {
    // Workers Custom Domains: one listing per account, not paginated (the SDK reads it as a single
    // page), filtered by exact `zone_id`, `zone_name`, `hostname`, `service` and `environment`
    // (https://developers.cloudflare.com/api/resources/workers/subresources/domains/methods/list/).
    method: "GET",
    template: "/accounts/:account_id/workers/domains",
    handler: ({ token, params, state, path, query }) => {
      const account = requireAccount(state, token, params["account_id"] ?? "", WORKERS_SCRIPTS, path)
      const filters = DOMAIN_FILTERS.flatMap((key) => {
        const value = query.get(key)
        return value === null ? [] : [[key, value] as const]
      })
      return { result: (state.workerDomains.get(account.id) ?? []).filter((d) => filters.every(([key, value]) => d[key] === value)) }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/workers/domains/:domain_id",
    handler: ({ token, params, state, path }) => {
      const account = requireAccount(state, token, params["account_id"] ?? "", WORKERS_SCRIPTS, path)
      const domain = (state.workerDomains.get(account.id) ?? []).find((d) => d.id === params["domain_id"])
      if (domain === undefined) throw fail.notFound(path)
      return { result: domain }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/workers/routes",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Workers Routes Read", "Workers Routes Write"], path)
      return { result: state.workerRoutes.get(zone.id) ?? [] }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/pagerules",
    handler: ({ token, params, state, path, query }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Zone Read", "Zone Write", "Page Rules Read", "Page Rules Write"], path)
      const order = readEnum(query, "order", ["status", "priority"] as const) ?? "priority"
      const direction = readEnum(query, "direction", ["asc", "desc"] as const) ?? "desc"
      readEnum(query, "match", ["any", "all"] as const)
      const status = readEnum(query, "status", ["active", "disabled"] as const)
      const rules = (state.pageRules.get(zone.id) ?? [])
        .filter((r) => status === undefined || r.status === status)
        .sort((a, b) => (direction === "asc" ? 1 : -1) * (order === "status" ? compare(a.status, b.status) : a.priority - b.priority))
      return { result: rules }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/pagerules/:pagerule_id",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Zone Read", "Zone Write", "Page Rules Read", "Page Rules Write"], path)
      const rule = (state.pageRules.get(zone.id) ?? []).find((r) => r.id === params["pagerule_id"])
      if (rule === undefined) throw fail.notFound(path)
      return { result: rule }
    }
  }
]

