import { assert, describe, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Json from "../src/Json.js"

const decode = Schema.decodeUnknownEither(Json.Json)

describe("Json", () => {
  it("accepts every JSON value, nested", () => {
    const value = { a: [1, "two", true, null, { b: [[], {}] }], c: -0.5, "__proto__x": "kept" }
    assert.deepStrictEqual(Either.getOrThrow(decode(value)), value)
    for (const scalar of [null, 0, "", false]) assert.isTrue(Either.isRight(decode(scalar)))
  })

  it("accepts the same object twice when it is not its own ancestor (shared, not cyclic)", () => {
    const shared = { x: 1 }
    assert.isTrue(Either.isRight(decode({ a: shared, b: [shared, shared] })))
  })

  it("refuses undefined, functions, symbols and bigints anywhere inside", () => {
    for (const bad of [undefined, () => 1, Symbol("s"), 1n, { a: undefined }, [1, () => 1], { a: { b: [Symbol("s")] } }]) {
      assert.isTrue(Either.isLeft(decode(bad)))
    }
  })

  it("refuses a cycle instead of recursing forever", () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic["self"] = { back: cyclic }
    const left = decode(cyclic)
    assert.isTrue(Either.isLeft(left))
    const list: Array<unknown> = []
    list.push(list)
    assert.isTrue(Either.isLeft(decode(list)))
  })

  it("names itself in the error", () => {
    const left = decode({ a: undefined })
    assert.isTrue(Either.isLeft(left) && left.left.message.includes("Json"))
  })
})
