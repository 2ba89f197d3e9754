import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
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
})
