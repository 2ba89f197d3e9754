/**
 * Plan gates: what a zone's plan does not offer, decided from the zone scope's `plan` attribute
 * (the zone's `plan.legacy_id`) without asking Cloudflare. A gated resource is reported `skipped`
 * with the reason, never as an error. Sources: API-NOTES §5.6 (phase table) and Cloudflare's plan pages.
 */
import { Resource, type Scope } from "@plumbline/core"

/** Zone plans, lowest first. */
export const PLANS = ["free", "pro", "business", "enterprise"] as const

/** A zone plan (`plan.legacy_id`). */
export type Plan = (typeof PLANS)[number]

/** Reads a `legacy_id`; anything unknown (a new plan name) is kept as is and passes every gate. */
export const planOf = (scope: Scope.Scope): string => scope.attributes["plan"] ?? "unknown"

/** Is `plan` at least `minimum`? Unknown plans are let through: Cloudflare answers for them. */
export const atLeast = (plan: string, minimum: Plan): boolean => {
  const index = (PLANS as ReadonlyArray<string>).indexOf(plan)
  return index === -1 || index >= PLANS.indexOf(minimum)
}

const label: Record<Plan, string> = { free: "Free", pro: "Pro", business: "Business", enterprise: "Enterprise" }

/** An availability rule: the resource needs `minimum`, and `what` says what it is. */
export const requires =
  (minimum: Plan, what: string) =>
  (scope: Scope.Scope): Resource.Availability => {
    const plan = planOf(scope)
    return atLeast(plan, minimum)
      ? Resource.available
      : Resource.unavailable("plan", `${what} needs the ${label[minimum]} plan or higher; this zone is on ${label[plan as Plan] ?? plan}`)
  }

/** Minimum zone plan per ruleset phase the connector reads (phases not listed are on every plan). */
export const phaseMinimum: Readonly<Record<string, Plan>> = {
  http_response_firewall_managed: "enterprise",
  http_custom_errors: "pro",
  http_request_sbfm: "pro"
}
