/**
 * Sensitive Data Detection: the `http_response_firewall_managed` entry point. Enterprise zones only;
 * on other plans the resource is `skipped` (plan) without a request.
 */
import * as Plans from "../Plans.js"
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_response_firewall_managed"] as const

/** The resource. */
export const resource = phaseResource({
  name: "sensitive_data_rules",
  description: "Sensitive Data Detection managed rules (http_response_firewall_managed; Enterprise)",
  phases: PHASES,
  availability: Plans.requires("enterprise", "Sensitive Data Detection")
})
