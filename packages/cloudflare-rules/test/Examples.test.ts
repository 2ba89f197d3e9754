import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { program as coverage } from "../examples/coverage.js"
import { program } from "../examples/quickstart.js"

describe("Examples", () => {
  it.effect("runs the README quickstart with the documented results", () =>
    Effect.gen(function* () {
      const result = yield* program
      assert.isTrue(result.blocksAttacker)
      assert.isFalse(result.blocksColleague)
      assert.strictEqual(
        result.canonical,
        'http.request.method eq "POST" and lower(http.request.uri.path) eq "/login" and not ip.src in $office'
      )
      assert.deepStrictEqual(result.fields, ["http.request.method", "http.request.uri.path", "ip.src"])
      assert.match(result.error, /^ExpectedOperator: ExpectedOperator at line 1, column 11/)
    })
  )

  it.effect("runs the README coverage example with the documented results", () =>
    Effect.gen(function* () {
      const result = yield* coverage
      assert.strictEqual(result.before, "not covered")
      assert.strictEqual(result.suggestion, '(http.request.uri.path eq "/login" and http.request.method eq "POST")')
      assert.strictEqual(result.after, "covered by rule rl-login (block after 10 requests / 60 s per IP)")
      assert.strictEqual(result.covered, "some")
      assert.strictEqual(result.uncovered.length, 14)
      assert.include(result.uncovered, "path first letter percent-encoded, lower-case hex: POST /%6cogin")
      assert.include(result.uncovered, "path trailing slash: POST /login/")
      assert.strictEqual(result.decision, "block by rule cr-bad-actors in http_request_firewall_custom")
    })
  )
})
