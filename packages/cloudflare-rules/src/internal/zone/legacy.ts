/**
 * The legacy products that run before the Ruleset Engine's custom rules: IP Access rules (allow
 * wins over block, then the most specific rule) and legacy firewall rules (by priority, then
 * action precedence).
 */
import type { IpAccessRule, LegacyFirewallRule, RuleEvent, RuleRef, Stage, StageTrace } from "../../Coverage.js"
import type { Context } from "./context.js"
import { fail, MITIGATING, refOf, test, valuesOf } from "./context.js"
import { isObject, num, stringsOf } from "./prepare.js"

/** Stages an IP Access allow rule exempts a request from ("excludes visitors from all security checks"). */
const ALLOW_BYPASSES: ReadonlyArray<Stage> = [
  "firewall_rules",
  "http_request_firewall_custom",
  "http_ratelimit",
  "http_request_firewall_managed",
  "http_request_sbfm"
]

/** Legacy firewall rule actions in order of precedence (Firewall rules actions). */
const LEGACY_PRECEDENCE = ["log", "bypass", "allow", "challenge", "managed_challenge", "js_challenge", "block"]

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

/** Runs the IP Access rules: the allowing or blocking rule that decides, and what an allow bypasses. */
export const runAccessRules = (ctx: Context, rules: ReadonlyArray<IpAccessRule>): StageTrace => {
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

/** Runs the legacy firewall rules in priority and action-precedence order. */
export const runFirewallRules = (ctx: Context, rules: ReadonlyArray<LegacyFirewallRule>): StageTrace => {
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
