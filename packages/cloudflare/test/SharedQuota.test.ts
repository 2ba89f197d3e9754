import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"
import { CloudflareConnector } from "../src/index.js"
import type { CloudflareClient } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

/**
 * Cloudflare's quota scaled down tenfold in count and in time (1,200 per 5 minutes becomes 120 per
 * 30 seconds: the same 4 requests per second), so that 24 zones need many windows, as the `large`
 * scenario does at full scale, with a fiftieth of its requests. The connector's own static budget is
 * scaled the same way: it alone would let the connector spend the whole quota. The generated accounts
 * are not Enterprise, so their account-level reads are refused for the plan while sibling reads wait
 * on the quota (which once left a shared request unanswered and the snapshot hanging).
 */
const QUOTA = { limit: 120, windowMs: 30_000 }
const SCENARIO: Simulator.SimulatorOptions["scenario"] = { seed: 14, accounts: 2, zonesPerAccount: 12, recordsPerZone: 20, rulesPerPhase: 3, ruleCoverage: 0.9 }

/**
 * A full snapshot while the customer's own dashboard and scripts use 60% of the user's quota in the
 * background. Time is the TestClock, shared by the simulator: it moves on a second at a time whenever
 * the snapshot stops making progress (every fibre waits on a budget), so the windows pass without any
 * real wait.
 */
const snapshotBesideCustomer = (client: Partial<CloudflareClient.Options>) =>
  Effect.gen(function* () {
    const clock = yield* Effect.clock
    const sim = Simulator.make({ scenario: SCENARIO, rateLimit: QUOTA, customerUse: { share: 0.6 }, now: () => clock.unsafeCurrentTimeMillis() })
    const fake = SimHttp.make(sim)
    const options: Partial<CloudflareClient.Options> = {
      budget: { limit: QUOTA.limit, window: Duration.millis(QUOTA.windowMs), margin: Duration.seconds(1) },
      ...client
    }
    const run = Effect.gen(function* () {
      const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, sim.tokens["account"]!, options))
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
  // About 300 requests through the in-process simulator each; a generous, stated 5 minutes per test
  // on a loaded two-core machine (a few seconds when idle).
  it.effect(
    "a snapshot beside a customer using 60% of the quota sends no 429 and leaves the customer their share",
    () =>
      Effect.gen(function* () {
        const { requests, sim, snapshot } = yield* snapshotBesideCustomer({})
        assert.strictEqual(snapshot.outcome, "complete")
        // More than two windows' quota, spread over many windows: the quota paced the snapshot.
        assert.isAbove(requests.length, 2 * QUOTA.limit)
        const windows = (snapshot.finishedAt.epochMillis - snapshot.startedAt.epochMillis) / QUOTA.windowMs
        assert.isAbove(windows, 4)
        assert.strictEqual(requests.filter((r) => r.status === 429).length, 0)
        assert.deepStrictEqual(sim.refusals(), { user: 0, ip: 0 })
        // The customer ran all along and none of their requests was refused.
        const customer = sim.customerUse()
        assert.isAbove(customer.sent, 4 * 0.6 * QUOTA.limit)
        assert.strictEqual(customer.refused, 0)
        assert.isTrue(snapshot.results.every((r) => r.status._tag !== "failed"))
      }),
    5 * 60_000
  )

  it.effect(
    "without the header-aware budget the same snapshot runs into 429s and blocks the customer",
    () =>
      Effect.gen(function* () {
        // The static budget alone (the whole quota for us) is what the connector had before.
        const { requests, sim } = yield* snapshotBesideCustomer({ quotaShare: false })
        assert.isAbove(requests.filter((r) => r.status === 429).length + sim.customerUse().refused, 0)
      }),
    5 * 60_000
  )
})
