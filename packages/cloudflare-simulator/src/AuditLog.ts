/**
 * The simulated account audit log. Every write the simulator performs (through the API, through the
 * admin routes, or as the customer's dashboard use played by a schedule) appends one entry; the
 * routes serve it in both of Cloudflare's shapes: Audit Logs v2 (`GET /accounts/{a}/logs/audit`,
 * cursor paging) and v1 (`GET /accounts/{a}/audit_logs`, page paging). Real logs are not instant,
 * so an entry can be made to appear only `delayMs` after its write; a test can also drop chosen
 * entries for good, to prove that reconciliation catches what the feed never announced.
 *
 * Shapes: the v2 entry and its query parameters follow the `cloudflare` SDK's
 * `resources/accounts/logs/audit.d.ts` (7.3.0, generated from Cloudflare's OpenAPI schema) and the
 * API reference (developers.cloudflare.com/api/resources/accounts/subresources/logs/subresources/audit/methods/list);
 * the v1 entry follows the SDK's `shared.d.ts` `AuditLog` and `resources/audit-logs/audit-logs.d.ts`.
 * Cloudflare publishes no catalogue of `resource.product` / `resource.type` values: ours are in
 * `RESOURCE_KINDS` below and the README says so.
 */

/** The actor context of an entry (v2 `actor.context`). */
export type ActorContext = "api_token" | "dash"

/** One write as the simulator saw it; the log derives both shapes from it. */
export interface Write {
  readonly method: string
  /** The API path below `/client/v4` (`/zones/{z}/dns_records`). */
  readonly path: string
  readonly status: number
  readonly at: number
  readonly context: ActorContext
  readonly accountId: string
  readonly accountName: string
  readonly zone?: { readonly id: string; readonly name: string } | undefined
  readonly resourceId?: string | undefined
  readonly tokenId?: string | undefined
  readonly tokenName?: string | undefined
  readonly rayId: string
  /** The request body, recorded as v2's `resource.request`. */
  readonly request?: unknown
}

/** A stored entry: the write, its id, its order, when it becomes visible, and whether it was dropped. */
export interface Entry {
  readonly id: string
  readonly seq: number
  readonly write: Write
  readonly visibleAt: number
  dropped: boolean
}

/** How a path is named in the log: the product, the resource type and the resource scope. */
interface ResourceKind {
  readonly pattern: RegExp
  readonly product: string
  readonly type: string
  readonly scope: "accounts" | "zones" | "user"
}

/**
 * Path → `resource.product` / `resource.type`. Our own vocabulary (Cloudflare publishes none);
 * the connector maps entries by `raw.uri` first and only falls back on these.
 */
export const RESOURCE_KINDS: ReadonlyArray<ResourceKind> = [
  { pattern: /^\/zones\/[^/]+\/dns_records/, product: "dns", type: "dns_record", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/dnssec/, product: "dns", type: "dnssec", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/settings/, product: "zone_settings", type: "zone_setting", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/rulesets\/[^/]+\/rules/, product: "rulesets", type: "ruleset_rule", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/rulesets/, product: "rulesets", type: "ruleset", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/firewall\/access_rules/, product: "firewall", type: "access_rule", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/firewall\/rules/, product: "firewall", type: "firewall_rule", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/filters/, product: "firewall", type: "filter", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/rate_limits/, product: "firewall", type: "rate_limit", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/workers\/routes/, product: "workers", type: "worker_route", scope: "zones" },
  { pattern: /^\/zones\/[^/]+\/pagerules/, product: "page_rules", type: "page_rule", scope: "zones" },
  { pattern: /^\/zones(\/[^/]+)?$/, product: "zones", type: "zone", scope: "zones" },
  { pattern: /^\/accounts\/[^/]+\/rulesets/, product: "rulesets", type: "ruleset", scope: "accounts" },
  { pattern: /^\/accounts\/[^/]+\/firewall\/access_rules/, product: "firewall", type: "access_rule", scope: "accounts" },
  { pattern: /^\/accounts\/[^/]+\/rules\/lists\/[^/]+\/items/, product: "lists", type: "list_item", scope: "accounts" },
  { pattern: /^\/accounts\/[^/]+\/rules\/lists/, product: "lists", type: "list", scope: "accounts" },
  { pattern: /^\/accounts\/[^/]+\/workers\/scripts/, product: "workers", type: "worker_script", scope: "accounts" },
  { pattern: /^\/accounts\/[^/]+\/tokens/, product: "api_tokens", type: "api_token", scope: "accounts" },
  { pattern: /^\/user\/tokens/, product: "api_tokens", type: "api_token", scope: "user" },
  { pattern: /^\/accounts\/[^/]+$/, product: "accounts", type: "account", scope: "accounts" }
]

const kindOf = (path: string): ResourceKind =>
  RESOURCE_KINDS.find((k) => k.pattern.test(path)) ?? { pattern: /.*/, product: "other", type: "other", scope: "accounts" }

const ACTION_TYPE: Record<string, "create" | "update" | "delete"> = { POST: "create", PUT: "update", PATCH: "update", DELETE: "delete" }
/** v1's action verbs (`add`, `change`, `delete`), as v1 entries in Cloudflare's examples use them. */
const ACTION_TYPE_V1: Record<string, string> = { POST: "add", PUT: "change", PATCH: "change", DELETE: "delete" }

/** Cloudflare's v2 `action.time` has second precision (API reference example `2024-04-26T17:31:07Z`). */
const seconds = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(".000Z", "Z")

/** The actor every simulated write is attributed to (the customer's user). */
export const ACTOR = { id: "f6b5de0326bb5182b8a4840ee01ec774", email: "customer@example.com", ip: "198.51.100.7" } as const

/** The entry in the v2 shape (`AuditListResponse`). */
export const toV2 = (entry: Entry): Record<string, unknown> => {
  const w = entry.write
  const kind = kindOf(w.path)
  const actor: Record<string, unknown> = { id: ACTOR.id, context: w.context, email: ACTOR.email, ip_address: ACTOR.ip, type: "user" }
  if (w.context === "api_token") {
    if (w.tokenId !== undefined) actor["token_id"] = w.tokenId
    if (w.tokenName !== undefined) actor["token_name"] = w.tokenName
  }
  const out: Record<string, unknown> = {
    id: entry.id,
    account: { id: w.accountId, name: w.accountName },
    action: {
      description: `${ACTION_TYPE[w.method] ?? "update"} ${kind.type}`,
      result: w.status < 400 ? "success" : "failure",
      time: seconds(w.at),
      type: ACTION_TYPE[w.method] ?? "update"
    },
    actor,
    raw: {
      cf_ray_id: w.rayId,
      method: w.method,
      status_code: w.status,
      uri: `/client/v4${w.path}`,
      user_agent: w.context === "dash" ? "Mozilla/5.0 (dashboard)" : "plumbline-simulator"
    },
    resource: {
      id: w.resourceId ?? "",
      product: kind.product,
      type: kind.type,
      scope: kind.scope,
      request: w.request ?? {},
      response: {}
    }
  }
  if (w.zone !== undefined) out["zone"] = { id: w.zone.id, name: w.zone.name }
  return out
}

/** The entry in the v1 shape (`AuditLog`): no URI, the zone in `metadata`. */
export const toV1 = (entry: Entry): Record<string, unknown> => {
  const w = entry.write
  const kind = kindOf(w.path)
  const metadata: Record<string, unknown> = {}
  if (w.zone !== undefined) {
    metadata["zone_id"] = w.zone.id
    metadata["zone_name"] = w.zone.name
  }
  return {
    id: entry.id,
    action: { result: w.status < 400, type: ACTION_TYPE_V1[w.method] ?? "change" },
    actor: { id: ACTOR.id, email: ACTOR.email, ip: ACTOR.ip, type: "user" },
    interface: w.context === "dash" ? "UI" : "API",
    metadata,
    newValue: "",
    oldValue: "",
    owner: { id: w.accountId },
    resource: { id: w.resourceId ?? "", type: kind.type },
    when: new Date(w.at).toISOString()
  }
}

/** Options of the log. */
export interface AuditLogOptions {
  /** How long after its write an entry appears (ms). Default 0. */
  readonly delayMs?: number
}

/** The log of one simulator. */
export interface AuditLog {
  readonly entries: ReadonlyArray<Entry>
  /** Appends an entry for a write; returns it (dropped already when a drop rule matched). */
  readonly record: (write: Write) => Entry
  /** Changes the delay for entries recorded from now on. */
  readonly setDelay: (ms: number) => void
  readonly delayMs: () => number
  /**
   * Drops the next `count` (default 1) entries whose write matches: they are never served.
   * Returns how many drops are still pending after previous rules.
   */
  readonly dropNext: (match: (write: Write) => boolean, count?: number) => void
  /** Drops an already recorded entry by id. */
  readonly drop: (id: string) => boolean
  /** The entries of an account visible at `now`, oldest first (ties by order of writing). */
  readonly visible: (accountId: string, now: number) => ReadonlyArray<Entry>
  /** Accounts whose v2 endpoint answers 403 (v2 not enabled), for the v1 fallback. */
  readonly v2Refused: Set<string>
}

const registry = new WeakMap<object, AuditLog>()

/** The log attached to a simulator's state (the routes reach it through the state they are given). */
export const of = (state: object): AuditLog | undefined => registry.get(state)

/** Builds a log and attaches it to `state`. `nextId` gives entry ids (seeded, so stable). */
export const make = (state: object, nextId: () => string, options: AuditLogOptions = {}): AuditLog => {
  const entries: Array<Entry> = []
  let delay = options.delayMs ?? 0
  let seq = 0
  const drops: Array<{ match: (write: Write) => boolean; remaining: number }> = []
  const log: AuditLog = {
    entries,
    record: (write) => {
      const rule = drops.find((d) => d.remaining > 0 && d.match(write))
      if (rule !== undefined) rule.remaining--
      const entry: Entry = { id: nextId(), seq: seq++, write, visibleAt: write.at + delay, dropped: rule !== undefined }
      entries.push(entry)
      return entry
    },
    setDelay: (ms) => {
      delay = ms
    },
    delayMs: () => delay,
    dropNext: (match, count = 1) => {
      drops.push({ match, remaining: count })
    },
    drop: (id) => {
      const entry = entries.find((e) => e.id === id)
      if (entry === undefined) return false
      entry.dropped = true
      return true
    },
    visible: (accountId, now) => entries.filter((e) => !e.dropped && e.visibleAt <= now && e.write.accountId === accountId),
    v2Refused: new Set()
  }
  registry.set(state, log)
  return log
}
