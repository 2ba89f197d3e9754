import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Ref, Supervisor } from "effect"
import * as Permits from "../src/internal/permits.js"

/** Counts how often supervised fibres resume after suspending. */
class ResumeCounter extends Supervisor.AbstractSupervisor<void> {
  count = 0
  get value() {
    return Effect.void
  }
  override onResume() {
    this.count++
  }
}

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

  it.effect("thousands of waiters are woken once each, in arrival order", () =>
    Effect.gen(function* () {
      // Effect's Semaphore wakes every waiter on each release (they race, all but one sleep again):
      // quadratic, tens of seconds for 3,000 waiters. Rather than time it (a timed assertion flakes
      // on a loaded machine), count how often fibres resume from suspension: linear here, about
      // n²/2 with a Semaphore.
      const waiters = 2000
      const resumes = new ResumeCounter()
      const permits = yield* Permits.make(4)
      const entered = yield* Ref.make<Array<number>>([])
      const holding = yield* Ref.make(0)
      const peak = yield* Ref.make(0)
      yield* Effect.forEach(
        Array.from({ length: waiters }, (_, i) => i),
        (i) =>
          permits.withPermit(
            Effect.gen(function* () {
              yield* Ref.update(entered, (order) => [...order, i])
              const now = yield* Ref.updateAndGet(holding, (n) => n + 1)
              yield* Ref.update(peak, (p) => Math.max(p, now))
              yield* Effect.yieldNow()
              yield* Ref.update(holding, (n) => n - 1)
            })
          ),
        { concurrency: "unbounded", discard: true }
      ).pipe(Effect.supervised(resumes))
      assert.deepStrictEqual(yield* Ref.get(entered), Array.from({ length: waiters }, (_, i) => i))
      assert.strictEqual(yield* Ref.get(peak), 4)
      assert.isBelow(resumes.count, waiters * 10, `${resumes.count} resumes for ${waiters} waiters`)
    })
  )

  it.effect("is idle only when nobody holds a permit or waits for one, an interrupted waiter included", () =>
    Effect.gen(function* () {
      const permits = yield* Permits.make(1)
      assert.isTrue(permits.idle())
      const release = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(permits.withPermit(Deferred.await(release)))
      yield* Effect.yieldNow()
      assert.isFalse(permits.idle())
      const waiter = yield* Effect.fork(permits.withPermit(Effect.void))
      yield* Effect.yieldNow()
      yield* Fiber.interrupt(waiter)
      assert.isFalse(permits.idle())
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(holder)
      assert.isTrue(permits.idle())
    }))
})
