import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Fiber, TestClock } from "effect"
import * as RequestBudget from "../src/RequestBudget.js"

/** The largest number of timestamps inside any half-open window [t, t + window). */
const busiestWindow = (times: ReadonlyArray<number>, window: number): number => {
  const sorted = [...times].sort((a, b) => a - b)
  let best = 0
  let start = 0
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= window) start++
    best = Math.max(best, end - start + 1)
  }
  return best
}

describe("RequestBudget", () => {
  it.effect("holds with 50 concurrent fibres: never more than the limit in any window", () =>
    Effect.gen(function* () {
      const limit = 20
      const window = 1_000
      const budget = yield* RequestBudget.makeBudget({ limit, window: Duration.millis(window) })
      const times: Array<number> = []
      const worker = Effect.forEach(
        Array.from({ length: 6 }),
        () =>
          Effect.zipRight(
            budget.acquire,
            Effect.flatMap(Clock.currentTimeMillis, (t) => Effect.sync(() => times.push(t)))
          ),
        { discard: true }
      )
      const fiber = yield* Effect.fork(Effect.forEach(Array.from({ length: 50 }), () => worker, { concurrency: "unbounded" }))
      for (let i = 0; i < 100 && times.length < 300; i++) yield* TestClock.adjust(Duration.millis(250))
      yield* Fiber.join(fiber)
      assert.strictEqual(times.length, 300)
      assert.strictEqual(busiestWindow(times, window), limit)
      // Every window is as full as allowed: 300 requests at 20 per second finish 14 seconds in.
      assert.strictEqual(Math.max(...times), 14_000)
      assert.strictEqual(yield* budget.taken, 300)
    }))

  it.effect("a request that arrives while others wait takes its turn after them, not the first free slot", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 1, window: Duration.seconds(1) })
      const order: Array<string> = []
      const take = (name: string) => Effect.zipRight(budget.acquire, Effect.sync(() => order.push(name)))
      yield* take("first")
      const second = yield* Effect.fork(take("second"))
      yield* Effect.yieldNow()
      // The slot frees at 1 s; "second" has waited for it since 0 s. "third" comes at 1 s, when the
      // slot is free: it must still go after "second".
      yield* TestClock.adjust(Duration.millis(999))
      const third = yield* Effect.fork(Effect.zipRight(TestClock.sleep(Duration.millis(1)), take("third")))
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(second)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(third)
      assert.deepStrictEqual(order, ["first", "second", "third"])
    }))

  it.effect("widens the window by the margin", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 2, window: Duration.seconds(1), margin: Duration.millis(100) })
      yield* budget.acquire
      yield* budget.acquire
      const third = yield* Effect.fork(budget.acquire)
      yield* TestClock.adjust(Duration.millis(1_099))
      assert.isNull(third.unsafePoll())
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(third)
    }))

  it.effect("a pause holds every request of the credential back", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 100, window: Duration.seconds(1) })
      yield* budget.pause(5_000)
      const waiting = yield* Effect.fork(budget.acquire)
      yield* TestClock.adjust(Duration.millis(4_999))
      assert.isNull(waiting.unsafePoll())
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(waiting)
    }))

  it.effect("shares one budget per key across callers", () =>
    Effect.gen(function* () {
      const registry = yield* RequestBudget.make
      const limits = { limit: 1, window: Duration.seconds(10) }
      const a = yield* registry.forKey("token-a", limits)
      const sameA = yield* registry.forKey("token-a", limits)
      const b = yield* registry.forKey("token-b", limits)
      yield* a.acquire
      const blocked = yield* Effect.fork(sameA.acquire)
      yield* b.acquire
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isNull(blocked.unsafePoll())
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(blocked)
      assert.strictEqual(yield* a.taken, 2)
      assert.strictEqual(yield* b.taken, 1)
    }))

  it.effect("refuses a limit that is not a positive integer", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(RequestBudget.makeBudget({ limit: 0, window: Duration.seconds(1) }))
      assert.isTrue(exit._tag === "Failure")
    }))

  it.effect("under a deadline, a spent budget fails at once with the wait, and grants once the window moves", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 2, window: Duration.seconds(60) })
      yield* budget.acquire
      yield* TestClock.adjust(Duration.seconds(1))
      yield* budget.acquire
      // No clock adjustment: the answer must come without waiting for time to pass.
      const refused = yield* Effect.flip(RequestBudget.take(budget).pipe(RequestBudget.withDeadline(Duration.seconds(10))))
      assert.strictEqual(refused._tag, "BudgetDeadlineExceeded")
      assert.strictEqual(refused.reason, "spent")
      assert.strictEqual(refused.retryAfterMillis, 59_000)
      assert.strictEqual(yield* budget.taken, 2)
      const state = yield* budget.state
      assert.deepStrictEqual(state, { limit: 2, windowMillis: 60_000, used: 2, pausedUntil: 0 })
      yield* TestClock.adjust(Duration.seconds(59))
      yield* RequestBudget.take(budget).pipe(RequestBudget.withDeadline(Duration.seconds(10)))
      assert.strictEqual(yield* budget.taken, 3)
    }))

  it.effect("under a deadline, a wait shorter than the deadline is waited out", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 1, window: Duration.seconds(5) })
      yield* budget.acquire
      const waiting = yield* Effect.fork(budget.acquireWithin(Duration.seconds(10)))
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(waiting)
      assert.strictEqual(yield* budget.taken, 2)
    }))

  it.effect("under a deadline, a pause after a 429 fails at once as paused and shows in the state", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 100, window: Duration.seconds(1) })
      yield* budget.pause(30_000)
      const refused = yield* Effect.flip(budget.acquireWithin(Duration.seconds(10)))
      assert.strictEqual(refused.reason, "paused")
      assert.strictEqual(refused.retryAfterMillis, 30_000)
      assert.strictEqual((yield* budget.state).pausedUntil, 30_000)
    }))

  it.effect("without a deadline, take waits as before", () =>
    Effect.gen(function* () {
      const budget = yield* RequestBudget.makeBudget({ limit: 1, window: Duration.seconds(60) })
      yield* budget.acquire
      const waiting = yield* Effect.fork(RequestBudget.take(budget))
      yield* TestClock.adjust(Duration.seconds(59))
      assert.isNull(waiting.unsafePoll())
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(waiting)
    }))
})
