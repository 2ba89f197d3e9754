/**
 * Plain-language descriptions for the coverage trace: rate limits ("block after 10 requests / 60 s
 * per IP"), managed-ruleset overrides and how they resolve for one rule, and the suggested
 * expression that would cover a request.
 */
import type * as Ast from "../../Ast.js"
import type { ManagedOverrides, RateLimit, RateLimitParameters, ResolvedOverride } from "../../Coverage.js"
import { fromUtf8 } from "../bytes.js"
import { printExpression } from "../printer.js"
import { MITIGATING } from "./context.js"
import { arrayOf, isObject, num, stringsOf } from "./prepare.js"

const ACTION_WORDS: Readonly<Record<string, string>> = {
  block: "block",
  challenge: "interactive challenge",
  js_challenge: "JS challenge",
  managed_challenge: "managed challenge",
  log: "log"
}

const characteristicLabel = (c: string): string | undefined => {
  if (c === "cf.colo.id") return undefined
  const known: Record<string, string> = {
    "ip.src": "IP",
    "ip.src.asnum": "ASN",
    "ip.src.country": "country",
    "cf.unique_visitor_id": "visitor",
    "http.host": "host",
    "http.request.uri.path": "path",
    "cf.bot_management.ja3_hash": "JA3 fingerprint",
    "cf.bot_management.ja4": "JA4 fingerprint"
  }
  if (known[c] !== undefined) return known[c]
  const keyed = /^(http\.request\.headers|http\.request\.cookies|http\.request\.uri\.args)\["(.*)"\]$/.exec(c)
  if (keyed !== null) {
    const kind = keyed[1] === "http.request.headers" ? "header" : keyed[1] === "http.request.cookies" ? "cookie" : "query argument"
    return `${kind} ${keyed[2]}`
  }
  return c
}

/** A rate-limiting rule's parameters, with a one-line summary. */
export const describeRateLimit = (action: string, ratelimit: RateLimitParameters): RateLimit => {
  const characteristics = stringsOf(ratelimit.characteristics)
  const period = num(ratelimit.period) ?? 0
  const requests = num(ratelimit.requests_per_period)
  const score = num(ratelimit.score_per_period)
  const timeout = num(ratelimit.mitigation_timeout)
  const counting = typeof ratelimit.counting_expression === "string" && ratelimit.counting_expression !== "" ? ratelimit.counting_expression : undefined
  const labels = characteristics.map(characteristicLabel).filter((l): l is string => l !== undefined)
  const per = labels.length === 0 ? "per data centre" : `per ${labels.join(" and ")}`
  const threshold = requests !== undefined ? `${requests} requests` : score !== undefined ? `score ${score}` : "the threshold"
  return {
    action,
    characteristics,
    period,
    ...(requests !== undefined ? { requestsPerPeriod: requests } : {}),
    ...(score !== undefined ? { scorePerPeriod: score } : {}),
    ...(timeout !== undefined ? { mitigationTimeout: timeout } : {}),
    ...(counting !== undefined ? { countingExpression: counting } : {}),
    summary: `${ACTION_WORDS[action] ?? action} after ${threshold} / ${period} s ${per}`
  }
}

/** The overrides of a managed deployment, in words. */
export const describeOverrides = (overrides: ManagedOverrides | undefined): string => {
  if (!isObject(overrides)) return "no overrides"
  const part = (o: { action?: unknown; enabled?: unknown }) =>
    [
      typeof o.action === "string" ? `action ${o.action}` : undefined,
      typeof o.enabled === "boolean" ? `enabled ${o.enabled}` : undefined
    ].filter((s) => s !== undefined).join(", ")
  const parts: Array<string> = []
  const all = part(overrides)
  if (all !== "") parts.push(`all rules: ${all}`)
  for (const c of arrayOf<Record<string, unknown>>(overrides.categories)) {
    if (isObject(c) && typeof c.category === "string") parts.push(`category ${c.category}: ${part(c)}`)
  }
  for (const r of arrayOf<Record<string, unknown>>(overrides.rules)) if (isObject(r) && typeof r.id === "string") parts.push(`rule ${r.id}: ${part(r)}`)
  return parts.length === 0 ? "no overrides" : `with overrides: ${parts.join("; ")}`
}

/**
 * Why a managed-ruleset deployment cannot mitigate, or `undefined` when it can. It can when the
 * deploying rule is enabled, some rules stay enabled (a ruleset-wide `enabled: false` disables all
 * unless a category or rule override re-enables some) and some enabled rule keeps a mitigating
 * action (its default, or a mitigating override). The one place this is decided: coverage and the
 * connector's posture checks both ask here.
 */
export const managedWeakness = (enabled: boolean, overrides: ManagedOverrides | undefined): string | undefined => {
  if (!enabled) return "the deployment is disabled"
  if (!isObject(overrides)) return undefined
  const specific = [...arrayOf<Record<string, unknown>>(overrides.categories), ...arrayOf<Record<string, unknown>>(overrides.rules)].filter(isObject)
  const wideEnabled = overrides.enabled !== false
  const wideAction = typeof overrides.action === "string" ? overrides.action : undefined
  // Rules left with the ruleset-wide settings.
  if (wideEnabled && (wideAction === undefined || MITIGATING.has(wideAction))) return undefined
  // Rules with their own settings.
  const some = specific.some((o) => {
    const on = typeof o.enabled === "boolean" ? o.enabled : wideEnabled
    const action = typeof o.action === "string" ? o.action : wideAction
    return on && (action === undefined || MITIGATING.has(action))
  })
  if (some) return undefined
  return wideEnabled ? `the deployment overrides every rule to ${wideAction ?? "a non-mitigating action"}` : "the deployment overrides every rule to disabled"
}

/** Which override (ruleset, category or rule) decides a managed rule's action and whether it is enabled. */
export const resolveOverride = (
  overrides: ManagedOverrides | undefined,
  rule: { readonly id: string; readonly categories?: ReadonlyArray<string> }
): ResolvedOverride => {
  let action: string | undefined
  let enabled: boolean | undefined
  let actionFrom: ResolvedOverride["actionFrom"] = "default"
  let enabledFrom: ResolvedOverride["enabledFrom"] = "default"
  if (!isObject(overrides)) return { actionFrom, enabledFrom }
  // From the most general to the most specific, so later assignments win.
  if (typeof overrides.action === "string") [action, actionFrom] = [overrides.action, "ruleset"]
  if (typeof overrides.enabled === "boolean") [enabled, enabledFrom] = [overrides.enabled, "ruleset"]
  const categories = new Set(rule.categories ?? [])
  for (const c of arrayOf<NonNullable<ManagedOverrides["categories"]>[number]>(overrides.categories)) {
    if (!isObject(c) || !categories.has(c.category)) continue
    if (typeof c.action === "string") [action, actionFrom] = [c.action, "category"]
    if (typeof c.enabled === "boolean") [enabled, enabledFrom] = [c.enabled, "category"]
  }
  for (const r of arrayOf<NonNullable<ManagedOverrides["rules"]>[number]>(overrides.rules)) {
    if (!isObject(r) || r.id !== rule.id) continue
    if (typeof r.action === "string") [action, actionFrom] = [r.action, "rule"]
    if (typeof r.enabled === "boolean") [enabled, enabledFrom] = [r.enabled, "rule"]
  }
  return { ...(action !== undefined ? { action } : {}), ...(enabled !== undefined ? { enabled } : {}), actionFrom, enabledFrom }
}

const field = (name: string): Ast.FieldRef => ({ _tag: "Field", name, indexes: [] })
const call = (name: string, ...args: ReadonlyArray<Ast.Argument>): Ast.Call => ({ _tag: "Call", name, args, indexes: [] })
const text = (value: string): Ast.StringLiteral => ({ _tag: "String", value: fromUtf8(value) })
const compare = (left: Ast.Value, operator: Ast.ComparisonOperator, right: Ast.Rhs): Ast.Comparison => ({ _tag: "Comparison", left, operator, right })

/** Builds the suggested expression as a tree and prints it with the canonical printer, in parentheses. */
export const suggest = (request: { readonly path: string; readonly method?: string }, robust: boolean): string => {
  const method = request.method?.toUpperCase()
  const operands: Array<Ast.Expression> = []
  if (!robust) {
    operands.push(compare(field("http.request.uri.path"), "eq", text(request.path)))
    if (method !== undefined) operands.push(compare(field("http.request.method"), "eq", text(method)))
  } else {
    const lower = request.path.toLowerCase()
    const bare = lower.length > 1 && lower.endsWith("/") ? lower.slice(0, -1) : lower
    const forms = bare === "/" ? ["/"] : [bare, bare + "/"]
    operands.push(compare(call("lower", call("url_decode", field("http.request.uri.path"))), "in", { _tag: "Set", elements: forms.map(text) }))
    if (method !== undefined) operands.push(compare(call("upper", field("http.request.method")), "eq", text(method)))
  }
  const expression: Ast.Expression = operands.length === 1 ? operands[0]! : { _tag: "Logical", operator: "and", operands }
  return `(${printExpression(expression)})`
}
