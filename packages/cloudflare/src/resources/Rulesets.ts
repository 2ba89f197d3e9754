/**
 * The Rulesets engine (WAF custom rules, managed rulesets, rate limiting, transforms, redirects):
 * per zone, the ruleset listing is read once (a shared read, every cursor page). The entry points
 * of the protection phases (WAF custom, managed, rate limiting) are always asked for — a phase
 * never configured answers 404/10003, "no rules" — because a listing that leaves one out would turn
 * into a false "unprotected" finding; the other phases are fetched only when the listing shows
 * their entry point, so a phase never configured costs nothing. Each rule becomes
 * one canonical record that keeps what posture checks need: phase, ruleset id, position, action,
 * expression, enabled, `action_parameters` and `ratelimit` (characteristics sorted), and every
 * other rule field Cloudflare sends (`logging`, `exposed_credential_check`, …; unknown ones under
 * `extra`). The ruleset's own members (name, description, kind) are not records and are not kept.
 *
 * `phaseResource` declares one resource over one or more phases; `WafCustomRules`, `ManagedRulesets`,
 * `RateLimitRules`, `TransformRules`, `RedirectRules` and `SensitiveDataRules` use it.
 */
import { type ConnectorError, Json, Resource, type Scope } from "@plumbline/core"
import { Effect, Option, Schema } from "effect"
import type { CloudflareClient } from "../CloudflareClient.js"
import { compact, Extra, extraOf, orUndefined, sorted } from "../internal/records.js"
import { forEachSettled, RatelimitWire, RuleWire, type RulesetSummaryWire, RulesetWire, rulesetById, zoneEntrypoint, zoneRulesets } from "../internal/shared.js"
import * as Permissions from "../Permissions.js"

/** The canonical `ratelimit` object. */
export const Ratelimit = Schema.Struct({
  characteristics: Schema.Array(Schema.String),
  period: Schema.Number,
  requests_per_period: Schema.optional(Schema.Number),
  mitigation_timeout: Schema.optional(Schema.Number),
  counting_expression: Schema.optional(Schema.String),
  requests_to_origin: Schema.optional(Schema.Boolean),
  score_per_period: Schema.optional(Schema.Number),
  score_response_header_name: Schema.optional(Schema.String),
  extra: Extra
})

/** The canonical rule record. */
export const Rule = Schema.Struct({
  id: Schema.String,
  phase: Schema.String,
  ruleset_id: Schema.String,
  ruleset_version: Schema.optional(Schema.String),
  /** Position in the ruleset (0-based): rules run in order, so order is meaningful here. */
  position: Schema.Number,
  action: Schema.String,
  expression: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  enabled: Schema.Boolean,
  ref: Schema.optional(Schema.String),
  action_parameters: Schema.optional(Json.Json),
  ratelimit: Schema.optional(Ratelimit),
  logging: Schema.optional(Schema.Struct({ enabled: Schema.Boolean })),
  /** Where the rule reads credentials to check (`username_expression`, `password_expression`), as sent. */
  exposed_credential_check: Schema.optional(Json.Json),
  categories: Schema.optional(Schema.Array(Schema.String)),
  /** For `execute` rules: the ruleset deployed, with its name when the listing shows it. */
  executes: Schema.optional(Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.String), kind: Schema.optional(Schema.String) })),
  version: Schema.optional(Schema.String),
  last_updated: Schema.optional(Schema.String),
  extra: Extra,
  /**
   * Members of the ruleset the rule belongs to that the connector does not name: a ruleset is not a
   * record of its own, so what Cloudflare adds to it tomorrow shows on its rules.
   */
  ruleset_extra: Extra,
  /** `account` for a rule of an account-level ruleset (absent: the zone's own). */
  level: Schema.optional(Schema.Literal("account", "zone")),
  /** The name of the ruleset the rule lives in (an entry point or an executed custom ruleset). */
  ruleset_name: Schema.optional(Schema.String),
  /** For a rule of a custom ruleset: the `execute` rule that runs it. */
  executed_by: Schema.optional(Schema.String),
  /**
   * For an account-level rule: whether its zone conditions (`cf.zone.name`, `cf.zone.plan`) reach
   * this zone (`applies`), or could not be decided statically (`undecided`, kept conservatively).
   */
  zone_scope: Schema.optional(Schema.Literal("applies", "undecided"))
})
export type Rule = typeof Rule.Type

/** Fields that change on every edit without changing what a rule does. */
export const VOLATILE = ["/version", "/last_updated", "/ruleset_version"] as const

const executed = (rule: RuleWire, summaries: ReadonlyArray<RulesetSummaryWire>): Rule["executes"] => {
  if (rule.action !== "execute") return undefined
  const params = rule.action_parameters
  const id = Json.isObject(params ?? undefined) ? (params as Record<string, Json.Json>)["id"] : undefined
  if (typeof id !== "string") return undefined
  const target = summaries.find((s) => s.id === id)
  return compact({ id, name: target?.name, kind: target?.kind })
}

/** Wire → canonical. */
export const toRecord = (ruleset: RulesetWire, rule: RuleWire, position: number, summaries: ReadonlyArray<RulesetSummaryWire>): Rule =>
  compact({
    // A rule without an id (some managed rules) is named by its `ref`, else by its place in the ruleset.
    id: rule.id ?? (rule.ref === null || rule.ref === undefined ? `${ruleset.id}#${position}` : `${ruleset.id}/${rule.ref}`),
    phase: ruleset.phase,
    ruleset_id: ruleset.id,
    ruleset_version: orUndefined(ruleset.version),
    position,
    action: rule.action,
    expression: orUndefined(rule.expression),
    description: orUndefined(rule.description),
    enabled: rule.enabled,
    ref: orUndefined(rule.ref),
    action_parameters: orUndefined(rule.action_parameters),
    ratelimit:
      rule.ratelimit === null || rule.ratelimit === undefined
        ? undefined
        : {
            characteristics: sorted(rule.ratelimit.characteristics) ?? [],
            period: rule.ratelimit.period,
            requests_per_period: orUndefined(rule.ratelimit.requests_per_period),
            mitigation_timeout: orUndefined(rule.ratelimit.mitigation_timeout),
            counting_expression: orUndefined(rule.ratelimit.counting_expression),
            requests_to_origin: orUndefined(rule.ratelimit.requests_to_origin),
            score_per_period: orUndefined(rule.ratelimit.score_per_period),
            score_response_header_name: orUndefined(rule.ratelimit.score_response_header_name),
            extra: extraOf(rule.ratelimit, RatelimitWire.fields)
          },
    logging: orUndefined(rule.logging),
    exposed_credential_check: orUndefined(rule.exposed_credential_check),
    categories: sorted(rule.categories),
    executes: executed(rule, summaries),
    version: orUndefined(rule.version),
    last_updated: orUndefined(rule.last_updated),
    extra: extraOf(rule, RuleWire.fields),
    ruleset_extra: extraOf(ruleset, RulesetWire.fields)
  })

/**
 * The zone phases whose entry point is read even when the rulesets listing does not show it. The
 * posture checks judge protection from these phases, and the listing is no proof of absence:
 * Cloudflare documents neither whether a listing shows the rulesets of phases the token cannot
 * read nor how its cursor pages behave while rulesets change (API-NOTES.md, "Zone entry points").
 * Asking costs one request per phase the zone never configured (404/10003, read as "no rules").
 */
export const ALWAYS_READ: ReadonlyArray<string> = ["http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit"]

/** The phases of `phases` whose zone entry point is read: the protection phases always, the others when the listing shows one. */
export const entrypointsToRead = (summaries: ReadonlyArray<RulesetSummaryWire>, phases: ReadonlyArray<string>): Array<string> =>
  phases.filter((phase) => ALWAYS_READ.includes(phase) || summaries.some((s) => s.kind === "zone" && s.phase === phase))

/** The rules of `phases` in a zone: one shared listing, then the entry points `entrypointsToRead` names. */
export const rulesOf = (
  resource: string,
  scope: Scope.Scope,
  phases: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<Rule>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.gen(function* () {
    const summaries = yield* zoneRulesets(resource, scope)
    const entrypoints = yield* forEachSettled(entrypointsToRead(summaries, phases), (phase) => zoneEntrypoint(resource, scope, phase))
    const present = entrypoints.flatMap((entrypoint) => Option.toArray(entrypoint))
    const records = present.flatMap((ruleset) => (ruleset.rules ?? []).map((rule, i) => toRecord(ruleset, rule, i, summaries)))
    // A zone entry point may `execute` a zone custom ruleset (kind `custom`): its rules act on
    // the zone too, so they are kept, each ruleset fetched once per snapshot (shared request).
    const executed = yield* forEachSettled(
      records.filter((r) => r.enabled && r.executes?.kind === "custom"),
      (r) =>
        Effect.map(rulesetById(resource, scope, "zones", scope.id, r.executes!.id), (ruleset) =>
          (ruleset.rules ?? []).map((rule, i) => ({ ...toRecord(ruleset, rule, i, summaries), phase: r.phase, ruleset_name: ruleset.name, executed_by: r.id }))
        )
    )
    return [...records, ...executed.flat()]
  })

/** Declares a resource over the zone entry points of `phases`. */
export const phaseResource = (options: {
  readonly name: string
  readonly description: string
  readonly phases: ReadonlyArray<string>
  readonly availability?: (scope: Scope.Scope) => Resource.Availability
}) =>
  Resource.make({
    name: options.name,
    description: options.description,
    scope: "zone",
    schema: Rule,
    identity: (r: Rule) => r.id,
    permissions: [Permissions.forResource(options.name)],
    volatile: [...VOLATILE],
    read: (scope: Scope.Scope) => rulesOf(options.name, scope, options.phases),
    ...(options.availability === undefined ? {} : { availability: options.availability })
  })
