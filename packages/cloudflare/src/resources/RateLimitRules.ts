/**
 * Rate limiting rules: the `http_ratelimit` entry point; each rule keeps its `ratelimit` object
 * (characteristics sorted, period, requests per period, mitigation timeout, counting expression).
 */
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_ratelimit"] as const

/** The resource. */
export const resource = phaseResource({
  name: "rate_limit_rules",
  description: "Rate limiting rules (http_ratelimit)",
  phases: PHASES
})
