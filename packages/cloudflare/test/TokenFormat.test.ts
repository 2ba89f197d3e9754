import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { TokenFormat } from "../src/index.js"

const token = "cfut_" + "Ab9_-".repeat(7) + "Xy0zQ"

const refusal = (raw: string) => {
  const result = TokenFormat.check(raw)
  if (Either.isRight(result)) return assert.fail("expected a refusal")
  return result.left
}

describe("TokenFormat", () => {
  it("accepts a token of printable ASCII as it is", () => {
    assert.deepStrictEqual(TokenFormat.check(token), Either.right({ token, trimmed: false }))
  })

  it("trims surrounding whitespace and says so", () => {
    assert.deepStrictEqual(TokenFormat.check(`  ${token}\r\n`), Either.right({ token, trimmed: true }))
    assert.deepStrictEqual(TokenFormat.check(`\t${token}\u00a0`), Either.right({ token, trimmed: true }))
  })

  it("refuses invisible and illegal characters at their 1-based position, without quoting the token", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      [`${token.slice(0, 3)}\u200b${token.slice(3)}`, 4], // zero-width space
      [`\u201c${token}\u201d`, 1], // curly quotes
      [`${token}\u0000`, token.length + 1], // NUL
      [`${token.slice(0, 10)}\u007f${token.slice(10)}`, 11], // DEL
      [`${token.slice(0, 5)}\u0007${token.slice(5)}`, 6], // a control character
      [`${token.slice(0, 2)}\ud800${token.slice(2)}`, 3], // a lone surrogate
      [`${token.slice(0, 7)}é${token.slice(7)}`, 8], // non-ASCII
      [`${token.slice(0, 20)} ${token.slice(20)}`, 21], // whitespace inside
      [`  ${token.slice(0, 20)}\t${token.slice(20)}`, 21] // position in the trimmed token
    ]
    for (const [raw, position] of cases) {
      const error = refusal(raw)
      assert.strictEqual(error.reason, "illegal-character")
      assert.strictEqual(error.position, position, JSON.stringify(raw))
      assert.strictEqual(error.message, `the token contains characters a Cloudflare token never has (position ${position})`)
      assert.notInclude(error.message, token.slice(0, 8))
    }
  })

  it("refuses an empty or blank token", () => {
    assert.strictEqual(refusal("").reason, "empty")
    assert.strictEqual(refusal(" \n ").reason, "empty")
  })
})
