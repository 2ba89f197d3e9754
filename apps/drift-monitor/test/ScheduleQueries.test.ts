import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { join } from "node:path"
import * as Db from "../src/Db.js"
import * as ScheduleQueries from "../src/internal/ScheduleQueries.js"
import * as Harness from "./fixtures/Harness.js"

// The scheduler claims and looks for its next wake-up after every run. A statement that scans the
// schedule costs time in proportion to the number of connections: about 6 ms a claim at 10,000
// (B4), which capped one process below the load it is offered. SQLite's query plan shows how a
// statement reads the table: a SEARCH uses an index to find its rows; a SCAN reads every row (or
// every entry of an index), which is fine only over the partial indexes of rare rows.

/** The plan lines of `statement` that read the schedule table. */
const planOf = (sql: SqlClient.SqlClient, statement: Statement.Statement<unknown>) => {
  const [text, params] = statement.compile()
  return Effect.map(sql.unsafe<{ detail: string }>(`explain query plan ${text}`, params), (rows) =>
    rows.map((r) => r.detail).filter((d) => d.includes("drift_monitor_schedule"))
  )
}

const withSchedule = <A, E>(body: (sql: SqlClient.SqlClient) => Effect.Effect<A, E, never>) =>
  Effect.flatMap(Harness.tempDir, (dir) =>
    Effect.provide(
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.gen(function* () {
          // A schedule of 2,000 rows, some held, some with a pending re-check, analysed as a
          // long-running database would be, so the planner chooses with real statistics.
          yield* sql`with recursive n(v) as (select 1 union all select v + 1 from n where v < 2000)
            insert into drift_monitor_schedule (connection_id, next_run_at) select 'c' || v, 1000 + v from n`
          yield* sql`update drift_monitor_schedule set lease_owner = 'other', lease_started_at = 0, lease_expires_at = 5000 where next_run_at < 1010`
          yield* sql`update drift_monitor_schedule set recheck_requested = 1 where next_run_at > 2990`
          yield* sql`analyze`
          return yield* body(sql)
        })
      ),
      Layer.orDie(Db.layer({ _tag: "sqlite", filename: join(dir, "schedule.db") }))
    )
  ).pipe(Effect.scoped)

describe("ScheduleQueries", () => {
  const context = (sql: SqlClient.SqlClient): ScheduleQueries.Context => ({ sql, me: "me", now: 2500, shared: false })

  for (const [name, statement] of [
    ["picking re-checks", (c: ScheduleQueries.Context) => ScheduleQueries.pickRechecks(c, 6)],
    ["picking due connections", (c: ScheduleQueries.Context) => ScheduleQueries.pickDue(c, 6)],
    ["finding the next wake-up", (c: ScheduleQueries.Context) => ScheduleQueries.wakeTimes(c)]
  ] as const) {
    it.effect(`${name} reads the schedule through an index, never by a full scan`, () =>
      withSchedule((sql) =>
        Effect.gen(function* () {
          const plan = yield* planOf(sql, statement(context(sql)))
          assert.isNotEmpty(plan)
          for (const line of plan) {
            const bounded =
              /^SEARCH drift_monitor_schedule USING (COVERING )?INDEX drift_monitor_schedule_\w+ \(/.test(line) ||
              /^SCAN drift_monitor_schedule USING (COVERING )?INDEX drift_monitor_schedule_(recheck|lease)$/.test(line)
            assert.isTrue(bounded, `reads more of the schedule than it returns: ${plan.join(" | ")}`)
          }
        })
      )
    )
  }

  it.effect("the statements pick what the scheduler expects: unheld re-checks, then unheld due rows, earliest first", () =>
    withSchedule((sql) =>
      Effect.gen(function* () {
        const c = context(sql)
        const rechecks = yield* ScheduleQueries.pickRechecks(c, 3)
        assert.deepStrictEqual(rechecks.map((r) => (r as Record<string, unknown>)["connection_id"]), ["c1991", "c1992", "c1993"])
        const due = yield* ScheduleQueries.pickDue(c, 2)
        // c1 … c9 are held by another process whose lease is live until 5000.
        assert.deepStrictEqual(due.map((r) => (r as Record<string, unknown>)["connection_id"]), ["c10", "c11"])
        const [wake] = yield* ScheduleQueries.wakeTimes(c)
        assert.deepStrictEqual({ recheck: Number(wake?.["recheck"]), due: Number(wake?.["due"]), expiry: Number(wake?.["expiry"]) }, { recheck: 2500, due: 1010, expiry: 5000 })
      })
    )
  )
})
