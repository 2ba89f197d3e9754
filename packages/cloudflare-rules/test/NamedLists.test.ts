import { assert, describe, it } from "@effect/vitest"
import { NamedLists, Request, Rule } from "../src/index.js"
import { Either } from "effect"

const rule = (source: string): Rule.Rule => {
  const result = Rule.compileEither(source)
  if (Either.isLeft(result)) return assert.fail(result.left.message)
  return result.right
}

describe("NamedLists", () => {
  it("prepares IP lists with addresses, CIDRs and a-b ranges of both families", () => {
    const lists = NamedLists.make({ ips: ["192.0.2.1", "10.0.0.0/8", "198.51.100.10-198.51.100.20", "2001:db8::/48", " 203.0.113.5 "] })
    const list = lists.get("ips")!
    const matches = (ip: string) => rule("ip.src in $ips").test(Request.make({ ip }), lists)
    assert.isTrue(matches("192.0.2.1"))
    assert.isTrue(matches("10.255.255.255"))
    assert.isTrue(matches("198.51.100.15"))
    assert.isFalse(matches("198.51.100.21"))
    assert.isTrue(matches("2001:db8:0:ffff::1"))
    assert.isFalse(matches("2001:db8:1::1"))
    assert.isTrue(matches("203.0.113.5"))
    assert.isFalse(list.hasIp(2n ** 100n))
  })

  it("keeps integers, numeric strings and strings apart by the field's type", () => {
    const lists = NamedLists.make({ asns: [64512, "64513"], hosts: ["a.example", "64513"] })
    assert.isTrue(rule("ip.src.asnum in $asns").test(Request.make({ asn: 64513 }), lists))
    assert.isTrue(rule("http.host in $hosts").test(Request.make({ host: "a.example" }), lists))
    assert.isFalse(rule("http.host in $asns").test(Request.make({ host: "a.example" }), lists))
  })

  it("accepts names with a leading $ and ignores items that are not strings or numbers", () => {
    const lists = NamedLists.make({ $office: ["192.0.2.0/24", null, { x: 1 }] as never })
    assert.isTrue(lists.has("office"))
    assert.isTrue(rule("ip.src in $office").test(Request.make({ ip: "192.0.2.9" }), lists))
    assert.isFalse(NamedLists.make({ broken: "192.0.2.1" as never }).get("broken")!.hasIp(0))
  })

  it("prepares plain contents once per object", () => {
    const contents = { office: ["192.0.2.0/24"] }
    assert.strictEqual(NamedLists.from(contents), NamedLists.from(contents))
    assert.strictEqual(NamedLists.from(undefined), NamedLists.empty)
  })
})
