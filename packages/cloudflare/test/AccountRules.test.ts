import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Check, type Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { Checks, CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const LOGIN = "cloudflare.waf.login-rate-limited"

const finding = (findings: ReadonlyArray<Check.Finding>, check: string, zone: string) => {
  const found = findings.find((f) => f.checkId === check && f.scope.name === zone)
  assert.isDefined(found, `${check}@${zone}`)
  return found!
}

const result = (snapshot: Snapshot.Snapshot, resource: string, zone: string) => {
  const found = snapshot.results.find((r) => r.resource === resource && r.scope.name === zone)
  assert.isDefined(found, `${resource}@${zone}`)
  return found!
}

const recordsOf = (snapshot: Snapshot.Snapshot, resource: string, zone: string): ReadonlyArray<Record<string, unknown>> => {
  const status = result(snapshot, resource, zone).status
  assert.strictEqual(status._tag, "ok", `${resource}@${zone} is ${status._tag}`)
  return status._tag === "ok" ? status.records.map((r) => r.value as Record<string, unknown>) : []
}

describe("account-level rulesets", () => {
  it.effect("a zone with no zone rules, protected by an account custom ruleset, passes the login rate-limit check and says where the rule lives", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
      const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!)
      assert.deepStrictEqual(recordsOf(snapshot, "rate_limit_rules", "northwind.io"), [])
      assert.deepStrictEqual(recordsOf(snapshot, "waf_custom_rules", "northwind.io"), [])
      const findings = Check.run(Checks.checks, snapshot)
      const login = finding(findings, LOGIN, "northwind.io").verdict
      assert.strictEqual(login._tag, "pass")
      const rule = login._tag === "pass" ? (login.evidence as { rule: Record<string, unknown> }).rule : undefined
      assert.strictEqual(rule?.["level"], "account")
      assert.strictEqual(rule?.["rulesetName"], "Shared login throttle")
      assert.strictEqual(rule?.["description"], "Throttle logins")
      assert.isString(rule?.["executedBy"])
      // The /admin block reaches the zone too, kept with its ruleset and the rule that runs it.
      const admin = recordsOf(snapshot, "account_rules", "northwind.io").find((r) => r["description"] === "Block /admin")
      assert.strictEqual(admin?.["ruleset_name"], "Shared admin block")
      assert.strictEqual(admin?.["phase"], "http_request_firewall_custom")
      assert.strictEqual(admin?.["level"], "account")
    }))

  it.effect("an account rule scoped away from a zone does not protect it, and a zone below Enterprise is skipped for the plan", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
      const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!)
      const dev = result(snapshot, "account_rules", "northwind.dev").status
      assert.strictEqual(dev._tag, "skipped")
      assert.strictEqual(dev._tag === "skipped" ? dev.reason : undefined, "plan")
      assert.strictEqual(finding(Check.run(Checks.checks, snapshot), LOGIN, "northwind.dev").verdict._tag, "fail")
    }))

  it.effect("a zone entry point's execute of a zone custom ruleset keeps the executed rules", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
      const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!)
      const custom = recordsOf(snapshot, "waf_custom_rules", "northwind.shop")
      const executed = custom.find((r) => r["description"] === "Block the debug checkout")
      assert.strictEqual(executed?.["ruleset_name"], "Shop rules")
      const by = custom.find((r) => r["id"] === executed?.["executed_by"])
      assert.strictEqual(by?.["action"], "execute")
    }))

  it.effect("absent entry points (404/10003) are no rules; each entry point and ruleset is fetched once per snapshot", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
      const fake = SimHttp.make(sim)
      const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, sim.tokens["account"]!))
      const snapshot = yield* connector.snapshot({})
      const northwind = snapshot.results.find((r) => r.scope.kind === "account" && r.scope.name === "Northwind")!.scope
      const paths = fake.requests.map((r) => r.url.pathname)
      const count = (suffix: string) => paths.filter((p) => p.endsWith(suffix)).length
      for (const phase of ["http_request_firewall_custom", "http_request_firewall_managed", "http_ratelimit", "http_request_dynamic_redirect"]) {
        assert.strictEqual(count(`/accounts/${northwind.id}/rulesets/phases/${phase}/entrypoint`), 1, phase)
      }
      const absent = fake.requests.filter((r) => r.url.pathname.endsWith(`/accounts/${northwind.id}/rulesets/phases/http_request_firewall_managed/entrypoint`))
      assert.strictEqual(absent[0]?.status, 404)
      const rulesetReads = paths.filter((p) => new RegExp(`/accounts/${northwind.id}/rulesets/[0-9a-f]{32}$`).test(p))
      assert.strictEqual(rulesetReads.length, 2)
      assert.strictEqual(new Set(rulesetReads).size, 2)
      assert.strictEqual(result(snapshot, "account_rules", "northwind.shop").status._tag, "ok")
    }))

  it.effect("a non-Enterprise account skips account rulesets for the plan, not as a missing permission", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
      const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!)
      const small = result(snapshot, "account_rules", "smallco.io").status
      assert.strictEqual(small._tag, "skipped")
      assert.strictEqual(small._tag === "skipped" ? small.reason : undefined, "plan")
      assert.strictEqual(finding(Check.run(Checks.checks, snapshot), LOGIN, "smallco.io").verdict._tag, "fail")
    }))
})
