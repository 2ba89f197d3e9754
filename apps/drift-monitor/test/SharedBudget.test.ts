import * as SqlClient from "@effect/sql/SqlClient"
import { assert, it } from "@effect/vitest"
import { RequestBudget } from "@plumbline/core"
import { Duration, Effect, Layer, Redacted } from "effect"
import * as Db from "../src/Db.js"
import * as SharedBudget from "../src/SharedBudget.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"
import { busiestWindow } from "./fixtures/Windows.js"

/** One "process": its own connection pool on the database, its own budgets. */
const process = (url: string) => Layer.build(Layer.provideMerge(SharedBudget.layer, Db.layer({ _tag: "pg", url: Redacted.make(url) })))

/** Keeps every slot the budgets record in `grants` (the log itself forgets old entries). */
const recordGrants = (sql: SqlClient.SqlClient) =>
  Effect.gen(function* () {
    yield* sql.unsafe(`create table grants (at bigint not null)`)
    yield* sql.unsafe(`create function record_grant() returns trigger language plpgsql as
      $$ begin insert into grants (at) values (new.at); return new; end $$`)
    yield* sql.unsafe(`create trigger record_grant after insert on drift_monitor_budget_log for each row execute function record_grant()`)
  })

describeWithPostgres("SharedBudget", (server) => {
  it.live(
    "holds one token's budget across two processes: never more than the limit in any window",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const limits: RequestBudget.Limits = { limit: 20, window: Duration.millis(1000) }
        const first = yield* process(url)
        const second = yield* process(url)
        // Every grant's time as the database recorded it (the log itself forgets old entries).
        const sqlOf = (context: typeof first) => Effect.provide(SqlClient.SqlClient, context)
        const sql = yield* sqlOf(first)
        yield* recordGrants(sql)
        const hammer = (context: typeof first) =>
          Effect.gen(function* () {
            const budget = yield* Effect.flatMap(RequestBudget.RequestBudget, (b) => b.forKey("token-a", limits))
            yield* Effect.forEach(
              Array.from({ length: 30 }, (_, i) => i),
              () => budget.acquire,
              { concurrency: 10, discard: true }
            )
            return yield* budget.taken
          }).pipe(Effect.provide(context))
        const [a, b] = yield* Effect.all([hammer(first), hammer(second)], { concurrency: 2 })
        assert.strictEqual(a + b, 60)
        const granted = (yield* sql<{ at: unknown }>`select at from grants order by at`).map((r) => Number(r.at))
        assert.strictEqual(granted.length, 60)
        // 60 requests at 20 per second need at least two full windows, and no window holds more than 20.
        assert.isAtLeast((granted.at(-1) as number) - (granted[0] as number), 2000)
        assert.isAtMost(busiestWindow(granted, 1000), 20)
      }).pipe(Effect.scoped),
    // At least two full windows of waiting (2 s), through PostgreSQL advisory locks: generous on a loaded machine.
    120_000
  )

  it.live(
    "takes a fast budget (a per-client-IP limit) in blocks: two processes stay within the limit in every window of real use, with a transaction per block, not per request",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const limits: RequestBudget.Limits = { limit: 200, window: Duration.millis(1000) }
        const first = yield* process(url)
        const second = yield* process(url)
        const sql = yield* Effect.provide(SqlClient.SqlClient, first)
        yield* recordGrants(sql)
        // When each request was let through, by this machine's clock: the real use, not the log's record.
        const used: Array<number> = []
        const hammer = (context: typeof first) =>
          Effect.gen(function* () {
            const budget = yield* Effect.flatMap(RequestBudget.RequestBudget, (b) => b.forKey("client-ip", limits))
            yield* Effect.forEach(
              Array.from({ length: 300 }, (_, i) => i),
              () => Effect.zipRight(budget.acquire, Effect.sync(() => used.push(Date.now()))),
              { concurrency: 50, discard: true }
            )
            return yield* budget.taken
          }).pipe(Effect.provide(context))
        const [a, b] = yield* Effect.all([hammer(first), hammer(second)], { concurrency: 2 })
        assert.strictEqual(a + b, 600)
        used.sort((x, y) => x - y)
        assert.isAtMost(busiestWindow(used, 1000), 200)
        // 600 requests at 200 a second need at least two full windows.
        assert.isAtLeast((used.at(-1) as number) - (used[0] as number), 2000)
        // Blocks of 20 share one recorded time: one transaction each (one per request would be 600).
        const [blocks] = yield* sql<{ n: unknown }>`select count(distinct at) as n from grants`
        assert.isAtMost(Number(blocks?.n), 150)
      }).pipe(Effect.scoped),
    // Three windows of waiting through PostgreSQL: generous on a loaded machine.
    120_000
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
    }).pipe(Effect.scoped),
    60_000
  )

  it.live("under a deadline, a spent or paused budget fails at once with the wait, and its state shows it", () =>
    Effect.gen(function* () {
      const { url } = yield* freshDatabase(server)
      // A window far longer than the deadline: the refusal cannot come from waiting the window out.
      const limits: RequestBudget.Limits = { limit: 2, window: Duration.seconds(60) }
      const first = yield* process(url)
      const second = yield* process(url)
      const budgetIn = (context: typeof first) =>
        Effect.flatMap(RequestBudget.RequestBudget, (b) => b.forKey("token-d", limits)).pipe(Effect.provide(context))
      const a = yield* budgetIn(first)
      const b = yield* budgetIn(second)
      yield* a.acquireWithin(Duration.seconds(5))
      yield* a.acquire
      const spent = yield* Effect.flip(b.acquireWithin(Duration.seconds(5)))
      assert.strictEqual(spent.reason, "spent")
      assert.isAbove(spent.retryAfterMillis, 5_000)
      assert.isAtMost(spent.retryAfterMillis, 60_001)
      const state = yield* b.state
      assert.strictEqual(state.limit, 2)
      assert.strictEqual(state.used, 2)
      assert.strictEqual(state.pausedUntil, 0)
      yield* a.pause(120_000)
      const paused = yield* Effect.flip(b.acquireWithin(Duration.seconds(5)))
      assert.strictEqual(paused.reason, "paused")
      assert.isAbove((yield* b.state).pausedUntil, 0)
    }).pipe(Effect.scoped), 120_000)
})
