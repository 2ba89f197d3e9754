/**
 * Single redirect rules: the `http_request_dynamic_redirect` entry point (`action: redirect`,
 * `action_parameters.from_value`).
 */
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_request_dynamic_redirect"] as const

/** The resource. */
export const resource = phaseResource({
  name: "redirect_rules",
  description: "Single redirect rules (http_request_dynamic_redirect)",
  phases: PHASES
})
