/**
 * Managed rulesets, known bad actors and the login rate limit: the checks that ask "what actually
 * acts on a request?", answered over the zone's canonical rule records (and, for the login, by
 * `Coverage.probe` from `@plumbline/cloudflare-rules`).
 */
import { Coverage } from "@plumbline/cloudflare-rules"
import { Check, type Json } from "@plumbline/core"
import { Either } from "effect"
import { Permission } from "../Permissions.js"
import * as Plans from "../Plans.js"
import { AccessRule } from "../resources/IpAccessRules.js"
import { List } from "../resources/IpLists.js"
import { Rule } from "../resources/Rulesets.js"
import { recordsOf, zoneName } from "./Records.js"

/** Cloudflare's managed rulesets, by id. */
export const CLOUDFLARE_MANAGED = "efb7b8c949ac4650a09736fc376e9aee"
export const OWASP_CORE = "4814384a9e5d4991b9815dcfc25d2f1f"
export const FREE_MANAGED = "77454fe2d30c4220b5701f6fdfb893ba"

const asObject = (value: Json.Json | undefined): Record<string, Json.Json> =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, Json.Json>) : {}

/** The managed ruleset an `execute` rule deploys. */
const executedId = (rule: Rule): string | undefined => {
  const id = asObject(rule.action_parameters)["id"]
  return typeof id === "string" ? id : undefined
}

/**
 * Why a deployment does not mitigate, decided by `Coverage.managedWeakness` in
 * @plumbline/cloudflare-rules: the one definition of what an override weakens.
 */
const weakened = (rule: Rule): string | undefined =>
  Coverage.managedWeakness(rule.enabled, asObject(rule.action_parameters)["overrides"] as Coverage.ManagedOverrides | undefined)

/**
 * The account-level rules that reach the zone (`account_rules`). Not a declared resource of the
 * checks: zones below Enterprise never have them (the resource is skipped for the plan there), and
 * that must not skip a check the zone's own rules can answer.
 */
const accountRules = (input: Check.CheckInput) => recordsOf(input, "account_rules", Rule)

/** Where a rule lives, for evidence: its level, ruleset (id and name), and the `execute` rule that runs it. */
const located = (rule: Rule) => ({
  id: rule.id,
  level: rule.level ?? "zone",
  ruleset: rule.ruleset_id,
  rulesetName: rule.ruleset_name ?? null,
  executedBy: rule.executed_by ?? null,
  description: rule.description ?? null
})

const managedPath = (zoneId: string) => `/zones/${zoneId}/rulesets/phases/http_request_firewall_managed/entrypoint`

const managedCheck = (options: {
  readonly id: string
  readonly title: string
  readonly description: string
  readonly rulesetId: (plan: string) => string | undefined
  readonly name: string
}): Check.Check => ({
  id: options.id,
  title: options.title,
  description: options.description,
  severity: "high",
  scope: "zone",
  resources: ["managed_rulesets"],
  permissions: [Permission.ZoneWafRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const plan = Plans.planOf(input.scope)
    const wanted = options.rulesetId(plan)
    if (wanted === undefined) {
      return new Check.Skipped({ reason: "plan", detail: `${options.name} is not available on the ${plan} plan of ${zone}` })
    }
    const read = recordsOf(input, "managed_rulesets", Rule)
    if (Either.isLeft(read)) return read.left
    const accountRead = accountRules(input)
    if (Either.isLeft(accountRead)) return accountRead.left
    const rules = read.right
    // Cloudflare runs the account's phase before the zone's: account deployments come first.
    const accountDeployments = accountRead.right.filter(
      (r) => r.phase === "http_request_firewall_managed" && r.action === "execute" && executedId(r) === wanted
    )
    const deployments = [...accountDeployments, ...rules.filter((r) => r.action === "execute" && executedId(r) === wanted)]
    const evidence = {
      zone,
      plan,
      ruleset: wanted,
      deployments: deployments.map((r) => ({ ...located(r), enabled: r.enabled, weakened: weakened(r) ?? null }))
    }
    const good = deployments.find((r) => weakened(r) === undefined)
    if (good !== undefined) return new Check.Pass({ evidence })
    const existing = deployments[0]
    if (existing !== undefined) {
      return new Check.Fail({
        evidence,
        remediation: new Check.Remediation({
          summary: `The ${options.name} on ${zone} does not mitigate (${weakened(existing)}); enable it and remove the ruleset-wide log or disable override.`,
          request: new Check.RemediationRequest({
            method: "PATCH",
            path:
              existing.level === "account"
                ? `/accounts/${input.scope.attributes["account"] ?? "{account_id}"}/rulesets/${existing.ruleset_id}/rules/${existing.id}`
                : `/zones/${input.scope.id}/rulesets/${existing.ruleset_id}/rules/${existing.id}`,
            body: { action: "execute", expression: existing.expression ?? "true", action_parameters: { id: wanted }, enabled: true }
          })
        })
      })
    }
    const rule = { action: "execute", expression: "true", action_parameters: { id: wanted }, description: options.name, enabled: true }
    const rulesetId = rules[0]?.ruleset_id
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary: `Deploy the ${options.name} on ${zone}.`,
        expression: "true",
        request:
          rulesetId === undefined
            ? new Check.RemediationRequest({ method: "PUT", path: managedPath(input.scope.id), body: { rules: [rule] } })
            : new Check.RemediationRequest({ method: "POST", path: `/zones/${input.scope.id}/rulesets/${rulesetId}/rules`, body: rule })
      })
    })
  }
})

/** The Cloudflare Managed Ruleset (the Free Managed Ruleset on Free) is deployed and not weakened. */
export const managedRuleset: Check.Check = managedCheck({
  id: "cloudflare.waf.managed-ruleset",
  title: "Cloudflare Managed Ruleset is deployed",
  description: "The Cloudflare Managed Ruleset (on Free, the Free Managed Ruleset) is deployed, enabled and not overridden to log.",
  name: "Cloudflare Managed Ruleset",
  rulesetId: (plan) => (plan === "free" ? FREE_MANAGED : CLOUDFLARE_MANAGED)
})

/** The OWASP Core Ruleset, where the plan has it (not on Free). */
export const owaspRuleset: Check.Check = managedCheck({
  id: "cloudflare.waf.owasp-ruleset",
  title: "OWASP Core Ruleset is deployed",
  description: "The Cloudflare OWASP Core Ruleset is deployed, enabled and not overridden to log (Pro plans and above).",
  name: "Cloudflare OWASP Core Ruleset",
  rulesetId: (plan) => (Plans.atLeast(plan, "pro") ? OWASP_CORE : undefined)
})

/** Actions that stop a request. */
const BLOCKING: ReadonlySet<string> = new Set(["block", "challenge", "js_challenge", "managed_challenge"])

/** Known bad-actor IPs are blocked: an IP Access block rule, or an IP list used by an enabled blocking rule. */
export const badActorsBlocked: Check.Check = {
  id: "cloudflare.waf.bad-actors-blocked",
  title: "Known bad-actor IPs are blocked",
  description: "IP Access rules block known bad actors, or an IP list of them is referenced by an enabled blocking WAF custom rule.",
  severity: "medium",
  scope: "zone",
  resources: ["ip_access_rules", "waf_custom_rules", "ip_lists"],
  permissions: [Permission.ZoneWafRead, Permission.AccountFilterListsRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const accessRead = recordsOf(input, "ip_access_rules", AccessRule)
    if (Either.isLeft(accessRead)) return accessRead.left
    const listsRead = recordsOf(input, "ip_lists", List)
    if (Either.isLeft(listsRead)) return listsRead.left
    const customRead = recordsOf(input, "waf_custom_rules", Rule)
    if (Either.isLeft(customRead)) return customRead.left
    const access = accessRead.right.filter((r) => r.mode === "block" && ["ip", "ip_range", "ip6"].includes(r.configuration.target))
    const lists = listsRead.right.filter((l) => l.kind === "ip")
    const rules = customRead.right.filter((r) => r.enabled && BLOCKING.has(r.action))
    const listRules = rules.flatMap((r) =>
      lists.filter((l) => new RegExp(`\\$${l.name}\\b`).test(r.expression ?? "")).map((l) => ({ rule: r.id, list: l.name, action: r.action }))
    )
    const evidence = {
      zone,
      accessRules: access.map((r) => ({ id: r.id, target: r.configuration.target, value: r.configuration.value })),
      listRules
    }
    if (access.length > 0 || listRules.length > 0) return new Check.Pass({ evidence })
    const list = lists[0]?.name ?? "bad_actors"
    const expression = `(ip.src in $${list})`
    const rule = { action: "block", expression, description: "Block known bad actors", enabled: true }
    const rulesetId = customRead.right[0]?.ruleset_id
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary: `Block known bad actors on ${zone}: keep them in the account IP list "${list}" and add a WAF custom rule that blocks it.`,
        expression,
        request:
          rulesetId === undefined
            ? new Check.RemediationRequest({
                method: "PUT",
                path: `/zones/${input.scope.id}/rulesets/phases/http_request_firewall_custom/entrypoint`,
                body: { rules: [rule] }
              })
            : new Check.RemediationRequest({ method: "POST", path: `/zones/${input.scope.id}/rulesets/${rulesetId}/rules`, body: rule })
      })
    })
  }
}

/** The login endpoint a rate limiting rule must cover. */
export interface LoginEndpoint {
  readonly path: string
  readonly method: string
}

/** The largest sane login threshold: requests per minute per client. */
export const MAX_LOGIN_REQUESTS_PER_MINUTE = 30

/** A canonical `ratelimit` as Coverage takes it: absent members left out rather than `undefined`. */
const rateLimitParameters = (r: NonNullable<Rule["ratelimit"]>): Coverage.RateLimitParameters => ({
  characteristics: r.characteristics,
  period: r.period,
  ...(r.requests_per_period === undefined ? {} : { requests_per_period: r.requests_per_period }),
  ...(r.score_per_period === undefined ? {} : { score_per_period: r.score_per_period }),
  ...(r.score_response_header_name === undefined ? {} : { score_response_header_name: r.score_response_header_name }),
  ...(r.mitigation_timeout === undefined ? {} : { mitigation_timeout: r.mitigation_timeout }),
  ...(r.counting_expression === undefined ? {} : { counting_expression: r.counting_expression }),
  ...(r.requests_to_origin === undefined ? {} : { requests_to_origin: r.requests_to_origin })
})

const toRulesetRule = (r: Rule): Coverage.RulesetRule => ({
  id: r.id,
  action: r.action,
  enabled: r.enabled,
  ...(r.expression === undefined ? {} : { expression: r.expression }),
  ...(r.ref === undefined ? {} : { ref: r.ref }),
  ...(r.description === undefined ? {} : { description: r.description }),
  ...(r.ratelimit === undefined ? {} : { ratelimit: rateLimitParameters(r.ratelimit) }),
  // The canonical record keeps `action_parameters` as any JSON; Coverage types only the keys
  // it reads and tests each one's type before use, so the JSON is handed over as it is.
  ...(r.action_parameters === undefined ? {} : { action_parameters: r.action_parameters as Coverage.ActionParameters })
})

const byPosition = (rules: ReadonlyArray<Rule>): Array<Rule> => [...rules].sort((a, b) => a.position - b.position)

/** Entry-point rules (not those of executed custom rulesets), one entry point per phase and ruleset. */
const entrypoints = (rules: ReadonlyArray<Rule>): Array<Coverage.Entrypoint> => {
  const byRuleset = new Map<string, Array<Rule>>()
  for (const rule of rules) if (rule.executed_by === undefined) byRuleset.set(rule.ruleset_id, [...(byRuleset.get(rule.ruleset_id) ?? []), rule])
  return Array.from(byRuleset, ([id, rs]) => ({
    phase: rs[0]!.phase,
    id,
    ...(rs[0]!.ruleset_name === undefined ? {} : { name: rs[0]!.ruleset_name }),
    rules: byPosition(rs).map(toRulesetRule)
  }))
}

/** The custom rulesets `execute` rules run, by id, from their rules' records. */
const customRulesets = (rules: ReadonlyArray<Rule>): Record<string, Coverage.CustomRuleset> => {
  const out: Record<string, Array<Rule>> = {}
  for (const rule of rules) if (rule.executed_by !== undefined) out[rule.ruleset_id] = [...(out[rule.ruleset_id] ?? []), rule]
  return Object.fromEntries(
    Object.entries(out).map(([id, rs]) => [id, { ...(rs[0]!.ruleset_name === undefined ? {} : { name: rs[0]!.ruleset_name }), rules: byPosition(rs).map(toRulesetRule) }])
  )
}

/** The zone's value of `cf.zone.plan` (Rules language fields reference), from `plan.legacy_id`. */
const ZONE_PLAN: Readonly<Record<string, string>> = { free: "FREE", pro: "PRO", business: "BIZ", enterprise: "ENT" }

/** Requests per minute a rate limiting rule allows, when it counts requests. */
const perMinute = (ratelimit: Rule["ratelimit"]): number | undefined =>
  ratelimit?.requests_per_period === undefined || ratelimit.period <= 0 ? undefined : (ratelimit.requests_per_period * 60) / ratelimit.period

/** A rate limiting rule really covers the login endpoint (by `Coverage.probe`), with a sane threshold. */
export const loginRateLimited = (login: LoginEndpoint): Check.Check => ({
  id: "cloudflare.waf.login-rate-limited",
  title: `A rate limiting rule protects ${login.method} ${login.path}`,
  description: `Credential stuffing targets ${login.method} ${login.path}; a rate limiting rule must act on it (and its attacker spellings) at no more than ${MAX_LOGIN_REQUESTS_PER_MINUTE} requests a minute per client.`,
  severity: "high",
  scope: "zone",
  resources: ["rate_limit_rules"],
  permissions: [Permission.ZoneWafRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const read = recordsOf(input, "rate_limit_rules", Rule)
    if (Either.isLeft(read)) return read.left
    const accountRead = accountRules(input)
    if (Either.isLeft(accountRead)) return accountRead.left
    const rateRules = read.right
    // Only the rate limiting phase is probed: a custom rule that happens to challenge the bare
    // probe (an empty user agent, say) says nothing about throttling credential stuffing.
    const accountRate = accountRead.right.filter((r) => r.phase === "http_ratelimit")
    const all = [...accountRate, ...rateRules]
    const plan = ZONE_PLAN[Plans.planOf(input.scope)]
    // The zone's facts let account rules scoped by `cf.zone.name` / `cf.zone.plan` be evaluated.
    const request = {
      method: login.method,
      host: zone,
      path: login.path,
      fields: { "cf.zone.name": zone, ...(plan === undefined ? {} : { "cf.zone.plan": plan }) }
    }
    const probe = Coverage.probe({
      rulesets: entrypoints(rateRules),
      accountRulesets: entrypoints(accountRate),
      customRulesets: customRulesets(all),
      request,
      phases: ["http_ratelimit"]
    })
    const given = probe.variants[0]
    const coveringRef = given?.coveredBy?.rule
    const covering = all.find((r) => r.id === coveringRef?.id && (r.level ?? "zone") === coveringRef?.level)
    const rpm = perMinute(covering?.ratelimit)
    const evidence = {
      zone,
      endpoint: `${login.method} ${login.path}`,
      summary: probe.summary,
      covered: probe.covered,
      rule:
        covering === undefined
          ? null
          : { ...located(covering), expression: covering.expression ?? null, requestsPerMinute: rpm ?? null, zoneScope: covering.zone_scope ?? null },
      uncoveredVariants: probe.variants.filter((v) => v.coveredBy === undefined).map((v) => v.label)
    }
    const sane = rpm !== undefined && rpm <= MAX_LOGIN_REQUESTS_PER_MINUTE
    if (covering !== undefined && sane) return new Check.Pass({ evidence })
    const expression = Coverage.suggestedExpression({ path: login.path, method: login.method })
    const free = Plans.planOf(input.scope) === "free"
    const rule = {
      action: "block",
      expression,
      // The Free plan only takes a 10-second period and mitigation timeout: 5 per 10 s is 30 a minute.
      ratelimit: free
        ? { characteristics: ["cf.colo.id", "ip.src"], period: 10, requests_per_period: 5, mitigation_timeout: 10 }
        : { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 10, mitigation_timeout: 600 },
      description: `Rate limit ${login.method} ${login.path}`,
      enabled: true
    }
    const rulesetId = rateRules[0]?.ruleset_id
    const path = `/zones/${input.scope.id}/rulesets`
    return new Check.Fail({
      evidence,
      remediation: new Check.Remediation({
        summary:
          covering === undefined
            ? `No rate limiting rule covers ${login.method} ${login.path} on ${zone}; add one that blocks a client after ${free ? "5 requests in 10 seconds (the Free plan's period)" : "10 requests a minute for 10 minutes"}.`
            : `The rate limiting rule ${covering.id} on ${zone} allows ${rpm ?? "an unknown number of"} requests a minute to ${login.method} ${login.path}; add a stricter rule (10 a minute).`,
        expression,
        request:
          rulesetId === undefined
            ? new Check.RemediationRequest({ method: "PUT", path: `${path}/phases/http_ratelimit/entrypoint`, body: { rules: [rule] } })
            : new Check.RemediationRequest({ method: "POST", path: `${path}/${rulesetId}/rules`, body: rule })
      })
    })
  }
})
