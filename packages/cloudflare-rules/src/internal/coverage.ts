/**
 * The coverage engine behind `Coverage`: compiles a zone's rules once and walks a request through
 * IP Access rules, legacy firewall rules and the Ruleset Engine phases in Cloudflare's order,
 * applying disabled rules, skip rules, `execute` of custom and managed rulesets and terminating
 * actions. Every decision cites the documentation it follows (see the package README).
 */
import { Either } from "effect"
import type * as Ast from "../Ast.js"
import type {
  Acting,
  Entrypoint,
  IpAccessRule,
  LegacyFirewallRule,
  Level,
  ManagedExecution,
  ManagedOverrides,
  RateLimit,
  RateLimitParameters,
  ResolvedOverride,
  RuleEvent,
  RuleRef,
  RulesetRule,
  SkipEffect,
  Stage,
  StageTrace,
  Trace,
  UrlNormalization,
  ZoneRules
} from "../Coverage.js"
import type { Facts } from "../Facts.js"
import { display, unsafeFromValues } from "../Facts.js"
import type { NamedLists } from "../NamedLists.js"
import * as Lists from "../NamedLists.js"
import type { RequestDescription } from "../Request.js"
import * as Request from "../Request.js"
import type { Rule } from "../Rule.js"
import { compileEither } from "../Rule.js"
import type { RuleConfigErrorReason, RulesParseError } from "../RulesError.js"
import { RuleConfigError } from "../RulesError.js"
import { fieldType } from "../Scheme.js"
import { fromUtf8, hexByte } from "./bytes.js"
import { printExpression } from "./printer.js"

/** Request phases in execution order (Ruleset Engine "Phases list"). */
export const PHASE_ORDER = [
  "http_request_sanitize",
  "http_request_dynamic_redirect",
  "http_request_transform",
  "http_config_settings",
  "http_request_origin",
  "ddos_l7",
  "http_request_firewall_custom",
  "http_ratelimit",
  "http_request_api_gateway_late",
  "http_request_firewall_managed",
  "http_request_sbfm",
  "http_request_redirect",
  "http_request_late_transform",
  "http_request_cache_settings",
  "http_request_snippets",
  "http_request_cloud_connector"
] as const

/** Well-known managed WAF rulesets. */
export const WELL_KNOWN_MANAGED: Readonly<Record<string, string>> = {
  efb7b8c949ac4650a09736fc376e9aee: "Cloudflare Managed Ruleset",
  "4814384a9e5d4991b9815dcfc25d2f1f": "Cloudflare OWASP Core Ruleset",
  "77454fe2d30c4220b5701f6fdfb893ba": "Cloudflare Free Managed Ruleset",
  c2e184081120413c86c3ab7e14069605: "Cloudflare Exposed Credentials Check Ruleset"
}

/** Phases whose `execute` rules deploy managed rulesets. */
const MANAGED_PHASES = new Set(["http_request_firewall_managed", "ddos_l7", "http_request_sbfm", "http_response_firewall_managed"])

/** Stages an IP Access allow rule exempts a request from ("excludes visitors from all security checks"). */
const ALLOW_BYPASSES: ReadonlyArray<Stage> = [
  "firewall_rules",
  "http_request_firewall_custom",
  "http_ratelimit",
  "http_request_firewall_managed",
  "http_request_sbfm"
]

/** Ruleset Engine actions that stop evaluation ("Actions" reference, "Terminating action?" = Yes). */
const TERMINATING = new Set(["block", "challenge", "js_challenge", "managed_challenge", "redirect", "serve_error"])

/** Actions that mitigate (anything but logging or rewriting). */
const MITIGATING = new Set(["block", "challenge", "js_challenge", "managed_challenge"])

/** Legacy firewall rule actions in order of precedence (Firewall rules actions). */
const LEGACY_PRECEDENCE = ["log", "bypass", "allow", "challenge", "managed_challenge", "js_challenge", "block"]

const ACTION_WORDS: Readonly<Record<string, string>> = {
  block: "block",
  challenge: "interactive challenge",
  js_challenge: "JS challenge",
  managed_challenge: "managed challenge",
  log: "log"
}

// ---------------------------------------------------------------------------------------------
// Preparation
// ---------------------------------------------------------------------------------------------

/** What coverage needs of a compiled expression (a `Rule`, or the constant `true`). */
interface Matcher {
  readonly fields: ReadonlyArray<string>
  readonly lists: ReadonlyArray<string>
  readonly test: Rule["test"]
}

/**
 * The expression `true`: "apply the rule to every incoming request" (Ruleset Engine, Rules). The
 * Rules language has no boolean literal, yet Cloudflare accepts `true` as a whole rule expression,
 * and managed rulesets are usually deployed with it.
 */
const ALWAYS: Matcher = { fields: [], lists: [], test: () => true }

interface Compiled {
  readonly rule?: Matcher
  readonly error?: { readonly reason: RuleConfigErrorReason; readonly detail: string; readonly parseError?: RulesParseError }
}

/** A zone compiled for evaluation. */
export interface PreparedZone {
  readonly _tag: "CoverageZone"
  readonly input: ZoneRules
  readonly lists: NamedLists
  readonly entrypoints: ReadonlyArray<{ readonly phase: string; readonly level: Level; readonly entrypoint: Entrypoint }>
  readonly custom: ReadonlyMap<string, { readonly name?: string; readonly rules: ReadonlyArray<RulesetRule> }>
  readonly managed: Readonly<Record<string, string>>
  readonly compile: (expression: string | undefined) => Compiled
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
const arrayOf = <A>(u: unknown): ReadonlyArray<A> => (Array.isArray(u) ? (u as ReadonlyArray<A>) : [])
const stringsOf = (u: unknown): ReadonlyArray<string> => arrayOf<unknown>(u).filter((s): s is string => typeof s === "string")

export const prepareZone = (input: ZoneRules): PreparedZone => {
  const cache = new Map<string, Compiled>()
  const compile = (expression: string | undefined): Compiled => {
    if (typeof expression !== "string") return { error: { reason: "MissingExpression", detail: "the rule has no expression" } }
    if (expression.trim() === "true") return { rule: ALWAYS }
    let compiled = cache.get(expression)
    if (compiled === undefined) {
      const result = compileEither(expression)
      compiled = Either.isRight(result)
        ? { rule: result.right }
        : { error: { reason: "InvalidExpression", detail: result.left.message, parseError: result.left } }
      cache.set(expression, compiled)
    }
    return compiled
  }
  const entrypoints: Array<{ phase: string; level: Level; entrypoint: Entrypoint }> = []
  for (const [level, list] of [["account", input.accountRulesets], ["zone", input.rulesets]] as const) {
    for (const entrypoint of arrayOf<Entrypoint>(list)) {
      if (isObject(entrypoint) && typeof entrypoint.phase === "string") entrypoints.push({ phase: entrypoint.phase, level, entrypoint })
    }
  }
  const custom = new Map<string, { name?: string; rules: ReadonlyArray<RulesetRule> }>()
  for (const [id, value] of Object.entries(isObject(input.customRulesets) ? input.customRulesets : {})) {
    if (Array.isArray(value)) custom.set(id, { rules: value as ReadonlyArray<RulesetRule> })
    else if (isObject(value)) {
      custom.set(id, { ...(typeof value.name === "string" ? { name: value.name } : {}), rules: arrayOf<RulesetRule>(value.rules) })
    }
  }
  return {
    _tag: "CoverageZone",
    input,
    lists: Lists.from(input.lists),
    entrypoints,
    custom,
    managed: {
      ...WELL_KNOWN_MANAGED,
      ...Object.fromEntries(Object.entries(isObject(input.managedRulesets) ? input.managedRulesets : {}).filter(([, name]) => typeof name === "string"))
    },
    compile
  }
}

// ---------------------------------------------------------------------------------------------
// Request facts under the zone's URL normalization
// ---------------------------------------------------------------------------------------------

const isUnreserved = (c: number) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 46 || c === 95 || c === 126

/** RFC 3986 normalization (Cloudflare's `rfc3986` type): unreserved decoded, hex upper-cased, dot segments removed. */
export const rfc3986Path = (path: string): string => {
  let decoded = ""
  for (let i = 0; i < path.length; i++) {
    const c = path[i]!
    if (c === "%" && /^[0-9A-Fa-f]{2}$/.test(path.slice(i + 1, i + 3))) {
      const byte = parseInt(path.slice(i + 1, i + 3), 16)
      decoded += isUnreserved(byte) ? String.fromCharCode(byte) : "%" + hexByte(byte)
      i += 2
    } else decoded += c
  }
  const out: Array<string> = []
  const segments = decoded.split("/")
  segments.forEach((s, i) => {
    const last = i === segments.length - 1
    if (s === "." || s === "..") {
      if (s === ".." && out.length > 1) out.pop()
      if (last) out.push("")
      return
    }
    out.push(s)
  })
  const joined = out.join("/")
  return joined.startsWith("/") ? joined : "/" + joined
}

const buildFacts = (description: RequestDescription, normalization: UrlNormalization | undefined): Facts => {
  if (description.normalize !== undefined || normalization === undefined || normalization.scope === "none") {
    return Request.make(description)
  }
  if (normalization.type === "cloudflare") return Request.make({ ...description, normalize: true })
  // rfc3986: normalize the path ourselves, keep raw.* as sent.
  const sent = Request.make(description)
  const path = description.path ?? (description.url !== undefined ? Request.splitUrl(description.url).path : undefined) ?? "/"
  const normalized = Request.make({ ...description, path: rfc3986Path(path) })
  const values = { ...normalized.values }
  for (const [name, value] of Object.entries(sent.values)) if (name.startsWith("raw.")) values[name] = value
  return unsafeFromValues(values)
}

// ---------------------------------------------------------------------------------------------
// Descriptions
// ---------------------------------------------------------------------------------------------

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

const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

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

const describeOverrides = (overrides: ManagedOverrides | undefined): string => {
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

/**
 * Whether a managed ruleset deployed with these overrides can still mitigate: some rules stay
 * enabled (the ruleset-wide `enabled: false` disables all unless a category or rule re-enables
 * some) and some enabled rule keeps a mitigating action (its default, or a mitigating override).
 */
const managedMitigates = (overrides: ManagedOverrides | undefined): boolean => {
  if (!isObject(overrides)) return true
  const specific = [...arrayOf<Record<string, unknown>>(overrides.categories), ...arrayOf<Record<string, unknown>>(overrides.rules)].filter(isObject)
  const wideEnabled = overrides.enabled !== false
  const wideAction = typeof overrides.action === "string" ? overrides.action : undefined
  // Rules left with the ruleset-wide settings.
  if (wideEnabled && (wideAction === undefined || MITIGATING.has(wideAction))) return true
  // Rules with their own settings.
  return specific.some((o) => {
    const enabled = typeof o.enabled === "boolean" ? o.enabled : wideEnabled
    const action = typeof o.action === "string" ? o.action : wideAction
    return enabled && (action === undefined || MITIGATING.has(action))
  })
}

// ---------------------------------------------------------------------------------------------
// Suggestions
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Evaluation
// ---------------------------------------------------------------------------------------------

interface Context {
  readonly zone: PreparedZone
  /** The request's facts, as the current phase sees them (after earlier URL rewrites). */
  facts: Facts
  /** URL rewrites of the current phase, applied when the phase ends. */
  readonly pendingRewrites: Array<Rewrite>
  readonly rewrites: Array<Rewrite>
  readonly stages: Array<StageTrace>
  readonly acting: Array<Acting>
  readonly errors: Array<RuleConfigError>
  readonly products: Array<{ product: string; by: RuleRef }>
  /** Phases skipped by skip rules, per level. */
  readonly skippedPhases: Map<string, { account: boolean; zone: boolean; by: RuleRef }>
  bypass: { stages: ReadonlySet<Stage>; by: RuleRef } | undefined
  stopped: boolean
}

type Rewrite = { readonly path?: string; readonly query?: string; readonly by: RuleRef }

const staticValue = (u: unknown): string | undefined => (isObject(u) && typeof u.value === "string" ? u.value : undefined)

/**
 * Applies the URL rewrites of a finished phase: "field values are immutable within each phase.
 * However, field values may change between phases" (Ruleset Engine, Rules); raw fields keep the
 * request as sent. Several rules of one phase may rewrite; the last one listed wins per part.
 */
const applyRewrites = (ctx: Context, request: RequestDescription): void => {
  if (ctx.pendingRewrites.length === 0) return
  let path: string | undefined
  let query: string | undefined
  for (const r of ctx.pendingRewrites) {
    if (r.path !== undefined) path = r.path
    if (r.query !== undefined) query = r.query
  }
  const current = (name: string) => display(ctx.facts.values[name], "Bytes") as string
  const rewritten = Request.make({
    ...request,
    path: path ?? current("http.request.uri.path"),
    query: query ?? current("http.request.uri.query"),
    normalize: false
  })
  const values = { ...rewritten.values }
  for (const [name, value] of Object.entries(ctx.facts.values)) if (name.startsWith("raw.")) values[name] = value
  ctx.facts = unsafeFromValues(values)
  ctx.rewrites.push(...ctx.pendingRewrites)
  ctx.pendingRewrites.length = 0
}

/** Skip state of one phase at one level ("exceptions apply only to that context"). */
interface Scope {
  readonly stage: Stage
  readonly level: Level
  readonly events: Array<RuleEvent>
  readonly rulesets: Map<string, RuleRef>
  readonly rules: Map<string, Map<string, RuleRef>>
  phaseRest: RuleRef | undefined
}

const valuesOf = (ctx: Context, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    const type = fieldType(f)
    const v = type === undefined ? undefined : display(ctx.facts.values[f], type)
    if (v !== undefined) out[f] = v
  }
  return out
}

const fail = (ctx: Context, scope: { events: Array<RuleEvent> }, ref: RuleRef, reason: RuleConfigErrorReason, detail: string, parseError?: Compiled["error"]): void => {
  const error = new RuleConfigError({
    reason,
    stage: ref.stage,
    ruleset: ref.ruleset,
    rule: ref.id,
    detail,
    ...(parseError?.parseError !== undefined ? { parseError: parseError.parseError } : {})
  })
  ctx.errors.push(error)
  scope.events.push({ _tag: "Failed", rule: ref, error })
}

type Test = { readonly matched: boolean; readonly rule: Matcher } | undefined

/** Compiles and tests a rule expression; records a failure and returns undefined when it cannot. */
const test = (ctx: Context, scope: { events: Array<RuleEvent> }, ref: RuleRef, expression: string | undefined): Test => {
  const compiled = ctx.zone.compile(expression)
  if (compiled.rule === undefined) {
    const e = compiled.error!
    fail(ctx, scope, ref, e.reason, e.detail, e)
    return undefined
  }
  const missing = compiled.rule.lists.filter((name) => !ctx.zone.lists.has(name))
  if (missing.length > 0) {
    fail(ctx, scope, ref, "MissingList", `the rule needs named list(s) ${missing.map((l) => `$${l}`).join(", ")}, which were not supplied`)
    return undefined
  }
  return { matched: compiled.rule.test(ctx.facts, ctx.zone.lists), rule: compiled.rule }
}

const refOf = (stage: Stage, level: Level, ruleset: string, index: number, rule: Record<string, unknown>, via?: string): RuleRef => ({
  stage,
  level,
  ruleset,
  id: typeof rule.id === "string" ? rule.id : `#${index}`,
  index,
  ...(typeof rule.ref === "string" ? { ref: rule.ref } : {}),
  ...(typeof rule.description === "string" && rule.description !== "" ? { description: rule.description } : {}),
  ...(via !== undefined ? { via } : {})
})

const skipEffectOf = (p: Record<string, unknown>): SkipEffect => ({
  ...(typeof p.ruleset === "string" ? { ruleset: p.ruleset } : {}),
  ...(typeof p.phase === "string" ? { phase: p.phase } : {}),
  ...(Array.isArray(p.phases) ? { phases: stringsOf(p.phases) } : {}),
  ...(Array.isArray(p.products) ? { products: stringsOf(p.products) } : {}),
  ...(Array.isArray(p.rulesets) ? { rulesets: stringsOf(p.rulesets) } : {}),
  ...(isObject(p.rules)
    ? { rules: Object.fromEntries(Object.entries(p.rules).map(([k, v]) => [k, stringsOf(v)])) }
    : {})
})

/**
 * Runs the rules of one ruleset (an entry point or a custom ruleset run by `execute`). Returns
 * when the rules are done, a skip rule ends the ruleset or phase, or a terminating action stops
 * evaluation.
 */
const runRuleset = (
  ctx: Context,
  scope: Scope,
  rulesetId: string,
  rules: ReadonlyArray<RulesetRule>,
  via?: string
): void => {
  let skipRest: RuleRef | undefined
  for (let index = 0; index < rules.length; index++) {
    if (ctx.stopped) return
    const raw: unknown = rules[index]
    if (!isObject(raw)) {
      fail(ctx, scope, { stage: scope.stage, level: scope.level, ruleset: rulesetId, id: `#${index}`, index }, "InvalidRule", "the rule is not an object")
      continue
    }
    const ref = refOf(scope.stage, scope.level, rulesetId, index, raw, via)
    const action = typeof raw.action === "string" ? raw.action : ""
    const by = scope.phaseRest ?? skipRest
    if (by !== undefined) {
      scope.events.push({ _tag: "Skipped", rule: ref, action, by, reason: scope.phaseRest !== undefined ? "phase" : "ruleset" })
      continue
    }
    const ruleSkippedBy = scope.rules.get(rulesetId)?.get(ref.id)
    if (ruleSkippedBy !== undefined) {
      scope.events.push({ _tag: "Skipped", rule: ref, action, by: ruleSkippedBy, reason: "rules" })
      continue
    }
    if (typeof raw.id !== "string" || action === "") {
      fail(ctx, scope, ref, "InvalidRule", "the rule has no id or no action")
      continue
    }
    if (raw.enabled === false) {
      scope.events.push({ _tag: "Disabled", rule: ref, action })
      continue
    }
    const result = test(ctx, scope, ref, typeof raw.expression === "string" ? raw.expression : undefined)
    if (result === undefined) continue
    const fields = result.rule.fields
    const values = valuesOf(ctx, fields)
    if (!result.matched) {
      scope.events.push({ _tag: "NotMatched", rule: ref, action, fields, values })
      continue
    }
    const params: Record<string, unknown> = isObject(raw.action_parameters) ? raw.action_parameters : {}

    if (action === "skip") {
      const skip = skipEffectOf(params)
      scope.events.push({ _tag: "Matched", rule: ref, action, terminal: false, fields, values, skip })
      if (skip.ruleset === "current") skipRest = ref
      if (skip.phase === "current") scope.phaseRest = ref
      for (const phase of skip.phases ?? []) {
        // An account-level skip of phases skips them at both levels (Skip options, note).
        const prior = ctx.skippedPhases.get(phase)
        ctx.skippedPhases.set(phase, {
          account: (prior?.account ?? false) || scope.level === "account",
          zone: true,
          by: prior?.by ?? ref
        })
      }
      for (const product of skip.products ?? []) ctx.products.push({ product, by: ref })
      for (const id of skip.rulesets ?? []) if (!scope.rulesets.has(id)) scope.rulesets.set(id, ref)
      for (const [id, ids] of Object.entries(skip.rules ?? {})) {
        const map = scope.rules.get(id) ?? new Map<string, RuleRef>()
        for (const ruleId of ids) if (!map.has(ruleId)) map.set(ruleId, ref)
        scope.rules.set(id, map)
      }
      continue
    }

    if (action === "execute") {
      const target = typeof params.id === "string" ? params.id : undefined
      if (target === undefined) {
        fail(ctx, scope, ref, "InvalidRule", "an execute rule without action_parameters.id")
        continue
      }
      const rulesetSkippedBy = scope.rulesets.get(target)
      if (rulesetSkippedBy !== undefined) {
        scope.events.push({ _tag: "Skipped", rule: ref, action, by: rulesetSkippedBy, reason: "rulesets" })
        continue
      }
      const custom = ctx.zone.custom.get(target)
      if (custom !== undefined && (target === rulesetId || via !== undefined)) {
        // Cloudflare does not let a custom ruleset execute another; refuse rather than recurse.
        fail(ctx, scope, ref, "InvalidRule", `ruleset ${rulesetId} executes ${target} from inside a custom ruleset`)
        continue
      }
      if (custom !== undefined && !MANAGED_PHASES.has(scope.stage)) {
        scope.events.push({ _tag: "Matched", rule: ref, action, terminal: false, fields, values, execute: { rulesetId: target, kind: "custom" } })
        runRuleset(ctx, scope, target, custom.rules, ref.id)
        continue
      }
      const name = ctx.zone.managed[target]
      if (name === undefined && !MANAGED_PHASES.has(scope.stage)) {
        fail(ctx, scope, ref, "UnknownRuleset", `ruleset ${target} was not supplied (customRulesets or managedRulesets)`)
        continue
      }
      const overrides = isObject(params.overrides) ? (params.overrides as ManagedOverrides) : undefined
      const rulesetName = name ?? `managed ruleset ${target}`
      const mitigates = managedMitigates(overrides)
      const skippedRules = [...(scope.rules.get(target)?.entries() ?? [])].map(([rule, by]) => ({ rule, by }))
      const managed: ManagedExecution = {
        rulesetId: target,
        name: rulesetName,
        ...(overrides !== undefined ? { overrides } : {}),
        skippedRules,
        mitigates,
        summary:
          `managed ruleset ${rulesetName} (${target}) evaluates this request (${describeOverrides(overrides)}` +
          (skippedRules.length > 0 ? `; except rules ${skippedRules.map((r) => r.rule).join(", ")}` : "") +
          ")" +
          (mitigates ? "" : ": its overrides leave no rule that can mitigate")
      }
      scope.events.push({ _tag: "Matched", rule: ref, action, terminal: false, fields, values, execute: { rulesetId: target, kind: "managed", managed } })
      ctx.acting.push({ _tag: "Managed", rule: ref, managed, mitigates, summary: managed.summary })
      continue
    }

    if (isObject(raw.ratelimit)) {
      const rateLimit = describeRateLimit(action, raw.ratelimit as unknown as RateLimitParameters)
      scope.events.push({
        _tag: "Matched",
        rule: ref,
        action,
        terminal: false,
        fields,
        values,
        rateLimit,
        note: "counted: the action applies once the threshold is exceeded; until then evaluation continues"
      })
      ctx.acting.push({
        _tag: "RateLimit",
        rule: ref,
        rateLimit,
        mitigates: MITIGATING.has(action),
        summary:
          `rate limited by rule ${ref.id}: ${rateLimit.summary}` +
          (rateLimit.mitigationTimeout !== undefined ? ` (mitigation timeout ${rateLimit.mitigationTimeout} s)` : "")
      })
      continue
    }

    if (TERMINATING.has(action) && !(action === "redirect" && isObject(params.from_list))) {
      scope.events.push({ _tag: "Matched", rule: ref, action, terminal: true, fields, values })
      ctx.acting.push({ _tag: "Terminate", rule: ref, action, mitigates: MITIGATING.has(action), summary: `${action} by rule ${ref.id} in ${ref.stage}` })
      ctx.stopped = true
      return
    }

    scope.events.push({
      _tag: "Matched",
      rule: ref,
      action,
      terminal: false,
      fields,
      values,
      ...(action === "redirect" ? { note: "bulk redirect: redirects only when the list has an entry for the URL" } : {}),
      ...(action === "rewrite" ? { note: rewriteNote(ctx, ref, params) } : {})
    })
  }
}

/** Records a URL rewrite with static values; dynamic (expression) rewrites are only noted. */
const rewriteNote = (ctx: Context, ref: RuleRef, params: Record<string, unknown>): string => {
  const uri = isObject(params.uri) ? params.uri : {}
  const path = staticValue(uri.path)
  const query = staticValue(uri.query)
  const dynamic = (isObject(uri.path) && "expression" in uri.path) || (isObject(uri.query) && "expression" in uri.query)
  if (ref.stage === "http_request_transform" && (path !== undefined || query !== undefined)) {
    ctx.pendingRewrites.push({ ...(path !== undefined ? { path } : {}), ...(query !== undefined ? { query } : {}), by: ref })
    const parts = [path !== undefined ? `path to ${path}` : undefined, query !== undefined ? `query to ${query}` : undefined].filter((p) => p !== undefined)
    return `rewrites the ${parts.join(" and ")} for later phases`
  }
  return dynamic ? "dynamic rewrite: not applied, later phases see the URL as sent" : "header or other rewrite: not applied"
}

// IP Access rules ------------------------------------------------------------------------------

const accessExpression = (rule: IpAccessRule): string | undefined => {
  const target = rule.configuration?.target
  const value = typeof rule.configuration?.value === "string" ? rule.configuration.value.trim() : ""
  if (value === "") return undefined
  switch (target) {
    case "ip":
    case "ip6":
      return `ip.src eq ${value}`
    case "ip_range":
      return `ip.src in {${value}}`
    case "asn": {
      const n = value.replace(/^AS/i, "")
      return /^[0-9]+$/.test(n) ? `ip.src.asnum eq ${Number(n)}` : undefined
    }
    case "country":
      return /^[A-Za-z0-9]{2}$/.test(value) ? `ip.src.country eq "${value.toUpperCase()}"` : undefined
    default:
      return undefined
  }
}

/** More specific targets first: IP, then narrower ranges, then ASN, then country [inference]. */
const specificity = (rule: IpAccessRule): number => {
  const target = rule.configuration.target
  if (target === "ip" || target === "ip6") return 1000
  if (target === "ip_range") return 500 + Number(rule.configuration.value.split("/")[1] ?? 0)
  return target === "asn" ? 100 : 0
}

const runAccessRules = (ctx: Context, rules: ReadonlyArray<IpAccessRule>): StageTrace => {
  const scope = { events: [] as Array<RuleEvent> }
  const matched: Array<{ rule: IpAccessRule; ref: RuleRef; fields: ReadonlyArray<string>; values: Record<string, unknown> }> = []
  rules.forEach((raw, index) => {
    if (!isObject(raw)) return
    const ref: RuleRef = {
      ...refOf("ip_access_rules", isObject(raw.scope) && typeof raw.scope.type === "string" && raw.scope.type !== "zone" ? "account" : "zone", "ip_access_rules", index, raw as unknown as Record<string, unknown>),
      ...(typeof raw.notes === "string" && raw.notes !== "" ? { description: raw.notes } : {})
    }
    const expression = isObject(raw.configuration) ? accessExpression(raw) : undefined
    const mode = typeof raw.mode === "string" ? raw.mode : ""
    if (expression === undefined || !["block", "challenge", "whitelist", "js_challenge", "managed_challenge"].includes(mode)) {
      fail(ctx, scope, ref, "InvalidRule", `unusable IP Access rule (mode ${mode || "?"}, configuration ${JSON.stringify(raw.configuration ?? null)})`)
      return
    }
    const result = test(ctx, scope, ref, expression)
    if (result === undefined) return
    const fields = result.rule.fields
    if (result.matched) matched.push({ rule: raw, ref, fields, values: valuesOf(ctx, fields) })
    else scope.events.push({ _tag: "NotMatched", rule: ref, action: mode, fields, values: valuesOf(ctx, fields) })
  })
  // "The Allow action takes precedence over the Block action"; otherwise the most specific rule.
  const ordered = [...matched].sort(
    (a, b) => Number(b.rule.mode === "whitelist") - Number(a.rule.mode === "whitelist") || specificity(b.rule) - specificity(a.rule) || a.ref.index - b.ref.index
  )
  ordered.forEach((m, i) =>
    scope.events.push({
      _tag: "Matched",
      rule: m.ref,
      action: m.rule.mode,
      terminal: i === 0,
      fields: m.fields,
      values: m.values,
      ...(i > 0 ? { note: `superseded by IP Access rule ${ordered[0]!.ref.id}` } : {})
    })
  )
  const chosen = ordered[0]
  if (chosen !== undefined) {
    if (chosen.rule.mode === "whitelist") {
      // Allowing a country does not bypass WAF Managed Rules (IP Access rules, caution).
      const bypassed = ALLOW_BYPASSES.filter((s) => !(chosen.rule.configuration.target === "country" && s === "http_request_firewall_managed"))
      ctx.bypass = { stages: new Set(bypassed), by: chosen.ref }
      ctx.acting.push({
        _tag: "Allow",
        rule: chosen.ref,
        bypassed,
        mitigates: false,
        summary: `allowed by IP Access rule ${chosen.ref.id} (${chosen.rule.configuration.target} ${chosen.rule.configuration.value}): ${bypassed.join(", ")} bypassed`
      })
    } else {
      ctx.acting.push({
        _tag: "Terminate",
        rule: chosen.ref,
        action: chosen.rule.mode,
        mitigates: true,
        summary: `${chosen.rule.mode} by IP Access rule ${chosen.ref.id} (${chosen.rule.configuration.target} ${chosen.rule.configuration.value})`
      })
      ctx.stopped = true
    }
  }
  return { stage: "ip_access_rules", level: "zone", ruleset: "ip_access_rules", status: "evaluated", events: scope.events }
}

// Legacy firewall rules ------------------------------------------------------------------------

const precedenceOf = (action: string) => {
  const i = LEGACY_PRECEDENCE.indexOf(action)
  return i < 0 ? LEGACY_PRECEDENCE.length : i
}

const runFirewallRules = (ctx: Context, rules: ReadonlyArray<LegacyFirewallRule>): StageTrace => {
  const scope = { events: [] as Array<RuleEvent> }
  // "Rules without a priority number are evaluated last, in order of their action precedence";
  // rules of equal priority are tied by action precedence too.
  const ordered = rules
    .map((rule, position) => ({ rule, position }))
    .filter(({ rule }) => isObject(rule))
    .sort((a, b) => {
      const pa = num(a.rule.priority) ?? Infinity
      const pb = num(b.rule.priority) ?? Infinity
      return pa !== pb ? pa - pb : precedenceOf(a.rule.action) - precedenceOf(b.rule.action) || a.position - b.position
    })
  let allowedBy: RuleRef | undefined
  for (let index = 0; index < ordered.length; index++) {
    if (ctx.stopped) break
    const raw = ordered[index]!.rule
    const ref = refOf("firewall_rules", "zone", "firewall_rules", index, raw as unknown as Record<string, unknown>)
    const action = typeof raw.action === "string" ? raw.action : ""
    if (allowedBy !== undefined) {
      scope.events.push({ _tag: "Skipped", rule: ref, action, by: allowedBy, reason: "allow" })
      continue
    }
    if (raw.paused === true || raw.filter?.paused === true) {
      scope.events.push({ _tag: "Disabled", rule: ref, action })
      continue
    }
    if (!isObject(raw.filter) || raw.filter.deleted === true) {
      fail(ctx, scope, ref, "MissingExpression", "the rule's filter was deleted")
      continue
    }
    const result = test(ctx, scope, ref, raw.filter.expression)
    if (result === undefined) continue
    const fields = result.rule.fields
    const values = valuesOf(ctx, fields)
    if (!result.matched) {
      scope.events.push({ _tag: "NotMatched", rule: ref, action, fields, values })
      continue
    }
    if (action === "log" || action === "bypass") {
      // "Log and Bypass do not terminate further evaluation within firewall rules."
      for (const product of action === "bypass" ? stringsOf(raw.products) : []) ctx.products.push({ product, by: ref })
      scope.events.push({ _tag: "Matched", rule: ref, action, terminal: false, fields, values })
      continue
    }
    if (action === "allow") {
      // Allow exempts the request from other firewall rules only, not from other products.
      scope.events.push({ _tag: "Matched", rule: ref, action, terminal: true, fields, values, note: "allow ends the legacy firewall rules only" })
      allowedBy = ref
      continue
    }
    scope.events.push({ _tag: "Matched", rule: ref, action, terminal: true, fields, values })
    ctx.acting.push({ _tag: "Terminate", rule: ref, action, mitigates: MITIGATING.has(action), summary: `${action} by legacy firewall rule ${ref.id}` })
    ctx.stopped = true
  }
  return { stage: "firewall_rules", level: "zone", ruleset: "firewall_rules", status: "evaluated", events: scope.events }
}

// The walk -------------------------------------------------------------------------------------

const decisionOf = (acting: ReadonlyArray<Acting>): Trace["decision"] =>
  acting[0] ?? { _tag: "NoAction", summary: "no rule acts on this request" }

export const evaluateZone = (zone: PreparedZone, request: RequestDescription): Trace => {
  const ctx: Context = {
    zone,
    facts: buildFacts(request, zone.input.normalization),
    pendingRewrites: [],
    rewrites: [],
    stages: [],
    acting: [],
    errors: [],
    products: [],
    skippedPhases: new Map(),
    bypass: undefined,
    stopped: false
  }
  const legacy = (stage: "ip_access_rules" | "firewall_rules", run: () => StageTrace) => {
    if (ctx.stopped) ctx.stages.push({ stage, level: "zone", ruleset: stage, status: "not reached", events: [] })
    else if (ctx.bypass?.stages.has(stage)) ctx.stages.push({ stage, level: "zone", ruleset: stage, status: "bypassed", by: ctx.bypass.by, events: [] })
    else ctx.stages.push(run())
  }
  const order: ReadonlyArray<string> = PHASE_ORDER
  const known = zone.entrypoints.filter((e) => order.includes(e.phase))
  const unknown = zone.entrypoints.filter((e) => !order.includes(e.phase))
  const accessRules = arrayOf<IpAccessRule>(zone.input.accessRules)
  const firewallRules = arrayOf<LegacyFirewallRule>(zone.input.firewallRules)
  for (const phase of order) {
    if (phase === "http_request_firewall_custom") {
      // IP Access rules run before custom rules; firewall rules only see requests that clear them.
      if (accessRules.length > 0) legacy("ip_access_rules", () => runAccessRules(ctx, accessRules))
      if (firewallRules.length > 0) legacy("firewall_rules", () => runFirewallRules(ctx, firewallRules))
    }
    // For one phase, account-level rules run before zone-level rules.
    for (const level of ["account", "zone"] as const) {
      for (const { entrypoint } of known.filter((e) => e.phase === phase && e.level === level)) {
        const ruleset = typeof entrypoint.id === "string" ? entrypoint.id : `${phase} entrypoint`
        const base = { stage: phase, level, ruleset }
        const skipped = ctx.skippedPhases.get(phase)
        if (ctx.stopped) ctx.stages.push({ ...base, status: "not reached", events: [] })
        else if (skipped !== undefined && skipped[level]) ctx.stages.push({ ...base, status: "skipped", by: skipped.by, events: [] })
        else if (ctx.bypass?.stages.has(phase)) ctx.stages.push({ ...base, status: "bypassed", by: ctx.bypass.by, events: [] })
        else {
          const scope: Scope = { stage: phase, level, events: [], rulesets: new Map(), rules: new Map(), phaseRest: undefined }
          runRuleset(ctx, scope, ruleset, arrayOf<RulesetRule>(entrypoint.rules))
          ctx.stages.push({ ...base, status: "evaluated", events: scope.events })
        }
      }
    }
    applyRewrites(ctx, request)
  }
  for (const { phase, level, entrypoint } of unknown) {
    ctx.stages.push({ stage: phase, level, ruleset: typeof entrypoint.id === "string" ? entrypoint.id : `${phase} entrypoint`, status: "unsupported", events: [] })
  }
  return {
    request,
    stages: ctx.stages,
    acting: ctx.acting,
    decision: decisionOf(ctx.acting),
    skippedProducts: ctx.products,
    rewrites: ctx.rewrites,
    errors: ctx.errors
  }
}
