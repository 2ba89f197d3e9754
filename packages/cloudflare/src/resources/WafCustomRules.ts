/**
 * WAF custom rules: the zone entry point of `http_request_firewall_custom` (block, challenge, skip, execute, …).
 */
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_request_firewall_custom"] as const

/** The resource. */
export const resource = phaseResource({
  name: "waf_custom_rules",
  description: "WAF custom rules (http_request_firewall_custom)",
  phases: PHASES
})
