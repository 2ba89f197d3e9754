/**
 * The posture checks of the Cloudflare connector, on core's `Check` contract. Each judges one zone
 * from a snapshot and, when it fails, says how to fix it: a plain sentence, the expression to add
 * where there is one, and the exact Cloudflare API request.
 */
import type { Check } from "@plumbline/core"
import { dmarc, spf } from "./checks/EmailAuthentication.js"
import { alwaysUseHttps, dnssec, minimumTls, sslStrict } from "./checks/Transport.js"
import { badActorsBlocked, type LoginEndpoint, loginRateLimited, managedRuleset, owaspRuleset } from "./checks/Protection.js"
import { wafCustomRulesActive } from "./checks/Waf.js"

export { dmarc, dmarcPolicy, spf, spfProblems } from "./checks/EmailAuthentication.js"
export { alwaysUseHttps, dnssec, minimumTls, sslStrict } from "./checks/Transport.js"
export {
  badActorsBlocked,
  CLOUDFLARE_MANAGED,
  FREE_MANAGED,
  type LoginEndpoint,
  loginRateLimited,
  managedRuleset,
  MAX_LOGIN_REQUESTS_PER_MINUTE,
  OWASP_CORE,
  owaspRuleset
} from "./checks/Protection.js"
export { MITIGATING_ACTIONS, wafCustomRulesActive } from "./checks/Waf.js"

/** Options of {@link makeChecks}. */
export interface Options {
  /** The login endpoint a rate limiting rule must cover (default `POST /login`). */
  readonly login?: LoginEndpoint
}

/** Every check, in a stable order, for a given login endpoint. */
export const makeChecks = (options: Options = {}): ReadonlyArray<Check.Check> => [
  wafCustomRulesActive,
  managedRuleset,
  owaspRuleset,
  badActorsBlocked,
  loginRateLimited(options.login ?? { path: "/login", method: "POST" }),
  sslStrict,
  alwaysUseHttps,
  minimumTls,
  dnssec,
  spf,
  dmarc
]

/** Every check, with the default login endpoint (`POST /login`). */
export const checks: ReadonlyArray<Check.Check> = makeChecks()
