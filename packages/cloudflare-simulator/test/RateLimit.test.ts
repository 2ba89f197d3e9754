import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Simulator } from "../src/index.js"
import { call, code } from "./Request.js"

/** A simulator whose clock is the Effect TestClock. */
const withTestClock = (options: Omit<Simulator.SimulatorOptions, "now"> = {}) =>
  Effect.map(Effect.clock, (clock) => Simulator.make({ scenario: "redpine", ...options, now: () => clock.unsafeCurrentTimeMillis() }))

const send = (sim: Simulator.Simulator, token = "scoped") => Effect.promise(() => call(sim, "GET", "/user/tokens/verify", token))

describe("RateLimit", () => {
  it.effect("allows exactly 1,200 requests per token in 5 minutes, then answers 429 / 971 with Retry-After", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock()
      for (let i = 1; i <= 1200; i++) {
        const a = yield* send(sim)
        if (a.status !== 200) assert.fail(`request ${i} answered ${a.status}`)
        if (i % 400 === 0) yield* TestClock.adjust("1 minute")
      }
      // 3 minutes into the window: the 1,201st request is refused for the remaining 2 minutes.
      const refused = yield* send(sim)
      assert.strictEqual(refused.status, 429)
      assert.strictEqual(code(refused), 971)
      assert.strictEqual(refused.headers.get("retry-after"), "120")
      assert.strictEqual(refused.headers.get("x-ratelimit-remaining"), "0")
      assert.strictEqual(refused.headers.get("x-ratelimit-limit"), "1200")
      // Another token of the same simulator is unaffected.
      assert.strictEqual((yield* send(sim, "account")).status, 200)
    }))

  it.effect("keeps blocking for the rest of the window and lets traffic through after it", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock({ rateLimit: { limit: 3, windowMs: 10_000 } })
      for (let i = 0; i < 3; i++) assert.strictEqual((yield* send(sim)).status, 200)
      assert.strictEqual((yield* send(sim)).status, 429)
      yield* TestClock.adjust("9 seconds")
      const stillBlocked = yield* send(sim)
      assert.strictEqual(stillBlocked.status, 429)
      assert.strictEqual(stillBlocked.headers.get("retry-after"), "1")
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* send(sim)).status, 200)
    }))

  it.effect("counts requests per token for the admin endpoint", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock()
      yield* send(sim, "scoped")
      yield* send(sim, "scoped")
      yield* send(sim, "account")
      yield* send(sim, "cfut_unknown")
      assert.deepStrictEqual(sim.requestCounts(), { scoped: 2, account: 1, unknown: 1 })
      const res = yield* Effect.promise(() => sim.handle(new Request("https://api.cloudflare.com/__admin/requests")))
      assert.deepStrictEqual(yield* Effect.promise(() => res.json()), { counts: { account: 1, scoped: 2, unknown: 1 }, total: 4 })
    }))
})
