/**
 * The README coverage example: Redpine's zone has two WAF custom rules and the Cloudflare Managed
 * Ruleset, and no rate limiting rule for POST /login. Probe it, add the rule, probe again.
 * Run with `npx vitest run test/Examples.test.ts` (it is executed by the tests).
 */
import { Effect } from "effect"
// In your code: import { Coverage } from "@plumbline/cloudflare-rules"
import { Coverage } from "../src/index.js"

const zone: Coverage.ZoneRules = {
  rulesets: [
    {
      phase: "http_request_firewall_custom",
      rules: [
        { id: "cr-admin", action: "block", enabled: true, expression: 'starts_with(http.request.uri.path, "/admin")' },
        { id: "cr-bad-actors", action: "block", enabled: true, expression: "ip.src in $bad_actors" }
      ]
    },
    {
      phase: "http_request_firewall_managed",
      rules: [{ id: "deploy-cmr", action: "execute", enabled: true, expression: "true", action_parameters: { id: "efb7b8c949ac4650a09736fc376e9aee" } }]
    }
  ],
  lists: { bad_actors: ["203.0.113.0/24"] }
}

const login = { method: "POST", host: "redpine.io", path: "/login" }

export const program = Effect.gen(function* () {
  // Is POST /login (and every spelling of it) rate limited?
  const before = Coverage.probe({ ...zone, request: login, phases: ["http_ratelimit"] })

  // The customer adds the suggested rule as a rate limiting rule.
  const withRateLimit: Coverage.ZoneRules = {
    ...zone,
    rulesets: [
      ...zone.rulesets,
      {
        phase: "http_ratelimit",
        rules: [{
          id: "rl-login",
          action: "block",
          enabled: true,
          expression: before.suggestion!.simple,
          ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 10, mitigation_timeout: 600 }
        }]
      }
    ]
  }
  const after = Coverage.probe({ ...withRateLimit, request: login, phases: ["http_ratelimit"] })

  // The full trace of one request: every phase, rule and skip, and the deciding outcome.
  const trace = yield* Coverage.evaluateEffect(withRateLimit, { ...login, ip: "203.0.113.9" })

  return {
    before: before.summary,
    suggestion: before.suggestion?.simple,
    after: after.summary,
    covered: after.covered,
    uncovered: after.variants.filter((v) => v.coveredBy === undefined).map((v) => `${v.label}: ${v.request.method} ${v.request.path}`),
    decision: trace.decision.summary
  }
})

// Effect.runPromise(program).then(console.log)
// {
//   before: 'not covered',
//   suggestion: '(http.request.uri.path eq "/login" and http.request.method eq "POST")',
//   after: 'covered by rule rl-login (block after 10 requests / 60 s per IP)',
//   covered: 'some',
//   uncovered: [
//     'path upper case: POST /LOGIN',
//     'path first letter upper case: POST /Login',
//     'path first letter percent-encoded: POST /%6Cogin',
//     'path first letter percent-encoded, lower-case hex: POST /%6cogin',
//     'path all letters percent-encoded: POST /%6C%6F%67%69%6E',
//     'path doubled leading slash: POST //login',
//     'path backslashes: POST \\login',
//     'path dot segment: POST /./login',
//     'path parent segment: POST /x/../login',
//     'path trailing slash: POST /login/',
//     'path trailing dot: POST /login.',
//     'path semicolon parameter: POST /login;x=1',
//     'method lower case: post /login',
//     'method mixed case: Post /login'
//   ],
//   decision: 'block by rule cr-bad-actors in http_request_firewall_custom'
// }
