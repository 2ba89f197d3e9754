import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import { createHmac } from "node:crypto"
import { Facts, NamedLists, Request, Rule } from "../src/index.js"

const compile = (source: string): Rule.Rule => {
  const result = Rule.compileEither(source)
  if (Either.isLeft(result)) return assert.fail(`${source}: ${result.left.message}`)
  return result.right
}

const decide = (source: string, request: Request.RequestDescription = {}, lists?: NamedLists.ListsInput): boolean =>
  Rule.evaluate(compile(source), request, lists)

describe("Rule", () => {
  describe("logical operators", () => {
    it("folds xor over many operands by parity", () => {
      assert.isTrue(decide("ssl xor ssl xor ssl"))
      assert.isFalse(decide("ssl xor ssl xor ssl xor ssl"))
      assert.isTrue(decide("ssl ^^ not ssl"))
    })

    it("combines Array<Bool> operands element-wise inside any/all", () => {
      const request = { query: "a=1&b=2" }
      assert.isTrue(decide('any((http.request.uri.args.names[*] eq "b" and http.request.uri.args.values[*] eq "2"))', request))
      assert.isFalse(decide('any((http.request.uri.args.names[*] eq "a" and http.request.uri.args.values[*] eq "2"))', request))
      assert.isTrue(decide('all((http.request.uri.args.names[*] eq "a" or http.request.uri.args.values[*] eq "2"))', request))
      assert.isTrue(decide('any(not http.request.uri.args.names[*] eq "a")', request))
    })
  })

  describe("comparisons", () => {
    it("compares strings byte-wise", () => {
      assert.isTrue(decide('http.host lt "b"', { host: "a.example" }))
      assert.isTrue(decide('http.host gt "Z"', { host: "a" }))
      assert.isTrue(decide('http.request.uri.path eq "/caf\\xc3\\xa9"', { path: "/café" }))
    })

    it("treats the empty contains literal as always matching", () => {
      assert.isTrue(decide('http.user_agent contains ""'))
    })

    it("tests bitwise_and beyond 32 bits", () => {
      assert.isTrue(decide("cf.edge.server_port & 0x200000000", { fields: { "cf.edge.server_port": 2 ** 33 } }))
      assert.isFalse(decide("cf.edge.server_port & 0x100000000", { fields: { "cf.edge.server_port": 2 ** 33 } }))
      assert.isTrue(decide("cf.edge.server_port & 1", { fields: { "cf.edge.server_port": 443 } }))
    })

    it("never relates IPv4 and IPv6 addresses", () => {
      assert.isFalse(decide("ip.src eq ::ffff:1.2.3.4", { ip: "1.2.3.4" }))
      assert.isTrue(decide("ip.src ne ::ffff:1.2.3.4", { ip: "1.2.3.4" }))
      assert.isFalse(decide("ip.src lt ::1", { ip: "1.2.3.4" }))
      assert.isFalse(decide("ip.src ge ::", { ip: "1.2.3.4" }))
      assert.isTrue(decide("ip.src lt 2.0.0.0", { ip: "1.2.3.4" }))
    })

    it("matches inline sets of strings, integer ranges, CIDRs and IP ranges", () => {
      assert.isTrue(decide('http.request.method in {"PUT" "DELETE"}', { method: "DELETE" }))
      assert.isFalse(decide("cf.threat_score in {}", {}))
      assert.isTrue(decide("cf.threat_score in {-5..-1 40..50}", { threat_score: 40 }))
      assert.isTrue(decide("ip.src in {2001:db8::/32}", { ip: "2001:db8:ffff::1" }))
      assert.isFalse(decide("ip.src in {2001:db8::/32}", { ip: "2001:db9::1" }))
      assert.isTrue(decide("ip.src in {0.0.0.0/0}", { ip: "203.0.113.1" }))
      assert.isFalse(decide("ip.src in {0.0.0.0/0}", { ip: "::1" }))
      assert.isTrue(decide("ip.src in {10.0.0.250..10.0.1.5}", { ip: "10.0.1.0" }))
    })
  })

  describe("regular expressions", () => {
    it("matches over bytes, so . is one byte unless (?u) is on", () => {
      assert.isFalse(decide('http.request.uri.path matches "^/.$"', { path: "/α" }))
      assert.isTrue(decide('http.request.uri.path matches "^/..$"', { path: "/α" }))
      assert.isTrue(decide('http.request.uri.path matches "(?u)^/.$"', { path: "/α" }))
      assert.isTrue(decide('url_decode(http.request.uri.path) matches "(?u)\\p{Hangul}+"', { path: "/%ED%95%9C" }))
    })

    it("folds only ASCII under (?i), as Rust's byte mode does", () => {
      assert.isTrue(decide('http.request.uri.path matches "(?i)^/CAFÉ$"', { path: "/cafÉ" }))
      assert.isFalse(decide('http.request.uri.path matches "(?i)^/café$"', { path: "/cafÉ" }))
      assert.isFalse(decide('http.request.uri.path matches "(?i)\\xe9"', { fields: { "http.request.uri.path": new Uint8Array([0xc9]) } }))
      assert.isTrue(decide('http.request.uri.path matches "\\xc9"', { fields: { "http.request.uri.path": new Uint8Array([0xc9]) } }))
      assert.isTrue(decide('http.request.uri.path matches "[\\x80-\\xff]"', { path: "/é" }))
      assert.isFalse(decide('http.request.uri.path matches "[\\x80-\\xff]"', { path: "/e" }))
    })

    it("matches non-ASCII literals as their UTF-8 bytes", () => {
      assert.isTrue(decide('http.request.uri.path matches "^/é+$"', { path: "/éé" }))
      assert.isTrue(decide('http.request.uri.path matches "\\xff"', { path: "/\u00ff" }) === false)
    })

    it("searches unanchored and honours (?i), \\A and \\z", () => {
      assert.isTrue(decide('http.request.uri.path matches "min"', { path: "/admin/x" }))
      assert.isTrue(decide('http.request.uri.path matches "(?i)ADMIN"', { path: "/admin" }))
      assert.isTrue(decide('http.request.uri.path matches "\\A/admin\\z"', { path: "/admin" }))
      assert.isFalse(decide('http.request.uri.path matches "\\A/admin\\z"', { path: "/admin/" }))
    })

    it("passes a quoted regex nearly verbatim: \\\\. is a literal backslash", () => {
      assert.isTrue(decide('http.host matches "^api\\\\.x"', { host: "api\\.x" }))
      assert.isFalse(decide('http.host matches "^api\\\\."', { host: "api.example.com" }))
      assert.isTrue(decide('http.user_agent matches "say \\"hi\\""', { headers: { "User-Agent": 'say "hi"' } }))
    })
  })

  describe("wildcards", () => {
    it("matches the whole value, case-insensitively unless strict", () => {
      const uri = "http.request.full_uri"
      assert.isTrue(decide(`${uri} wildcard "http*://example.com/a/*"`, { path: "/a/" }))
      assert.isFalse(decide(`${uri} wildcard "http*://example.com/a/*"`, { path: "/ab/" }))
      assert.isTrue(decide(`${uri} wildcard "*.example.com/*/page.html"`, { host: "admin.example.com", path: "/team/subteam/page.html" }))
      assert.isFalse(decide(`${uri} wildcard "*.example.com/*/page.html"`, { host: "sub.example.com", path: "/folder2/page.html", query: "s=value" }))
      assert.isTrue(decide(`http.host wildcard "EXAMPLE.*"`, { host: "example.com" }))
      assert.isFalse(decide(`http.host strict wildcard "EXAMPLE.*"`, { host: "example.com" }))
    })

    it("treats \\* as a literal star and ? as an ordinary byte", () => {
      assert.isTrue(decide('http.request.uri.path wildcard r"/a/\\*"', { path: "/a/*" }))
      assert.isFalse(decide('http.request.uri.path wildcard r"/a/\\*"', { path: "/a/b" }))
      assert.isFalse(decide('http.request.uri.path wildcard "/a?"', { path: "/ab" }))
      assert.isTrue(decide('http.request.uri.path wildcard "/a?"', { path: "/a?" }))
    })
  })

  describe("missing values", () => {
    it("makes every comparison on a missing value false, including ne", () => {
      assert.isFalse(decide('http.request.headers["x"][0] ne "v"'))
      assert.isTrue(decide('not http.request.headers["x"][0] eq "v"'))
      assert.isFalse(decide('lower(http.request.headers["x"][0]) ne "v"'))
      assert.isFalse(decide("http.request.uri.args.names[5] in {\"a\"}"))
      assert.isFalse(decide("ip.src eq 1.2.3.4", { fields: {} , ip: "not-an-ip" }))
    })

    it("gives [*] over an absent key an empty array: all() is true, any() is false", () => {
      assert.isTrue(decide('all(http.request.headers["x"][*] ne "v")'))
      assert.isFalse(decide('any(http.request.headers["x"][*] ne "v")'))
    })

    it("answers the key-presence idiom", () => {
      assert.isTrue(decide('len(http.request.uri.args["debug"]) ge 0', { query: "debug" }))
      assert.isFalse(decide('len(http.request.uri.args["debug"]) ge 0', { query: "page=1" }))
    })

    it("uses type defaults for fields the request does not give", () => {
      assert.isTrue(decide('cf.waf.score eq 0 and cf.verified_bot_category eq "" and not cf.bot_management.static_resource'))
      assert.isTrue(decide('len(cf.bot_management.detection_ids) eq 0'))
    })
  })

  describe("functions", () => {
    it("computes the documented string functions", () => {
      const request = { path: "/Some/Path.PHP", query: "q=%3Cscript%3E+x&r=%253C" }
      assert.isTrue(decide('upper(http.request.uri.path) eq "/SOME/PATH.PHP"', request))
      assert.isTrue(decide('ends_with(lower(http.request.uri.path), ".php")', request))
      assert.isTrue(decide('url_decode(http.request.uri.query) eq "q=<script> x&r=%3C"', request))
      assert.isTrue(decide('url_decode(http.request.uri.query, "r") contains "r=<"', request))
      assert.isTrue(decide('substring(http.request.uri.path, 1, 5) eq "Some"', request))
      assert.isTrue(decide('substring(http.request.uri.path, -3) eq "PHP"', request))
      assert.isTrue(decide('remove_bytes(http.request.uri.path, "/.") eq "SomePathPHP"', request))
      assert.isTrue(decide('concat(http.request.method, " ", http.request.uri.path) eq "GET /Some/Path.PHP"', request))
      assert.isTrue(decide('len(http.request.uri.path) eq 14', request))
    })

    it("maps a function over [*] and needs another [*] to compare its elements", () => {
      const request = { headers: { "X-Foo": "1", Accept: "*/*" } }
      assert.isTrue(decide('any(lower(http.request.headers.names[*])[*] eq "x-foo")', request))
      assert.isTrue(decide('all(len(http.request.headers.names[*])[*] gt 3)', request))
      assert.isTrue(decide('any(ends_with(http.request.headers.names[*], "ept"))', request))
    })

    it("walks JSON with lookup_json_string and lookup_json_integer", () => {
      const request = { body: '{"user":{"name":"ann","roles":["a","b"]},"n":42,"f":42.5}' }
      assert.isTrue(decide('lookup_json_string(http.request.body.raw, "user", "name") eq "ann"', request))
      assert.isTrue(decide('lookup_json_string(http.request.body.raw, "user", "roles", 1) eq "b"', request))
      assert.isTrue(decide('lookup_json_integer(http.request.body.raw, "n") eq 42', request))
      assert.isFalse(decide('lookup_json_integer(http.request.body.raw, "f") ge 0', request))
      assert.isFalse(decide('lookup_json_string(http.request.body.raw, "x") ne "y"', request))
    })

    it("computes networks, strings of IPs, base64 and hashes", () => {
      assert.isTrue(decide("cidr(ip.src, 24, 64) eq 203.0.113.0", { ip: "203.0.113.77" }))
      assert.isTrue(decide("cidr(ip.src, 24, 32) eq 2001:db8::", { ip: "2001:db8:0:1::5" }))
      assert.isTrue(decide("cidr6(ip.src, 16) eq 2001::", { ip: "2001:db8::1" }))
      assert.isTrue(decide('to_string(ip.src) eq "203.0.113.77"', { ip: "203.0.113.77" }))
      assert.isTrue(decide('to_string(cf.threat_score) eq "7"', { threat_score: 7 }))
      assert.isTrue(decide('decode_base64(http.request.headers["x"][0]) eq "hello"', { headers: { x: "aGVsbG8=" } }))
      assert.isTrue(decide('encode_base64(http.host) eq "YS5i"', { host: "a.b" }))
      assert.isTrue(
        decide('encode_base64(sha256(http.host)) eq "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="', { host: "hello" })
      )
    })

    it("rewrites with regex_replace and wildcard_replace", () => {
      assert.isTrue(decide('regex_replace(http.request.uri.path, "^/foo/(.*)$", "/bar/${1}$$") eq "/bar/x$"', { path: "/foo/x" }))
      assert.isTrue(decide('regex_replace(http.request.uri.path, "^/nomatch", "/z") eq "/foo/x"', { path: "/foo/x" }))
      // Byte semantics: (.) captures the first byte of the second é.
      assert.isTrue(decide('regex_replace(http.request.uri.path, "é(.)", "[${1}]ü") eq "/ca[\\xc3]ü\\xa9x"', { path: "/caééx" }))
      assert.isTrue(decide('regex_replace(http.request.uri.path, "(?u)é(.)", "[${1}]") eq "/ca[é]x"', { path: "/caééx" }))
      assert.isTrue(
        decide('wildcard_replace(http.request.full_uri, "https://*.example.com/*", "https://${1}/${2}") eq "https://a/b"', {
          host: "a.example.com",
          path: "/b"
        })
      )
    })

    it("validates timed HMAC tokens", () => {
      // The token is message + separator + timestamp + "-" + base64(HMAC-SHA256(key, message + timestamp)).
      const mac = encodeURIComponent(createHmac("sha256", "secret").update("/download/cat.jpg1484063787").digest("base64"))
      const rule = 'is_timed_hmac_valid_v0("secret", http.request.uri, 10800, http.request.timestamp.sec, 8)'
      const request = (now: number) => ({ path: "/download/cat.jpg", query: `verify=1484063787-${mac}`, fields: { "http.request.timestamp.sec": now } })
      assert.isTrue(decide(rule, request(1484063787 + 60)))
      assert.isFalse(decide(rule, request(1484063787 + 10801)))
      assert.isFalse(decide(rule.replace('"secret"', '"other"'), request(1484063787 + 60)))
    })
  })

  describe("named lists", () => {
    it("matches IP lists by containment and ASN lists by value", () => {
      const lists = { bad: ["203.0.113.0/24", "198.51.100.7", "2001:db8::/32"], asns: [64512, "64513"] }
      assert.isTrue(decide("ip.src in $bad", { ip: "203.0.113.9" }, lists))
      assert.isTrue(decide("ip.src in $bad", { ip: "2001:db8::9" }, lists))
      assert.isFalse(decide("ip.src in $bad", { ip: "198.51.100.8" }, lists))
      assert.isTrue(decide("ip.src.asnum in $asns", { asn: 64513 }, lists))
      assert.isTrue(decide('http.host in $hosts', { host: "a.example" }, { hosts: ["a.example"] }))
    })

    it.effect("treats an unsupplied list as empty in the plain API and fails the Effect API", () =>
      Effect.gen(function* () {
        const rule = compile("not ip.src in $office and not ip.src in $cf.vpn")
        assert.deepStrictEqual(Rule.missingLists(rule, { office: [] }), ["cf.vpn"])
        assert.isTrue(Rule.evaluate(rule, {}, {}))
        const error = yield* Effect.flip(Rule.evaluateEffect(rule, {}, { office: [] }))
        assert.strictEqual(error.reason, "MissingList")
        assert.deepStrictEqual(error.lists, ["cf.vpn"])
        assert.isTrue(yield* Rule.evaluateEffect(rule, {}, { office: [], "cf.vpn": [] }))
      }))

    it("accepts prepared lists for repeated evaluation", () => {
      const rule = compile("ip.src in $office")
      const lists = NamedLists.make({ office: ["192.0.2.0/24"] })
      const facts = Request.make({ ip: "192.0.2.10" })
      assert.isTrue(rule.test(facts, lists))
      assert.isFalse(rule.test(facts))
    })
  })

  describe("compiling", () => {
    it.effect("exposes the canonical text, fields and lists of a compiled rule", () =>
      Effect.gen(function* () {
        const rule = yield* Rule.compile('(http.request.method == "POST" && ip.src in $office)')
        assert.strictEqual(rule.canonical, 'http.request.method eq "POST" and ip.src in $office')
        assert.deepStrictEqual(rule.fields, ["http.request.method", "ip.src"])
        assert.deepStrictEqual(rule.lists, ["office"])
      }))

    it("re-checks a syntax tree given instead of text", () => {
      const tree = compile("ssl").expression
      assert.isTrue(Either.isRight(Rule.compileEither(tree)))
      const bogus = { _tag: "Comparison", left: { _tag: "Field", name: "nope", indexes: [] }, operator: "eq", right: { _tag: "Int", value: 1 } } as const
      const result = Rule.compileEither(bogus)
      assert.isTrue(Either.isLeft(result) && result.left.reason === "UnknownField")
      assert.isTrue(Either.isLeft(Rule.compileEither({} as never)))
    })

    it("evaluates prepared facts built from field values", () => {
      const rule = compile('ip.src in {10.0.0.0/8} and any(http.request.headers["x"][*] eq "é")')
      const { facts, rejected } = Facts.makeWithReport({
        "ip.src": "10.1.2.3",
        "http.request.headers": { x: ["é"] },
        "nope.field": 1,
        "cf.threat_score": "high"
      })
      assert.deepStrictEqual(rejected, ["nope.field", "cf.threat_score"])
      assert.isTrue(rule.test(facts))
    })
  })
})
