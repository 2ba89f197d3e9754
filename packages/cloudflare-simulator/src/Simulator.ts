/**
 * The simulator: mutable state plus one Fetch-API request handler that answers like the part of
 * Cloudflare's v4 API Plumbline reads. The handler is served by msw handlers (`Msw.ts`) in unit
 * tests and by a `node:http` server (`Server.ts`) for the SDK, demos and browser tests.
 *
 * Order of a request: admin routes (`/__admin/*`, no auth) → scheduled token revocations → the
 * per-token rate limit (edge) → fault injection (edge) → authentication → the route.
 */
import { Either } from "effect"
import * as AuditLog from "./AuditLog.js"
import type { FaultEffect, FaultOptions, FaultRule, LatencyDistribution } from "./Faults.js"
import { decodeFaultOptions, edgeErrorPage } from "./Faults.js"
import type { Ok } from "./internal/http.js"
import { ApiFailure, fail, failureBody, successBody } from "./internal/http.js"
import type { Prng } from "./internal/prng.js"
import { makePrng } from "./internal/prng.js"
import type { Route, RouteOptions } from "./internal/router.js"
import { findRoute, matchTemplate } from "./internal/router.js"
import { auditRoutes } from "./internal/routes/audit.js"
import { identityRoutes } from "./internal/routes/identity.js"
import { rulesetRoutes } from "./internal/routes/rulesets.js"
import { securityRoutes } from "./internal/routes/security.js"
import { zoneRoutes } from "./internal/routes/zones.js"
import type { ScenarioInput } from "./Scenario.js"
import { buildScenario, LARGE } from "./Scenario.js"
import type { ApiToken, State } from "./State.js"

/**
 * The per-user request budget: `limit` requests per `windowMs`, then 429 for the rest of the window.
 * Cloudflare counts the quota per user, across all of the user's tokens and their dashboard
 * (https://developers.cloudflare.com/fundamentals/api/reference/limits/), so user-owned tokens share
 * one window and an account-owned token has its account's.
 */
export interface RateLimitOptions {
  readonly limit: number
  readonly windowMs: number
}

/** The customer's own concurrent use of the user quota. */
export interface CustomerUseOptions {
  /** The share (0–1) of the limit the customer uses per window, spread evenly over it. */
  readonly share: number
}

/** What the background consumer did. */
export interface CustomerUse {
  /** Requests the customer made. */
  readonly sent: number
  /** Of them, answered 429 (the quota was exhausted or the user blocked). */
  readonly refused: number
}

/** Options of `make`. */
export interface SimulatorOptions {
  /** `"redpine"`, `"large"` or a generator config. Default `"redpine"`. */
  readonly scenario?: ScenarioInput
  /** Overrides the scenario's seed; also seeds fault decisions and ids of written objects. */
  readonly seed?: number
  /** Default 1,200 requests per 300,000 ms (Cloudflare's global limit). `false` disables it. */
  readonly rateLimit?: RateLimitOptions | false
  readonly faults?: FaultOptions
  /** The clock (ms since epoch). Default `Date.now`. */
  readonly now?: () => number
  /** How latency faults wait. Default a real timer; tests inject a recorder. */
  readonly sleep?: (ms: number) => Promise<void>
  /**
   * The customer's own use of the user quota (dashboard, scripts), as a background consumer: `share`
   * of the limit in each window, spread evenly over it. Default none.
   */
  readonly customerUse?: CustomerUseOptions
  /**
   * Whose quota `rateLimit` counts: `"user"` (default, as Cloudflare: all of a user's tokens share one)
   * or `"token"` (each token its own, for tests of a per-token budget).
   */
  readonly rateLimitPer?: "user" | "token"
  /** Requests per second per client IP, across all tokens (Cloudflare: 200). Off with `rateLimit: false`. */
  readonly ipRateLimit?: number | false
  /** The retired `GET /zones/{id}/rate_limits`: `"gone"` (410, as today; default) or `"serve"`. */
  readonly legacyRateLimits?: RouteOptions["legacyRateLimits"]
  /** The audit log: `delayMs` before an entry appears (default 0). */
  readonly auditLog?: AuditLog.AuditLogOptions
}

/**
 * A write the customer makes at a given time, as if in the dashboard (a scenario's script of
 * changes over time). It runs through the same route as the API, as the `customer` token unless
 * `token` names another, and is logged with `actor.context: "dash"`.
 */
export interface ScheduledWrite {
  /** When it happens (ms since epoch, on the simulator's clock). */
  readonly at: number
  readonly method: "POST" | "PUT" | "PATCH" | "DELETE"
  /** The API path below `/client/v4`, e.g. `/zones/{z}/dns_records`. */
  readonly path: string
  readonly body?: unknown
  readonly token?: string
}

/** What a scheduled write did, for the script's author. */
export interface WriteOutcome {
  readonly write: ScheduledWrite
  readonly status: number
  readonly result: unknown
  /** The audit entry id, when the write succeeded. */
  readonly entryId?: string
}

/** A running simulator. */
export interface Simulator {
  /** The world; read and write it freely. */
  readonly state: State
  /** Token name → secret (`Authorization: Bearer <secret>`). */
  readonly tokens: Readonly<Record<string, string>>
  /** Answers one request. */
  readonly handle: (request: Request) => Promise<Response>
  /** Requests seen so far per token name (`"unknown"` for unknown tokens, `"anonymous"` without one). */
  readonly requestCounts: () => Readonly<Record<string, number>>
  /** Replaces the fault settings (and restarts their counters). */
  readonly setFaults: (faults: FaultOptions) => void
  /** Marks a token disabled now; later requests with it get 401. */
  readonly revokeToken: (name: string) => void
  /** What the customer's background use sent and how much of it was refused. */
  readonly customerUse: () => CustomerUse
  /** 429 answers sent to API clients (not counting the background consumer), per limit. */
  readonly refusals: () => { readonly user: number; readonly ip: number }
  /** Forgets every rate-limit window. */
  readonly resetRateLimits: () => void
  /** Releases every hanging response (as a connection reset); used when a server closes. */
  readonly releaseHangs: () => void
  /** The account audit log every write appends to (delay, drops, v2 refusal). */
  readonly auditLog: AuditLog.AuditLog
  /** Adds writes to the script of changes over time; each runs once the clock reaches its `at`. */
  readonly schedule: (writes: ReadonlyArray<ScheduledWrite>) => void
  /** Runs the scheduled writes that are due now (requests do this first too); returns what they did. */
  readonly runDue: () => ReadonlyArray<WriteOutcome>
  /** Every scheduled write run so far, in order. */
  readonly outcomes: () => ReadonlyArray<WriteOutcome>
}

const ROUTES: ReadonlyArray<Route> = [...identityRoutes, ...zoneRoutes, ...rulesetRoutes, ...securityRoutes, ...auditRoutes]

const API_PREFIX = "/client/v4"

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=UTF-8", ...headers } })

interface Window {
  start: number
  count: number
  blockedUntil: number
  /** Background requests of the customer accounted so far in this window. */
  customer: number
}

interface FaultState {
  readonly rule: FaultRule
  matched: number
  hits: number
}

const routeMatches = (selector: string | undefined, method: string, template: string, path: string): boolean => {
  if (selector === undefined || selector === "*") return true
  const [m, p] = selector.includes(" ") ? (selector.split(" ", 2) as [string, string]) : ["*", selector]
  if (m !== "*" && m.toUpperCase() !== method) return false
  if (p.endsWith("*")) return template.startsWith(p.slice(0, -1)) || path.startsWith(p.slice(0, -1))
  return p === template || matchTemplate(p, path) !== undefined
}

const drawLatency = (rng: Prng, d: LatencyDistribution): number => {
  switch (d.type) {
    case "fixed":
      return d.ms
    case "uniform":
      return d.minMs + rng.next() * Math.max(0, d.maxMs - d.minMs)
    case "exponential": {
      const v = -Math.log(1 - rng.next()) * d.meanMs
      return d.maxMs === undefined ? v : Math.min(v, d.maxMs)
    }
  }
}

const mapObjects = (value: unknown, f: (o: Record<string, unknown>) => Record<string, unknown>): unknown => {
  if (Array.isArray(value)) return value.map((v) => mapObjects(v, f))
  if (typeof value === "object" && value !== null) return f(value as Record<string, unknown>)
  return value
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value)

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Builds a simulator. */
export const make = (options: SimulatorOptions = {}): Simulator => {
  const scenario = options.scenario ?? "redpine"
  const seed = options.seed ?? (typeof scenario === "object" ? scenario.seed : scenario === "large" ? LARGE.seed : 1)
  const state = buildScenario(scenario, options.seed)
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? realSleep
  const rateLimit = options.rateLimit === undefined ? { limit: 1200, windowMs: 300_000 } : options.rateLimit
  const routeOptions: RouteOptions = { legacyRateLimits: options.legacyRateLimits ?? "gone" }
  const writeRng = makePrng(`writes:${seed}`)
  const rayRng = makePrng(`ray:${seed}`)
  let faultRng = makePrng(`faults:${seed}`)
  let faults: Array<FaultState> = []
  let revocations: Array<{ token: string; at: number }> = []
  const windows = new Map<string, Window>()
  const counts = new Map<string, number>()
  const hangs = new Set<() => void>()
  const auditRng = makePrng(`audit:${seed}`)
  const auditLog = AuditLog.make(state, () => auditRng.hexId(), options.auditLog)
  let scheduled: Array<ScheduledWrite> = []
  const outcomes: Array<WriteOutcome> = []

  /** Appends one entry per account the write belongs to (user-level writes: every account). */
  const logWrite = (input: {
    method: string
    path: string
    params: Readonly<Record<string, string>>
    status: number
    at: number
    token: ApiToken | undefined
    context: AuditLog.ActorContext
    result: unknown
    request: unknown
    rayId: string
  }): Array<AuditLog.Entry> => {
    const zoneId = input.params["zone_id"]
    const zone = zoneId === undefined ? undefined : state.zones.find((z) => z.id === zoneId)
    const accountId = zone?.account.id ?? input.params["account_id"]
    const accounts = accountId === undefined ? state.accounts : state.accounts.filter((a) => a.id === accountId)
    const resultId =
      typeof input.result === "object" && input.result !== null && typeof (input.result as { id?: unknown }).id === "string"
        ? (input.result as { id: string }).id
        : undefined
    const lastParam = Object.values(input.params).at(-1)
    return accounts.map((account) =>
      auditLog.record({
        method: input.method,
        path: input.path,
        status: input.status,
        at: input.at,
        context: input.context,
        accountId: account.id,
        accountName: account.name,
        zone: zone === undefined ? undefined : { id: zone.id, name: zone.name },
        resourceId: resultId ?? lastParam,
        tokenId: input.token?.id,
        tokenName: input.token?.name,
        rayId: input.rayId,
        request: input.request
      })
    )
  }

  /** Runs the writes whose time has come, in time order, through the routes (as the dashboard would). */
  const runDue = (): ReadonlyArray<WriteOutcome> => {
    const t = now()
    const due = scheduled.filter((w) => w.at <= t).sort((a, b) => a.at - b.at)
    if (due.length === 0) return []
    scheduled = scheduled.filter((w) => w.at > t)
    const done: Array<WriteOutcome> = []
    for (const write of due) {
      const token = tokenByName(write.token ?? "customer")
      const found = findRoute(ROUTES, write.method, write.path)
      let outcome: WriteOutcome
      if (token === undefined || !("route" in found)) {
        outcome = { write, status: 404, result: null }
      } else {
        try {
          const ok = found.route.handler({ state, token, params: found.params, query: new URLSearchParams(), body: write.body, path: write.path, now, rng: writeRng, options: routeOptions })
          const status = ok.status ?? 200
          const [entry] = logWrite({ method: write.method, path: write.path, params: found.params, status, at: write.at, token, context: "dash", result: ok.result, request: write.body, rayId: rayId() })
          outcome = { write, status, result: ok.result, ...(entry === undefined ? {} : { entryId: entry.id }) }
        } catch (e) {
          if (!(e instanceof ApiFailure)) throw e
          outcome = { write, status: e.status, result: failureBody(e) }
        }
      }
      done.push(outcome)
      outcomes.push(outcome)
    }
    return done
  }

  const customerShare = options.customerUse?.share ?? 0
  const customerStats = { sent: 0, refused: 0 }
  const refusals = { user: 0, ip: 0 }
  const ipLimit = rateLimit === false || options.ipRateLimit === false ? undefined : (options.ipRateLimit ?? 200)
  const ipWindows = new Map<string, { second: number; count: number }>()

  const setFaults = (f: FaultOptions): void => {
    faultRng = makePrng(`faults:${seed}`)
    faults = (f.rules ?? []).map((rule) => ({ rule, matched: 0, hits: 0 }))
    revocations = [...(f.revocations ?? [])]
  }
  setFaults(options.faults ?? {})

  const tokenByName = (name: string): ApiToken | undefined => state.tokens.find((t) => t.name === name)
  const revokeToken = (name: string): void => {
    const token = tokenByName(name)
    if (token !== undefined) token.status = "disabled"
  }

  const count = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }

  const rayId = (): string => `${rayRng.hexId().slice(0, 16)}-SJC`

  /**
   * Cloudflare's rate-limit headers of a quota's current window, sent on every REST answer since
   * 2025-09-03: `Ratelimit: "default";r=<remaining>;t=<seconds to reset>` and
   * `Ratelimit-Policy: "default";q=<quota>;w=<window seconds>`
   * (https://developers.cloudflare.com/fundamentals/api/reference/limits/, "Rate limiting headers").
   */
  const rateHeaders = (key: string, t: number): Record<string, string> => {
    const w = windows.get(key)
    if (rateLimit === false || w === undefined) return {}
    const end = Math.max(w.start + rateLimit.windowMs, w.blockedUntil)
    return {
      ratelimit: `"default";r=${Math.max(0, rateLimit.limit - w.count)};t=${Math.max(0, Math.ceil((end - t) / 1000))}`,
      "ratelimit-policy": `"default";q=${rateLimit.limit};w=${Math.round(rateLimit.windowMs / 1000)}`
    }
  }

  /** Over the limit: every call of the quota is refused for the rest of the window. */
  const block = (w: Window, limit: RateLimitOptions) => {
    w.blockedUntil = Math.max(w.blockedUntil, w.start + limit.windowMs)
  }

  /** Accounts the customer's background requests due by `t` (evenly spread over each window). */
  const customerCatchUp = (w: Window, limit: RateLimitOptions, t: number) => {
    const due = Math.floor(customerShare * limit.limit * Math.min(1, (t - w.start) / limit.windowMs))
    for (; w.customer < due; w.customer++) {
      customerStats.sent++
      if (t < w.blockedUntil || w.count >= limit.limit) {
        customerStats.refused++
        block(w, limit)
      } else w.count++
    }
  }

  /** Applies the per-user budget; a refusal when over. */
  const checkRateLimit = (key: string, t: number, customer: boolean): Response | undefined => {
    if (rateLimit === false) return undefined
    let w = windows.get(key)
    if (w !== undefined && customer) customerCatchUp(w, rateLimit, Math.min(t, w.start + rateLimit.windowMs))
    if (w === undefined || (t - w.start >= rateLimit.windowMs && t >= w.blockedUntil)) {
      w = { start: t, count: 0, blockedUntil: 0, customer: 0 }
      windows.set(key, w)
    }
    if (customer) customerCatchUp(w, rateLimit, t)
    if (t < w.blockedUntil || w.count >= rateLimit.limit) {
      block(w, rateLimit)
      refusals.user++
      const retryAfter = Math.max(1, Math.ceil((w.blockedUntil - t) / 1000))
      return json(429, failureBody(fail.rateLimited()), { ...rateHeaders(key, t), "retry-after": String(retryAfter) })
    }
    w.count++
    return undefined
  }

  /** Cloudflare's 200 requests per second per client IP, across all tokens. */
  const checkIpLimit = (request: Request, t: number): Response | undefined => {
    if (ipLimit === undefined) return undefined
    const ip = request.headers.get("cf-connecting-ip") ?? request.headers.get("x-forwarded-for") ?? "client"
    const second = Math.floor(t / 1000)
    const w = ipWindows.get(ip)
    if (w === undefined || w.second !== second) {
      ipWindows.set(ip, { second, count: 1 })
      return undefined
    }
    if (w.count >= ipLimit) {
      refusals.ip++
      return json(429, failureBody(fail.rateLimited()), { "retry-after": "1" })
    }
    w.count++
    return undefined
  }

  /** The faults that fire for this request, in rule order. */
  const pickFaults = (method: string, template: string, path: string): Array<FaultEffect> => {
    const fired: Array<FaultEffect> = []
    for (const f of faults) {
      if (!routeMatches(f.rule.route, method, template, path)) continue
      f.matched++
      if (f.matched <= (f.rule.after ?? 0)) continue
      if (f.rule.count !== undefined && f.hits >= f.rule.count) continue
      const p = f.rule.probability ?? 1
      if (p < 1 && !faultRng.chance(p)) continue
      f.hits++
      fired.push(f.rule.effect)
    }
    return fired
  }

  const hang = (request: Request, ms: number | undefined): Promise<Response> =>
    new Promise((resolve) => {
      const done = () => {
        hangs.delete(done)
        resolve(Response.error())
      }
      hangs.add(done)
      if (request.signal.aborted) done()
      request.signal.addEventListener("abort", done, { once: true })
      if (ms !== undefined) void sleep(ms).then(done)
    })

  const admin = async (request: Request, path: string): Promise<Response> => {
    const method = request.method
    runDue()
    if (path === "/__admin/audit-log") {
      if (method === "GET") {
        return json(200, {
          delayMs: auditLog.delayMs(),
          v2Refused: [...auditLog.v2Refused],
          entries: auditLog.entries.map((e) => ({ ...AuditLog.toV2(e), visible_at: new Date(e.visibleAt).toISOString(), dropped: e.dropped }))
        })
      }
      if (method === "POST") {
        const body = (await request.json().catch(() => null)) as AdminAuditBody | null
        if (body === null || typeof body !== "object") return json(400, { ok: false, error: "body must be a JSON object" })
        if (typeof body.delayMs === "number") auditLog.setDelay(body.delayMs)
        if (Array.isArray(body.v2Refused)) {
          auditLog.v2Refused.clear()
          for (const a of body.v2Refused) auditLog.v2Refused.add(String(a))
        }
        if (typeof body.drop === "string" && !auditLog.drop(body.drop)) return json(404, { ok: false, error: `no entry ${body.drop}` })
        if (body.dropNext !== undefined) {
          const { method: m, pathPrefix, count: n } = body.dropNext
          auditLog.dropNext((w) => (m === undefined || w.method === m) && (pathPrefix === undefined || w.path.startsWith(pathPrefix)), n ?? 1)
        }
        return json(200, { ok: true })
      }
    }
    if (path === "/__admin/schedule") {
      if (method === "GET") return json(200, { pending: scheduled, outcomes })
      if (method === "POST") {
        const body = (await request.json().catch(() => null)) as { writes?: unknown } | null
        if (body === null || !Array.isArray(body.writes)) return json(400, { ok: false, error: "body must be { writes: [...] }" })
        const t = now()
        schedule(body.writes.map((w: Record<string, unknown>) => ({ ...(w as unknown as ScheduledWrite), at: typeof w["at"] === "number" ? w["at"] : t })))
        return json(200, { ok: true, ran: runDue() })
      }
    }
    if (path === "/__admin/requests" && method === "GET") {
      const byToken = Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)))
      return json(200, { counts: byToken, total: [...counts.values()].reduce((a, b) => a + b, 0) })
    }
    if (path === "/__admin/tokens" && method === "GET") {
      return json(200, { tokens: tokens(), status: Object.fromEntries(state.tokens.map((t) => [t.name, t.status])) })
    }
    if (path === "/__admin/faults") {
      if (method === "GET") return json(200, { rules: faults.map((f) => f.rule), revocations })
      if (method === "DELETE") {
        setFaults({})
        return json(200, { ok: true })
      }
      if (method === "POST" || method === "PUT") {
        const decoded = decodeFaultOptions(await request.json().catch(() => null))
        if (Either.isLeft(decoded)) return json(400, { ok: false, error: String(decoded.left) })
        setFaults(decoded.right)
        return json(200, { ok: true })
      }
    }
    if (path === "/__admin/rate-limits" && method === "DELETE") {
      windows.clear()
      ipWindows.clear()
      return json(200, { ok: true })
    }
    const revoke = /^\/__admin\/tokens\/([^/]+)\/revoke$/.exec(path)
    if (revoke !== null && method === "POST") {
      const name = decodeURIComponent(revoke[1] ?? "")
      if (tokenByName(name) === undefined) return json(404, { ok: false, error: `no token named ${name}` })
      revokeToken(name)
      const target = tokenByName(name)
      // Revoking a token is an account change a customer makes; it is logged like the API's DELETE.
      if (target !== undefined) {
        const tokenPath = `/user/tokens/${target.id}`
        logWrite({ method: "DELETE", path: tokenPath, params: { token_id: target.id }, status: 200, at: now(), token: undefined, context: "dash", result: { id: target.id }, request: undefined, rayId: rayId() })
      }
      return json(200, { ok: true, token: name, status: "disabled" })
    }
    return json(404, { ok: false, error: "unknown admin route" })
  }

  const schedule = (writes: ReadonlyArray<ScheduledWrite>): void => {
    scheduled = [...scheduled, ...writes]
  }

  const tokens = (): Record<string, string> => Object.fromEntries(state.tokens.map((t) => [t.name, t.value]))

  const authenticate = (request: Request): { token: string | undefined; failure: ApiFailure | undefined } => {
    const header = request.headers.get("authorization")
    if (header === null) {
      // Global API keys are not simulated: a key is reported as malformed, as for a token sent as a key.
      const hasKey = request.headers.has("x-auth-key") || request.headers.has("x-auth-email")
      return { token: undefined, failure: hasKey ? fail.malformedCredentials(6103, "X-Auth-Key") : fail.missingCredentials() }
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
    if (m === null) {
      return { token: undefined, failure: fail.malformedCredentials(6111, "Authorization") }
    }
    return { token: m[1], failure: undefined }
  }

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    const fullPath = url.pathname
    if (fullPath.startsWith("/__admin")) return admin(request, fullPath.replace(/\/+$/, ""))
    const t = now()
    runDue()
    if (revocations.length > 0) {
      const due = revocations.filter((r) => r.at <= t)
      revocations = revocations.filter((r) => r.at > t)
      for (const r of due) revokeToken(r.token)
    }
    const auth = authenticate(request)
    const token = auth.token === undefined ? undefined : state.tokens.find((x) => x.value === auth.token)
    count(auth.token === undefined ? "anonymous" : (token?.name ?? "unknown"))
    const ipLimited = checkIpLimit(request, t)
    if (ipLimited !== undefined) return ipLimited
    // One quota per user (all their tokens), one per account for account-owned tokens.
    const rateKey =
      token === undefined || options.rateLimitPer === "token"
        ? (auth.token ?? "anonymous")
        : token.owner.kind === "user"
          ? "user"
          : `account:${token.owner.accountId}`
    // The customer's background use is the user's (per-user counting only).
    const limited = checkRateLimit(rateKey, t, rateKey === "user")
    if (limited !== undefined) return limited

    const idx = fullPath.indexOf(API_PREFIX)
    const path = idx < 0 ? fullPath : fullPath.slice(idx + API_PREFIX.length).replace(/\/+$/, "") || "/"
    const found = idx < 0 ? { methodMismatch: false } : findRoute(ROUTES, request.method, path)
    const template = "route" in found ? found.route.template : path
    const ray = rayId()
    const baseHeaders = { "cf-ray": ray, ...rateHeaders(rateKey, t) }

    const fired = pickFaults(request.method, template, path)
    for (const effect of fired) {
      switch (effect.kind) {
        case "latency":
          await sleep(drawLatency(faultRng, effect.distribution))
          break
        case "status":
          return effect.html === true
            ? new Response(edgeErrorPage(effect.status, url.hostname, ray.slice(0, 16)), {
                status: effect.status,
                headers: { "content-type": "text/html; charset=UTF-8", "cf-ray": ray }
              })
            : json(effect.status, { result: null, success: false, errors: [{ code: 10001, message: "Internal server error" }], messages: [] }, baseHeaders)
        case "quotaSpent": {
          if (rateLimit === false) break
          let w = windows.get(rateKey)
          if (w === undefined || (t - w.start >= rateLimit.windowMs && t >= w.blockedUntil)) {
            w = { start: t, count: 0, blockedUntil: 0, customer: 0 }
            windows.set(rateKey, w)
          }
          w.count = Math.max(w.count, rateLimit.limit)
          const refused = checkRateLimit(rateKey, t, false)
          if (refused !== undefined) return refused
          break
        }
        case "reset":
          return Response.error()
        case "hang":
          return hang(request, effect.ms)
        default:
          break
      }
    }

    let status: number
    let body: Record<string, unknown>
    try {
      if (auth.failure !== undefined) throw auth.failure
      if (token === undefined || token.status !== "active") throw fail.invalidToken()
      if (token.not_before !== undefined && Date.parse(token.not_before) > t) throw fail.invalidToken()
      if (token.expires_on !== undefined && Date.parse(token.expires_on) <= t) throw fail.invalidToken()
      if (!("route" in found)) throw found.methodMismatch ? fail.methodNotAllowed() : fail.noRoute()
      let requestBody: unknown = undefined
      if (request.method !== "GET" && request.method !== "DELETE") {
        const text = await request.text()
        if (text !== "") {
          try {
            requestBody = JSON.parse(text)
          } catch {
            throw fail.invalidBody(6007, "Malformed JSON in request body")
          }
        }
      }
      const ok: Ok = found.route.handler({
        state,
        token,
        params: found.params,
        query: url.searchParams,
        body: requestBody,
        path,
        now,
        rng: writeRng,
        options: routeOptions
      })
      status = ok.status ?? 200
      body = successBody(ok)
      if (request.method !== "GET") {
        logWrite({ method: request.method, path, params: found.params, status, at: t, token, context: "api_token", result: ok.result, request: requestBody, rayId: ray })
      }
    } catch (e) {
      if (!(e instanceof ApiFailure)) throw e
      status = e.status
      body = failureBody(e)
    }

    for (const effect of fired) {
      switch (effect.kind) {
        case "successFalse":
          status = 200
          body = { result: null, success: false, errors: [{ code: effect.code ?? 10000, message: "Simulated failure inside a 200" }], messages: [] }
          break
        case "notEntitled":
          status = 403
          body = failureBody(fail.notEntitled(effect.product ?? "firewallaccessrules"))
          break
        case "accountUnavailable":
          status = 403
          body = failureBody(fail.accountUnavailable(effect.state))
          break
        case "extraFields": {
          const extra = (o: Record<string, unknown>) => ({ ...o, x_simulator_unknown: { added: true }, unknown_flag: 1 })
          body = { ...extra(body), result: mapObjects(body["result"], extra) }
          break
        }
        case "unlisted": {
          const result = body["result"]
          if (Array.isArray(result)) {
            const listed = (o: unknown) =>
              !(isObject(o) && (o["kind"] === "zone" || o["kind"] === "root") && typeof o["phase"] === "string" && effect.phases.includes(o["phase"]))
            const kept = result.filter(listed)
            const info = body["result_info"]
            body = { ...body, result: kept, ...(isObject(info) && typeof info["count"] === "number" ? { result_info: { ...info, count: kept.length } } : {}) }
          }
          break
        }
        case "missingFields": {
          const drop = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([k]) => !effect.fields.includes(k)))
          body = { ...drop(body), ...("result" in body && !effect.fields.includes("result") ? { result: mapObjects(body["result"], drop) } : {}) }
          break
        }
        default:
          break
      }
    }
    const text = JSON.stringify(body)
    const headers = { "content-type": "application/json; charset=UTF-8", ...baseHeaders }
    for (const effect of fired) {
      if (effect.kind === "truncate") return new Response(text.slice(0, Math.floor(text.length / 2)), { status, headers })
      if (effect.kind === "malformed") return new Response(`{"result": [{"id": "${ray}", "name": undefined,,}`, { status, headers })
    }
    return new Response(text, { status, headers })
  }

  return {
    state,
    get tokens() {
      return tokens()
    },
    handle,
    requestCounts: () => Object.fromEntries(counts),
    setFaults,
    revokeToken,
    customerUse: () => ({ ...customerStats }),
    refusals: () => ({ ...refusals }),
    resetRateLimits: () => {
      windows.clear()
      ipWindows.clear()
    },
    releaseHangs: () => {
      for (const done of [...hangs]) done()
    },
    auditLog,
    schedule,
    runDue,
    outcomes: () => [...outcomes]
  }
}

/** The body of `POST /__admin/audit-log`. */
interface AdminAuditBody {
  readonly delayMs?: number
  readonly v2Refused?: ReadonlyArray<string>
  readonly drop?: string
  readonly dropNext?: { readonly method?: string; readonly pathPrefix?: string; readonly count?: number }
}
