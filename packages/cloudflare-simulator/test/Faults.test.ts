import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import type { Faults } from "../src/index.js"
import { Simulator } from "../src/index.js"
import { BASE, call } from "./Request.js"

const withFaults = (faults: Faults.FaultOptions, extra: Partial<Simulator.SimulatorOptions> = {}) =>
  Simulator.make({ scenario: "redpine", rateLimit: false, faults, ...extra })

const raw = (sim: Simulator.Simulator, path = "/zones", init: RequestInit = {}) =>
  sim.handle(new Request(`${BASE}${path}`, { ...init, headers: { authorization: `Bearer ${sim.tokens["customer"]}` } }))

describe("Faults", () => {
  it("delays responses by the latency distribution, deterministically by seed", async () => {
    const delays = async (seed: number) => {
      const slept: Array<number> = []
      const sim = withFaults(
        { rules: [{ effect: { kind: "latency", distribution: { type: "uniform", minMs: 50, maxMs: 150 } } }] },
        { seed, sleep: async (ms) => void slept.push(ms) }
      )
      for (let i = 0; i < 20; i++) assert.strictEqual((await raw(sim)).status, 200)
      return slept
    }
    const a = await delays(7)
    assert.strictEqual(a.length, 20)
    for (const ms of a) assert.isTrue(ms >= 50 && ms <= 150)
    assert.deepStrictEqual(await delays(7), a)
    assert.notDeepEqual(await delays(8), a)
    const fixed: Array<number> = []
    const sim = withFaults({ rules: [{ effect: { kind: "latency", distribution: { type: "fixed", ms: 250 } } }] }, { sleep: async (ms) => void fixed.push(ms) })
    await raw(sim)
    assert.deepStrictEqual(fixed, [250])
  })

  it("answers a burst of 5xx, then recovers", async () => {
    const sim = withFaults({ rules: [{ route: "GET /zones", count: 3, effect: { kind: "status", status: 503 } }] })
    const statuses: Array<number> = []
    for (let i = 0; i < 5; i++) statuses.push((await raw(sim)).status)
    assert.deepStrictEqual(statuses, [503, 503, 503, 200, 200])
    assert.strictEqual((await raw(sim, "/user/tokens/verify")).status, 200)
  })

  it("sends Cloudflare's HTML edge error page when asked", async () => {
    const sim = withFaults({ rules: [{ effect: { kind: "status", status: 502, html: true } }] })
    const res = await raw(sim)
    assert.strictEqual(res.status, 502)
    assert.include(res.headers.get("content-type") ?? "", "text/html")
    const text = await res.text()
    assert.include(text, "cf-error-details")
    assert.include(text, "Error code 502")
    assert.include(text, "Cloudflare Ray ID")
  })

  it("skips the first `after` matches and fires only on the selected route", async () => {
    const sim = withFaults({ rules: [{ route: "GET /zones/:zone_id/dns_records", after: 1, count: 1, effect: { kind: "status", status: 500 } }] })
    const io = sim.state.zones[0]!.id
    assert.strictEqual((await raw(sim, `/zones/${io}/dns_records`)).status, 200)
    assert.strictEqual((await raw(sim)).status, 200)
    assert.strictEqual((await raw(sim, `/zones/${io}/dns_records`)).status, 500)
    assert.strictEqual((await raw(sim, `/zones/${io}/dns_records`)).status, 200)
  })

  it("fires probabilistic faults identically for the same seed", async () => {
    const run = async (seed: number) => {
      const sim = withFaults({ rules: [{ probability: 0.3, effect: { kind: "status", status: 500 } }] }, { seed })
      const out: Array<number> = []
      for (let i = 0; i < 40; i++) out.push((await raw(sim)).status)
      return out
    }
    const a = await run(11)
    assert.deepStrictEqual(await run(11), a)
    assert.isTrue(a.includes(500) && a.includes(200))
  })

  it("resets the connection (a network error for fetch)", async () => {
    const sim = withFaults({ rules: [{ effect: { kind: "reset" } }] })
    const res = await raw(sim)
    assert.strictEqual(res.type, "error")
  })

  it("hangs until the client gives up", async () => {
    const sim = withFaults({ rules: [{ effect: { kind: "hang" } }] })
    const controller = new AbortController()
    let settled = false
    const pending = raw(sim, "/zones", { signal: controller.signal }).then((r) => {
      settled = true
      return r
    })
    await new Promise((resolve) => setImmediate(resolve))
    assert.isFalse(settled)
    controller.abort()
    assert.strictEqual((await pending).type, "error")
  })

  it("truncates or corrupts the JSON body", async () => {
    const clean = await (await raw(withFaults({}))).text()
    const truncated = await (await raw(withFaults({ rules: [{ effect: { kind: "truncate" } }] }))).text()
    assert.isTrue(clean.startsWith(truncated) && truncated.length < clean.length)
    assert.throws(() => JSON.parse(truncated))
    const malformed = await (await raw(withFaults({ rules: [{ effect: { kind: "malformed" } }] }))).text()
    assert.throws(() => JSON.parse(malformed))
  })

  it("answers success: false inside a 200", async () => {
    const res = await raw(withFaults({ rules: [{ effect: { kind: "successFalse", code: 10013 } }] }))
    assert.strictEqual(res.status, 200)
    const body = (await res.json()) as { success: boolean; errors: Array<{ code: number }>; result: unknown }
    assert.deepStrictEqual([body.success, body.errors[0]?.code, body.result], [false, 10013, null])
  })

  it("refuses a product the plan lacks with Cloudflare's 403 entitlement code", async () => {
    const res = await raw(withFaults({ rules: [{ effect: { kind: "notEntitled" } }] }))
    assert.strictEqual(res.status, 403)
    const body = (await res.json()) as { success: boolean; errors: Array<{ code: number; message: string }>; result: unknown }
    assert.deepStrictEqual([body.success, body.errors[0]?.code, body.errors[0]?.message, body.result], [false, 10010, "firewallaccessrules.api.not_entitled", null])
  })

  it("answers every read of a suspended or locked account with a 403 naming the account's state", async () => {
    for (const state of ["suspended", "locked"] as const) {
      const sim = withFaults({ rules: [{ route: "GET *", effect: { kind: "accountUnavailable", state } }] })
      for (const path of ["/zones", "/accounts", `/accounts/${sim.state.accounts[0]!.id}/rules/lists`]) {
        const res = await raw(sim, path)
        assert.strictEqual(res.status, 403)
        const body = (await res.json()) as { success: boolean; errors: Array<{ code: number; message: string }>; result: unknown }
        assert.deepStrictEqual([body.success, body.errors[0]?.code, body.result], [false, 10000, null])
        assert.include(body.errors[0]?.message, `account is ${state}`)
      }
    }
  })

  it("spends the rest of the quota's window at once: that request and the rest of the window get 429, then a new window serves", async () => {
    let now = 1_000_000
    const sim = withFaults(
      { rules: [{ route: "GET /zones/:zone_id/dns_records", count: 1, effect: { kind: "quotaSpent" } }] },
      { rateLimit: { limit: 30, windowMs: 15_000 }, now: () => now }
    )
    const zone = sim.state.zones[0]!.id
    assert.strictEqual((await raw(sim, "/zones")).status, 200)
    const refused = await raw(sim, `/zones/${zone}/dns_records`)
    assert.strictEqual(refused.status, 429)
    assert.strictEqual(refused.headers.get("retry-after"), "15")
    assert.strictEqual(refused.headers.get("ratelimit"), '"default";r=0;t=15')
    const body = (await refused.json()) as { errors: Array<{ code: number }> }
    assert.strictEqual(body.errors[0]?.code, 971)
    now += 5_000
    assert.strictEqual((await raw(sim, "/zones")).status, 429, "the whole quota is spent, not one route")
    now += 10_000
    assert.strictEqual((await raw(sim, `/zones/${zone}/dns_records`)).status, 200, "a new window serves (the fault fired once)")
  })

  it("adds unknown fields and removes fields", async () => {
    const extra = (await (await raw(withFaults({ rules: [{ effect: { kind: "extraFields" } }] }))).json()) as Record<string, unknown>
    assert.property(extra, "x_simulator_unknown")
    assert.property((extra["result"] as Array<Record<string, unknown>>)[0], "x_simulator_unknown")
    const missing = (await (await raw(withFaults({ rules: [{ effect: { kind: "missingFields", fields: ["result_info", "name_servers"] } }] }))).json()) as Record<string, unknown>
    assert.notProperty(missing, "result_info")
    assert.notProperty((missing["result"] as Array<Record<string, unknown>>)[0], "name_servers")
    assert.property((missing["result"] as Array<Record<string, unknown>>)[0], "name")
  })

  it("leaves an entry point out of the rulesets listing while the entry point still answers", async () => {
    const sim = withFaults({ rules: [{ route: "GET /zones/:zone_id/rulesets", effect: { kind: "unlisted", phases: ["http_ratelimit"] } }] })
    const zone = sim.state.zones.find((z) => z.name === "redpine.io")!.id
    const clean = Simulator.make({ scenario: "redpine", rateLimit: false })
    type Listing = { result: Array<{ kind: string; phase: string }>; result_info: { count: number } }
    const full = (await (await raw(clean, `/zones/${zone}/rulesets`)).json()) as Listing
    const listing = (await (await raw(sim, `/zones/${zone}/rulesets`)).json()) as Listing
    assert.isTrue(full.result.some((r) => r.kind === "zone" && r.phase === "http_ratelimit"), "redpine.io has a rate-limit entry point")
    assert.isFalse(listing.result.some((r) => r.kind === "zone" && r.phase === "http_ratelimit"))
    assert.strictEqual(listing.result.length, full.result.length - 1)
    assert.strictEqual(listing.result_info.count, listing.result.length)
    assert.strictEqual((await raw(sim, `/zones/${zone}/rulesets/phases/http_ratelimit/entrypoint`)).status, 200)
  })

  it.effect("revokes a token at a given moment", () =>
    Effect.gen(function* () {
      const clock = yield* Effect.clock
      const start = clock.unsafeCurrentTimeMillis()
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        now: () => clock.unsafeCurrentTimeMillis(),
        faults: { revocations: [{ token: "scoped", at: start + 60_000 }] }
      })
      const verify = () => Effect.promise(() => call(sim, "GET", "/user/tokens/verify", "scoped"))
      assert.strictEqual((yield* verify()).status, 200)
      yield* TestClock.adjust("59 seconds")
      assert.strictEqual((yield* verify()).status, 200)
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* verify()).status, 401)
    }))

  it("takes fault settings at run time through the admin endpoint", async () => {
    const sim = withFaults({})
    const set = await sim.handle(
      new Request("https://api.cloudflare.com/__admin/faults", { method: "POST", body: JSON.stringify({ rules: [{ count: 1, effect: { kind: "status", status: 504 } }] }) })
    )
    assert.strictEqual(set.status, 200)
    assert.strictEqual((await raw(sim)).status, 504)
    assert.strictEqual((await raw(sim)).status, 200)
    const bad = await sim.handle(new Request("https://api.cloudflare.com/__admin/faults", { method: "POST", body: JSON.stringify({ rules: [{ effect: { kind: "nope" } }] }) }))
    assert.strictEqual(bad.status, 400)
  })
})
