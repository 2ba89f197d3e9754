/**
 * What a zone's plan allows in the Ruleset Engine: how many rules each phase's entry point may
 * hold on Free, Pro, Business and Enterprise. The write routes enforce these limits next to the
 * permission checks of `Permissions`, and the scenario generator stays within them, so they live
 * here rather than with either.
 */
import type { PlanId } from "./State.js"

/** Rule-count limits of one plan, by kind of phase. */
export interface PlanRuleLimits {
  /** `http_request_firewall_custom`. */
  readonly custom: number
  /** `http_ratelimit`. */
  readonly ratelimit: number
  /** Transform and dynamic redirect phases. */
  readonly transform: number
}

/** Rule-count limits per plan (custom 5/20/100/1000, rate limiting 1/2/5/5, transforms 10/25/50/300). */
export const RULE_LIMITS: Readonly<Record<PlanId, PlanRuleLimits>> = {
  free: { custom: 5, ratelimit: 1, transform: 10 },
  pro: { custom: 20, ratelimit: 2, transform: 25 },
  business: { custom: 100, ratelimit: 5, transform: 50 },
  enterprise: { custom: 1000, ratelimit: 5, transform: 300 }
}

/** Rule-count limits per plan and phase, enforced on writes. */
export const phaseRuleLimit = (plan: PlanId, phase: string): number | undefined => {
  const limits = RULE_LIMITS[plan]
  switch (phase) {
    case "http_request_firewall_custom":
      return limits.custom
    case "http_ratelimit":
      return limits.ratelimit
    case "http_request_transform":
    case "http_request_late_transform":
    case "http_response_headers_transform":
    case "http_request_dynamic_redirect":
      return limits.transform
    default:
      return undefined
  }
}
