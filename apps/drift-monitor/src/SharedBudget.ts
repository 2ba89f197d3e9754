/**
 * Core's `RequestBudget` port held in PostgreSQL, so one token's budget holds across every process
 * sharing the database: a sliding log of request times per token (`drift_monitor_budget_log`) and a
 * pause per token after a 429 (`drift_monitor_budget_pause`).
 *
 * A request is granted inside a transaction that holds the token's advisory lock, so two processes
 * never both take the last slot (within a process, requests queue for their turn first); times come from the database's clock, so processes on hosts whose
 * clocks disagree still count the same window. A request that does not fit waits until the oldest
 * request in the window leaves it; a database error is retried and never grants a request. Under a
 * caller's deadline (`RequestBudget.withDeadline`), a request whose wait would pass the deadline
 * fails at once with the wait; a database that does not answer in time fails it as `unavailable`.
 * A fast budget (a per-client-IP limit every request of every process shares) is taken in blocks, one
 * transaction per block rather than per request (see `create`).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { RequestBudget } from "@plumbline/core"
import { Clock, Duration, Effect, Layer } from "effect"

type Row = Record<string, unknown>

/** The PostgreSQL-held budgets, as core's `RequestBudget` service. */
export const make: Effect.Effect<RequestBudget.RequestBudget["Type"], never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const budgets = new Map<string, RequestBudget.Budget>()

  const create = (key: string, limits: RequestBudget.Limits): RequestBudget.Budget => {
    let taken = 0
    // A fast budget (a provider's per-client-IP limit: 200 a second, shared by every request of every
    // process) would serialise the deployment on one advisory lock if each request took its slot in a
    // transaction of its own. Such a budget is taken in blocks of a tenth of its limit: one transaction
    // records a block of slots at the end of a short hold (a tenth of the window), and this process
    // hands them out until the hold ends; slots not used by then are lost. Recording them at the end of
    // the hold keeps them in every process's window at least one window after their real use, so the
    // deployment never exceeds the limit in any window. A slow budget (a token's 1,200 per five
    // minutes) is taken one slot at a time, so that processes share it fairly.
    const fast = limits.limit >= 20 && Duration.toMillis(limits.window) <= 10_000
    const block = fast ? Math.floor(limits.limit / 10) : 1
    const holdMillis = fast ? Math.max(1, Math.floor(Duration.toMillis(limits.window) / 10)) : 0
    // A block's slots are used in the hold before their recorded time, so the window the database
    // counts is longer by the hold: any window of real use then holds at most `limit` requests.
    const windowMillis = Duration.toMillis(limits.window) + Duration.toMillis(limits.margin ?? Duration.zero) + holdMillis
    /** Slots of the last block this process may still hand out, and until when (this process's clock). */
    const reserved = { left: 0, until: 0 }
    const useReserved = Effect.map(Clock.currentTimeMillis, (now) => {
      if (reserved.left <= 0 || now >= reserved.until) return false
      reserved.left--
      return true
    })

    /** Takes a slot and returns 0, or returns how long to wait before asking again (and whether a 429's pause is why). */
    const attempt = Effect.gen(function* () {
      // Read before the database's clock: the hold ends no later than the recorded time of the block.
      const localStart = yield* Clock.currentTimeMillis
      const [clock] = yield* sql<Row>`select pg_advisory_xact_lock(hashtext(${key})),
        floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now`
      const now = Number(clock?.["now"])
      const [pause] = yield* sql<Row>`select paused_until from drift_monitor_budget_pause where budget_key = ${key}`
      const pausedUntil = pause === undefined ? 0 : Number(pause["paused_until"])
      if (pausedUntil > now) return { wait: pausedUntil - now, paused: true }
      yield* sql`delete from drift_monitor_budget_log where budget_key = ${key} and at <= ${now - windowMillis}`
      const [window] = yield* sql<Row>`select count(*) as n, min(at) as oldest from drift_monitor_budget_log where budget_key = ${key}`
      const count = Number(window?.["n"] ?? 0)
      if (count < limits.limit) {
        const slots = Math.min(block, limits.limit - count)
        if (slots === 1 && holdMillis === 0) {
          yield* sql`insert into drift_monitor_budget_log (budget_key, at) values (${key}, ${now})`
        } else {
          yield* sql`insert into drift_monitor_budget_log (budget_key, at)
            select ${key}, ${now + holdMillis} from generate_series(1, ${slots})`
          // One slot is this request's; the rest wait in this process until the hold ends.
          reserved.left = slots - 1
          reserved.until = localStart + holdMillis
        }
        return { wait: 0, paused: false }
      }
      return { wait: Number(window?.["oldest"]) + windowMillis - now + 1, paused: false }
    }).pipe(sql.withTransaction)

    // One request of this process at a time asks the database (the others queue here), so a burst
    // of waiting fibers never holds more than one pooled connection per token.
    const turn = Effect.unsafeMakeSemaphore(1)
    const acquire: Effect.Effect<void> = turn.withPermits(1)(Effect.gen(function* () {
      if (yield* useReserved) {
        taken++
        return
      }
      for (;;) {
        const { wait } = yield* attempt.pipe(
          Effect.tapError((e) => Effect.logWarning(`request budget unavailable, retrying: ${e.message}`)),
          Effect.orElseSucceed(() => ({ wait: 250, paused: false }))
        )
        if (wait <= 0) break
        yield* Effect.sleep(Duration.millis(wait))
      }
      taken++
    }))

    const pause = (millis: number): Effect.Effect<void> =>
      Effect.zipRight(
        // Slots held back in this process are not handed out past a 429.
        Effect.sync(() => {
          reserved.left = 0
        }),
        sql`insert into drift_monitor_budget_pause (budget_key, paused_until)
        values (${key}, floor(extract(epoch from clock_timestamp()) * 1000)::bigint + ${Math.ceil(millis)})
        on conflict (budget_key) do update set paused_until = greatest(drift_monitor_budget_pause.paused_until, excluded.paused_until)`.pipe(
        Effect.retry({ times: 3 }),
        Effect.tapError((e) => Effect.logWarning(`cannot record the request budget's pause: ${e.message}`)),
        Effect.ignore
      ))

    const acquireWithin = (deadline: Duration.DurationInput): Effect.Effect<void, RequestBudget.BudgetDeadlineExceeded> =>
      Effect.gen(function* () {
        const limitMillis = Duration.toMillis(Duration.decode(deadline))
        const started = yield* Clock.currentTimeMillis
        // The last answer, for the estimate when the deadline passes while waiting for the turn or the database.
        let last: { wait: number; paused: boolean } | "unavailable" = { wait: 1_000, paused: false }
        const inTurn = turn.withPermits(1)(
          Effect.gen(function* () {
            if (yield* useReserved) {
              taken++
              return
            }
            for (;;) {
              const answer = yield* attempt.pipe(
                Effect.tapError((e) => Effect.logWarning(`request budget unavailable, retrying: ${e.message}`)),
                Effect.orElseSucceed(() => "unavailable" as const)
              )
              last = answer
              const wait = answer === "unavailable" ? 250 : answer.wait
              if (wait <= 0) break
              const left = started + limitMillis - (yield* Clock.currentTimeMillis)
              if (answer !== "unavailable" && wait > left) {
                return yield* new RequestBudget.BudgetDeadlineExceeded({ reason: answer.paused ? "paused" : "spent", retryAfterMillis: wait })
              }
              yield* Effect.sleep(Duration.millis(Math.min(wait, Math.max(left, 0))))
            }
            taken++
          })
        )
        return yield* inTurn.pipe(
          Effect.timeout(Duration.millis(Math.max(0, limitMillis))),
          Effect.catchTag("TimeoutException", () =>
            Effect.fail(
              last === "unavailable"
                ? new RequestBudget.BudgetDeadlineExceeded({ reason: "unavailable", retryAfterMillis: 5_000 })
                : new RequestBudget.BudgetDeadlineExceeded({ reason: last.paused ? "paused" : "spent", retryAfterMillis: Math.max(last.wait, 1_000) })
            )
          )
        )
      })

    const state: Effect.Effect<RequestBudget.State> = Effect.gen(function* () {
      const [row] = yield* sql<Row>`select floor(extract(epoch from clock_timestamp()) * 1000)::bigint as now,
        (select count(*) from drift_monitor_budget_log where budget_key = ${key}
          and at > floor(extract(epoch from clock_timestamp()) * 1000)::bigint - ${windowMillis}) as used,
        (select paused_until from drift_monitor_budget_pause where budget_key = ${key}) as paused_until`
      const now = Number(row?.["now"])
      const pausedUntil = row?.["paused_until"] == null ? 0 : Number(row["paused_until"])
      return { limit: limits.limit, windowMillis, used: Number(row?.["used"] ?? 0), pausedUntil: pausedUntil > now ? pausedUntil : 0 }
    }).pipe(
      // The state is for display: a database that cannot answer shows an empty window, and says so in the log.
      Effect.tapError((e) => Effect.logWarning(`cannot read the request budget's state: ${e.message}`)),
      Effect.orElseSucceed(() => ({ limit: limits.limit, windowMillis, used: 0, pausedUntil: 0 }))
    )

    return { acquire, acquireWithin, state, pause, taken: Effect.sync(() => taken) }
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
