import { assert, describe, it } from "@effect/vitest"
import { Either } from "effect"
import { Facts, Request, Rule, Scheme } from "../src/index.js"

const field = (facts: Facts.Facts, name: string): unknown => Facts.display(facts.values[name], Scheme.fieldType(name)!)

describe("Request", () => {
  it("applies the request_model defaults", () => {
    const facts = Request.make()
    assert.strictEqual(field(facts, "http.request.method"), "GET")
    assert.strictEqual(field(facts, "http.host"), "example.com")
    assert.strictEqual(field(facts, "http.request.uri.path"), "/")
    assert.strictEqual(field(facts, "http.request.full_uri"), "https://example.com/")
    assert.strictEqual(field(facts, "ip.src"), "198.51.100.10")
    assert.strictEqual(field(facts, "ip.src.country"), "US")
    assert.strictEqual(field(facts, "http.request.version"), "HTTP/1.1")
    assert.strictEqual(field(facts, "ssl"), true)
    assert.strictEqual(field(facts, "cf.edge.server_port"), 443)
    assert.strictEqual(field(facts, "http.user_agent"), "")
  })

  it("derives the URI fields from a URL without normalizing it", () => {
    const facts = Request.make({ url: "http://RedPine.io/Login/%2e%2e/a.PHP?x=1&y&x=2#frag", method: "POST" })
    assert.strictEqual(field(facts, "http.host"), "RedPine.io")
    assert.strictEqual(field(facts, "http.request.uri.path"), "/Login/%2e%2e/a.PHP")
    assert.strictEqual(field(facts, "http.request.uri.path.extension"), "php")
    assert.strictEqual(field(facts, "http.request.uri.query"), "x=1&y&x=2")
    assert.strictEqual(field(facts, "http.request.uri"), "/Login/%2e%2e/a.PHP?x=1&y&x=2")
    assert.strictEqual(field(facts, "http.request.full_uri"), "http://RedPine.io/Login/%2e%2e/a.PHP?x=1&y&x=2")
    assert.deepStrictEqual(field(facts, "http.request.uri.args"), { x: ["1", "2"], y: [""] })
    assert.deepStrictEqual(field(facts, "http.request.uri.args.names"), ["x", "y", "x"])
    assert.strictEqual(field(facts, "ssl"), false)
    assert.strictEqual(field(facts, "cf.edge.server_port"), 80)
    assert.strictEqual(field(facts, "raw.http.request.uri.path"), "/Login/%2e%2e/a.PHP")
  })

  it("normalizes the path like Cloudflare when asked, keeping raw.* as sent", () => {
    const facts = Request.make({ path: "//%61dmin\\./x/../%2fsecret%3f", normalize: true })
    assert.strictEqual(field(facts, "http.request.uri.path"), "/admin/%2Fsecret%3F")
    assert.strictEqual(field(facts, "raw.http.request.uri.path"), "//%61dmin\\./x/../%2fsecret%3f")
    assert.strictEqual(Request.normalizePath("/%68ello"), "/hello")
    assert.strictEqual(Request.normalizePath("/a/b/../../.."), "/")
  })

  it("computes the path extension per the reference", () => {
    assert.strictEqual(Request.pathExtension("/foo"), "")
    assert.strictEqual(Request.pathExtension("/.mp3"), "")
    assert.strictEqual(Request.pathExtension("/foo."), "")
    assert.strictEqual(Request.pathExtension("/a.b/c"), "")
    assert.strictEqual(Request.pathExtension("/x.tar.GZ"), "gz")
  })

  it("builds header maps, arrays, well-known header fields and cookies", () => {
    const facts = Request.make({
      headers: { "User-Agent": "curl/8", "X-Foo": ["a", "b"], Cookie: "sid=1; my%20name=Ann; flag", Referer: "https://r.example/" }
    })
    assert.deepStrictEqual(field(facts, "http.request.headers"), { "user-agent": ["curl/8"], "x-foo": ["a", "b"], cookie: ["sid=1; my%20name=Ann; flag"], referer: ["https://r.example/"] })
    assert.deepStrictEqual(field(facts, "http.request.headers.names"), ["User-Agent", "X-Foo", "X-Foo", "Cookie", "Referer"])
    assert.deepStrictEqual(field(facts, "http.request.headers.values"), ["curl/8", "a", "b", "sid=1; my%20name=Ann; flag", "https://r.example/"])
    assert.strictEqual(field(facts, "http.user_agent"), "curl/8")
    assert.strictEqual(field(facts, "http.referer"), "https://r.example/")
    assert.deepStrictEqual(field(facts, "http.request.cookies"), { sid: ["1"], "my name": ["Ann"], flag: [""] })
  })

  it("parses urlencoded bodies into form fields without decoding", () => {
    const form = Request.make({ headers: { "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" }, body: "user=a%40b&pw=x" })
    assert.deepStrictEqual(field(form, "http.request.body.form"), { user: ["a%40b"], pw: ["x"] })
    assert.strictEqual(field(form, "http.request.body.size"), 15)
    const json = Request.make({ headers: { "Content-Type": "application/json" }, body: "user=a" })
    assert.deepStrictEqual(field(json, "http.request.body.form"), {})
  })

  it("applies typed field overrides and ignores ones that do not fit", () => {
    const facts = Request.make({
      fields: { "cf.waf.score": 12, "cf.edge.server_ip": "2001:db8::1", "cf.bot_management.detection_ids": [1, 2], "cf.waf.score.class": 3, "no.such": "x" }
    })
    assert.strictEqual(field(facts, "cf.waf.score"), 12)
    assert.strictEqual(field(facts, "cf.edge.server_ip"), "2001:db8::1")
    assert.deepStrictEqual(field(facts, "cf.bot_management.detection_ids"), [1, 2])
    assert.strictEqual(field(facts, "cf.waf.score.class"), "3")
    assert.isUndefined(facts.values["no.such"])
  })

  it("lists the spellings an attacker could use, and a normalizing zone sees through most of them", () => {
    const rule = Rule.compileEither('http.request.method eq "POST" and http.host eq "redpine.io" and http.request.uri.path eq "/login"')
    assert.isTrue(Either.isRight(rule))
    if (Either.isLeft(rule)) return
    const base = { method: "POST", host: "redpine.io", path: "/login" }
    const variants = Request.variants(base)
    const labels = variants.map((v) => v.label)
    assert.includeMembers(labels, ["path as given", "path upper case", "path first letter percent-encoded", "path doubled leading slash", "method lower case", "host upper case"])
    const missed = (normalize: boolean) =>
      variants.filter((v) => !Rule.evaluate(rule.right, { ...v.request, normalize })).map((v) => v.label)
    assert.notInclude(missed(false), "path as given")
    assert.include(missed(false), "path first letter percent-encoded")
    assert.notInclude(missed(true), "path first letter percent-encoded")
    assert.notInclude(missed(true), "path doubled leading slash")
    assert.include(missed(true), "path upper case")
  })
})
