/**
 * Cloudflare's API rate limits, as the connector keeps to them. Cloudflare documents 1,200 requests
 * per five minutes per user, counted together with the customer's own dashboard and scripts, and 200
 * requests per second per client IP (https://developers.cloudflare.com/fundamentals/api/reference/limits/);
 * going over blocks every call of the user for five minutes. Since 2025-09-03 every REST answer
 * announces what remains (`Ratelimit: "default";r=<remaining>;t=<seconds to reset>`) and the policy
 * (`Ratelimit-Policy: "default";q=<quota>;w=<window seconds>`), following the IETF rate-limit headers
 * draft (https://developers.cloudflare.com/changelog/2025-09-03-rate-limiting-improvement). The
 * connector reads them and spends only a share of what remains (see `API-NOTES.md`). Core knows no
 * provider's limits: this module is where Cloudflare's live.
 */
import type { AnnouncedQuota, RequestBudget } from "@plumbline/core"
import { Duration } from "effect"

/**
 * Cloudflare's documented global limit for one user, with a second of margin: requests are counted
 * when they arrive, and one that travelled slower than the request 1,200 before it must not land in
 * the same window (an overrun blocks the user for five minutes). The client's default budget.
 */
export const budget: RequestBudget.Limits = { limit: 1200, window: Duration.minutes(5), margin: Duration.seconds(1) }

/**
 * The share of the announced remaining quota the connector may spend by default: at least half of
 * what remains in a window is left to the customer's own use (dashboard, scripts).
 */
export const defaultShare = 0.5

/**
 * Cloudflare's 200 requests per second per client IP, across all tokens, with a tenth of a second of
 * margin: one budget for the whole process (every connection leaves from the same address).
 */
export const clientIpBudget: { readonly key: string; readonly limits: RequestBudget.Limits } = {
  key: "cloudflare:client-ip",
  limits: { limit: 200, window: Duration.seconds(1), margin: Duration.millis(100) }
}

/** One item of a structured-field list: its name and its integer parameters. */
interface Item {
  readonly name: string
  readonly params: ReadonlyMap<string, number>
}

const ITEM = /^"([^"\\]*)"((?:;[a-z][a-z0-9_-]*=[0-9]{1,15})*)$/

/** Parses a list of `"name";k=1;k2=2` items; `undefined` when any item is not of that form. */
const parseList = (value: string): ReadonlyArray<Item> | undefined => {
  const items: Array<Item> = []
  for (const raw of value.split(",")) {
    const m = ITEM.exec(raw.trim())
    if (m === null) return undefined
    const params = new Map<string, number>()
    for (const p of (m[2] ?? "").split(";").slice(1)) {
      const [key, num] = p.split("=") as [string, string]
      if (params.has(key)) return undefined
      params.set(key, Number(num))
    }
    items.push({ name: m[1] ?? "", params })
  }
  return items
}

/** The `"default"` item of a list header and the two parameters it must carry. */
const defaultItem = (
  header: string,
  value: string,
  keys: readonly [string, string]
): { readonly ok: true; readonly a: number; readonly b: number } | { readonly ok: false; readonly reason: string } => {
  const items = parseList(value)
  if (items === undefined) return { ok: false, reason: `${header} is not a list of "name";key=integer items` }
  const item = items.find((i) => i.name === "default")
  if (item === undefined) return { ok: false, reason: `${header} has no "default" item` }
  const a = item.params.get(keys[0])
  const b = item.params.get(keys[1])
  if (a === undefined || b === undefined) return { ok: false, reason: `${header} "default" lacks ${keys[0]} or ${keys[1]}` }
  return { ok: true, a, b }
}

/**
 * Reads Cloudflare's `Ratelimit` (required for an announcement) and `Ratelimit-Policy` (optional)
 * headers, strictly: only the `"default"` item, integer parameters. Lower-case header names.
 */
export const parseHeaders = (headers: Readonly<Record<string, string | undefined>>): AnnouncedQuota.Reading => {
  const limit = headers["ratelimit"]
  if (limit === undefined) return { _tag: "Absent" }
  const now = defaultItem("Ratelimit", limit, ["r", "t"])
  if (!now.ok) return { _tag: "Malformed", reason: now.reason }
  const policyHeader = headers["ratelimit-policy"]
  if (policyHeader === undefined) return { _tag: "Announced", announcement: { remaining: now.a, resetSeconds: now.b } }
  const policy = defaultItem("Ratelimit-Policy", policyHeader, ["q", "w"])
  if (!policy.ok) return { _tag: "Malformed", reason: policy.reason }
  if (policy.b < 1 || now.b > policy.b) return { _tag: "Malformed", reason: "Ratelimit t is beyond the policy's window" }
  return { _tag: "Announced", announcement: { remaining: now.a, resetSeconds: now.b, quota: policy.a, windowSeconds: policy.b } }
}
