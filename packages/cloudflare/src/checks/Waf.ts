/**
 * WAF custom rules: at least one enabled rule with a mitigating action in the zone's
 * `http_request_firewall_custom` entry point.
 */
import { Check } from "@plumbline/core"
import { Either } from "effect"
import { Permission } from "../Permissions.js"
import { Rule } from "../resources/Rulesets.js"
import { recordsOf, zoneName } from "./Records.js"

/** Actions that stop or challenge a request. */
export const MITIGATING_ACTIONS: ReadonlySet<string> = new Set(["block", "challenge", "js_challenge", "managed_challenge"])

/** WAF custom rules are active. */
export const wafCustomRulesActive: Check.Check = {
  id: "cloudflare.waf.custom-rules-active",
  title: "WAF custom rules are active",
  description: "At least one enabled WAF custom rule blocks or challenges requests.",
  severity: "high",
  scope: "zone",
  resources: ["waf_custom_rules"],
  permissions: [Permission.ZoneWafRead],
  evaluate: (input) => {
    const zone = zoneName(input)
    const read = recordsOf(input, "waf_custom_rules", Rule)
    if (Either.isLeft(read)) return read.left
    const rules = read.right
    const active = rules.filter((r) => r.enabled && MITIGATING_ACTIONS.has(r.action))
    const evidence = {
      zone,
      rules: rules.length,
      active: active.map((r) => ({ id: r.id, action: r.action, expression: r.expression ?? null, description: r.description ?? null }))
    }
    if (active.length > 0) return new Check.Pass({ evidence })
    const disabled = rules.find((r) => !r.enabled && MITIGATING_ACTIONS.has(r.action))
    return new Check.Fail({
      evidence,
      remediation:
        disabled === undefined
          ? new Check.Remediation({
              summary: `${zone} has no active WAF custom rule; add one, starting with the paths that must never be public.`,
              expression: '(http.request.uri.path contains "/admin")',
              request: new Check.RemediationRequest({
                method: "PUT",
                path: `/zones/${input.scope.id}/rulesets/phases/http_request_firewall_custom/entrypoint`,
                body: {
                  rules: [
                    { action: "block", expression: '(http.request.uri.path contains "/admin")', description: "Block /admin", enabled: true }
                  ]
                }
              })
            })
          : new Check.Remediation({
              summary: `Enable the WAF custom rule "${disabled.description ?? disabled.id}" on ${zone}.`,
              ...(disabled.expression === undefined ? {} : { expression: disabled.expression }),
              request: new Check.RemediationRequest({
                method: "PATCH",
                path: `/zones/${input.scope.id}/rulesets/${disabled.ruleset_id}/rules/${disabled.id}`,
                body: { enabled: true }
              })
            })
    })
  }
}
