import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Option } from "effect"
import { readFileSync } from "node:fs"
import { Expression, Request, Rule } from "../src/index.js"
import type { NamedLists, RulesError } from "../src/index.js"

interface ValidCase {
  readonly id: string
  readonly expression: string
  readonly request: Request.RequestDescription
  readonly lists?: NamedLists.ListsInput
  readonly expected: boolean
  readonly why: string
}

interface InvalidCase {
  readonly id: string
  readonly expression: string
  readonly error: string
}

const fixture = JSON.parse(readFileSync(new URL("./fixtures/rules-cases.json", import.meta.url), "utf8")) as {
  readonly cases: ReadonlyArray<ValidCase | InvalidCase>
}
const valid = fixture.cases.filter((c): c is ValidCase => "expected" in c)
const invalid = fixture.cases.filter((c): c is InvalidCase => "error" in c)

// The reason our engine gives for each rejected case, so a case cannot pass for the wrong reason.
const expectedReasons: Record<string, RulesError.ParseErrorReason> = {
  "pub-bad-01": "ExpectedOperator",
  "pub-bad-02": "ExpectedSetOrList",
  "pub-bad-03": "InvalidCidr",
  "pub-bad-04": "UnexpectedToken",
  "pub-bad-05": "UnexpectedToken",
  "pub-bad-06": "ExpectedOperator",
  "pub-bad-07": "InvalidEscape",
  "pub-bad-08": "TypeMismatch",
  "pub-bad-09": "TypeMismatch",
  "pub-bad-10": "TypeMismatch",
  "pub-bad-11": "InvalidListName",
  "pub-bad-12": "UnexpectedEnd",
  "pub-bad-13": "UnexpectedEnd",
  "pub-bad-14": "InvalidRegex",
  "pub-bad-15": "InvalidArgument",
  "pub-bad-16": "InvalidWildcard",
  "pub-bad-17": "UnknownField",
  "pub-bad-18": "InvalidRange",
  "pub-bad-19": "TypeMismatch",
  "pub-bad-20": "ExpressionTooLong",
  "pub-bad-21": "TypeMismatch",
  "pub-bad-22": "TypeMismatch"
}

describe("Conformance", () => {
  it("holds all 82 cases checked against Cloudflare's engine (60 valid, 22 invalid)", () => {
    assert.strictEqual(valid.length, 60)
    assert.strictEqual(invalid.length, 22)
  })

  describe("valid cases evaluate to the expected result", () => {
    for (const c of valid) {
      it.effect(`${c.id}: ${c.expression.slice(0, 80)}`, () =>
        Effect.gen(function* () {
          const rule = yield* Rule.compile(c.expression)
          const result = yield* Rule.evaluateEffect(rule, c.request, c.lists ?? {})
          assert.strictEqual(result, c.expected, c.why)
          // The canonical form decides the same way.
          const again = yield* Rule.compile(rule.canonical)
          assert.strictEqual(Rule.evaluate(again, Request.make(c.request), c.lists), c.expected)
        })
      )
    }
  })

  describe("invalid cases are rejected with the expected reason", () => {
    for (const c of invalid) {
      it(`${c.id}: ${c.error}`, () => {
        const result = Rule.compileEither(c.expression)
        assert.isTrue(Either.isLeft(result), `expected a parse error for ${c.expression.slice(0, 80)}`)
        if (Either.isLeft(result)) assert.strictEqual(result.left.reason, expectedReasons[c.id], result.left.message)
      })
    }
  })

  // A syntax error is the user's, so it must stay a typed failure; only engine bugs are defects.
  describe("invalid cases fail the Effect API with a typed error, not a defect", () => {
    for (const c of invalid) {
      it.effect(`${c.id}: ${c.error}`, () =>
        Effect.gen(function* () {
          for (const effect of [Effect.asVoid(Rule.compile(c.expression)), Effect.asVoid(Expression.parse(c.expression))]) {
            const exit = yield* Effect.exit(effect)
            assert.isTrue(Exit.isFailure(exit), `expected a parse error for ${c.expression.slice(0, 80)}`)
            if (Exit.isSuccess(exit)) continue
            assert.isFalse(Cause.isDie(exit.cause), Cause.pretty(exit.cause))
            const error = Cause.failureOption(exit.cause)
            assert.isTrue(Option.isSome(error) && error.value._tag === "RulesParseError" && error.value.reason === expectedReasons[c.id])
          }
        })
      )
    }
  })
})
