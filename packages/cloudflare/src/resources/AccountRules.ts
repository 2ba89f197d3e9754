/**
 * Account-level rulesets, as they reach one zone. Enterprise accounts protect zones from the
 * account: a phase entry point under `/accounts/{id}/rulesets/phases/{phase}/entrypoint` whose rules
 * `execute` account custom rulesets, scoped to zones by their expression (`cf.zone.name eq
 * "example.com" and cf.zone.plan eq "ENT"`, per https://developers.cloudflare.com/ruleset-engine/custom-rulesets/deploy-custom-ruleset/).
 * For a zone this keeps every account entry-point rule whose zone conditions reach it, and the rules
 * of each custom ruleset those rules execute, attributed with `level: "account"`, the ruleset's
 * name and the `execute` rule that runs them. Entry points and rulesets are shared reads: one
 * request each per snapshot, however many zones the account has. A missing entry point (404/10003)
 * is "no rules"; account-level WAF is Enterprise-only, so the resource is skipped for the plan on
 * zones below Enterprise (they cannot be reached) and on accounts Cloudflare refuses.
 */
import { Coverage } from "@plumbline/cloudflare-rules"
import { type ConnectorError, Resource, type Scope } from "@plumbline/core"
import { Effect, Option } from "effect"
import type { CloudflareClient } from "../CloudflareClient.js"
import { accountEntrypoint, forEachSettled, type RuleWire, type RulesetWire, rulesetById } from "../internal/shared.js"
import * as Permissions from "../Permissions.js"
import * as Plans from "../Plans.js"
import { type Rule, Rule as RuleSchema, toRecord, VOLATILE } from "./Rulesets.js"

/** The account phases read: WAF custom, managed, rate limiting and single redirects. */
export const PHASES = ["http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit", "http_request_dynamic_redirect"] as const

const NAME = "account_rules"

const executedId = (rule: RuleWire): string | undefined => {
  const params = rule.action_parameters
  if (params === null || params === undefined || typeof params !== "object" || Array.isArray(params)) return undefined
  const id = (params as Record<string, unknown>)["id"]
  return typeof id === "string" ? id : undefined
}

/** The rules of one account entry point that reach the zone, and what they execute. */
const reaching = (
  scope: Scope.Scope,
  accountId: string,
  entrypoint: RulesetWire
): Effect.Effect<Array<Rule>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.gen(function* () {
    const zone = { name: scope.name ?? scope.id, plan: Plans.planOf(scope) }
    const out: Array<Rule> = []
    for (const [i, rule] of (entrypoint.rules ?? []).entries()) {
      const reach = Coverage.zoneScope(rule.expression ?? undefined, zone)
      if (reach._tag === "Excluded") continue
      const zoneScope = reach._tag === "Applies" ? "applies" : "undecided"
      const target = executedId(rule)
      // Managed rulesets are not expanded (their rules are Cloudflare's); the deploying rule and its
      // overrides are what the checks read. Anything else executed is a custom ruleset: fetched once.
      const executed =
        rule.action === "execute" && target !== undefined && Coverage.MANAGED_RULESETS[target] === undefined
          ? yield* rulesetById(NAME, scope, "accounts", accountId, target)
          : undefined
      const base = toRecord(entrypoint, rule, i, [])
      out.push({
        ...base,
        ...(target === undefined || rule.action !== "execute"
          ? {}
          : { executes: { id: target, ...(executed === undefined ? { kind: "managed" } : { name: executed.name, kind: executed.kind }) } }),
        level: "account",
        ruleset_name: entrypoint.name,
        zone_scope: zoneScope
      })
      if (executed === undefined || executed.kind !== "custom") continue
      for (const [j, inner] of (executed.rules ?? []).entries()) {
        out.push({
          ...toRecord(executed, inner, j, []),
          phase: entrypoint.phase,
          level: "account",
          ruleset_name: executed.name,
          // The executing rule's record id (a rule may come without `id`: issue #14 §1).
          executed_by: base.id,
          zone_scope: zoneScope
        })
      }
    }
    return out
  })

/** The account-level rules that reach the zone `scope`. */
export const rulesOf = (scope: Scope.Scope): Effect.Effect<ReadonlyArray<Rule>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.gen(function* () {
    const accountId = scope.attributes["account"]
    if (accountId === undefined) return []
    const entrypoints = yield* forEachSettled(PHASES, (phase) => accountEntrypoint(NAME, scope, accountId, phase))
    const rules = yield* forEachSettled(entrypoints.flatMap(Option.toArray), (e) => reaching(scope, accountId, e))
    return rules.flat()
  })

/** The resource. */
export const resource = Resource.make({
  name: NAME,
  description: "Account-level rulesets (WAF custom, managed, rate limiting, redirects) that reach the zone, with the custom rulesets they execute",
  scope: "zone",
  schema: RuleSchema,
  identity: (r: Rule) => r.id,
  permissions: [Permissions.forResource(NAME)],
  volatile: [...VOLATILE],
  read: rulesOf,
  // Account-level rulesets reach Enterprise zones only (https://developers.cloudflare.com/waf/account/custom-rulesets/).
  availability: Plans.requires("enterprise", "Reaching a zone with account-level rulesets")
})
