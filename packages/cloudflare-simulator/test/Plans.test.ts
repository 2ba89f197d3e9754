import { assert, describe, it } from "@effect/vitest"
import { Plans, Scenario, Simulator } from "../src/index.js"
import { call, code } from "./Request.js"

describe("Plans", () => {
  it("refuses an entry point with more rules than the zone's plan allows in that phase", async () => {
    const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
    const dev = sim.state.zones.find((z) => z.name === "redpine.dev")!
    assert.strictEqual(dev.plan.legacy_id, "free")
    const limit = Plans.phaseRuleLimit("free", "http_request_firewall_custom")!
    assert.strictEqual(limit, Plans.RULE_LIMITS.free.custom)
    const rules = (n: number) => Array.from({ length: n }, (_, i) => ({ action: "block", expression: `(ip.src eq 192.0.2.${i + 1})` }))
    const path = `/zones/${dev.id}/rulesets/phases/http_request_firewall_custom/entrypoint`
    assert.strictEqual((await call(sim, "PUT", path, "customer", { rules: rules(limit) })).status, 200)
    const over = await call(sim, "PUT", path, "customer", { rules: rules(limit + 1) })
    assert.deepStrictEqual([over.status, code(over)], [400, 20021])
    assert.include(JSON.stringify(over.body["errors"]), `${limit + 1} out of ${limit}`)
  })

  it("has no rule-count limit for phases it does not cap", () => {
    assert.isUndefined(Plans.phaseRuleLimit("enterprise", "http_request_firewall_managed"))
    assert.strictEqual(Plans.phaseRuleLimit("pro", "http_response_headers_transform"), Plans.RULE_LIMITS.pro.transform)
  })

  it("stays reachable as Scenario.phaseRuleLimit", () => {
    assert.strictEqual(Scenario.phaseRuleLimit, Plans.phaseRuleLimit)
  })
})
