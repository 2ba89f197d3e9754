/**
 * The README example: parse, compile, evaluate with named lists, print, and ask which fields a
 * rule reads. Run with `npx vitest run test/Examples.test.ts` (it is executed by the tests).
 */
import { Effect } from "effect"
// In your code: import { Expression, Request, Rule } from "@plumbline/cloudflare-rules"
import { Expression, Request, Rule } from "../src/index.js"

export const program = Effect.gen(function* () {
  // Parse and type-check once; errors are typed values with a reason and a position.
  const rule = yield* Rule.compile(
    '(http.request.method == "POST" && lower(http.request.uri.path) eq "/login") and not ip.src in $office'
  )

  // Named lists are supplied from outside: IP lists hold addresses and CIDRs.
  const lists = { office: ["192.0.2.0/24"] }

  // A request in the `request_model` shape, or built from a URL.
  const attacker = Request.make({ method: "POST", url: "https://redpine.io/LOGIN", ip: "203.0.113.9" })
  const colleague = { method: "POST", host: "redpine.io", path: "/login", ip: "192.0.2.10" }

  const blocksAttacker = yield* Rule.evaluateEffect(rule, attacker, lists)
  const blocksColleague = Rule.evaluate(rule, colleague, lists) // plain, synchronous

  // Canonical text, and what the rule depends on.
  const canonical = rule.canonical
  const fields = rule.fields

  // A parse error is a value, never a throw.
  const error = yield* Effect.flip(Expression.parse('http.host EQ "redpine.io"'))

  return { blocksAttacker, blocksColleague, canonical, fields, error: `${error.reason}: ${error.message}` }
})

// Effect.runPromise(program).then(console.log)
// {
//   blocksAttacker: true,
//   blocksColleague: false,
//   canonical: 'http.request.method eq "POST" and lower(http.request.uri.path) eq "/login" and not ip.src in $office',
//   fields: [ 'http.request.method', 'http.request.uri.path', 'ip.src' ],
//   error: 'ExpectedOperator: ExpectedOperator at line 1, column 11: expected a comparison operator after a Bytes value, ...'
// }
