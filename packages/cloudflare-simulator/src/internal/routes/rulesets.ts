/**
 * Rulesets: lists (cursor paging), rulesets by id, phase entry points, and the write calls a
 * customer makes in the dashboard (replace an entry point, add, change or remove a rule). Every
 * write bumps the ruleset's `version` and `last_updated`.
 */
import type { Phase } from "../../Permissions.js"
import { isPhase, phaseGroups } from "../../Permissions.js"
import { phaseRuleLimit } from "../../Plans.js"
import type { ApiToken, Json, PlanId, Ruleset, RulesetRule, State, Zone } from "../../State.js"
import { planAtLeast } from "../../State.js"
import { allowsAccount, allowsZone, findAccount, findZone } from "../access.js"
import type { ApiMessage, Ok } from "../http.js"
import { ApiFailure, decodeCursor, encodeCursor, fail, readPerPage } from "../http.js"
import type { Route, RouteContext } from "../router.js"

const LIST_ZONE_GROUPS = [
  "Response Compression Read", "Config Settings Read", "Dynamic URL Redirects Read", "Cache Settings Read", "Custom Errors Read",
  "Origin Read", "Managed headers Read", "Zone Transform Rules Read", "Mass URL Redirects Read", "Magic Firewall Read",
  "L4 DDoS Managed Ruleset Read", "HTTP DDoS Managed Ruleset Read", "Sanitize Read", "Transform Rules Read", "Select Configuration Read",
  "Bot Management Read", "Zone WAF Read", "Account WAF Read", "Account Rulesets Read", "Logs Read"
].flatMap((g) => [g, g.replace(/ Read$/, " Write")])

const LIST_ACCOUNT_GROUPS = [
  "Mass URL Redirects Read", "Magic Firewall Read", "L4 DDoS Managed Ruleset Read", "Transform Rules Read", "Select Configuration Read",
  "Account WAF Read", "Account Rulesets Read", "Logs Read"
].flatMap((g) => [g, g.replace(/ Read$/, " Write")])

/** Phases whose zone entry point needs a plan above Free (or Enterprise). */
const PHASE_MIN_PLAN: Partial<Record<Phase, PlanId>> = {
  http_custom_errors: "pro",
  http_request_sbfm: "pro",
  http_response_firewall_managed: "enterprise",
  http_log_custom_fields: "enterprise"
}

/** Account-level phases only Enterprise accounts may configure. */
const ENTERPRISE_ACCOUNT_PHASES: ReadonlyArray<Phase> = ["http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit"]

const ACTIONS: Partial<Record<Phase, ReadonlyArray<string>>> = {
  http_request_firewall_custom: ["block", "challenge", "js_challenge", "managed_challenge", "log", "skip", "execute"],
  http_ratelimit: ["block", "challenge", "js_challenge", "managed_challenge", "log"],
  http_request_firewall_managed: ["execute", "skip", "log"],
  http_request_transform: ["rewrite"],
  http_request_late_transform: ["rewrite"],
  http_response_headers_transform: ["rewrite"],
  http_request_dynamic_redirect: ["redirect"],
  http_request_origin: ["route"],
  http_config_settings: ["set_config"],
  http_request_cache_settings: ["set_cache_settings"],
  http_response_compression: ["compress_response"],
  http_custom_errors: ["serve_error"]
}

const RULESET_INVALID = 20021
const NOT_ENTITLED = 20120

const summary = (rs: Ruleset) => ({
  id: rs.id,
  name: rs.name,
  description: rs.description,
  kind: rs.kind,
  phase: rs.phase,
  version: rs.version,
  last_updated: rs.last_updated
})

const full = (rs: Ruleset) => ({ ...summary(rs), rules: rs.rules })

const entitled = (rs: Ruleset, plan: PlanId): boolean => rs.owner.kind !== "managed" || planAtLeast(plan, rs.minPlan ?? "free")

const zoneRulesets = (state: State, zone: Zone): Array<Ruleset> =>
  state.rulesets.filter((rs) => (rs.owner.kind === "zone" && rs.owner.zoneId === zone.id) || (rs.owner.kind === "managed" && entitled(rs, zone.plan.legacy_id)))

const accountRulesets = (state: State, accountId: string): Array<Ruleset> =>
  state.rulesets.filter((rs) => (rs.owner.kind === "account" && rs.owner.accountId === accountId) || rs.owner.kind === "managed")

/** May the token list the zone's rulesets (a zone group of the operation, or an account one)? */
const canListZone = (token: ApiToken, zone: Zone): boolean =>
  allowsZone(token, zone, LIST_ZONE_GROUPS) || allowsAccount(token, zone.account.id, LIST_ZONE_GROUPS)

/** Zone-level access: the phase's zone group, or Account Rulesets on the zone's account. */
const canZonePhase = (token: ApiToken, zone: Zone, phase: Phase, access: "Read" | "Write"): boolean =>
  allowsZone(token, zone, phaseGroups(phase, "zone", access)) || allowsAccount(token, zone.account.id, phaseGroups(phase, "account", access))

const cursorList = (items: ReadonlyArray<Ruleset>, query: URLSearchParams, salt: string): Ok => {
  const perPage = readPerPage(query, { min: 1, max: 50, default: 20 })
  const cursor = query.get("cursor")
  const offset = cursor === null || cursor === "" ? 0 : decodeCursor(cursor, salt)
  const slice = items.slice(offset, offset + perPage)
  const info: Record<string, unknown> = { count: slice.length, per_page: perPage }
  if (offset + perPage < items.length) info["cursor"] = encodeCursor(offset + perPage, salt)
  return { result: slice.map(summary), result_info: info }
}

const phaseParam = (ctx: RouteContext): Phase => {
  const phase = ctx.params["ruleset_phase"] ?? ""
  if (!isPhase(phase)) throw fail.invalidParam(`${phase} is not a valid phase`)
  return phase
}

const invalid = (message: string, pointer: string): ApiFailure =>
  new ApiFailure({ status: 400, errors: [{ code: RULESET_INVALID, message, source: { pointer } } satisfies ApiMessage] })

const notEntitled = (message: string): ApiFailure => new ApiFailure({ status: 403, errors: [{ code: NOT_ENTITLED, message }] })

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

interface Target {
  readonly phase: Phase
  /** The zone plan, or undefined at account level. */
  readonly plan: PlanId | undefined
  readonly enterpriseAccount: boolean
}

/** Checks one incoming rule against the phase and the plan; returns the stored shape. */
const checkRule = (raw: unknown, index: number, target: Target): Omit<RulesetRule, "id" | "version" | "ref" | "last_updated"> & { id?: string; ref?: string } => {
  const at = `/rules/${index}`
  if (!isRecord(raw)) throw invalid("rule must be an object", at)
  const action = raw["action"]
  if (typeof action !== "string") throw invalid("'action' is required", `${at}/action`)
  const allowed = ACTIONS[target.phase]
  if (allowed !== undefined && !allowed.includes(action)) throw invalid(`'${action}' is not a valid action for the ${target.phase} phase`, `${at}/action`)
  const expression = raw["expression"]
  if (typeof expression !== "string" || expression.trim() === "") throw invalid("'expression' is required", `${at}/expression`)
  const plan = target.plan ?? (target.enterpriseAccount ? "enterprise" : "free")
  if (action === "log" && target.phase === "http_request_firewall_custom" && plan !== "enterprise") {
    throw notEntitled("the log action is only available on the Enterprise plan")
  }
  const rule: Omit<RulesetRule, "id" | "version" | "ref" | "last_updated"> & { id?: string; ref?: string } = {
    action,
    expression,
    description: typeof raw["description"] === "string" ? raw["description"] : "",
    enabled: raw["enabled"] === undefined ? true : raw["enabled"] === true
  }
  if (typeof raw["id"] === "string") rule.id = raw["id"]
  if (typeof raw["ref"] === "string") rule.ref = raw["ref"]
  if (isRecord(raw["action_parameters"])) rule.action_parameters = raw["action_parameters"] as Record<string, Json>
  if (isRecord(raw["logging"]) && typeof raw["logging"]["enabled"] === "boolean") rule.logging = { enabled: raw["logging"]["enabled"] }
  const check = raw["exposed_credential_check"]
  if (isRecord(check) && typeof check["username_expression"] === "string" && typeof check["password_expression"] === "string") {
    rule.exposed_credential_check = { username_expression: check["username_expression"], password_expression: check["password_expression"] }
  }
  if (target.phase === "http_ratelimit") {
    const rl = raw["ratelimit"]
    if (!isRecord(rl)) throw invalid("rate limiting rules need a 'ratelimit' object", `${at}/ratelimit`)
    const characteristics = rl["characteristics"]
    if (!Array.isArray(characteristics) || characteristics.length === 0 || characteristics.some((c) => typeof c !== "string")) {
      throw invalid("'characteristics' must be a non-empty list", `${at}/ratelimit/characteristics`)
    }
    if (typeof rl["period"] !== "number") throw invalid("'period' is required", `${at}/ratelimit/period`)
    if (plan === "free") {
      if (rl["period"] !== 10) throw notEntitled("on the Free plan the rate limiting period must be 10 seconds")
      if (characteristics.some((c) => c !== "ip.src" && c !== "cf.colo.id")) throw notEntitled("on the Free plan rate limiting counts by IP only")
    }
    if (typeof rl["counting_expression"] === "string" && rl["counting_expression"] !== "" && !planAtLeast(plan, "business")) {
      throw notEntitled("counting expressions need the Business plan or higher")
    }
    rule.ratelimit = rl as Record<string, Json>
  }
  return rule
}

const checkManagedDeployments = (state: State, rules: ReadonlyArray<Omit<RulesetRule, "id" | "version" | "ref" | "last_updated">>, target: Target): void => {
  rules.forEach((rule, i) => {
    if (rule.action !== "execute") return
    const id = rule.action_parameters?.["id"]
    if (typeof id !== "string") throw invalid("'action_parameters.id' is required to execute a ruleset", `/rules/${i}/action_parameters/id`)
    const managed = state.rulesets.find((rs) => rs.id === id)
    if (managed === undefined) throw invalid(`could not find ruleset ${id}`, `/rules/${i}/action_parameters/id`)
    if (target.plan !== undefined && !entitled(managed, target.plan)) throw notEntitled(`not entitled to deploy ruleset ${id} on this plan`)
  })
}

const checkTarget = (state: State, rules: ReadonlyArray<Omit<RulesetRule, "id" | "version" | "ref" | "last_updated">>, target: Target): void => {
  if (target.plan !== undefined) {
    const min = PHASE_MIN_PLAN[target.phase]
    if (min !== undefined && !planAtLeast(target.plan, min)) throw notEntitled(`not entitled to use the phase ${target.phase}`)
    const limit = phaseRuleLimit(target.plan, target.phase)
    if (limit !== undefined && rules.length > limit) {
      throw invalid(`exceeded maximum number of rules in the phase ${target.phase}: ${rules.length} out of ${limit}`, "/rules")
    }
  } else if (ENTERPRISE_ACCOUNT_PHASES.includes(target.phase) && !target.enterpriseAccount) {
    throw notEntitled(`not entitled to use the phase ${target.phase} at account level`)
  }
  checkManagedDeployments(state, rules, target)
}

const sameRule = (a: RulesetRule, b: Omit<RulesetRule, "id" | "version" | "ref" | "last_updated">): boolean =>
  JSON.stringify({ ...a, id: "", version: "", ref: "", last_updated: "" }) ===
  JSON.stringify({ ...a, ...b, id: "", version: "", ref: "", last_updated: "" })

/** Merges incoming rules into a ruleset, keeping ids (and versions) of unchanged rules. */
const applyRules = (ctx: RouteContext, rs: Ruleset, incoming: ReadonlyArray<ReturnType<typeof checkRule>>, at: string): Array<RulesetRule> =>
  incoming.map((r) => {
    const existing = r.id === undefined ? undefined : rs.rules.find((x) => x.id === r.id)
    const { id: _id, ref: _ref, ...fields } = r
    if (existing !== undefined) {
      if (sameRule(existing, fields)) return existing
      return { ...fields, id: existing.id, ref: r.ref ?? existing.ref, version: String(Number(existing.version) + 1), last_updated: at }
    }
    const id = ctx.rng.hexId()
    return { ...fields, id, ref: r.ref ?? id, version: "1", last_updated: at }
  })

/** Records the current version in the history, then moves to the next version. */
const snapshot = (rs: Ruleset): void => {
  if (rs.version !== "0") (rs.history ??= []).push({ version: rs.version, last_updated: rs.last_updated, rules: rs.rules })
}

const bump = (rs: Ruleset, at: string): void => {
  rs.version = String(Number(rs.version) + 1)
  rs.last_updated = at
}

const readRulesBody = (body: unknown): ReadonlyArray<unknown> => {
  if (!isRecord(body)) throw invalid("request body must be a ruleset object", "")
  const rules = body["rules"]
  if (!Array.isArray(rules)) throw invalid("'rules' must be a list", "/rules")
  return rules
}

/** Replaces (or creates) an entry point's rules. */
const putEntrypoint = (ctx: RouteContext, owner: Ruleset["owner"], phase: Phase, target: Target): Ok => {
  const rules = readRulesBody(ctx.body).map((r, i) => checkRule(r, i, target))
  checkTarget(ctx.state, rules, target)
  const at = new Date(ctx.now()).toISOString()
  let rs = findEntrypoint(ctx.state, owner, phase)
  if (rs === undefined) {
    rs = {
      id: ctx.rng.hexId(),
      name: owner.kind === "zone" ? "default" : `${phase} entry point`,
      description: "",
      kind: owner.kind === "zone" ? "zone" : "root",
      phase,
      version: "0",
      last_updated: at,
      rules: [],
      owner
    }
    ctx.state.rulesets.push(rs)
  }
  const body = ctx.body as Record<string, unknown>
  if (typeof body["description"] === "string") rs.description = body["description"]
  if (typeof body["name"] === "string" && body["name"] !== "") rs.name = body["name"]
  snapshot(rs)
  rs.rules = applyRules(ctx, rs, rules, at)
  bump(rs, at)
  return { result: full(rs) }
}

const findEntrypoint = (state: State, owner: Ruleset["owner"], phase: Phase): Ruleset | undefined =>
  state.rulesets.find(
    (rs) =>
      rs.phase === phase &&
      (rs.kind === "zone" || rs.kind === "root") &&
      ((owner.kind === "zone" && rs.owner.kind === "zone" && rs.owner.zoneId === owner.zoneId) ||
        (owner.kind === "account" && rs.owner.kind === "account" && rs.owner.accountId === owner.accountId))
  )

/** The zone's ruleset with `ruleset_id` that the token may read or write. */
const zoneRuleset = (ctx: RouteContext, access: "Read" | "Write"): { zone: Zone; rs: Ruleset } => {
  const zone = findZone(ctx.state, ctx.params["zone_id"] ?? "", ctx.path)
  const rs = zoneRulesets(ctx.state, zone).find((r) => r.id === ctx.params["ruleset_id"])
  if (rs === undefined) {
    if (!canListZone(ctx.token, zone)) throw fail.forbidden()
    throw fail.notFound(ctx.path)
  }
  if (!canZonePhase(ctx.token, zone, rs.phase, access)) throw fail.forbidden()
  if (access === "Write" && rs.owner.kind === "managed") throw invalid("managed rulesets cannot be changed", "")
  return { zone, rs }
}

const zoneTarget = (zone: Zone, phase: Phase): Target => ({ phase, plan: zone.plan.legacy_id, enterpriseAccount: false })

const ruleMutation = (ctx: RouteContext, change: (rs: Ruleset, target: Target, at: string) => void): Ok => {
  const { zone, rs } = zoneRuleset(ctx, "Write")
  const at = new Date(ctx.now()).toISOString()
  const before = { version: rs.version, last_updated: rs.last_updated, rules: [...rs.rules] }
  change(rs, zoneTarget(zone, rs.phase), at)
  ;(rs.history ??= []).push(before)
  bump(rs, at)
  return { result: full(rs) }
}

/** Ruleset routes. */
export const rulesetRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    template: "/zones/:zone_id/rulesets",
    handler: (ctx) => {
      const zone = findZone(ctx.state, ctx.params["zone_id"] ?? "", ctx.path)
      if (!canListZone(ctx.token, zone)) throw fail.forbidden()
      return cursorList(zoneRulesets(ctx.state, zone), ctx.query, zone.id)
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rulesets/phases/:ruleset_phase/entrypoint",
    handler: (ctx) => {
      const phase = phaseParam(ctx)
      const zone = findZone(ctx.state, ctx.params["zone_id"] ?? "", ctx.path)
      if (!canZonePhase(ctx.token, zone, phase, "Read")) throw fail.forbidden()
      const rs = findEntrypoint(ctx.state, { kind: "zone", zoneId: zone.id }, phase)
      if (rs === undefined) throw fail.noEntrypoint(phase)
      return { result: full(rs) }
    }
  },
  {
    method: "PUT",
    template: "/zones/:zone_id/rulesets/phases/:ruleset_phase/entrypoint",
    handler: (ctx) => {
      const phase = phaseParam(ctx)
      const zone = findZone(ctx.state, ctx.params["zone_id"] ?? "", ctx.path)
      if (!canZonePhase(ctx.token, zone, phase, "Write")) throw fail.forbidden()
      return putEntrypoint(ctx, { kind: "zone", zoneId: zone.id }, phase, zoneTarget(zone, phase))
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rulesets/:ruleset_id",
    handler: (ctx) => ({ result: full(zoneRuleset(ctx, "Read").rs) })
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rulesets/:ruleset_id/versions",
    handler: (ctx) => {
      const { rs } = zoneRuleset(ctx, "Read")
      const versions = [...(rs.history ?? []), { version: rs.version, last_updated: rs.last_updated }]
      return { result: versions.reverse().map((v) => ({ ...summary(rs), version: v.version, last_updated: v.last_updated })) }
    }
  },
  {
    method: "GET",
    template: "/zones/:zone_id/rulesets/:ruleset_id/versions/:ruleset_version",
    handler: (ctx) => {
      const { rs } = zoneRuleset(ctx, "Read")
      const wanted = ctx.params["ruleset_version"]
      if (wanted === rs.version) return { result: full(rs) }
      const old = (rs.history ?? []).find((v) => v.version === wanted)
      if (old === undefined) throw fail.notFound(ctx.path)
      return { result: { ...summary(rs), version: old.version, last_updated: old.last_updated, rules: old.rules } }
    }
  },
  {
    method: "PUT",
    template: "/zones/:zone_id/rulesets/:ruleset_id",
    handler: (ctx) => {
      const { zone, rs } = zoneRuleset(ctx, "Write")
      return putEntrypoint(ctx, rs.owner, rs.phase, zoneTarget(zone, rs.phase))
    }
  },
  {
    method: "POST",
    template: "/zones/:zone_id/rulesets/:ruleset_id/rules",
    handler: (ctx) =>
      ruleMutation(ctx, (rs, target, at) => {
        const rule = checkRule(ctx.body, rs.rules.length, target)
        const next = [...rs.rules.map((r) => r as ReturnType<typeof checkRule>), rule]
        checkTarget(ctx.state, next, target)
        const body = ctx.body as Record<string, unknown>
        const position = isRecord(body["position"]) ? body["position"] : undefined
        const [added] = applyRules(ctx, rs, [rule], at)
        if (added === undefined) return
        const before = typeof position?.["before"] === "string" ? rs.rules.findIndex((r) => r.id === position["before"]) : -1
        const after = typeof position?.["after"] === "string" ? rs.rules.findIndex((r) => r.id === position["after"]) : -1
        const index = typeof position?.["index"] === "number" ? position["index"] - 1 : before >= 0 ? before : after >= 0 ? after + 1 : rs.rules.length
        rs.rules.splice(Math.max(0, Math.min(index, rs.rules.length)), 0, added)
      })
  },
  {
    method: "PATCH",
    template: "/zones/:zone_id/rulesets/:ruleset_id/rules/:rule_id",
    handler: (ctx) =>
      ruleMutation(ctx, (rs, target, at) => {
        const index = rs.rules.findIndex((r) => r.id === ctx.params["rule_id"])
        const existing = rs.rules[index]
        if (existing === undefined) throw fail.notFound(ctx.path)
        const merged = { ...existing, ...(isRecord(ctx.body) ? ctx.body : {}), id: existing.id }
        const rule = checkRule(merged, index, target)
        const [updated] = applyRules(ctx, rs, [rule], at)
        if (updated !== undefined) rs.rules[index] = updated
      })
  },
  {
    method: "DELETE",
    template: "/zones/:zone_id/rulesets/:ruleset_id/rules/:rule_id",
    handler: (ctx) =>
      ruleMutation(ctx, (rs) => {
        const index = rs.rules.findIndex((r) => r.id === ctx.params["rule_id"])
        if (index < 0) throw fail.notFound(ctx.path)
        rs.rules.splice(index, 1)
      })
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rulesets",
    handler: (ctx) => {
      const account = findAccount(ctx.state, ctx.params["account_id"] ?? "", ctx.path)
      if (!allowsAccount(ctx.token, account.id, LIST_ACCOUNT_GROUPS)) throw fail.forbidden()
      return cursorList(accountRulesets(ctx.state, account.id), ctx.query, account.id)
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rulesets/phases/:ruleset_phase/entrypoint",
    handler: (ctx) => {
      const phase = phaseParam(ctx)
      const account = findAccount(ctx.state, ctx.params["account_id"] ?? "", ctx.path)
      if (!allowsAccount(ctx.token, account.id, phaseGroups(phase, "account", "Read"))) throw fail.forbidden()
      // Account-level WAF phases are Enterprise-only (https://developers.cloudflare.com/waf/account/custom-rulesets/):
      // a standard account's read is refused with Cloudflare's entitlement code on reads, 403/10010
      // `<product>.api.not_entitled` (API-NOTES.md, "403 kinds"), not as a missing permission.
      if (account.type !== "enterprise" && ENTERPRISE_ACCOUNT_PHASES.includes(phase)) throw fail.notEntitled("rulesets")
      const rs = findEntrypoint(ctx.state, { kind: "account", accountId: account.id }, phase)
      if (rs === undefined) throw fail.noEntrypoint(phase)
      return { result: full(rs) }
    }
  },
  {
    method: "PUT",
    template: "/accounts/:account_id/rulesets/phases/:ruleset_phase/entrypoint",
    handler: (ctx) => {
      const phase = phaseParam(ctx)
      const account = findAccount(ctx.state, ctx.params["account_id"] ?? "", ctx.path)
      if (!allowsAccount(ctx.token, account.id, phaseGroups(phase, "account", "Write"))) throw fail.forbidden()
      return putEntrypoint(ctx, { kind: "account", accountId: account.id }, phase, {
        phase,
        plan: undefined,
        enterpriseAccount: account.type === "enterprise"
      })
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/rulesets/:ruleset_id",
    handler: (ctx) => {
      const account = findAccount(ctx.state, ctx.params["account_id"] ?? "", ctx.path)
      const rs = accountRulesets(ctx.state, account.id).find((r) => r.id === ctx.params["ruleset_id"])
      if (rs === undefined) {
        if (!allowsAccount(ctx.token, account.id, LIST_ACCOUNT_GROUPS)) throw fail.forbidden()
        throw fail.notFound(ctx.path)
      }
      if (!allowsAccount(ctx.token, account.id, phaseGroups(rs.phase, "account", "Read"))) throw fail.forbidden()
      return { result: full(rs) }
    }
  }
]
