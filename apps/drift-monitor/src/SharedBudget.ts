/**
 * Core's `RequestBudget` port held in PostgreSQL, so one token's budget holds across every process
 * sharing the database: a sliding log of request times per token (`drift_monitor_budget_log`) and a
 * pause per token after a 429 (`drift_monitor_budget_pause`).
 *
 * A request is granted inside a transaction that holds the token's advisory lock, so two processes
 * never both take the last slot (within a process, requests queue for their turn first); times come from the database's clock, so processes on hosts whose
 * clocks disagree still count the same window. A request that does not fit waits until the oldest
 * request in the window leaves it; a database error is retried and never grants a request.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { RequestBudget } from "@plumbline/core"
import { Duration, Effect, Layer } from "effect"

type Row = Record<string, unknown>

/** The PostgreSQL-held budgets, as core's `RequestBudget` service. */
export const make: Effect.Effect<RequestBudget.RequestBudget["Type"], never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const budgets = new Map<string, RequestBudget.Budget>()

  const create = (key: string, limits: RequestBudget.Limits): RequestBudget.Budget => {
    const windowMillis = Duration.toMillis(limits.window) + Duration.toMillis(limits.margin ?? Duration.zero)
    let taken = 0

    /** Takes a slot and returns 0, or returns how long to wait before asking again. */
    const attempt = Effect.gen(function* () {
      const [clock] = yield* sql<Row>`select pg_advisory_xact_lock(hashtext(${key})),
        floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now`
      const now = Number(clock?.["now"])
      const [pause] = yield* sql<Row>`select paused_until from drift_monitor_budget_pause where budget_key = ${key}`
      const pausedUntil = pause === undefined ? 0 : Number(pause["paused_until"])
      if (pausedUntil > now) return pausedUntil - now
      yield* sql`delete from drift_monitor_budget_log where budget_key = ${key} and at <= ${now - windowMillis}`
      const [window] = yield* sql<Row>`select count(*) as n, min(at) as oldest from drift_monitor_budget_log where budget_key = ${key}`
      const count = Number(window?.["n"] ?? 0)
      if (count < limits.limit) {
        yield* sql`insert into drift_monitor_budget_log (budget_key, at) values (${key}, ${now})`
        return 0
      }
      return Number(window?.["oldest"]) + windowMillis - now + 1
    }).pipe(sql.withTransaction)

    // One request of this process at a time asks the database (the others queue here), so a burst
    // of waiting fibers never holds more than one pooled connection per token.
    const turn = Effect.unsafeMakeSemaphore(1)
    const acquire: Effect.Effect<void> = turn.withPermits(1)(Effect.gen(function* () {
      for (;;) {
        const wait = yield* attempt.pipe(
          Effect.tapError((e) => Effect.logWarning(`request budget unavailable, retrying: ${e.message}`)),
          Effect.orElseSucceed(() => 250)
        )
        if (wait <= 0) break
        yield* Effect.sleep(Duration.millis(wait))
      }
      taken++
    }))

    const pause = (millis: number): Effect.Effect<void> =>
      sql`insert into drift_monitor_budget_pause (budget_key, paused_until)
        values (${key}, floor(extract(epoch from clock_timestamp()) * 1000)::bigint + ${Math.ceil(millis)})
        on conflict (budget_key) do update set paused_until = greatest(drift_monitor_budget_pause.paused_until, excluded.paused_until)`.pipe(
        Effect.retry({ times: 3 }),
        Effect.tapError((e) => Effect.logWarning(`cannot record the request budget's pause: ${e.message}`)),
        Effect.ignore
      )

    return { acquire, pause, taken: Effect.sync(() => taken) }
  }

  return {
    forKey: (key, limits) =>
      Effect.sync(() => {
        const existing = budgets.get(key)
        if (existing !== undefined) return existing
        const budget = create(key, limits)
        budgets.set(key, budget)
        return budget
      })
  }
})

/** The shared budgets as a Layer (needs the PostgreSQL `SqlClient`). */
export const layer: Layer.Layer<RequestBudget.RequestBudget, never, SqlClient.SqlClient> = Layer.effect(RequestBudget.RequestBudget, make)
