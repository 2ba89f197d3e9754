/**
 * The posture checks `Wiring` uses until the Cloudflare posture checks are committed: one check,
 * the onboarding story's — "a rate limiting rule protects POST /login" — with the exact rule
 * expression and API request that fix it.
 */
import type { Json } from "@plumbline/core";
import { Check } from "@plumbline/core"
import { Schema } from "effect"
import { Rulesets } from "@plumbline/cloudflare"

/** The expression of the rule the remediation adds. */
export const LOGIN_EXPRESSION = '(http.request.method eq "POST" and http.request.uri.path eq "/login")'

const decodeRule = Schema.decodeUnknownOption(Rulesets.Rule)
const RESOURCE = "rate_limit_rules"

/** Does an expression (roughly) limit POST requests to /login? */
const coversLogin = (expression: string): boolean =>
  /"\/login"|\/login\b/.test(expression) && (!/http\.request\.method/.test(expression) || /"POST"/.test(expression))

/** A rate limiting rule protects POST /login. */
export const loginRateLimited: Check.Check = {
  id: "cloudflare.waf.login-rate-limited",
  title: "A rate limiting rule protects POST /login",
  description:
    "Credential stuffing targets the login endpoint; a rate limiting rule on POST /login slows it down to a trickle.",
  severity: "high",
  scope: "zone",
  resources: [RESOURCE],
  permissions: ["Zone WAF Read"],
  evaluate: ({ records, scope }) => {
    const rules = records(RESOURCE).flatMap((r) => {
      const decoded = decodeRule(r.value)
      return decoded._tag === "Some" ? [decoded.value] : []
    })
    const protecting = rules.filter((r) => r.enabled && coversLogin(r.expression ?? ""))
    if (protecting.length > 0) {
      return new Check.Pass({ evidence: { rules: protecting.map((r) => ({ id: r.id, expression: r.expression ?? null })) } })
    }
    const rulesetId = rules[0]?.ruleset_id
    const rule: Json.Json = {
      description: "Rate limit POST /login",
      expression: LOGIN_EXPRESSION,
      action: "block",
      ratelimit: {
        characteristics: ["ip.src", "cf.colo.id"],
        period: 60,
        requests_per_period: 5,
        mitigation_timeout: 600
      }
    }
    return new Check.Fail({
      evidence: {
        zone: scope.name ?? scope.id,
        rules: rules.map((r) => ({ id: r.id, expression: r.expression ?? null, enabled: r.enabled }))
      },
      remediation: new Check.Remediation({
        summary: `Add a rate limiting rule for POST /login to ${scope.name ?? scope.id}: block an IP after 5 requests a minute, for 10 minutes.`,
        expression: LOGIN_EXPRESSION,
        request:
          rulesetId === undefined
            ? new Check.RemediationRequest({
                method: "PUT",
                path: `/zones/${scope.id}/rulesets/phases/http_ratelimit/entrypoint`,
                body: { rules: [rule] }
              })
            : new Check.RemediationRequest({ method: "POST", path: `/zones/${scope.id}/rulesets/${rulesetId}/rules`, body: rule })
      })
    })
  }
}

/** Every interim check. */
export const all: ReadonlyArray<Check.Check> = [loginRateLimited]
