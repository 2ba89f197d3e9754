import * as SqlClient from "@effect/sql/SqlClient"
import { assert, it } from "@effect/vitest"
import { RequestBudget } from "@plumbline/core"
import { Duration, Effect, Layer, Redacted } from "effect"
import * as Db from "../src/Db.js"
import * as SharedBudget from "../src/SharedBudget.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"

/** The most grants in any window of `windowMs` (sorted times). */
const busiestWindow = (times: ReadonlyArray<number>, windowMs: number): number => {
  let best = 0
  let first = 0
  for (let i = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[first] as number) >= windowMs) first++
    best = Math.max(best, i - first + 1)
  }
  return best
}

/** One "process": its own connection pool on the database, its own budgets. */
const process = (url: string) => Layer.build(Layer.provideMerge(SharedBudget.layer, Db.layer({ _tag: "pg", url: Redacted.make(url) })))

describeWithPostgres("SharedBudget", (server) => {
  it.live(
    "holds one token's budget across two processes: never more than the limit in any window",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const limits: RequestBudget.Limits = { limit: 20, window: Duration.millis(1000) }
        const granted: Array<number> = []
        const first = yield* process(url)
        const second = yield* process(url)
        const hammer = (context: typeof first) =>
          Effect.gen(function* () {
            const budget = yield* Effect.flatMap(RequestBudget.RequestBudget, (b) => b.forKey("token-a", limits))
            yield* Effect.forEach(
              Array.from({ length: 30 }, (_, i) => i),
              () =>
                Effect.zipRight(
                  budget.acquire,
                  Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ now: unknown }>`select floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now`).pipe(
                    Effect.map((rows) => granted.push(Number(rows[0]?.now))),
                    Effect.orDie
                  )
                ),
              { concurrency: 10, discard: true }
            )
            return yield* budget.taken
          }).pipe(Effect.provide(context))
        const [a, b] = yield* Effect.all([hammer(first), hammer(second)], { concurrency: 2 })
        assert.strictEqual(a + b, 60)
        granted.sort((x, y) => x - y)
        // 60 requests at 20 per second need at least two full windows.
        assert.isAtLeast((granted.at(-1) as number) - (granted[0] as number), 2000 - 50)
        // Grants are logged before they are used, so a window of use holds at most the limit
        // (a few ms of slack for the time between the grant and our own timestamp query).
        assert.isAtMost(busiestWindow(granted, 1000 - 50), 20)
      }).pipe(Effect.scoped),
    30_000
  )

  it.live("a 429's pause in one process holds the other back", () =>
    Effect.gen(function* () {
      const { url } = yield* freshDatabase(server)
      const limits: RequestBudget.Limits = { limit: 100, window: Duration.seconds(10) }
      const first = yield* process(url)
      const second = yield* process(url)
      const budgetIn = (context: typeof first) =>
        Effect.flatMap(RequestBudget.RequestBudget, (b) => b.forKey("token-b", limits)).pipe(Effect.provide(context))
      const a = yield* budgetIn(first)
      const b = yield* budgetIn(second)
      yield* a.acquire
      yield* a.pause(800)
      const started = Date.now()
      yield* b.acquire
      assert.isAtLeast(Date.now() - started, 700)
    }).pipe(Effect.scoped)
  )
})
