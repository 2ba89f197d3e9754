import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Check, Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { Checks } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const verdicts = (findings: ReadonlyArray<Check.Finding>) =>
  Object.fromEntries(findings.map((f) => [`${f.checkId}@${f.scope.name}`, f.verdict._tag]))

const audit = (sim: Simulator.Simulator, token = "account") =>
  Effect.map(SimHttp.snapshotOf(sim, sim.tokens[token]!), ({ snapshot }) => Check.run(Checks.checks, snapshot))

/** Sends a remediation request to the simulator as the customer's dashboard would. */
const apply = (sim: Simulator.Simulator, request: Check.RemediationRequest) =>
  Effect.promise(() =>
    sim.handle(
      new Request(`${SimHttp.BASE_URL}${request.path}`, {
        method: request.method,
        headers: { authorization: `Bearer ${sim.tokens["customer"]}`, "content-type": "application/json" },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) })
      })
    )
  )

describe("Checks", () => {
  it.effect("audits redpine: WAF, TLS and SPF hold on redpine.io, DMARC is missing, the Free zone is weak", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      assert.deepStrictEqual(verdicts(yield* audit(sim)), {
        "cloudflare.dns.dmarc@redpine.io": "fail",
        "cloudflare.dns.dmarc@redpine.dev": "fail",
        "cloudflare.dns.dnssec@redpine.io": "pass",
        "cloudflare.dns.dnssec@redpine.dev": "fail",
        "cloudflare.dns.spf@redpine.io": "pass",
        "cloudflare.dns.spf@redpine.dev": "pass",
        "cloudflare.tls.always-use-https@redpine.io": "pass",
        "cloudflare.tls.always-use-https@redpine.dev": "fail",
        "cloudflare.tls.minimum-version@redpine.io": "pass",
        "cloudflare.tls.minimum-version@redpine.dev": "fail",
        "cloudflare.tls.ssl-strict@redpine.io": "pass",
        "cloudflare.tls.ssl-strict@redpine.dev": "fail",
        "cloudflare.waf.custom-rules-active@redpine.io": "pass",
        "cloudflare.waf.custom-rules-active@redpine.dev": "pass",
        "cloudflare.waf.bad-actors-blocked@redpine.io": "pass",
        "cloudflare.waf.bad-actors-blocked@redpine.dev": "pass",
        "cloudflare.waf.login-rate-limited@redpine.io": "fail",
        "cloudflare.waf.login-rate-limited@redpine.dev": "fail",
        "cloudflare.waf.managed-ruleset@redpine.io": "pass",
        "cloudflare.waf.managed-ruleset@redpine.dev": "pass",
        "cloudflare.waf.owasp-ruleset@redpine.io": "fail",
        "cloudflare.waf.owasp-ruleset@redpine.dev": "skipped"
      })
    }))

  it.effect("every failing check carries a sentence and the exact API request", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const failing = (yield* audit(sim)).filter((f) => f.verdict._tag === "fail")
      assert.isAbove(failing.length, 0)
      for (const finding of failing) {
        if (finding.verdict._tag !== "fail") continue
        assert.isAbove(finding.verdict.remediation.summary.length, 10, finding.key)
        assert.include(finding.verdict.remediation.request?.path ?? "", `/zones/${finding.scope.id}/`, finding.key)
      }
      const ssl = failing.find((f) => f.checkId === "cloudflare.tls.ssl-strict")?.verdict
      assert.deepStrictEqual(ssl?._tag === "fail" && ssl.remediation.request?.body, { value: "strict" })
    }))

  it.effect("the DMARC remediation, sent as the customer would, turns the check green", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const before = (yield* audit(sim)).find((f) => f.key.startsWith("cloudflare.dns.dmarc@") && f.scope.name === "redpine.io")
      assert.strictEqual(before?.verdict._tag, "fail")
      if (before?.verdict._tag !== "fail" || before.verdict.remediation.request === undefined) return
      const response = yield* apply(sim, before.verdict.remediation.request)
      assert.strictEqual(response.status, 200)
      const after = (yield* audit(sim)).find((f) => f.key === before.key)
      assert.strictEqual(after?.verdict._tag, "pass")
    }))

  it.effect("the login rate limit fails with the exact expression; its remediation, sent, makes it pass", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const before = (yield* audit(sim)).find((f) => f.checkId === "cloudflare.waf.login-rate-limited" && f.scope.name === "redpine.io")
      assert.strictEqual(before?.verdict._tag, "fail")
      if (before?.verdict._tag !== "fail" || before.verdict.remediation.request === undefined) return
      const remediation = before.verdict.remediation
      assert.strictEqual(remediation.expression, '(http.request.uri.path eq "/login" and http.request.method eq "POST")')
      const body = remediation.request?.body as Record<string, unknown>
      assert.deepStrictEqual(body["ratelimit"], {
        characteristics: ["cf.colo.id", "ip.src"],
        period: 60,
        requests_per_period: 10,
        mitigation_timeout: 600
      })
      assert.strictEqual(body["expression"], remediation.expression)
      const response = yield* apply(sim, remediation.request!)
      assert.strictEqual(response.status, 200)
      const after = (yield* audit(sim)).find((f) => f.key === before.key)
      assert.strictEqual(after?.verdict._tag, "pass", JSON.stringify(after?.verdict))
    }))

  it.effect("every remediation, sent as the customer would, turns its check green", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const failing = (yield* audit(sim)).filter((f) => f.verdict._tag === "fail")
      assert.includeMembers(
        failing.map((f) => f.key),
        [
          "cloudflare.waf.login-rate-limited@zone:11fd74a28cdb93d200c29f894282b953",
          "cloudflare.waf.owasp-ruleset@zone:11fd74a28cdb93d200c29f894282b953",
          // The Free zone's rule uses the only period the Free plan takes (10 s).
          "cloudflare.waf.login-rate-limited@zone:4d410eb31d686aa1b7cdc068ae7756bc",
          "cloudflare.tls.ssl-strict@zone:4d410eb31d686aa1b7cdc068ae7756bc",
          "cloudflare.dns.dnssec@zone:4d410eb31d686aa1b7cdc068ae7756bc"
        ]
      )
      for (const finding of failing) {
        if (finding.verdict._tag !== "fail") continue
        assert.isDefined(finding.verdict.remediation.request, finding.key)
        const response = yield* apply(sim, finding.verdict.remediation.request!)
        assert.strictEqual(response.status, 200, finding.key)
      }
      const after = new Map((yield* audit(sim)).map((f) => [f.key, f.verdict._tag]))
      for (const finding of failing) assert.strictEqual(after.get(finding.key), "pass", finding.key)
    }))

  it.effect("a record of another shape makes the checks that read it an error naming the record, never a wrong verdict", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!)
      const before = verdicts(Check.run(Checks.checks, snapshot))
      // As a snapshot written by another version of the connector, or edited by hand, might hold them:
      // a DNS record whose content is a number, and a WAF rule whose `enabled` is a string (truthy,
      // so a cast would have read the disabled rule as enabled).
      const json = JSON.parse(Snapshot.toJson(snapshot)) as {
        results: Array<{ resource: string; scope: { name?: string }; status: { _tag: string; records?: Array<{ key: string; value: Record<string, unknown> }> } }>
      }
      const recordsIn = (resource: string, zone: string) =>
        json.results.find((r) => r.resource === resource && r.scope.name === zone)?.status.records ?? []
      const dns = recordsIn("dns_records", "redpine.io")[0]!
      dns.value["content"] = 5
      const disabledRules = recordsIn("waf_custom_rules", "redpine.dev")
      for (const rule of disabledRules) rule.value["enabled"] = "no"
      assert.isAbove(disabledRules.length, 0)
      const after = Check.run(Checks.checks, yield* Snapshot.fromJson(json))

      const changed = Object.fromEntries(
        Object.entries(verdicts(after)).filter(([key, tag]) => before[key] !== tag)
      )
      assert.deepStrictEqual(changed, {
        "cloudflare.dns.spf@redpine.io": "error",
        "cloudflare.dns.dmarc@redpine.io": "error",
        "cloudflare.waf.custom-rules-active@redpine.dev": "error",
        "cloudflare.waf.bad-actors-blocked@redpine.dev": "error"
      })
      const spf = after.find((f) => f.checkId === "cloudflare.dns.spf" && f.scope.name === "redpine.io")?.verdict
      assert.strictEqual(spf?._tag, "error")
      if (spf?._tag !== "error") return
      assert.include(spf.detail, `record ${dns.key}`)
      assert.include(spf.detail, "/content")
    }))

  it("makeChecks takes the login endpoint", () => {
    const check = Checks.makeChecks({ login: { path: "/signin", method: "PUT" } }).find((c) => c.id === "cloudflare.waf.login-rate-limited")
    assert.strictEqual(check?.title, "A rate limiting rule protects PUT /signin")
  })

  it.effect("a token without DNS Read gets DNS checks skipped, naming the permission", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const findings = yield* audit(sim, "scoped")
      const spf = findings.find((f) => f.checkId === "cloudflare.dns.spf")?.verdict
      assert.deepStrictEqual(spf?._tag === "skipped" && [spf.reason, spf.permissions], ["permission", ["DNS Read"]])
      const waf = findings.find((f) => f.checkId === "cloudflare.waf.custom-rules-active")?.verdict
      assert.strictEqual(waf?._tag, "pass")
    }))
})

describe("SPF", () => {
  it("accepts a strict record and names every problem of a weak one", () => {
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 include:_spf.google.com ~all"), [])
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 mx -all"), [])
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 +all"), ["it ends in +all, which lets anyone send as the domain"])
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 a mx"), ["it has no all mechanism"])
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 -all mx"), ["terms follow the all mechanism and are never used"])
    const eleven = `v=spf1 ${Array.from({ length: 11 }, (_, i) => `include:s${i}.example`).join(" ")} -all`
    assert.deepStrictEqual(Checks.spfProblems(eleven), ["it needs 11 DNS lookups (at most 10)"])
    assert.deepStrictEqual(Checks.spfProblems("v=spf1 redirect=_spf.example"), [])
  })

  it("reads the DMARC policy", () => {
    assert.strictEqual(Checks.dmarcPolicy("v=DMARC1; p=reject; rua=mailto:x@example"), "reject")
    assert.strictEqual(Checks.dmarcPolicy("v=DMARC1; sp=reject; p=none"), "none")
    assert.strictEqual(Checks.dmarcPolicy("v=DMARC1"), undefined)
  })
})
