/**
 * The posture checks of the Cloudflare connector, on core's `Check` contract. Each judges one zone
 * from a snapshot and, when it fails, says how to fix it: a plain sentence, the expression to add
 * where there is one, and the exact Cloudflare API request.
 */
import type { Check } from "@plumbline/core"
import { dmarc, spf } from "./checks/EmailAuthentication.js"
import { alwaysUseHttps, dnssec, minimumTls, sslStrict } from "./checks/Transport.js"
import { wafCustomRulesActive } from "./checks/Waf.js"

export { dmarc, dmarcPolicy, spf, spfProblems } from "./checks/EmailAuthentication.js"
export { alwaysUseHttps, dnssec, minimumTls, sslStrict } from "./checks/Transport.js"
export { MITIGATING_ACTIONS, wafCustomRulesActive } from "./checks/Waf.js"

/** Every check, in a stable order. */
export const checks: ReadonlyArray<Check.Check> = [
  wafCustomRulesActive,
  sslStrict,
  alwaysUseHttps,
  minimumTls,
  dnssec,
  spf,
  dmarc
]
