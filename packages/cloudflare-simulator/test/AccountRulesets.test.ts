import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "../src/index.js"
import { call, code } from "./Request.js"

const account = (sim: Simulator.Simulator, name: string) => sim.state.accounts.find((a) => a.name === name)!

describe("enterprise scenario: account-level rulesets", () => {
  it("an account entry point executes an account custom ruleset scoped to zones by name and plan", async () => {
    const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
    const id = account(sim, "Northwind").id
    const entry = await call(sim, "GET", `/accounts/${id}/rulesets/phases/http_ratelimit/entrypoint`, "account")
    assert.strictEqual(entry.status, 200)
    const result = entry.body["result"] as { kind: string; rules: Array<{ action: string; expression: string; action_parameters: { id: string } }> }
    assert.strictEqual(result.kind, "root")
    assert.strictEqual(result.rules[0]?.action, "execute")
    assert.include(result.rules[0]?.expression ?? "", "cf.zone.name")
    const custom = await call(sim, "GET", `/accounts/${id}/rulesets/${result.rules[0]!.action_parameters.id}`, "account")
    assert.strictEqual((custom.body["result"] as { kind: string }).kind, "custom")
  })

  it("an entry point never configured is 404/10003", async () => {
    const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
    const absent = await call(sim, "GET", `/accounts/${account(sim, "Northwind").id}/rulesets/phases/http_request_firewall_managed/entrypoint`, "account")
    assert.strictEqual(absent.status, 404)
    assert.strictEqual(code(absent), 10003)
  })

  it("a standard account is refused account WAF phases as not entitled (403/10010), not as a missing permission", async () => {
    const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
    const refused = await call(sim, "GET", `/accounts/${account(sim, "Smallco").id}/rulesets/phases/http_request_firewall_custom/entrypoint`, "account")
    assert.strictEqual(refused.status, 403)
    assert.strictEqual(code(refused), 10010)
    // Redirects are not an Enterprise-only account phase: an absent one is just absent.
    const redirect = await call(sim, "GET", `/accounts/${account(sim, "Smallco").id}/rulesets/phases/http_request_dynamic_redirect/entrypoint`, "account")
    assert.strictEqual(code(redirect), 10003)
  })

  it("a zone entry point executes a zone custom ruleset", async () => {
    const sim = Simulator.make({ scenario: "enterprise", rateLimit: false })
    const shop = sim.state.zones.find((z) => z.name === "northwind.shop")!
    const listing = await call(sim, "GET", `/zones/${shop.id}/rulesets`, "account")
    const kinds = (listing.body["result"] as Array<{ kind: string; name: string }>).filter((r) => r.kind === "custom").map((r) => r.name)
    assert.deepStrictEqual(kinds, ["Shop rules"])
  })
})
