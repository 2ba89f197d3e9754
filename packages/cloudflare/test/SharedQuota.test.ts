import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Effect, Fiber, Option, TestClock } from "effect"
import { CloudflareConnector } from "../src/index.js"
import type { CloudflareClient } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

/**
 * A full `large` snapshot (1,000 zones) while the customer's own dashboard and scripts use 60% of the
 * user's quota in the background. Time is the TestClock, shared by the simulator: it moves on a second
 * at a time whenever the snapshot stops making progress (every fibre waits on the budget), so hours of
 * Cloudflare windows pass in seconds and no real five-minute wait happens.
 */
const largeSnapshotWithCustomer = (client: Partial<CloudflareClient.Options>) =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const sim = Simulator.make({ scenario: "large", customerUse: { share: 0.6 }, now: () => clock.unsafeCurrentTimeMillis() })
    const fake = SimHttp.make(sim)
    const run = Effect.gen(function* () {
      const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, sim.tokens["account"]!, client))
      return yield* connector.snapshot({})
    })
    const fiber = yield* Effect.fork(run)
    let seen = -1
    for (;;) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) {
        const snapshot = yield* done.value
        return { sim, snapshot, requests: fake.requests }
      }
      // Let real I/O (the simulator's promises) settle; move time on only when nothing moved.
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 0)))
      if (fake.requests.length === seen) yield* TestClock.adjust("1 second")
      seen = fake.requests.length
    }
  })

describe("Shared quota", () => {
  // Heavy: ~15,000 requests through the simulator; a generous 15 minutes on a loaded two-core machine.
  it.effect(
    "a large snapshot beside a customer using 60% of the quota sends no 429 and leaves the customer their share",
    () =>
      Effect.gen(function* () {
        const { sim, snapshot, requests } = yield* largeSnapshotWithCustomer({})
        assert.strictEqual(snapshot.outcome, "complete")
        assert.strictEqual(requests.filter((r) => r.status === 429).length, 0)
        assert.deepStrictEqual(sim.refusals(), { user: 0, ip: 0 })
        // The customer ran all along and none of their requests was refused.
        const customer = sim.customerUse()
        assert.isAbove(customer.sent, 1000)
        assert.strictEqual(customer.refused, 0)
      }),
    15 * 60_000
  )
})
