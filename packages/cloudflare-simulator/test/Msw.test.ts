import { afterAll, afterEach, assert, beforeAll, describe, it } from "@effect/vitest"
import { setupServer } from "msw/node"
import { mswHandlers, Simulator } from "../src/index.js"

const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
const custom = Simulator.make({ scenario: "redpine", seed: 3, rateLimit: false })
const server = setupServer(...mswHandlers(sim), ...mswHandlers(custom, "https://cf.example.test/api"))

beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterEach(() => sim.setFaults({}))
afterAll(() => server.close())

const auth = (s: Simulator.Simulator, name = "account") => ({ authorization: `Bearer ${s.tokens[name]}` })

describe("Msw", () => {
  it("serves the simulator at Cloudflare's base URL", async () => {
    const res = await fetch("https://api.cloudflare.com/client/v4/zones", { headers: auth(sim) })
    const body = (await res.json()) as { result: Array<{ name: string }> }
    assert.deepStrictEqual(body.result.map((z) => z.name).sort(), ["redpine.dev", "redpine.io"])
  })

  it("maps a custom base URL onto the same API", async () => {
    const res = await fetch("https://cf.example.test/api/user/tokens/verify", { headers: auth(custom, "scoped") })
    assert.strictEqual(res.status, 200)
    const put = await fetch(`https://cf.example.test/api/zones/${custom.state.zones[0]!.id}/dns_records`, {
      method: "POST",
      headers: { ...auth(custom, "customer"), "content-type": "application/json" },
      body: JSON.stringify({ type: "A", name: "new", content: "192.0.2.9" })
    })
    assert.strictEqual(put.status, 200)
  })

  it("turns a reset fault into a network error for fetch", async () => {
    sim.setFaults({ rules: [{ count: 1, effect: { kind: "reset" } }] })
    const error = await fetch("https://api.cloudflare.com/client/v4/zones", { headers: auth(sim) }).catch((e: unknown) => e)
    assert.instanceOf(error, TypeError)
  })

  it("serves the admin endpoints at the API's origin", async () => {
    const res = await fetch("https://api.cloudflare.com/__admin/requests")
    const body = (await res.json()) as { counts: Record<string, number> }
    assert.isAbove(body.counts["account"] ?? 0, 0)
  })
})
