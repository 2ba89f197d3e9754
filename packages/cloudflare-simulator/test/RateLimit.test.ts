import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import { Simulator } from "../src/index.js"
import { call, code } from "./Request.js"

/** A simulator whose clock is the Effect TestClock. */
const withTestClock = (options: Omit<Simulator.SimulatorOptions, "now"> = {}) =>
  Effect.map(Effect.clock, (clock) => Simulator.make({ scenario: "redpine", ...options, now: () => clock.unsafeCurrentTimeMillis() }))

const send = (sim: Simulator.Simulator, token = "scoped") =>
  Effect.promise(() => call(sim, "GET", token === "accountOwned" ? "/zones" : "/user/tokens/verify", token))

describe("RateLimit", () => {
  it.effect("allows exactly 1,200 requests per user in 5 minutes, then answers 429 / 971 with Retry-After", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock({ ipRateLimit: false })
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
      // Cloudflare's headers: nothing remains, 120 s to the reset, 1,200 per 300 s.
      assert.strictEqual(refused.headers.get("ratelimit"), '"default";r=0;t=120')
      assert.strictEqual(refused.headers.get("ratelimit-policy"), '"default";q=1200;w=300')
      // The quota is the user's: their other token is blocked too, an account-owned token is not.
      assert.strictEqual((yield* send(sim, "account")).status, 429)
      assert.strictEqual((yield* send(sim, "accountOwned")).status, 200)
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

  it.effect("announces the remaining quota and the policy on every answer, errors included, and Retry-After only on 429", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock({ rateLimit: { limit: 10, windowMs: 60_000 } })
      const ok = yield* send(sim)
      assert.strictEqual(ok.headers.get("ratelimit"), '"default";r=9;t=60')
      assert.strictEqual(ok.headers.get("ratelimit-policy"), '"default";q=10;w=60')
      assert.isNull(ok.headers.get("retry-after"))
      assert.isNull(ok.headers.get("x-ratelimit-remaining"))
      yield* TestClock.adjust("15 seconds")
      const missing = yield* Effect.promise(() => call(sim, "GET", "/zones/0000/dns_records", "scoped"))
      assert.notStrictEqual(missing.status, 200)
      assert.strictEqual(missing.headers.get("ratelimit"), '"default";r=8;t=45')
    }))

  it.effect("counts the customer's own background use against the same quota", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock({ rateLimit: { limit: 100, windowMs: 100_000 }, customerUse: { share: 0.6 } })
      assert.strictEqual((yield* send(sim)).headers.get("ratelimit"), '"default";r=99;t=100')
      // Half-way through the window the customer has used 30 of the 100.
      yield* TestClock.adjust("50 seconds")
      assert.strictEqual((yield* send(sim)).headers.get("ratelimit"), '"default";r=68;t=50')
      // We take the 68 left: the customer's next requests are refused, and the user is blocked.
      for (let i = 0; i < 68; i++) yield* send(sim)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* send(sim)).status, 429)
      assert.deepStrictEqual(sim.customerUse(), { sent: 36, refused: 6 })
    }))

  it.effect("refuses more than 200 requests per second from one client IP, whatever the token", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock()
      for (let i = 0; i < 200; i++) {
        const a = yield* send(sim, i % 2 === 0 ? "scoped" : "accountOwned")
        if (a.status !== 200) assert.fail(`request ${i} answered ${a.status}`)
      }
      const refused = yield* send(sim, "accountOwned")
      assert.strictEqual(refused.status, 429)
      assert.strictEqual(refused.headers.get("retry-after"), "1")
      assert.deepStrictEqual(sim.refusals(), { user: 0, ip: 1 })
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* send(sim, "accountOwned")).status, 200)
    }))

  it.effect("counts per token when asked to (rateLimitPer: token)", () =>
    Effect.gen(function* () {
      const sim = yield* withTestClock({ rateLimit: { limit: 2, windowMs: 60_000 }, rateLimitPer: "token" })
      assert.strictEqual((yield* send(sim)).status, 200)
      assert.strictEqual((yield* send(sim)).status, 200)
      assert.strictEqual((yield* send(sim)).status, 429)
      assert.strictEqual((yield* send(sim, "account")).status, 200)
    }))
})
