import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, TestClock } from "effect"
import { AnnouncedQuota, RequestBudget } from "../src/index.js"

/** Takes `n` requests in a forked fibre and records when each was taken (ms since start). */
const takeAll = (gate: AnnouncedQuota.Gate, n: number) =>
  Effect.fork(
    Effect.gen(function* () {
      const times: Array<number> = []
      for (let i = 0; i < n; i++) {
        yield* gate.acquire
        times.push(yield* Clock.currentTimeMillis)
      }
      return times
    })
  )

describe("AnnouncedQuota", () => {
  it.effect("spends at most half of what remains in a window, a tenth at once and the rest paced over it", () =>
    Effect.gen(function* () {
      const gate = yield* AnnouncedQuota.make(0.5)
      yield* gate.observe({ remaining: 100, resetSeconds: 100, quota: 100, windowSeconds: 100 })
      const fiber = yield* takeAll(gate, 60)
      yield* TestClock.adjust("200 seconds")
      const times = yield* Fiber.join(fiber)
      const before = times.filter((t) => t < 100_000)
      // Half of the 100 that remain: 50 in this window, none of them beyond our share.
      assert.strictEqual(before.length, 50)
      // 5 at once (a tenth of the window's allowance), then one every 2 seconds.
      assert.strictEqual(times.filter((t) => t === 0).length, 5)
      assert.isAtLeast(before[49]!, 88_000)
      // After the reset, with no newer announcement, the gate lets the rest through.
      assert.isTrue(times.slice(50).every((t) => t >= 100_000))
    }))

  it.effect("counts the customer's use: a lower announced remaining shrinks our allowance", () =>
    Effect.gen(function* () {
      const gate = yield* AnnouncedQuota.make(0.5)
      yield* gate.observe({ remaining: 100, resetSeconds: 100, windowSeconds: 100 })
      for (let i = 0; i < 5; i++) yield* gate.acquire
      // The customer used 55 meanwhile: 40 remain; ours may be at most half of 40 + 5.
      yield* gate.observe({ remaining: 40, resetSeconds: 100, windowSeconds: 100 })
      const fiber = yield* takeAll(gate, 30)
      yield* TestClock.adjust("200 seconds")
      const times = yield* Fiber.join(fiber)
      assert.strictEqual(5 + times.filter((t) => t < 100_000).length, 22)
    }))

  it.effect("with share 1 spends everything that remains, then waits for the reset", () =>
    Effect.gen(function* () {
      const gate = yield* AnnouncedQuota.make(1)
      yield* gate.observe({ remaining: 10, resetSeconds: 10, windowSeconds: 10 })
      const fiber = yield* takeAll(gate, 12)
      yield* TestClock.adjust("20 seconds")
      const times = yield* Fiber.join(fiber)
      assert.strictEqual(times.filter((t) => t < 10_000).length, 10)
    }))

  it.effect("with share 1 does not pace: what remains goes at once", () =>
    Effect.gen(function* () {
      const gate = yield* AnnouncedQuota.make(1)
      yield* gate.observe({ remaining: 100, resetSeconds: 100, windowSeconds: 100 })
      const fiber = yield* takeAll(gate, 100)
      yield* TestClock.adjust("1 millis")
      const times = yield* Fiber.join(fiber)
      assert.isTrue(times.every((t) => t === 0))
    }))

  it.effect("under a caller's deadline, a wait longer than it fails at once with the wait", () =>
    Effect.gen(function* () {
      const gate = yield* AnnouncedQuota.make(0.5)
      yield* gate.observe({ remaining: 20, resetSeconds: 60, windowSeconds: 60 })
      // Our share is 10 of the 20: the first goes at once; the next is paced 6 s later, beyond the caller's 5 s.
      yield* gate.acquire
      const refused = yield* Effect.flip(RequestBudget.withDeadline("5 seconds")(gate.acquire))
      assert.strictEqual(refused._tag, "BudgetDeadlineExceeded")
      assert.strictEqual(refused.reason, "spent")
      assert.strictEqual(refused.retryAfterMillis, 6_000)
      // Without a deadline the same request waits its turn.
      const fiber = yield* Effect.fork(gate.acquire)
      yield* TestClock.adjust("6 seconds")
      yield* Fiber.join(fiber)
    }))

  it.effect("refuses a share outside (0, 1]", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(AnnouncedQuota.make(0))
      assert.isTrue(exit._tag === "Failure")
    }))
})
