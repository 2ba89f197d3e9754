/**
 * The account audit log in both shapes: v2 (`/logs/audit`, `since`/`before` required, cursor
 * paging with `limit`, include/exclude filters) and v1 (`/audit_logs`, page paging). Both need
 * Account Settings Read (or Write) on the account; v2 answers 403 on accounts set to refuse it.
 */
import * as AuditLog from "../../AuditLog.js"
import { requireAccount } from "../access.js"
import { decodeCursor, encodeCursor, fail, pageOf, readBool, readEnum, readPage } from "../http.js"
import type { Route, RouteContext } from "../router.js"

/** Both endpoints' permission (API reference: "Accepted Permissions: Account Settings Write, Account Settings Read"). */
export const AUDIT_LOG_GROUPS = ["Account Settings Read", "Account Settings Write"]

/** v2 `limit`: default 100 (schema); the maximum is not published, we allow 1–1000. */
const V2_LIMIT = { min: 1, max: 1000, default: 100 }

/** `2019-04-30` (UTC midnight) or an RFC3339 timestamp, as both endpoints accept. */
const readDate = (query: URLSearchParams, name: string, required: boolean): number | undefined => {
  const raw = query.get(name)
  if (raw === null || raw === "") {
    if (required) throw fail.invalidParam(`${name} is required`)
    return undefined
  }
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(raw) ? Date.parse(`${raw}T00:00:00Z`) : Date.parse(raw)
  if (Number.isNaN(ms)) throw fail.invalidParam(`${name} must be a date (2019-04-30) or an RFC3339 timestamp`)
  return ms
}

type Obj = Readonly<Record<string, unknown>>

/** The value at `path` in a rendered entry. */
const pick = (e: Obj, path: ReadonlyArray<string>): unknown => {
  let v: unknown = e
  for (const key of path) v = typeof v === "object" && v !== null ? (v as Obj)[key] : undefined
  return v
}

/** A v2 filter: where the entry holds the value of each query name. */
const V2_FIELDS: Record<string, ReadonlyArray<string>> = {
  id: ["id"],
  audit_log_id: ["id"],
  account_name: ["account", "name"],
  action_result: ["action", "result"],
  action_type: ["action", "type"],
  actor_context: ["actor", "context"],
  actor_email: ["actor", "email"],
  actor_id: ["actor", "id"],
  actor_ip_address: ["actor", "ip_address"],
  actor_token_id: ["actor", "token_id"],
  actor_token_name: ["actor", "token_name"],
  actor_type: ["actor", "type"],
  raw_cf_ray_id: ["raw", "cf_ray_id"],
  raw_method: ["raw", "method"],
  raw_status_code: ["raw", "status_code"],
  raw_uri: ["raw", "uri"],
  resource_id: ["resource", "id"],
  resource_product: ["resource", "product"],
  resource_scope: ["resource", "scope"],
  resource_type: ["resource", "type"],
  zone_id: ["zone", "id"],
  zone_name: ["zone", "name"]
}

/** Values of a repeatable parameter, in either spelling (`zone_id=a&zone_id=b` or `zone_id[]=a`). */
const many = (query: URLSearchParams, name: string): Array<string> => [...query.getAll(name), ...query.getAll(`${name}[]`)]

const v2Filter = (query: URLSearchParams) => {
  const rules: Array<{ path: ReadonlyArray<string>; include: Array<string>; exclude: Array<string> }> = []
  for (const [name, path] of Object.entries(V2_FIELDS)) {
    const include = many(query, name)
    const exclude = many(query, `${name}.not`)
    if (include.length > 0 || exclude.length > 0) rules.push({ path, include, exclude })
  }
  return (e: Obj): boolean =>
    rules.every((r) => {
      const value = String(pick(e, r.path) ?? "").toLowerCase()
      return (r.include.length === 0 || r.include.some((v) => v.toLowerCase() === value)) && !r.exclude.some((v) => v.toLowerCase() === value)
    })
}

const logOf = (ctx: RouteContext): AuditLog.AuditLog => {
  const log = AuditLog.of(ctx.state)
  if (log === undefined) throw fail.noRoute()
  return log
}

const inWindow = (entries: ReadonlyArray<AuditLog.Entry>, since: number | undefined, before: number | undefined, direction: "asc" | "desc") =>
  entries
    // `since` is inclusive, `before` exclusive: a reader that resumes at the last `before` sees every entry once.
    .filter((e) => (since === undefined || e.write.at >= since) && (before === undefined || e.write.at < before))
    .slice()
    .sort((a, b) => (direction === "asc" ? 1 : -1) * (a.write.at - b.write.at || a.seq - b.seq))

/** Audit log routes. */
export const auditRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    template: "/accounts/:account_id/logs/audit",
    handler: (ctx) => {
      const account = requireAccount(ctx.state, ctx.token, ctx.params["account_id"] ?? "", AUDIT_LOG_GROUPS, ctx.path)
      const log = logOf(ctx)
      if (log.v2Refused.has(account.id)) throw fail.forbidden()
      const since = readDate(ctx.query, "since", true)
      const before = readDate(ctx.query, "before", true)
      const direction = readEnum(ctx.query, "direction", ["asc", "desc"] as const) ?? "desc"
      const rawLimit = ctx.query.get("limit")
      const limit = rawLimit === null ? V2_LIMIT.default : Number(rawLimit)
      if (!Number.isInteger(limit) || limit < V2_LIMIT.min || limit > V2_LIMIT.max) {
        throw fail.invalidParam(`limit must be a number between ${V2_LIMIT.min} and ${V2_LIMIT.max}`)
      }
      const keep = v2Filter(ctx.query)
      const matching = inWindow(log.visible(account.id, ctx.now()), since, before, direction)
        .map(AuditLog.toV2)
        .filter(keep)
      // The cursor is bound to the query it came from (without the cursor itself).
      const salt = [...ctx.query.entries()].filter(([k]) => k !== "cursor").map(([k, v]) => `${k}=${v}`).sort().join("&")
      const cursor = ctx.query.get("cursor")
      const offset = cursor === null || cursor === "" ? 0 : decodeCursor(cursor, `${account.id}?${salt}`)
      const page = matching.slice(offset, offset + limit)
      const next = offset + limit < matching.length ? encodeCursor(offset + limit, `${account.id}?${salt}`) : undefined
      return { result: page, result_info: { count: page.length, ...(next === undefined ? {} : { cursor: next }) } }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/audit_logs",
    handler: (ctx) => {
      const account = requireAccount(ctx.state, ctx.token, ctx.params["account_id"] ?? "", AUDIT_LOG_GROUPS, ctx.path)
      const log = logOf(ctx)
      // v1: per_page default 100, at most 1000 (API reference, `per_page`).
      const { page, perPage } = readPage(ctx.query, { min: 1, max: 1000, default: 100 })
      const since = readDate(ctx.query, "since", false)
      const before = readDate(ctx.query, "before", false)
      const direction = readEnum(ctx.query, "direction", ["asc", "desc"] as const) ?? "desc"
      const hideUserLogs = readBool(ctx.query, "hide_user_logs") ?? false
      const id = ctx.query.get("id")
      const actionType = ctx.query.get("action.type")
      const actorEmail = ctx.query.get("actor.email")
      const actorIp = ctx.query.get("actor.ip")
      const zoneName = ctx.query.get("zone.name")
      const entries = inWindow(log.visible(account.id, ctx.now()), since, before, direction)
        .filter((e) => !hideUserLogs || !e.write.path.startsWith("/user/"))
        .map(AuditLog.toV1)
        .filter((e) => {
          if (id !== null && e["id"] !== id) return false
          if (actionType !== null && pick(e, ["action", "type"]) !== actionType) return false
          if (actorEmail !== null && pick(e, ["actor", "email"]) !== actorEmail) return false
          if (actorIp !== null && pick(e, ["actor", "ip"]) !== actorIp) return false
          if (zoneName !== null && pick(e, ["metadata", "zone_name"]) !== zoneName) return false
          return true
        })
      const ok = pageOf(entries, page, perPage)
      const info = ok.result_info ?? {}
      return { result: ok.result, result_info: { page: info["page"], per_page: info["per_page"], count: info["count"], total_count: info["total_count"] } }
    }
  }
]
