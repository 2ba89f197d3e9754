import { assert, describe, it } from "@effect/vitest"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Duration, Effect } from "effect"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

const key = "test-api-key-0123456789"

/** A call that keeps the headers (Retry-After). */
const call = (baseUrl: string, method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await response.text()
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (text === "" ? null : JSON.parse(text)) as any }
  })

describe("HostileBudget", () => {
  // A token's budget of 30 requests per 20 s (long, so a loaded machine still spends it) and an
  // interactive deadline of 0.2 s: a spent budget must answer 429 with Retry-After instead of
  // holding the request until the window moves (without the deadline, this test times out).
  it.scopedLive(
    "a spent token budget answers 429 with Retry-After at once, and a later verify succeeds",
    () =>
      Effect.gen(function* () {
        const dir = yield* Harness.tempDir
        const { sim, baseUrl } = yield* Harness.simulator
        const config = {
          ...Harness.config(dir, baseUrl),
          budget: { limit: 30, window: Duration.seconds(20), margin: Duration.zero },
          budgetDeadline: Duration.millis(200)
        }
        const started = yield* Main.start(config)
        const token = sim.tokens["scoped"] as string

        // Spend the budget with verifications until one is refused.
        let refused: Effect.Effect.Success<ReturnType<typeof call>> | undefined
        for (let i = 0; i < 40 && refused === undefined; i++) {
          const answer = yield* call(started.baseUrl, "POST", "/api/connections/verify", { token })
          if (answer.status !== 200) refused = answer
        }
        assert.isDefined(refused)
        assert.strictEqual(refused?.status, 429)
        assert.strictEqual(refused?.body._tag, "BudgetSpent")
        assert.include(refused?.body.message, "budget")

        // A create with the spent token is answered (not held): 429, Retry-After in whole seconds, JSON body.
        const create = yield* call(started.baseUrl, "POST", "/api/connections", { name: "Redpine", token })
        assert.strictEqual(create.status, 429)
        assert.strictEqual(create.body._tag, "BudgetSpent")
        assert.isString(create.body.message)
        assert.notInclude(JSON.stringify(create.body), token)
        assert.match(create.retryAfter ?? "", /^[1-9][0-9]*$/)
        assert.isAtMost(Number(create.retryAfter), 20)

        // After the window (as a client would: wait Retry-After, then ask again), a verify succeeds.
        let verified = create
        for (let i = 0; i < 10 && verified.status !== 200; i++) {
          yield* Effect.sleep(Duration.seconds(Number(verified.retryAfter ?? "1")))
          verified = yield* call(started.baseUrl, "POST", "/api/connections/verify", { token })
        }
        assert.strictEqual(verified.status, 200)
      }),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "a connection shows its token's budget: limit, requests used, and the pause after a 429",
    () =>
      Effect.gen(function* () {
        const dir = yield* Harness.tempDir
        // The simulator's own limit is far below the app's budget, and when the snapshot lists a
        // zone's rulesets (a read the verify on create does not make) someone the connector cannot
        // see (the customer's own script) spends the rest of the window's quota at once: the connector spends only a share of what the `Ratelimit` header
        // announces, so without that it would never meet a 429. The 429 pauses the token's budget
        // for the rest of the 15 s window (a longer pause would hold the running snapshot, and the
        // shutdown, that long).
        const sim = Simulator.make({
          scenario: "redpine",
          rateLimit: { limit: 30, windowMs: 15_000 },
          faults: { rules: [{ route: "GET /zones/:zone_id/rulesets", count: 1, effect: { kind: "quotaSpent" } }] }
        })
        const running = yield* Effect.acquireRelease(
          Effect.promise(() => serve(sim, { port: 0 })),
          (r) => Effect.promise(() => r.close())
        )
        const started = yield* Main.start(Harness.config(dir, running.baseUrl))
        const token = sim.tokens["scoped"] as string
        const created = yield* call(started.baseUrl, "POST", "/api/connections", { name: "Redpine", token })
        assert.strictEqual(created.status, 201)
        const id = created.body.id as string

        const first = yield* call(started.baseUrl, "GET", `/api/connections/${id}`)
        assert.strictEqual(first.body.budget.limit, 1200)
        assert.strictEqual(first.body.budget.windowSeconds, 301)
        assert.isAbove(first.body.budget.used, 0)
        const listed = yield* call(started.baseUrl, "GET", "/api/connections")
        assert.deepInclude(Object.keys(listed.body[0]), "budget")

        // The first snapshot runs into the simulator's limit; wait until its 429 shows as a pause.
        let seen = first
        for (let i = 0; i < 1_200 && seen.body.budget.pausedUntil === null; i++) {
          yield* Effect.sleep(Duration.millis(100))
          seen = yield* call(started.baseUrl, "GET", `/api/connections/${id}`)
        }
        assert.isString(seen.body.budget.pausedUntil)
        assert.isAbove(Date.parse(seen.body.budget.pausedUntil), Date.now())
      }),
    { timeout: 180_000 }
  )
})
