/**
 * Which zones an account-level rule reaches. Account rulesets scope themselves to zones through
 * their expression (`cf.zone.name eq "example.com" and cf.zone.plan eq "ENT"`, per Cloudflare's
 * "Deploy a custom ruleset" page); this decides it statically from the zone's name and plan, and
 * answers `undecided` when the zone fields are mixed with request fields in a way that cannot be
 * split (an `or`, a `not`), so the caller can attribute the rule conservatively.
 */
import type * as Ast from "../../Ast.js"
import * as Expression from "../../Expression.js"
import * as Facts from "../../Facts.js"
import * as Rule from "../../Rule.js"

/** `plan.legacy_id` → the value of `cf.zone.plan` (Rules language fields reference). */
const PLAN_VALUES: Readonly<Record<string, string>> = { free: "FREE", pro: "PRO", business: "BIZ", enterprise: "ENT" }

const isZoneField = (name: string): boolean => name.startsWith("cf.zone.")

const conjuncts = (expression: Ast.Expression): ReadonlyArray<Ast.Expression> =>
  expression._tag === "Logical" && expression.operator === "and" ? expression.operands.flatMap(conjuncts) : [expression]

/** `applies`, `excluded`, or `undecided` (with why). */
export type ZoneScope =
  | { readonly _tag: "Applies" }
  | { readonly _tag: "Excluded"; readonly by: string }
  | { readonly _tag: "Undecided"; readonly reason: string }

export const zoneScope = (expression: string | undefined, zone: { readonly name: string; readonly plan?: string }): ZoneScope => {
  if (expression === undefined || expression.trim() === "" || expression.trim() === "true") return { _tag: "Applies" }
  const parsed = Expression.parseEither(expression)
  if (parsed._tag === "Left") return { _tag: "Undecided", reason: `the expression does not parse: ${parsed.left.message}` }
  const facts = Facts.make({
    "cf.zone.name": zone.name,
    ...(zone.plan === undefined ? {} : { "cf.zone.plan": PLAN_VALUES[zone.plan] ?? zone.plan })
  })
  let mixed = false
  for (const part of conjuncts(parsed.right)) {
    const fields = Expression.fields(part)
    const zoneFields = fields.filter(isZoneField)
    if (zoneFields.length === 0) continue
    if (zoneFields.length < fields.length || (zone.plan === undefined && zoneFields.includes("cf.zone.plan"))) {
      mixed = true
      continue
    }
    const compiled = Rule.compileEither(part)
    if (compiled._tag === "Left") return { _tag: "Undecided", reason: compiled.left.message }
    if (!Rule.evaluate(compiled.right, facts)) return { _tag: "Excluded", by: compiled.right.canonical }
  }
  return mixed ? { _tag: "Undecided", reason: "the zone fields are combined with request fields" } : { _tag: "Applies" }
}
