import { assert, describe, it } from "@effect/vitest"
import { Facts, Scheme } from "../src/index.js"

describe("Facts", () => {
  it("converts JavaScript data to each field's type", () => {
    const { facts, rejected } = Facts.makeWithReport({
      "http.host": "café.example",
      "http.request.body.raw": new Uint8Array([0xff, 0x41]),
      "ip.src": "2001:DB8::1",
      ssl: true,
      "cf.threat_score": 5,
      "http.request.headers": new Map([["x", ["1"]]]),
      "cf.bot_management.detection_ids": [1, 2]
    })
    assert.deepStrictEqual(rejected, [])
    assert.strictEqual(facts.values["http.host"], "caf\u00c3\u00a9.example")
    assert.strictEqual(facts.values["http.request.body.raw"], "\u00ffA")
    assert.strictEqual(facts.values["ip.src"], 0x20010db8000000000000000000000001n)
    assert.strictEqual(Facts.display(facts.values["ip.src"], "Ip"), "2001:db8::1")
    assert.strictEqual(Facts.display(facts.values["http.host"], "Bytes"), "café.example")
    assert.deepStrictEqual(Facts.display(facts.values["http.request.headers"], Scheme.fieldType("http.request.headers")!), { x: ["1"] })
  })

  it("reports unknown fields and values of the wrong type", () => {
    const { rejected } = Facts.makeWithReport({
      "no.such.field": "x",
      ssl: "yes",
      "ip.src": "1.2.3",
      "cf.threat_score": 1.5,
      "http.request.headers": { x: "not-an-array" },
      "cf.bot_management.detection_ids": [1, "2"]
    })
    assert.deepStrictEqual(rejected, ["no.such.field", "ssl", "ip.src", "cf.threat_score", "http.request.headers", "cf.bot_management.detection_ids"])
  })
})
