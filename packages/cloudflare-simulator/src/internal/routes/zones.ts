/**
 * Zones, zone settings, DNSSEC and DNS records.
 */
import type { DnsRecord, Json, Zone } from "../../State.js"
import { planAtLeast } from "../../State.js"
import { allowsZone, holdsAnywhere, requireZone } from "../access.js"
import { compare, fail, pageOf, readBool, readEnum, readPage } from "../http.js"
import type { Route } from "../router.js"

const ZONE_DETAIL_GROUPS = [
  "Zone Read",
  "Zone Write",
  "Zone Settings Read",
  "Zone Settings Write",
  "DNS Read",
  "DNS Write",
  "Workers Routes Read",
  "Workers Scripts Read",
  "SSL and Certificates Read",
  "Logs Read",
  "Page Rules Read",
  "Firewall Services Read",
  "Analytics Read"
]

/** DNS record types the API accepts (2026 adds OPENPGPKEY). */
export const DNS_TYPES = [
  "A",
  "AAAA",
  "CAA",
  "CERT",
  "CNAME",
  "DNSKEY",
  "DS",
  "HTTPS",
  "LOC",
  "MX",
  "NAPTR",
  "NS",
  "OPENPGPKEY",
  "PTR",
  "SMIMEA",
  "SRV",
  "SSHFP",
  "SVCB",
  "TLSA",
  "TXT",
  "URI"
] as const

const NAME_OPERATOR = /^(equal|not_equal|starts_with|ends_with|contains|starts_with_case_sensitive|ends_with_case_sensitive|contains_case_sensitive):(.*)$/

const nameMatcher = (raw: string): ((name: string) => boolean) => {
  const m = NAME_OPERATOR.exec(raw)
  const op = m?.[1] ?? "equal"
  const sensitive = op.endsWith("_case_sensitive")
  const needle = sensitive ? (m?.[2] ?? raw) : (m?.[2] ?? raw).toLowerCase()
  return (name) => {
    const n = sensitive ? name : name.toLowerCase()
    switch (op.replace("_case_sensitive", "")) {
      case "not_equal":
        return n !== needle
      case "starts_with":
        return n.startsWith(needle)
      case "ends_with":
        return n.endsWith(needle)
      case "contains":
        return n.includes(needle)
      default:
        return n === needle
    }
  }
}

const combine = <A>(predicates: ReadonlyArray<(a: A) => boolean>, match: "any" | "all"): ((a: A) => boolean) =>
  predicates.length === 0
    ? () => true
    : match === "any"
      ? (a) => predicates.some((p) => p(a))
      : (a) => predicates.every((p) => p(a))

const zoneField = (zone: Zone, order: string): unknown => {
  switch (order) {
    case "status":
      return zone.status
    case "account.id":
      return zone.account.id
    case "account.name":
      return zone.account.name
    case "plan.id":
      return zone.plan.id
    default:
      return zone.name
  }
}

const textFilter = (query: URLSearchParams, field: string, get: (r: DnsRecord) => string | undefined): Array<(r: DnsRecord) => boolean> => {
  const out: Array<(r: DnsRecord) => boolean> = []
  const exact = query.get(field) ?? query.get(`${field}.exact`)
  if (exact !== null) out.push((r) => (get(r) ?? "").toLowerCase() === exact.toLowerCase())
  const contains = query.get(`${field}.contains`)
  if (contains !== null) out.push((r) => (get(r) ?? "").toLowerCase().includes(contains.toLowerCase()))
  const starts = query.get(`${field}.startswith`)
  if (starts !== null) out.push((r) => (get(r) ?? "").toLowerCase().startsWith(starts.toLowerCase()))
  const ends = query.get(`${field}.endswith`)
  if (ends !== null) out.push((r) => (get(r) ?? "").toLowerCase().endsWith(ends.toLowerCase()))
  return out
}

const dnsFilters = (query: URLSearchParams): ((r: DnsRecord) => boolean) => {
  const predicates: Array<(r: DnsRecord) => boolean> = []
  const type = readEnum(query, "type", DNS_TYPES)
  if (type !== undefined) predicates.push((r) => r.type === type)
  predicates.push(...textFilter(query, "name", (r) => r.name))
  predicates.push(...textFilter(query, "content", (r) => r.content))
  predicates.push(...textFilter(query, "comment", (r) => r.comment))
  const proxied = readBool(query, "proxied")
  if (proxied !== undefined) predicates.push((r) => r.proxied === proxied)
  if (query.has("comment.present")) predicates.push((r) => r.comment !== undefined && r.comment !== "")
  if (query.has("comment.absent")) predicates.push((r) => r.comment === undefined || r.comment === "")
  const tagMatch = readEnum(query, "tag_match", ["any", "all"] as const) ?? "all"
  const tagPredicates: Array<(r: DnsRecord) => boolean> = []
  for (const tag of query.getAll("tag")) {
    const [tname, tvalue] = tag.split(":", 2)
    tagPredicates.push((r) => r.tags.some((t) => (tvalue === undefined ? t.split(":")[0] === tname : t === tag)))
  }
  const tagPresent = query.get("tag.present")
  if (tagPresent !== null) tagPredicates.push((r) => r.tags.some((t) => t.split(":")[0] === tagPresent))
  const tagAbsent = query.get("tag.absent")
  if (tagAbsent !== null) tagPredicates.push((r) => !r.tags.some((t) => t.split(":")[0] === tagAbsent))
  if (tagPredicates.length > 0) predicates.push(combine(tagPredicates, tagMatch))
  const search = query.get("search")
  if (search !== null) {
    const s = search.toLowerCase()
    predicates.push((r) => r.name.toLowerCase().includes(s) || r.content.toLowerCase().includes(s) || (r.comment ?? "").toLowerCase().includes(s))
  }
  const match = readEnum(query, "match", ["any", "all"] as const) ?? "all"
  return combine(predicates, match)
}

const recordField = (r: DnsRecord, order: string): unknown => {
  switch (order) {
    case "name":
      return r.name
    case "content":
      return r.content
    case "ttl":
      return r.ttl
    case "proxied":
      return r.proxied ? 1 : 0
    default:
      return r.type
  }
}

/** Records quota per plan (API-NOTES §5.5, zones created after 2024-09-01 on Free). */
/** The values the API accepts for the settings a security audit changes; other settings take any value. */
const SETTING_VALUES: Readonly<Record<string, ReadonlyArray<string>>> = {
  ssl: ["off", "flexible", "full", "strict"],
  always_use_https: ["on", "off"],
  min_tls_version: ["1.0", "1.1", "1.2", "1.3"],
  tls_1_3: ["on", "off", "zrt"],
  security_level: ["off", "essentially_off", "low", "medium", "high", "under_attack"]
}

const recordQuota = (zone: Zone): number => (zone.plan.legacy_id === "free" ? 200 : 3500)

const str = (body: Record<string, unknown>, key: string): string | undefined => {
  const v = body[key]
  return typeof v === "string" ? v : undefined
}

/** Zone and DNS routes. */
export const zoneRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    template: "/zones",
    handler: ({ token, query, state }) => {
      const { page, perPage } = readPage(query, { min: 5, max: 50, default: 20 })
      const order = readEnum(query, "order", ["name", "status", "account.id", "account.name", "plan.id"] as const) ?? "name"
      const direction = readEnum(query, "direction", ["asc", "desc"] as const) ?? "asc"
      const match = readEnum(query, "match", ["any", "all"] as const) ?? "all"
      const status = readEnum(query, "status", ["initializing", "pending", "active", "moved"] as const)
      const name = query.get("name")
      if (name !== null && name.length > 253) throw fail.invalidParam("name must be at most 253 characters")
      const accountId = query.get("account.id")
      const accountName = query.get("account.name")
      const typeParam = query.get("type")
      const types = typeParam === null ? ["full", "partial", "secondary"] : typeParam.split(",")
      for (const t of types) if (!["full", "partial", "secondary", "internal"].includes(t)) throw fail.invalidParam("type must be full, partial, secondary or internal")
      const predicates: Array<(z: Zone) => boolean> = []
      if (name !== null) {
        const m = nameMatcher(name)
        predicates.push((z) => m(z.name))
      }
      if (status !== undefined) predicates.push((z) => z.status === status)
      if (accountId !== null) predicates.push((z) => z.account.id === accountId)
      if (accountName !== null) predicates.push((z) => z.account.name === accountName)
      const filter = combine(predicates, match)
      // Refused only when the token holds Zone Read nowhere; an account without zones is an empty page.
      if (!holdsAnywhere(token, ["Zone Read"])) throw fail.forbidden()
      const zones = state.zones
        .filter((z) => allowsZone(token, z, ["Zone Read"]) && types.includes(z.type) && filter(z))
        .sort((a, b) => (direction === "asc" ? 1 : -1) * (compare(zoneField(a, order), zoneField(b, order)) || compare(a.name, b.name)))
      return pageOf(zones, page, perPage)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id",
    handler: ({ token, params, state, path }) => ({ result: requireZone(state, token, params["zone_id"] ?? "", ZONE_DETAIL_GROUPS, path) })
  },
  {
    method: "GET",
    template: "/zones/:zone_id/settings",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Zone Settings Read", "Zone Settings Write"], path)
      return { result: state.settings.get(zone.id) ?? [] }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/settings/:setting_id",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Zone Settings Read", "Zone Settings Write"], path)
      const setting = (state.settings.get(zone.id) ?? []).find((s) => s.id === params["setting_id"])
      if (setting === undefined) throw fail.notFound(path)
      return { result: setting }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/dnssec",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["DNS Read", "DNS Write"], path)
      const dnssec = state.dnssec.get(zone.id)
      if (dnssec === undefined) throw fail.notFound(path)
      return { result: dnssec }
    }
  },
  {
    method: "PATCH",
    template: "/zones/:zone_id/settings/:setting_id",
    handler: ({ token, params, state, path, body, now }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["Zone Settings Write"], path)
      const setting = (state.settings.get(zone.id) ?? []).find((s) => s.id === params["setting_id"])
      if (setting === undefined) throw fail.notFound(path)
      if (typeof body !== "object" || body === null || Array.isArray(body) || !("value" in body)) {
        throw fail.invalidBody(1007, "Invalid value for zone setting: a value is required.")
      }
      if (!setting.editable) throw fail.invalidBody(1007, `The setting ${setting.id} is not editable on this zone.`)
      const value = (body as { value: Json }).value
      const allowed = SETTING_VALUES[setting.id]
      if (allowed !== undefined && (typeof value !== "string" || !allowed.includes(value))) {
        throw fail.invalidBody(1007, `Invalid value for zone setting ${setting.id}: expected one of ${allowed.join(", ")}.`)
      }
      setting.value = value
      setting.modified_on = new Date(now()).toISOString()
      return { result: setting }
    }
  },
  {
    method: "PATCH",
    template: "/zones/:zone_id/dnssec",
    handler: ({ token, params, state, path, body, now }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["DNS Write"], path)
      const dnssec = state.dnssec.get(zone.id)
      if (dnssec === undefined) throw fail.notFound(path)
      const status = typeof body === "object" && body !== null ? (body as { status?: unknown }).status : undefined
      if (status !== "active" && status !== "disabled") throw fail.invalidBody(1007, "status must be active or disabled.")
      // Cloudflare reports "pending" until the registrar publishes the DS record; the simulator has
      // no registrar, so the zone is active at once.
      dnssec.status = status === "active" ? "active" : "disabled"
      dnssec.modified_on = new Date(now()).toISOString()
      return { result: dnssec }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/dns_records",
    handler: ({ token, params, state, path, query }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["DNS Read", "DNS Write"], path)
      const { page, perPage } = readPage(query, { min: 1, max: 5_000_000, default: 100 })
      const order = readEnum(query, "order", ["type", "name", "content", "ttl", "proxied"] as const) ?? "type"
      const direction = readEnum(query, "direction", ["asc", "desc"] as const) ?? "asc"
      const filter = dnsFilters(query)
      const records = (state.dnsRecords.get(zone.id) ?? [])
        .filter(filter)
        .sort((a, b) => (direction === "asc" ? 1 : -1) * compare(recordField(a, order), recordField(b, order)))
      return pageOf(records, page, perPage)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/dns_records/:dns_record_id",
    handler: ({ token, params, state, path }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["DNS Read", "DNS Write"], path)
      const record = (state.dnsRecords.get(zone.id) ?? []).find((r) => r.id === params["dns_record_id"])
      if (record === undefined) throw fail.notFound(path)
      return { result: record }
    }
  },
  {
    method: "POST",
    template: "/zones/:zone_id/dns_records",
    handler: ({ token, params, state, path, body, rng, now }) => {
      const zone = requireZone(state, token, params["zone_id"] ?? "", ["DNS Write"], path)
      if (typeof body !== "object" || body === null || Array.isArray(body)) throw fail.invalidBody(9207, "Request body is invalid.")
      const b = body as Record<string, unknown>
      const type = str(b, "type")
      if (type === undefined || !(DNS_TYPES as ReadonlyArray<string>).includes(type)) throw fail.invalidBody(9004, "DNS record type is invalid.")
      const rawName = str(b, "name")
      if (rawName === undefined || rawName === "") throw fail.invalidBody(9005, "DNS record name is required.")
      const content = str(b, "content")
      if (content === undefined) throw fail.invalidBody(9006, "DNS record content is required.")
      const name = rawName === "@" ? zone.name : rawName.endsWith(zone.name) ? rawName : `${rawName}.${zone.name}`
      const ttl = b["ttl"] === undefined ? 1 : b["ttl"]
      if (typeof ttl !== "number" || !(ttl === 1 || (ttl >= 30 && ttl <= 86400))) throw fail.invalidBody(9021, "Invalid TTL. Must be between 30 and 86400 seconds, or 1 for Automatic.")
      const tags = Array.isArray(b["tags"]) ? b["tags"].filter((t): t is string => typeof t === "string") : []
      if (tags.length > 0 && !planAtLeast(zone.plan.legacy_id, "pro")) throw fail.invalidBody(9300, "DNS record tags are not available on the Free plan.")
      const records = state.dnsRecords.get(zone.id) ?? []
      if (records.length >= recordQuota(zone)) throw fail.invalidBody(81045, "Record quota exceeded.")
      if (records.some((r) => r.type === type && r.name === name && r.content === content)) throw fail.invalidBody(81058, "An identical record already exists.")
      const at = new Date(now()).toISOString()
      const proxiable = type === "A" || type === "AAAA" || type === "CNAME"
      const record: DnsRecord = {
        id: rng.hexId(),
        name,
        type,
        content,
        proxiable,
        proxied: proxiable && b["proxied"] === true,
        ttl,
        tags,
        settings: {},
        meta: {},
        created_on: at,
        modified_on: at
      }
      const comment = str(b, "comment")
      if (comment !== undefined) {
        record.comment = comment
        record.comment_modified_on = at
      }
      if (tags.length > 0) record.tags_modified_on = at
      if (type === "CNAME") record.settings = { flatten_cname: false }
      if (typeof b["priority"] === "number") record.priority = b["priority"]
      records.push(record)
      state.dnsRecords.set(zone.id, records)
      return { result: record }
    }
  }
]
