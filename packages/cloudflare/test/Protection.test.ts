import { assert, describe, it } from "@effect/vitest"
import { type Check, Scope, Snapshot } from "@plumbline/core"
import { Checks } from "../src/index.js"

const CMR = "efb7b8c949ac4650a09736fc376e9aee"

const judge = (check: Check.Check, records: Record<string, ReadonlyArray<Record<string, unknown>>>) =>
  check.evaluate({
    snapshot: undefined as unknown as Snapshot.Snapshot,
    scope: new Scope.Scope({ kind: "zone", id: "z1", name: "example.com", attributes: { plan: "pro", account: "a1" } }),
    records: (resource) => (records[resource] ?? []).map((value, i) => new Snapshot.SnapshotRecord({ key: `${resource}-${i}`, value: value as never }))
  })

const deployment = (id: string, overrides: unknown, extra: Record<string, unknown> = {}) => ({
  id,
  phase: "http_request_firewall_managed",
  ruleset_id: "entry",
  position: 0,
  action: "execute",
  expression: "true",
  enabled: true,
  action_parameters: overrides === undefined ? { id: CMR } : { id: CMR, overrides },
  ...extra
})

describe("managed ruleset check (what an override weakens, decided by Coverage.managedWeakness)", () => {
  it("a ruleset-wide log override with a category kept on block still mitigates", () => {
    const verdict = judge(Checks.managedRuleset, {
      managed_rulesets: [deployment("r1", { action: "log", categories: [{ category: "sqli", action: "block" }] })]
    })
    assert.strictEqual(verdict._tag, "pass")
  })

  it("a ruleset-wide log override alone does not mitigate", () => {
    assert.strictEqual(judge(Checks.managedRuleset, { managed_rulesets: [deployment("r1", { action: "log" })] })._tag, "fail")
  })

  it("an account-level deployment that reaches the zone counts, and the evidence says it lives in the account", () => {
    const verdict = judge(Checks.managedRuleset, {
      managed_rulesets: [],
      account_rules: [deployment("acct1", undefined, { level: "account", ruleset_name: "http_request_firewall_managed entry point", zone_scope: "applies" })]
    })
    assert.strictEqual(verdict._tag, "pass")
    const deployments = verdict._tag === "pass" ? (verdict.evidence as { deployments: Array<Record<string, unknown>> }).deployments : []
    assert.strictEqual(deployments[0]?.["level"], "account")
  })
})
