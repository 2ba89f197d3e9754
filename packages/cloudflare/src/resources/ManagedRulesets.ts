/**
 * Managed rulesets deployed on a zone: the `http_request_firewall_managed` entry point, whose `execute`
 * rules deploy a managed ruleset (`executes` names it) with `action_parameters.overrides`, and whose
 * `skip` rules are exceptions.
 */
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_request_firewall_managed"] as const

/** The resource. */
export const resource = phaseResource({
  name: "managed_rulesets",
  description: "Managed rulesets deployed on the zone, with overrides and skip exceptions (http_request_firewall_managed)",
  phases: PHASES
})
