import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Effect } from "effect"
import * as SimulatorState from "../src/SimulatorState.js"
import * as Harness from "./fixtures/Harness.js"

const BASE = "https://api.cloudflare.com/client/v4"

const call = (sim: Simulator.Simulator, token: string, method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await sim.handle(
      new Request(`${BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    )
    return { status: response.status, body: (await response.json()) as { result: { rules: Array<{ expression: string }> } } }
  })

describe("SimulatorState", () => {
  it.scoped("keeps the simulated account across a restart: added rules, revoked tokens", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const first = Simulator.make({ scenario: "redpine", rateLimit: false })
      const customer = first.tokens["customer"] as string
      const zone = first.state.zones.find((z) => z.name === "redpine.io")?.id as string
      const path = `/zones/${zone}/rulesets/phases/http_ratelimit/entrypoint`
      const before = yield* call(first, customer, "GET", path)
      const expression = '(http.request.method eq "POST" and http.request.uri.path eq "/login")'
      const rule = { action: "block", expression, ratelimit: { characteristics: ["ip.src", "cf.colo.id"], period: 60, requests_per_period: 5, mitigation_timeout: 600 } }
      const put = yield* call(first, customer, "PUT", path, { rules: [...before.body.result.rules, rule] })
      assert.strictEqual(put.status, 200)
      first.revokeToken("scoped")
      assert.isFalse(SimulatorState.load(first.state, dir), "nothing saved yet")
      SimulatorState.save(first.state, dir)

      const second = Simulator.make({ scenario: "redpine", rateLimit: false })
      assert.isTrue(SimulatorState.load(second.state, dir))
      const after = yield* call(second, customer, "GET", path)
      assert.deepStrictEqual(after.body.result.rules.map((r) => r.expression), [...before.body.result.rules.map((r) => r.expression), expression])
      const revoked = yield* call(second, second.tokens["scoped"] as string, "GET", "/zones")
      assert.strictEqual(revoked.status, 401)
      assert.strictEqual(SimulatorState.serialize(second.state), SimulatorState.serialize(first.state))
    })
  )
})
