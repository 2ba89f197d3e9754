import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted } from "effect"
import * as Keyring from "../src/Keyring.js"

const material = (id: string) => Keyring.generate(id).split(":")[1]!
const ringOf = (spec: string) => Keyring.make(Either.getOrThrow(Keyring.parse(spec)))
const aad = "plumbline/credential\u0000c1\u0000api_token"

describe("Keyring", () => {
  it("seals with the active key and opens what it sealed", () => {
    const ring = ringOf(`${Keyring.generate("new")},${Keyring.generate("old")}`)
    const sealed = ring.seal("secret-value", aad)
    assert.strictEqual(sealed.keyId, "new")
    assert.strictEqual(ring.activeKeyId, "new")
    assert.strictEqual(Redacted.value(Either.getOrThrow(ring.open(sealed, aad))), "secret-value")
    assert.strictEqual(Buffer.from(sealed.sealed).indexOf(Buffer.from("secret-value")), -1)
  })

  it("uses a fresh IV every time, so equal secrets seal differently", () => {
    const ring = ringOf(Keyring.generate("k"))
    const a = Buffer.from(ring.seal("same", aad).sealed)
    const b = Buffer.from(ring.seal("same", aad).sealed)
    assert.isFalse(a.equals(b))
    assert.isFalse(a.subarray(0, 12).equals(b.subarray(0, 12)))
  })

  it("opens with an older key after rotation", () => {
    const oldSpec = Keyring.generate("old")
    const sealed = ringOf(oldSpec).seal("s", aad)
    assert.strictEqual(Redacted.value(Either.getOrThrow(ringOf(`${Keyring.generate("new")},${oldSpec}`).open(sealed, aad))), "s")
  })

  it("refuses an unknown key, another row's data, altered bytes and other key material", () => {
    const spec = Keyring.generate("k")
    const ring = ringOf(spec)
    const sealed = ring.seal("s", aad)
    assert.deepStrictEqual(ring.open({ ...sealed, keyId: "other" }, aad), Either.left("unknown-key"))
    assert.deepStrictEqual(ring.open(sealed, "plumbline/credential\u0000c2\u0000api_token"), Either.left("tampered"))
    const altered = Buffer.from(sealed.sealed)
    altered[altered.length - 1]! ^= 1
    assert.deepStrictEqual(ring.open({ ...sealed, sealed: altered }, aad), Either.left("tampered"))
    assert.deepStrictEqual(ring.open({ ...sealed, sealed: altered.subarray(0, 10) }, aad), Either.left("tampered"))
    assert.deepStrictEqual(ringOf(`k:${material("k")}`).open(sealed, aad), Either.left("tampered"))
  })

  it("parses keys and explains bad ones without echoing key material", () => {
    const key = material("x")
    const cases: Array<[string, string]> = [
      ["", "no key given"],
      [key, "key 1 is not of the form id:base64key"],
      [`a b:${key}`, "key 1 has an id with characters other than A-Z a-z 0-9 . _ -"],
      [`short:${key.slice(0, 20)}`, `key "short" is not 32 bytes of base64`],
      [`a:${key},a:${key}`, `key id "a" appears twice`]
    ]
    for (const [spec, message] of cases) {
      const result = Keyring.parse(spec)
      assert.deepStrictEqual(result, Either.left(message))
      assert.notInclude(message, key.slice(0, 20))
    }
    const parsed = Either.getOrThrow(Keyring.parse(` a:${key} , b:${material("b")} `))
    assert.deepStrictEqual(
      parsed.map((k) => k.id),
      ["a", "b"]
    )
  })

  it.effect("reads PLUMBLINE_STORE_KEYS from Config, redacted", () =>
    Effect.gen(function* () {
      const spec = `${Keyring.generate("k2")},${Keyring.generate("k1")}`
      const ring = yield* Keyring.Keyring.pipe(
        Effect.provide(Keyring.layerConfig()),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PLUMBLINE_STORE_KEYS", spec]])))
      )
      assert.strictEqual(ring.activeKeyId, "k2")
      const bad = `k:${material("k").slice(0, 30)}`
      const error = yield* Effect.flip(
        Keyring.Keyring.pipe(
          Effect.provide(Keyring.layerConfig()),
          Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["PLUMBLINE_STORE_KEYS", bad]])))
        )
      )
      assert.include(String(error), `key "k" is not 32 bytes of base64`)
      assert.notInclude(String(error), bad.slice(2))
    })
  )
})
