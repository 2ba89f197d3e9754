/**
 * Preparing a zone for coverage: the zone's rules are compiled once (invalid expressions kept as
 * errors), entry points and custom and managed rulesets are indexed, and a request's facts are
 * built under the zone's URL normalization. Also the readers of the customer's untyped wire data
 * that every stage of the walk shares.
 */
import { Either } from "effect"
import type { Entrypoint, Level, RulesetRule, UrlNormalization, ZoneRules } from "../../Coverage.js"
import type { Facts } from "../../Facts.js"
import { unsafeFromValues } from "../../Facts.js"
import type { NamedLists } from "../../NamedLists.js"
import * as Lists from "../../NamedLists.js"
import type { RequestDescription } from "../../Request.js"
import * as Request from "../../Request.js"
import type { Rule } from "../../Rule.js"
import { compileEither } from "../../Rule.js"
import type { RuleConfigErrorReason, RulesParseError } from "../../RulesError.js"
import { normalizePercentEncoding, removeDotSegments } from "../url.js"

/** Well-known managed WAF rulesets. */
export const WELL_KNOWN_MANAGED: Readonly<Record<string, string>> = {
  efb7b8c949ac4650a09736fc376e9aee: "Cloudflare Managed Ruleset",
  "4814384a9e5d4991b9815dcfc25d2f1f": "Cloudflare OWASP Core Ruleset",
  "77454fe2d30c4220b5701f6fdfb893ba": "Cloudflare Free Managed Ruleset",
  c2e184081120413c86c3ab7e14069605: "Cloudflare Exposed Credentials Check Ruleset"
}

/** What coverage needs of a compiled expression (a `Rule`, or the constant `true`). */
export interface Matcher {
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

/** A rule expression compiled once per zone, or why it could not be. */
export interface Compiled {
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

// Customer data is read without trusting its shape.

/** True for a non-null object. */
export const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
/** The value if it is an array, else an empty one. */
export const arrayOf = <A>(u: unknown): ReadonlyArray<A> => (Array.isArray(u) ? (u as ReadonlyArray<A>) : [])
/** The strings of the value if it is an array, else none. */
export const stringsOf = (u: unknown): ReadonlyArray<string> => arrayOf<unknown>(u).filter((s): s is string => typeof s === "string")

/** A finite number, or undefined. */
export const num = (u: unknown): number | undefined => (typeof u === "number" && Number.isFinite(u) ? u : undefined)

/** Compiles a zone's rules once and indexes its entry points and rulesets. */
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

// Request facts under the zone's URL normalization ---------------------------------------------

/** RFC 3986 normalization (Cloudflare's `rfc3986` type): unreserved decoded, hex upper-cased, dot segments removed. */
export const rfc3986Path = (path: string): string => removeDotSegments(normalizePercentEncoding(path))

/** The request's facts as the zone sees them, under its URL normalization. */
export const buildFacts = (description: RequestDescription, normalization: UrlNormalization | undefined): Facts => {
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
