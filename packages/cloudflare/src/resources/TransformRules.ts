/**
 * Transform rules: URL rewrites (`http_request_transform`), request header modification
 * (`http_request_late_transform`) and response header modification (`http_response_headers_transform`).
 */
import { phaseResource } from "./Rulesets.js"

/** The zone phases this resource reads. */
export const PHASES = ["http_request_transform", "http_request_late_transform", "http_response_headers_transform"] as const

/** The resource. */
export const resource = phaseResource({
  name: "transform_rules",
  description: "Transform rules: URL rewrite, request header and response header modification",
  phases: PHASES
})
