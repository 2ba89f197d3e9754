/**
 * The state of one request's walk through a zone, shared by the Ruleset Engine phases and the
 * legacy products: the facts the current phase sees, the trace being written, and the steps every
 * stage takes for a rule (compile and test it, record a failure, name it, show the values read).
 */
import type { Acting, Level, RuleEvent, RuleRef, Stage, StageTrace } from "../../Coverage.js"
import type { Facts } from "../../Facts.js"
import { display } from "../../Facts.js"
import type { RuleConfigErrorReason } from "../../RulesError.js"
import { RuleConfigError } from "../../RulesError.js"
import { fieldType } from "../../Scheme.js"
import type { Compiled, Matcher, PreparedZone } from "./prepare.js"

/** Actions that mitigate (anything but logging or rewriting). */
export const MITIGATING = new Set(["block", "challenge", "js_challenge", "managed_challenge"])

/** The walk's state for one request. */
export interface Context {
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

/** A URL rewrite with static values, and the rule that made it. */
export type Rewrite = { readonly path?: string; readonly query?: string; readonly by: RuleRef }

/** The display values of the fields a rule reads, as the current phase sees them. */
export const valuesOf = (ctx: Context, fields: ReadonlyArray<string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const f of fields) {
    const type = fieldType(f)
    const v = type === undefined ? undefined : display(ctx.facts.values[f], type)
    if (v !== undefined) out[f] = v
  }
  return out
}

/** Records a rule that could not be evaluated, in the trace's errors and as a `Failed` event. */
export const fail = (ctx: Context, scope: { events: Array<RuleEvent> }, ref: RuleRef, reason: RuleConfigErrorReason, detail: string, parseError?: Compiled["error"]): void => {
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

/** A rule's verdict on the request and the matcher that gave it; undefined when it could not be tested. */
export type Test = { readonly matched: boolean; readonly rule: Matcher } | undefined

/** Compiles and tests a rule expression; records a failure and returns undefined when it cannot. */
export const test = (ctx: Context, scope: { events: Array<RuleEvent> }, ref: RuleRef, expression: string | undefined): Test => {
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

/** Names a rule in the trace. */
export const refOf = (stage: Stage, level: Level, ruleset: string, index: number, rule: Record<string, unknown>, via?: string): RuleRef => ({
  stage,
  level,
  ruleset,
  id: typeof rule.id === "string" ? rule.id : `#${index}`,
  index,
  ...(typeof rule.ref === "string" ? { ref: rule.ref } : {}),
  ...(typeof rule.description === "string" && rule.description !== "" ? { description: rule.description } : {}),
  ...(via !== undefined ? { via } : {})
})
