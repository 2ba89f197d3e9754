import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref } from "effect"
import * as Permits from "../src/internal/permits.js"

describe("Permits", () => {
  it.effect("never lets more than n run at once", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(3)
      const running = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      const task = permits.withPermit(
        Effect.gen(function* () {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* Effect.yieldNow()
          yield* Ref.update(running, (n) => n - 1)
        })
      )
      yield* Effect.forEach(Array.from({ length: 50 }), () => task, { concurrency: "unbounded", discard: true })
      assert.strictEqual(yield* Ref.get(peak), 3)
    })
  )

  it.effect("hands permits out in arrival order", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(1)
      const gate = yield* Deferred.make<void>()
      const order: Array<number> = []
      const holder = yield* Effect.fork(permits.withPermit(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiters: Array<Fiber.RuntimeFiber<void>> = []
      for (let i = 0; i < 20; i++) {
        waiters.push(yield* Effect.fork(permits.withPermit(Effect.sync(() => void order.push(i)))))
        yield* Effect.yieldNow()
      }
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      for (const w of waiters) yield* Fiber.join(w)
      assert.deepStrictEqual(order, Array.from({ length: 20 }, (_, i) => i))
    })
  )

  it.effect("an interrupted waiter leaves the line and a failed holder returns its permit", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(1)
      const gate = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit(Deferred.await(gate)))
      yield* Effect.yieldNow()
      const waiter = yield* Effect.fork(permits.withPermit(Effect.void))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiter)
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(holder)
      yield* Effect.exit(permits.withPermit(Effect.fail("boom")))
      assert.strictEqual(yield* permits.withPermit(Effect.succeed("free")), "free")
    })
  )

  it.live("thousands of waiters take linear, not quadratic, time", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(4)
      const started = Date.now()
      const work = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
      yield* Effect.forEach(Array.from({ length: 3000 }), () => permits.withPermit(work), { concurrency: "unbounded", discard: true })
      // Effect's Semaphore takes tens of seconds here (every release wakes every waiter).
      assert.isBelow(Date.now() - started, 5000)
    })
  )
})
