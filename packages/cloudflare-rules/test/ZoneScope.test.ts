import { assert, describe, it } from "@effect/vitest"
import { Coverage } from "../src/index.js"

const redpine = { name: "redpine.io", plan: "enterprise" }

describe("Coverage.zoneScope", () => {
  it("an account rule scoped to a zone by name and plan applies to that zone only", () => {
    const expression = `(cf.zone.name eq "redpine.io") and cf.zone.plan eq "ENT"`
    assert.deepStrictEqual(Coverage.zoneScope(expression, redpine), { _tag: "Applies" })
    assert.strictEqual(Coverage.zoneScope(expression, { name: "other.io", plan: "enterprise" })._tag, "Excluded")
    assert.strictEqual(Coverage.zoneScope(expression, { name: "redpine.io", plan: "pro" })._tag, "Excluded")
  })

  it("request conditions beside the zone conditions leave the zone in scope", () => {
    const expression = `cf.zone.name in {"redpine.io" "a.io"} and http.request.uri.path eq "/login"`
    assert.deepStrictEqual(Coverage.zoneScope(expression, redpine), { _tag: "Applies" })
    assert.deepStrictEqual(Coverage.zoneScope(`http.request.uri.path eq "/admin"`, redpine), { _tag: "Applies" })
    assert.deepStrictEqual(Coverage.zoneScope(undefined, redpine), { _tag: "Applies" })
  })

  it("zone conditions mixed with request fields are undecided, not guessed", () => {
    const scope = Coverage.zoneScope(`cf.zone.name eq "other.io" or http.host eq "redpine.io"`, redpine)
    assert.strictEqual(scope._tag, "Undecided")
  })
})

describe("Coverage.managedWeakness", () => {
  it("a ruleset-wide log override weakens the deployment unless a category keeps blocking", () => {
    assert.strictEqual(Coverage.managedWeakness(true, undefined), undefined)
    assert.strictEqual(Coverage.managedWeakness(false, undefined), "the deployment is disabled")
    assert.strictEqual(Coverage.managedWeakness(true, { action: "log" }), "the deployment overrides every rule to log")
    assert.strictEqual(Coverage.managedWeakness(true, { enabled: false }), "the deployment overrides every rule to disabled")
    assert.strictEqual(Coverage.managedWeakness(true, { action: "log", categories: [{ category: "wordpress", action: "block" }] }), undefined)
    assert.strictEqual(Coverage.managedWeakness(true, { enabled: false, rules: [{ id: "r1", enabled: true }] }), undefined)
  })
})
