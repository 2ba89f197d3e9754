/**
 * The walk of a request through a prepared zone in Cloudflare's order: IP Access rules and legacy
 * firewall rules before custom rules, then the Ruleset Engine phases (account level before zone
 * level), applying disabled rules, skip rules, `execute` of custom and managed rulesets,
 * terminating actions and URL rewrites between phases. Every decision cites the documentation it
 * follows (see the package README).
 */
import type {
  Acting,
  IpAccessRule,
  LegacyFirewallRule,
  Level,
  ManagedExecution,
  ManagedOverrides,
  RateLimitParameters,
  RuleEvent,
  RuleRef,
  RulesetRule,
  SkipEffect,
  Stage,
  StageTrace,
  Trace
} from "../../Coverage.js"
import { display, unsafeFromValues } from "../../Facts.js"
import type { RequestDescription } from "../../Request.js"
import * as Request from "../../Request.js"
import type { Context } from "./context.js"
import { fail, MITIGATING, refOf, test, valuesOf } from "./context.js"
import { describeOverrides, describeRateLimit, managedWeakness } from "./describe.js"
import { runAccessRules, runFirewallRules } from "./legacy.js"
import type { PreparedZone } from "./prepare.js"
import { arrayOf, buildFacts, isObject, stringsOf } from "./prepare.js"

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

/** Phases whose `execute` rules deploy managed rulesets. */
const MANAGED_PHASES = new Set(["http_request_firewall_managed", "ddos_l7", "http_request_sbfm", "http_response_firewall_managed"])

/** Ruleset Engine actions that stop evaluation ("Actions" reference, "Terminating action?" = Yes). */
const TERMINATING = new Set(["block", "challenge", "js_challenge", "managed_challenge", "redirect", "serve_error"])

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
      const mitigates = managedWeakness(true, overrides) === undefined
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

const decisionOf = (acting: ReadonlyArray<Acting>): Trace["decision"] =>
  acting[0] ?? { _tag: "NoAction", summary: "no rule acts on this request" }

/** Walks one request through a prepared zone and returns its trace. */
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
