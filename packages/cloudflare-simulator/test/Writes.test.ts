import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "../src/index.js"
import { call } from "./Request.js"

const make = () => Simulator.make({ scenario: "redpine", rateLimit: false })
const zoneOf = (sim: Simulator.Simulator, name: string) => sim.state.zones.find((z) => z.name === name)!.id

describe("Writes the customer makes in the dashboard", () => {
  it("changes a zone setting, refusing values the API refuses and tokens without write access", async () => {
    const sim = make()
    const zone = zoneOf(sim, "redpine.dev")
    const changed = await call(sim, "PATCH", `/zones/${zone}/settings/ssl`, "customer", { value: "strict" })
    assert.strictEqual(changed.status, 200)
    assert.strictEqual((changed.body["result"] as { value: string }).value, "strict")
    const read = await call(sim, "GET", `/zones/${zone}/settings/ssl`, "account")
    assert.strictEqual((read.body["result"] as { value: string }).value, "strict")
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/settings/ssl`, "customer", { value: "paranoid" })).status, 400)
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/settings/ssl`, "customer", {})).status, 400)
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/settings/ssl`, "account", { value: "full" })).status, 403)
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/settings/no_such_setting`, "customer", { value: "on" })).status, 404)
  })

  it("enables and disables DNSSEC", async () => {
    const sim = make()
    const zone = zoneOf(sim, "redpine.dev")
    const on = await call(sim, "PATCH", `/zones/${zone}/dnssec`, "customer", { status: "active" })
    assert.strictEqual(on.status, 200)
    assert.strictEqual(((await call(sim, "GET", `/zones/${zone}/dnssec`, "account")).body["result"] as { status: string }).status, "active")
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/dnssec`, "customer", { status: "maybe" })).status, 400)
    assert.strictEqual((await call(sim, "PATCH", `/zones/${zone}/dnssec`, "account", { status: "disabled" })).status, 403)
  })
})
