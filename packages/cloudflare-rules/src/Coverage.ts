/**
 * Rule coverage: which of a zone's rules acts on a request, and with what action. The input is
 * the zone's configuration in Cloudflare's own wire names (phase entry points and their `rules[]`,
 * custom rulesets run by `execute`, deployed managed rulesets, named lists, legacy firewall rules
 * and IP Access rules, URL normalization); the output is an ordered {@link Trace} of every stage,
 * rule match, skip and error, and the deciding outcome. {@link probe} runs a request together with
 * the odd-case and encoded spellings an attacker would send (`Request.variants`) and says whether
 * all, some or none of them are covered. Nothing here fails or throws because of the customer's
 * data: invalid expressions and missing lists become {@link RuleConfigError}s in the trace.
 */
import { Effect } from "effect"
import { describeRateLimit as describeRateLimitImpl, managedWeakness as managedWeaknessImpl, resolveOverride as resolveOverrideImpl, suggest } from "./internal/zone/describe.js"
import { type ZoneScope as ZoneScopeImpl, zoneScope as zoneScopeImpl } from "./internal/zone/scope.js"
import type { PreparedZone } from "./internal/zone/prepare.js"
import { prepareZone, WELL_KNOWN_MANAGED } from "./internal/zone/prepare.js"
import { evaluateZone, PHASE_ORDER } from "./internal/zone/walk.js"
import type { ListsInput, NamedLists } from "./NamedLists.js"
import * as Request from "./Request.js"
import type { RequestDescription } from "./Request.js"
import type { RuleConfigError } from "./RulesError.js"

// ---------------------------------------------------------------------------------------------
// Input: Cloudflare's wire shapes
// ---------------------------------------------------------------------------------------------

/**
 * The request phases in the order Cloudflare runs them (Ruleset Engine "Phases list"; the
 * configuration-only `http_request_api_gateway_early` is left out).
 */
export const REQUEST_PHASES = PHASE_ORDER

/** The phases a WAF coverage question is usually about: custom rules, rate limiting, managed rules. */
export const SECURITY_PHASES: ReadonlyArray<Phase> = [
  "http_request_firewall_custom",
  "http_ratelimit",
  "http_request_firewall_managed"
]

/** A phase name (`http_request_firewall_custom`, `http_ratelimit`, ...). */
export type Phase = (typeof PHASE_ORDER)[number] | (string & {})

/** A stage of the trace: a phase, or one of the legacy products that run before custom rules. */
export type Stage = Phase | "ip_access_rules" | "firewall_rules"

/** Whether a rule or entry point belongs to the account or to the zone. */
export type Level = "account" | "zone"

/** `overrides` of an `execute` rule that deploys a managed ruleset. */
export interface ManagedOverrides {
  readonly action?: string
  readonly enabled?: boolean
  readonly sensitivity_level?: string
  readonly categories?: ReadonlyArray<{ readonly category: string; readonly action?: string; readonly enabled?: boolean }>
  readonly rules?: ReadonlyArray<{ readonly id: string; readonly action?: string; readonly enabled?: boolean; readonly score_threshold?: number }>
}

/** `action_parameters` of a rule; only the keys coverage reads are typed. */
export interface ActionParameters {
  /** `execute`: the ruleset to run. */
  readonly id?: string
  /** `execute` of a managed ruleset: overrides. */
  readonly overrides?: ManagedOverrides
  /** `skip`: `"current"` skips the remaining rules of the current ruleset. */
  readonly ruleset?: string
  /** `skip`: `"current"` skips the remaining rules of the current phase (zone level). */
  readonly phase?: string
  /** `skip`: phases to skip. */
  readonly phases?: ReadonlyArray<string>
  /** `skip`: legacy products to skip (`zoneLockdown`, `uaBlock`, `bic`, `hot`, `securityLevel`, `rateLimit`, `waf`). */
  readonly products?: ReadonlyArray<string>
  /** `skip`: rulesets to skip. */
  readonly rulesets?: ReadonlyArray<string>
  /** `skip`: rule ids to skip, by ruleset id. */
  readonly rules?: Readonly<Record<string, ReadonlyArray<string>>>
  /** Bulk redirects: the redirect list. */
  readonly from_list?: { readonly name?: string; readonly key?: string }
  readonly [key: string]: unknown
}

/** The `ratelimit` object of a rate limiting rule. */
export interface RateLimitParameters {
  readonly characteristics: ReadonlyArray<string>
  readonly period: number
  readonly requests_per_period?: number
  readonly score_per_period?: number
  readonly score_response_header_name?: string
  readonly mitigation_timeout?: number
  readonly counting_expression?: string
  readonly requests_to_origin?: boolean
}

/** A rule of a ruleset, in the Rulesets API's field names. `enabled` defaults to true. */
export interface RulesetRule {
  readonly id: string
  readonly ref?: string
  readonly expression?: string
  readonly action: string
  readonly action_parameters?: ActionParameters
  readonly enabled?: boolean
  readonly ratelimit?: RateLimitParameters
  readonly description?: string
}

/** A phase entry point ruleset. */
export interface Entrypoint {
  readonly phase: Phase
  readonly id?: string
  readonly name?: string
  readonly rules: ReadonlyArray<RulesetRule>
}

/** A custom ruleset run by an `execute` rule. */
export interface CustomRuleset {
  readonly name?: string
  readonly rules: ReadonlyArray<RulesetRule>
}

/** A legacy (deprecated) firewall rule, as `/zones/{id}/firewall/rules` returns it. */
export interface LegacyFirewallRule {
  readonly id: string
  readonly action: string
  readonly paused?: boolean
  readonly description?: string
  readonly priority?: number | null
  readonly products?: ReadonlyArray<string>
  readonly ref?: string
  readonly filter: {
    readonly id?: string
    readonly expression?: string
    readonly paused?: boolean
    readonly deleted?: boolean
  }
}

/** An IP Access rule, as `/zones/{id}/firewall/access_rules/rules` returns it. */
export interface IpAccessRule {
  readonly id: string
  readonly mode: string
  readonly configuration: { readonly target: string; readonly value: string }
  readonly notes?: string
  readonly scope?: { readonly type?: string }
}

/** The zone's URL normalization setting (`/zones/{id}/url_normalization`). */
export interface UrlNormalization {
  readonly type: "cloudflare" | "rfc3986"
  readonly scope: "incoming" | "both" | "none"
}

/** Everything coverage needs to know about a zone. */
export interface ZoneRules {
  /** The zone's phase entry points. */
  readonly rulesets: ReadonlyArray<Entrypoint>
  /** The account's phase entry points; for one phase they run before the zone's. */
  readonly accountRulesets?: ReadonlyArray<Entrypoint>
  /** Custom rulesets run by `execute`, by id (a ruleset or just its rules). */
  readonly customRulesets?: Readonly<Record<string, CustomRuleset | ReadonlyArray<RulesetRule>>>
  /** Names of managed rulesets, by id (merged over {@link MANAGED_RULESETS}). */
  readonly managedRulesets?: Readonly<Record<string, string>>
  /** Named list contents (`$name` without the `$`). */
  readonly lists?: NamedLists | ListsInput
  /** Legacy firewall rules. */
  readonly firewallRules?: ReadonlyArray<LegacyFirewallRule>
  /** IP Access rules (zone and inherited account rules); they run before custom rules. */
  readonly accessRules?: ReadonlyArray<IpAccessRule>
  /**
   * URL normalization. When absent, paths are evaluated as sent (unless the request itself says
   * `normalize: true`), which never claims coverage the zone may not have.
   */
  readonly normalization?: UrlNormalization
}

/** Cloudflare's managed WAF rulesets, by id (API-NOTES §5.6). */
export const MANAGED_RULESETS: Readonly<Record<string, string>> = WELL_KNOWN_MANAGED

// ---------------------------------------------------------------------------------------------
// Output: the trace
// ---------------------------------------------------------------------------------------------

/** Where a rule sits. */
export interface RuleRef {
  readonly stage: Stage
  readonly level: Level
  /** Entry point id (or `"<phase> entrypoint"`), custom ruleset id, or the stage name. */
  readonly ruleset: string
  readonly id: string
  /** 0-based position in its ruleset (after priority ordering, for legacy firewall rules). */
  readonly index: number
  readonly ref?: string
  readonly description?: string
  /** The `execute` rule that ran this rule's custom ruleset. */
  readonly via?: string
}

/** What a matching `skip` rule skips. */
export interface SkipEffect {
  readonly ruleset?: string
  readonly phase?: string
  readonly phases?: ReadonlyArray<string>
  readonly products?: ReadonlyArray<string>
  readonly rulesets?: ReadonlyArray<string>
  readonly rules?: Readonly<Record<string, ReadonlyArray<string>>>
}

/** A rate limiting rule, described. */
export interface RateLimit {
  readonly action: string
  readonly characteristics: ReadonlyArray<string>
  readonly period: number
  readonly requestsPerPeriod?: number
  readonly scorePerPeriod?: number
  readonly mitigationTimeout?: number
  readonly countingExpression?: string
  /** e.g. `block after 10 requests / 60 s per IP`. */
  readonly summary: string
}

/** A managed ruleset that runs on the request. */
export interface ManagedExecution {
  readonly rulesetId: string
  readonly name: string
  readonly overrides?: ManagedOverrides
  /** Rules of this ruleset skipped by earlier exceptions, with the skip rule that skipped each. */
  readonly skippedRules: ReadonlyArray<{ readonly rule: string; readonly by: RuleRef }>
  /** False when the overrides disable every rule or turn every action into `log`. */
  readonly mitigates: boolean
  /** e.g. `managed ruleset Cloudflare Managed Ruleset (efb7…) evaluates this request (no overrides)`. */
  readonly summary: string
}

/** One event of a stage. `fields`/`values` say what the rule read and the request's values. */
export type RuleEvent =
  | {
    readonly _tag: "Matched"
    readonly rule: RuleRef
    readonly action: string
    /** True when this match ends the evaluation (or, for legacy `allow`, the firewall rules). */
    readonly terminal: boolean
    readonly fields: ReadonlyArray<string>
    readonly values: Readonly<Record<string, unknown>>
    readonly skip?: SkipEffect
    readonly rateLimit?: RateLimit
    readonly execute?: { readonly rulesetId: string; readonly kind: "custom" | "managed"; readonly managed?: ManagedExecution }
    readonly note?: string
  }
  | {
    readonly _tag: "NotMatched"
    readonly rule: RuleRef
    readonly action: string
    readonly fields: ReadonlyArray<string>
    readonly values: Readonly<Record<string, unknown>>
  }
  | { readonly _tag: "Disabled"; readonly rule: RuleRef; readonly action: string }
  | {
    readonly _tag: "Skipped"
    readonly rule: RuleRef
    readonly action: string
    readonly by: RuleRef
    /** `ruleset`: skip current ruleset; `phase`: skip current phase; `rulesets`/`rules`: named. */
    readonly reason: "ruleset" | "phase" | "rulesets" | "rules" | "allow"
  }
  | { readonly _tag: "Failed"; readonly rule: RuleRef; readonly error: RuleConfigError }

/** One stage (a phase at one level, or a legacy product). */
export interface StageTrace {
  readonly stage: Stage
  readonly level: Level
  readonly ruleset: string
  /**
   * `evaluated`; `skipped` by a skip rule's `phases`; `bypassed` by an IP Access allow rule;
   * `not reached` after a terminating action; `unsupported` for response phases and phases whose
   * place in the order is unknown.
   */
  readonly status: "evaluated" | "skipped" | "bypassed" | "not reached" | "unsupported"
  readonly by?: RuleRef
  readonly events: ReadonlyArray<RuleEvent>
}

/** A rule that acts on the request. */
export type Acting =
  | { readonly _tag: "Terminate"; readonly rule: RuleRef; readonly action: string; readonly mitigates: boolean; readonly summary: string }
  | { readonly _tag: "RateLimit"; readonly rule: RuleRef; readonly rateLimit: RateLimit; readonly mitigates: boolean; readonly summary: string }
  | { readonly _tag: "Managed"; readonly rule: RuleRef; readonly managed: ManagedExecution; readonly mitigates: boolean; readonly summary: string }
  | { readonly _tag: "Allow"; readonly rule: RuleRef; readonly bypassed: ReadonlyArray<Stage>; readonly mitigates: false; readonly summary: string }

/** The deciding outcome: the first rule that acts, or nothing. */
export type Decision = Acting | { readonly _tag: "NoAction"; readonly summary: string }

/** The evaluation of one request. */
export interface Trace {
  readonly request: RequestDescription
  readonly stages: ReadonlyArray<StageTrace>
  /** Every rule that acts on the request, in order; the last may be terminating. */
  readonly acting: ReadonlyArray<Acting>
  readonly decision: Decision
  /** Legacy products skipped by skip rules (`products`) or legacy `bypass` rules. */
  readonly skippedProducts: ReadonlyArray<{ readonly product: string; readonly by: RuleRef }>
  /** URL rewrites (static `uri.path`/`uri.query` values of `http_request_transform`) seen by later phases. */
  readonly rewrites: ReadonlyArray<{ readonly path?: string; readonly query?: string; readonly by: RuleRef }>
  /** Every rule that could not be evaluated. */
  readonly errors: ReadonlyArray<RuleConfigError>
}

/** A zone's rules, compiled once for many requests. */
export type Zone = PreparedZone

/** Compiles a zone's rules (expressions are compiled once; invalid ones are kept as errors). */
export const make = (zone: ZoneRules): Zone => prepareZone(zone)

/** Evaluates one request against a zone, in Cloudflare's phase order. The zone's data never makes it throw. */
export const evaluate = (zone: Zone | ZoneRules, request: RequestDescription): Trace =>
  evaluateZone(isZone(zone) ? zone : prepareZone(zone), request)

/** {@link evaluate} as an Effect (it cannot fail: configuration errors are in the trace). */
export const evaluateEffect = (zone: Zone | ZoneRules, request: RequestDescription): Effect.Effect<Trace> =>
  Effect.sync(() => evaluate(zone, request))

const isZone = (u: Zone | ZoneRules): u is Zone => "_tag" in u && (u as Zone)._tag === "CoverageZone"

// ---------------------------------------------------------------------------------------------
// Probe
// ---------------------------------------------------------------------------------------------

/** A probe: a zone, a request, and the phases whose rules count as coverage. */
export interface ProbeInput extends ZoneRules {
  readonly request: RequestDescription
  /** Phases whose acting rules count (default: every stage). */
  readonly phases?: ReadonlyArray<Stage>
}

/** How one spelling of the request fares. */
export interface VariantCoverage {
  readonly label: string
  readonly request: RequestDescription
  readonly trace: Trace
  /** The first mitigating rule of the requested phases that acts on this variant. */
  readonly coveredBy?: Acting
  /** `covered by rule X (…)` or `not covered`. */
  readonly summary: string
}

/** The result of {@link probe}. */
export interface Probe {
  readonly request: RequestDescription
  readonly phases?: ReadonlyArray<Stage>
  readonly variants: ReadonlyArray<VariantCoverage>
  readonly covered: "all" | "some" | "none"
  /** One line per variant is in `variants`; this is the request as given. */
  readonly summary: string
  /** When not every variant is covered and the request has a path: the expression to add. */
  readonly suggestion?: { readonly simple: string; readonly robust: string }
}

const coverageSummary = (acting: Acting | undefined): string => {
  if (acting === undefined) return "not covered"
  switch (acting._tag) {
    case "RateLimit":
      return `covered by rule ${acting.rule.id} (${acting.rateLimit.summary})`
    case "Managed":
      return `covered by managed ruleset ${acting.managed.name} (deployed by rule ${acting.rule.id})`
    case "Terminate":
      return `covered by rule ${acting.rule.id} (${acting.action} in ${acting.rule.stage})`
    case "Allow":
      return "not covered"
  }
}

/**
 * Runs a request and every attacker spelling of it (`Request.variants`: odd case, percent-encoded
 * letters, doubled and back-slashes, dot segments, trailing slash, method and host case) and says
 * which rule covers each. A variant is covered when a rule of `phases` acts on it with a
 * mitigating action (`log` and all-`log` managed overrides do not count).
 */
export const probe = (input: ProbeInput): Probe => {
  const { phases, request, ...rules } = input
  const zone = prepareZone(rules)
  const inScope = (a: Acting) => a.mitigates && (phases === undefined || phases.includes(a.rule.stage))
  const variants: Array<VariantCoverage> = Request.variants(request).map((variant) => {
    const trace = evaluateZone(zone, variant.request)
    const coveredBy = trace.acting.find(inScope)
    return {
      label: variant.label,
      request: variant.request,
      trace,
      ...(coveredBy !== undefined ? { coveredBy } : {}),
      summary: coverageSummary(coveredBy)
    }
  })
  const count = variants.filter((v) => v.coveredBy !== undefined).length
  const covered = count === 0 ? "none" : count === variants.length ? "all" : "some"
  const path = request.path ?? (request.url !== undefined ? Request.splitUrl(request.url).path : undefined)
  const suggestion =
    covered !== "all" && path !== undefined
      ? {
        simple: suggestedExpression({ path, ...(request.method !== undefined ? { method: request.method } : {}) }),
        robust: suggestedExpression({ path, ...(request.method !== undefined ? { method: request.method } : {}) }, { robust: true })
      }
      : undefined
  return {
    request,
    ...(phases !== undefined ? { phases } : {}),
    variants,
    covered,
    summary: variants[0]?.summary ?? "not covered",
    ...(suggestion !== undefined ? { suggestion } : {})
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/**
 * The expression to add for a path and method, printed by the package's printer in parentheses:
 * `(http.request.uri.path eq "/login" and http.request.method eq "POST")`. With `robust`, the
 * path is compared case-insensitively after percent-decoding, with and without a trailing slash,
 * and the method case-insensitively:
 * `(lower(url_decode(http.request.uri.path)) in {"/login" "/login/"} and upper(http.request.method) eq "POST")`.
 * Pair the robust form with URL normalization, which also folds slashes and dot segments.
 */
export const suggestedExpression = (
  request: { readonly path: string; readonly method?: string },
  options?: { readonly robust?: boolean }
): string => suggest(request, options?.robust === true)

/** Describes a rate limiting rule: `block after 10 requests / 60 s per IP`. */
export const describeRateLimit = (action: string, ratelimit: RateLimitParameters): RateLimit =>
  describeRateLimitImpl(action, ratelimit)

/** The effective `action`/`enabled` of one managed rule under overrides, and where each came from. */
export interface ResolvedOverride {
  readonly action?: string
  readonly enabled?: boolean
  readonly actionFrom: "rule" | "category" | "ruleset" | "default"
  readonly enabledFrom: "rule" | "category" | "ruleset" | "default"
}

/**
 * Resolves the overrides for one managed rule (id and categories, as listed by the managed
 * ruleset): a rule override beats a category override, which beats the ruleset-wide override;
 * among categories, the last one listed in `overrides.categories` wins.
 */
export const resolveOverride = (
  overrides: ManagedOverrides | undefined,
  rule: { readonly id: string; readonly categories?: ReadonlyArray<string> }
): ResolvedOverride => resolveOverrideImpl(overrides, rule)

/**
 * Why a managed-ruleset deployment (its `execute` rule's `enabled` and `overrides`) cannot mitigate,
 * or `undefined` when it can: the one definition coverage and the posture checks share.
 */
export const managedWeakness = (enabled: boolean, overrides: ManagedOverrides | undefined): string | undefined =>
  managedWeaknessImpl(enabled, overrides)

/** Whether an account-level rule reaches a zone: `Applies`, `Excluded` (by which condition) or `Undecided` (why). */
export type ZoneScope = ZoneScopeImpl

/**
 * Decides statically whether a rule expression scoped with `cf.zone.name` / `cf.zone.plan` reaches
 * a zone (`plan` is the zone's `plan.legacy_id`). Conditions on the request are left to
 * {@link evaluate}; zone conditions mixed with request fields (under `or`, `not`) are `Undecided`.
 */
export const zoneScope = (expression: string | undefined, zone: { readonly name: string; readonly plan?: string }): ZoneScope =>
  zoneScopeImpl(expression, zone)
