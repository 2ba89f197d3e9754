/**
 * What an audit log entry can have changed, as change-feed marks: the snapshot scopes
 * (`connection:<id>`, `account:<id>`, `zone:<id>`) and the resources in them to re-read. An entry
 * is mapped by its request URI first (`raw.uri`, v2 only: the API path is documented and exact),
 * then by its resource type, then by its zone; what cannot be attributed marks its whole zone, or
 * the whole connection (the root). A failed action, a read (`view`) and writes Plumbline reads
 * nothing of (members) mark nothing. Account rulesets reach zones: they mark `account_rules` in
 * every zone of the account. Cloudflare publishes no catalogue of
 * `resource.type` values; the types we know are the simulator's (API-NOTES "Change feed").
 */
import { ChangeFeed } from "@plumbline/core"
import { Schema } from "effect"
import * as Accounts from "./resources/Accounts.js"
import * as AccountRules from "./resources/AccountRules.js"
import * as Dnssec from "./resources/Dnssec.js"
import * as DnsRecords from "./resources/DnsRecords.js"
import * as IpAccessRules from "./resources/IpAccessRules.js"
import * as IpLists from "./resources/IpLists.js"
import * as LegacyFirewallRules from "./resources/LegacyFirewallRules.js"
import * as LegacyRateLimits from "./resources/LegacyRateLimits.js"
import * as ManagedRulesets from "./resources/ManagedRulesets.js"
import * as PageRules from "./resources/PageRules.js"
import * as RateLimitRules from "./resources/RateLimitRules.js"
import * as RedirectRules from "./resources/RedirectRules.js"
import * as SensitiveDataRules from "./resources/SensitiveDataRules.js"
import * as TransformRules from "./resources/TransformRules.js"
import * as WafCustomRules from "./resources/WafCustomRules.js"
import * as Workers from "./resources/Workers.js"
import * as Zones from "./resources/Zones.js"
import * as ZoneSettings from "./resources/ZoneSettings.js"

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/** A v2 entry (`GET /accounts/{a}/logs/audit`), every field optional as in the SDK's `AuditListResponse`. */
export const V2Entry = Schema.Struct({
  id: Schema.String,
  account: opt(Schema.Struct({ id: opt(Schema.String), name: opt(Schema.String) })),
  action: opt(Schema.Struct({ result: opt(Schema.String), time: opt(Schema.String), type: opt(Schema.String) })),
  raw: opt(Schema.Struct({ method: opt(Schema.String), uri: opt(Schema.String) })),
  resource: opt(Schema.Struct({ id: opt(Schema.String), product: opt(Schema.String), type: opt(Schema.String), scope: opt(Schema.Unknown) })),
  zone: opt(Schema.Struct({ id: opt(Schema.String), name: opt(Schema.String) }))
})
export type V2Entry = typeof V2Entry.Type

/** A v1 entry (`GET /accounts/{a}/audit_logs`), as the SDK's `AuditLog`: no URI, the zone in `metadata`. */
export const V1Entry = Schema.Struct({
  id: Schema.String,
  action: opt(Schema.Struct({ result: opt(Schema.Boolean), type: opt(Schema.String) })),
  owner: opt(Schema.Struct({ id: opt(Schema.String) })),
  resource: opt(Schema.Struct({ id: opt(Schema.String), type: opt(Schema.String) })),
  metadata: opt(Schema.Unknown),
  when: opt(Schema.String)
})
export type V1Entry = typeof V1Entry.Type

/** What the mapping knows of the connection, from the previous snapshot. */
export interface Context {
  /** The root scope's key (`connection:<id>`). */
  readonly root: string
  /** The account of a zone, when the previous snapshot knows the zone. */
  readonly accountOfZone: (zoneId: string) => string | undefined
  /** The zones of an account in the previous snapshot. */
  readonly zonesOfAccount: (accountId: string) => ReadonlyArray<string>
  /** A zone's id by name (v1 entries name the zone). */
  readonly zoneByName: (name: string) => string | undefined
}

/** The resources read from a zone's ruleset entry points, by phase. */
export const RESOURCE_OF_PHASE: Readonly<Record<string, string>> = Object.fromEntries(
  (
    [
      [WafCustomRules.PHASES, WafCustomRules.resource.name],
      [ManagedRulesets.PHASES, ManagedRulesets.resource.name],
      [RateLimitRules.PHASES, RateLimitRules.resource.name],
      [TransformRules.PHASES, TransformRules.resource.name],
      [RedirectRules.PHASES, RedirectRules.resource.name],
      [SensitiveDataRules.PHASES, SensitiveDataRules.resource.name]
    ] as const
  ).flatMap(([phases, name]) => phases.map((phase) => [phase, name] as const))
)

/** Every ruleset-based zone resource (a ruleset edit whose phase is unknown may touch any). */
export const RULESET_RESOURCES: ReadonlyArray<string> = [...new Set(Object.values(RESOURCE_OF_PHASE))]

const LEGACY_FIREWALL = [LegacyFirewallRules.rules.name, LegacyFirewallRules.filters.name]
const LISTS = [IpLists.lists.name, IpLists.items.name]

type Target = { readonly zone?: string | undefined; readonly account?: string | undefined }
type Rule = (target: Target, ctx: Context, reason: string) => ReadonlyArray<ChangeFeed.Mark> | undefined

const mark = (scope: string, reason: string, resources?: ReadonlyArray<string>): ChangeFeed.Mark =>
  new ChangeFeed.Mark({ scope, reason, ...(resources === undefined ? {} : { resources: [...resources] }) })

const inZone =
  (resources: ReadonlyArray<string>): Rule =>
  (t, _ctx, reason) =>
    t.zone === undefined ? undefined : [mark(`zone:${t.zone}`, reason, resources)]

/** A zone itself changed (plan, pause, …): its record in the account, and everything in it (plan gates). */
const zoneItself: Rule = (t, ctx, reason) => {
  const account = t.account ?? (t.zone === undefined ? undefined : ctx.accountOfZone(t.zone))
  if (account === undefined) return undefined
  return [mark(`account:${account}`, reason, [Zones.resource.name]), ...(t.zone === undefined ? [] : [mark(`zone:${t.zone}`, reason)])]
}

const inAccount =
  (resources: ReadonlyArray<string>): Rule =>
  (t, _ctx, reason) =>
    t.account === undefined ? undefined : [mark(`account:${t.account}`, reason, resources)]

/** Account IP access rules are also listed, inherited, in every zone of the account. */
const accountAccessRules: Rule = (t, ctx, reason) =>
  t.account === undefined
    ? undefined
    : [
        mark(`account:${t.account}`, reason, [IpAccessRules.account.name]),
        ...ctx.zonesOfAccount(t.account).map((z) => mark(`zone:${z}`, reason, [IpAccessRules.zone.name]))
      ]

/**
 * Account rulesets (entry points and the custom rulesets they execute) are read per zone, as
 * `account_rules` (AccountRules.ts): a change marks that resource in every zone of the account.
 */
const accountRulesets: Rule = (t, ctx, reason) =>
  t.account === undefined ? undefined : ctx.zonesOfAccount(t.account).map((z) => mark(`zone:${z}`, reason, [AccountRules.resource.name]))

const nothing: Rule = () => []
const wholeConnection = (ctx: Context, reason: string): ReadonlyArray<ChangeFeed.Mark> => [mark(ctx.root, reason)]
const root: Rule = (_t, ctx, reason) => wholeConnection(ctx, reason)
const accountRecord: Rule = (_t, ctx, reason) => [mark(ctx.root, reason, [Accounts.resource.name])]

/** URI (below `/client/v4`) → rule, first match wins. */
const BY_URI: ReadonlyArray<readonly [RegExp, (m: RegExpExecArray) => Target, Rule]> = [
  [/^\/zones\/([^/]+)\/dns_records(\/|$)/, (m) => ({ zone: m[1] }), inZone([DnsRecords.resource.name])],
  [/^\/zones\/([^/]+)\/dnssec(\/|$)/, (m) => ({ zone: m[1] }), inZone([Dnssec.resource.name])],
  [/^\/zones\/([^/]+)\/settings(\/|$)/, (m) => ({ zone: m[1] }), inZone([ZoneSettings.resource.name])],
  [
    /^\/zones\/([^/]+)\/rulesets\/phases\/([^/]+)\/entrypoint(\/|$)/,
    (m) => ({ zone: m[1], phase: m[2] }) as Target,
    (t, ctx, reason) => {
      const phase = (t as { phase?: string }).phase ?? ""
      const resource = RESOURCE_OF_PHASE[phase]
      return inZone(resource === undefined ? RULESET_RESOURCES : [resource])(t, ctx, reason)
    }
  ],
  [/^\/zones\/([^/]+)\/rulesets(\/|$)/, (m) => ({ zone: m[1] }), inZone(RULESET_RESOURCES)],
  [/^\/zones\/([^/]+)\/firewall\/access_rules(\/|$)/, (m) => ({ zone: m[1] }), inZone([IpAccessRules.zone.name])],
  [/^\/zones\/([^/]+)\/firewall\/rules(\/|$)/, (m) => ({ zone: m[1] }), inZone(LEGACY_FIREWALL)],
  [/^\/zones\/([^/]+)\/filters(\/|$)/, (m) => ({ zone: m[1] }), inZone(LEGACY_FIREWALL)],
  [/^\/zones\/([^/]+)\/rate_limits(\/|$)/, (m) => ({ zone: m[1] }), inZone([LegacyRateLimits.resource.name])],
  [/^\/zones\/([^/]+)\/workers\/routes(\/|$)/, (m) => ({ zone: m[1] }), inZone([Workers.routes.name])],
  [/^\/zones\/([^/]+)\/pagerules(\/|$)/, (m) => ({ zone: m[1] }), inZone([PageRules.resource.name])],
  [/^\/zones\/([^/]+)$/, (m) => ({ zone: m[1] }), zoneItself],
  [/^\/zones$/, () => ({}), zoneItself],
  [/^\/accounts\/([^/]+)\/rulesets(\/|$)/, (m) => ({ account: m[1] }), accountRulesets],
  [/^\/accounts\/([^/]+)\/firewall\/access_rules(\/|$)/, (m) => ({ account: m[1] }), accountAccessRules],
  [/^\/accounts\/([^/]+)\/rules\/lists(\/|$)/, (m) => ({ account: m[1] }), inAccount(LISTS)],
  [/^\/accounts\/([^/]+)\/workers\/scripts(\/|$)/, (m) => ({ account: m[1] }), inAccount([Workers.scripts.name])],
  [/^\/accounts\/([^/]+)\/members(\/|$)/, (m) => ({ account: m[1] }), nothing],
  // A token change may change what Plumbline's own credential can read: everything.
  [/^\/accounts\/([^/]+)\/tokens(\/|$)/, (m) => ({ account: m[1] }), root],
  [/^\/user\/tokens(\/|$)/, () => ({}), root],
  [/^\/accounts\/([^/]+)$/, (m) => ({ account: m[1] }), accountRecord]
]

/** `resource.type` → rule, when the URI is absent or unknown. */
const BY_TYPE: Readonly<Record<string, Rule>> = {
  dns_record: inZone([DnsRecords.resource.name]),
  dnssec: inZone([Dnssec.resource.name]),
  zone_setting: inZone([ZoneSettings.resource.name]),
  ruleset: (t, ctx, reason) => (t.zone === undefined ? accountRulesets(t, ctx, reason) : inZone(RULESET_RESOURCES)(t, ctx, reason)),
  ruleset_rule: (t, ctx, reason) => (t.zone === undefined ? accountRulesets(t, ctx, reason) : inZone(RULESET_RESOURCES)(t, ctx, reason)),
  access_rule: (t, ctx, reason) => (t.zone !== undefined ? inZone([IpAccessRules.zone.name])(t, ctx, reason) : accountAccessRules(t, ctx, reason)),
  firewall_rule: inZone(LEGACY_FIREWALL),
  filter: inZone(LEGACY_FIREWALL),
  rate_limit: inZone([LegacyRateLimits.resource.name]),
  worker_route: inZone([Workers.routes.name]),
  page_rule: inZone([PageRules.resource.name]),
  zone: zoneItself,
  list: inAccount(LISTS),
  list_item: inAccount(LISTS),
  worker_script: inAccount([Workers.scripts.name]),
  account: accountRecord,
  api_token: root
}

/** The conservative default: the whole zone when the entry names one, else the whole connection. */
const fallback = (t: Target, ctx: Context, reason: string): ReadonlyArray<ChangeFeed.Mark> =>
  t.zone !== undefined ? [mark(`zone:${t.zone}`, reason)] : wholeConnection(ctx, reason)

/** The API path of a URI: without the version prefix (`/client/v4`, the dashboard's `/api/v4`) and query. */
export const apiPath = (uri: string): string => {
  const path = uri.replace(/^https?:\/\/[^/]+/, "").split("?")[0] ?? ""
  return path.replace(/^\/(client|api)\/v4/, "").replace(/\/+$/, "") || "/"
}

const byTypeOrFallback = (type: string | undefined, target: Target, ctx: Context, reason: string): ReadonlyArray<ChangeFeed.Mark> => {
  const rule = type === undefined ? undefined : BY_TYPE[type]
  const marks = rule === undefined ? undefined : rule(target, ctx, reason)
  return marks ?? fallback(target, ctx, reason)
}

/** The marks of a v2 entry. */
export const marksOfV2 = (entry: V2Entry, ctx: Context): ReadonlyArray<ChangeFeed.Mark> => {
  if (entry.action?.result === "failure" || entry.action?.type === "view") return []
  const uri = entry.raw?.uri ?? undefined
  const type = entry.resource?.type ?? undefined
  const reason = `audit log ${entry.id}: ${entry.action?.type ?? "change"} ${type ?? "resource"}${uri === undefined ? "" : ` (${entry.raw?.method ?? ""} ${apiPath(uri)})`}`
  const zone = entry.zone?.id ?? undefined
  const account = entry.account?.id ?? (zone === undefined ? undefined : ctx.accountOfZone(zone))
  const base: Target = { zone, account }
  if (uri !== undefined) {
    const path = apiPath(uri)
    for (const [pattern, target, rule] of BY_URI) {
      const m = pattern.exec(path)
      if (m === null) continue
      const t = target(m)
      const merged: Target = { ...t, zone: t.zone ?? zone, account: t.account ?? account }
      const marks = rule(merged, ctx, reason)
      if (marks !== undefined) return marks
      break
    }
  }
  return byTypeOrFallback(type, base, ctx, reason)
}

const metadataString = (metadata: unknown, key: string): string | undefined => {
  if (typeof metadata !== "object" || metadata === null) return undefined
  const v = (metadata as Record<string, unknown>)[key]
  return typeof v === "string" && v !== "" ? v : undefined
}

/** The marks of a v1 entry: by resource type, the zone from `metadata` (id, else name). */
export const marksOfV1 = (entry: V1Entry, ctx: Context): ReadonlyArray<ChangeFeed.Mark> => {
  if (entry.action?.result === false) return []
  const type = entry.resource?.type ?? undefined
  const zoneName = metadataString(entry.metadata, "zone_name")
  const zone = metadataString(entry.metadata, "zone_id") ?? (zoneName === undefined ? undefined : ctx.zoneByName(zoneName))
  const owner = entry.owner?.id ?? undefined
  const account = zone === undefined ? owner : (ctx.accountOfZone(zone) ?? owner)
  const reason = `audit log ${entry.id}: ${entry.action?.type ?? "change"} ${type ?? "resource"}${zoneName === undefined ? "" : ` in ${zoneName}`}`
  return byTypeOrFallback(type, { zone, account }, ctx, reason)
}

/**
 * Merges marks by scope: a whole-scope mark absorbs resource marks, resource lists are united;
 * reasons are joined (at most three, then a count).
 */
export const merge = (marks: ReadonlyArray<ChangeFeed.Mark>): ReadonlyArray<ChangeFeed.Mark> => {
  const byScope = new Map<string, { whole: boolean; resources: Set<string>; reasons: Array<string> }>()
  for (const m of marks) {
    const entry = byScope.get(m.scope) ?? { whole: false, resources: new Set<string>(), reasons: [] }
    if (m.resources === undefined) entry.whole = true
    else for (const r of m.resources) entry.resources.add(r)
    entry.reasons.push(m.reason)
    byScope.set(m.scope, entry)
  }
  return [...byScope.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([scope, e]) => {
      const reasons = [...new Set(e.reasons)]
      const reason = reasons.length <= 3 ? reasons.join("; ") : `${reasons.slice(0, 3).join("; ")}; and ${reasons.length - 3} more`
      return mark(scope, reason, e.whole ? undefined : [...e.resources].sort())
    })
}
