/**
 * The scheduler: runs a `SnapshotJob` for every connection when it is due, under a global
 * concurrency limit (the per-token request budget applies underneath, in the HTTP pipeline), with
 * the database as the only source of truth — so one process or several sharing a PostgreSQL
 * database behave the same, with no coordination of their own beyond the database.
 *
 * - Schedule: `drift_monitor_schedule` holds each connection's next due time (`null` while paused),
 *   its re-check counter and its lease. A process claims due connections it has room for in one
 *   statement (`… for update skip locked` on PostgreSQL; SQLite has one writer), taking a lease of
 *   `lease` that it renews every third of it while the run lasts.
 * - Exactly once per interval: the run's result is stored in one transaction with the lease check
 *   and the next due time, so a process that lost its lease (paused, partitioned) stores nothing,
 *   and a process killed after storing leaves the connection not due. A killed process's claimed
 *   connections are taken over when their lease expires.
 * - Due: `interval` (the connection's own `intervalSeconds`, or the default) after the last
 *   successful run, lengthened or shortened at random by up to `jitter` of it, so connections added
 *   together drift apart.
 * - Failure: the next attempt comes after `backoff · 2^(failures−1)`, capped at `maxBackoff`; a
 *   success resets it; three in a row raise the `failing` alert.
 * - Credential refused: the job marks the connection `credential_expired`; it is not due again until
 *   a re-check (a new credential was supplied) finds it active.
 * - Re-check: a counter on the connection's row; any process runs it at once (after the run in
 *   progress, if any), and a waiting caller gets the outcome of the first run that saw its request.
 * - Restart: due times live in the database, so fresh work is not redone.
 * - Shutdown: no new run starts; runs in progress get `shutdownGrace` to finish, then are
 *   interrupted and their leases released for another process to take at once.
 *
 * The operations a caller waits on (`add`, `recheck`, `schedule`, …) fail with `SchedulerError`
 * when the schedule cannot be read or written: a caller must never be told a connection is scheduled
 * when it is not. The poller, which has no caller, logs such failures and looks again after
 * `pollEvery`. Its `activity` (caught up, parked until when, runs in progress) is observable, so a
 * test waits for the scheduler to settle instead of guessing how long that takes.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import { Store } from "@plumbline/core"
import { Clock, Context, Deferred, Duration, Effect, Either, Fiber, FiberMap, Layer, Option, Queue, Random, Schema, Stream, SubscriptionRef } from "effect"
import type { SchedulerSettings } from "./Config.js"
import * as ConnectionState from "./ConnectionState.js"
import { decode, Integer, type Row, sqlDetail } from "./internal/Rows.js"
import * as ScheduleQueries from "./internal/ScheduleQueries.js"
import * as SnapshotJob from "./SnapshotJob.js"

/** The schedule could not be read or written. */
export class SchedulerError extends Schema.TaggedError<SchedulerError>()("SchedulerError", {
  /** `unavailable`: the database failed; `corrupt`: a schedule row does not decode. */
  reason: Schema.Literal("unavailable", "corrupt"),
  message: Schema.String
}) {}

const unavailable = (what: string) => (e: SqlError) => new SchedulerError({ reason: "unavailable", message: `${what}: ${sqlDetail(e)}` })
const corrupt = (what: string) => (detail: string) => new SchedulerError({ reason: "corrupt", message: `${what}: ${detail}` })

/** The outcome of one run as a waiting caller sees it. */
export type RunResult = Either.Either<SnapshotJob.Outcome, SnapshotJob.JobFailed>

/** What the scheduler knows about one connection. */
export interface Schedule {
  readonly running: boolean
  /** Epoch ms of the next run; `null` while paused. */
  readonly nextRunAt: number | null
  readonly failures: number
  /** The process running it now, if any. */
  readonly owner: string | null
}

/** What the poller of this process is doing. */
export interface Activity {
  /** Wake-ups asked for so far: schedule changes made here, runs that ended. */
  readonly requested: number
  /** The wake-ups the poller had seen when it last looked at the schedule. */
  readonly seen: number
  /** Epoch ms the poller sleeps until (`Infinity`: until woken); `null` before it first parks. */
  readonly parkedUntil: number | null
  /** Runs in progress in this process. */
  readonly running: number
  /** Shutting down: no new run starts. */
  readonly stopping: boolean
}

/** The scheduler's operations. */
export interface Service {
  /**
   * Starts scheduling a connection (a new one runs at once). Inside the caller's transaction the
   * poller may look before the commit: call `wake` after it.
   */
  readonly add: (connectionId: string) => Effect.Effect<void, SchedulerError>
  /** Stops scheduling a connection (a run in progress here is interrupted). */
  readonly remove: (connectionId: string) => Effect.Effect<void, SchedulerError>
  /** Runs the connection at once (after the run in progress, if any); as `add` inside a transaction. */
  readonly recheck: (connectionId: string) => Effect.Effect<void, SchedulerError>
  /** Like `recheck`, and returns the result of the run that saw the request. */
  readonly recheckAndWait: (connectionId: string) => Effect.Effect<RunResult, SchedulerError>
  readonly schedule: (connectionId: string) => Effect.Effect<Option.Option<Schedule>, SchedulerError>
  /** Has the poller look at the schedule now (after a transaction that changed it committed). */
  readonly wake: Effect.Effect<void>
  /**
   * Waits until the poller has seen every wake-up asked for so far, sleeps until after the clock's
   * current time (nothing is due now), and `running` runs (default 0) are in progress here. Tests
   * step the TestClock with it; on a shared database, only this process's view.
   */
  readonly settled: (running?: number) => Effect.Effect<void>
  /** The poller's activity: the current value, then every change. */
  readonly activity: Stream.Stream<Activity>
}

/** The scheduler. */
export class Scheduler extends Context.Tag("@plumbline/drift-monitor/Scheduler")<Scheduler, Service>() {}

/** The wait after `failures` consecutive failures. */
export const backoffMillis = (settings: SchedulerSettings, failures: number): number =>
  Math.min(Duration.toMillis(settings.backoff) * 2 ** Math.max(0, failures - 1), Duration.toMillis(settings.maxBackoff))

/** An interval with jitter: `interval · (1 ± jitter·r)`, r uniform in [0, 1). */
export const jittered = (intervalMillis: number, jitter: number, random: number): number =>
  Math.round(intervalMillis * (1 + jitter * (2 * random - 1)))

/** A run's result as JSON in the schedule (`last_outcome`): an outcome, or a failure without its connection. */
const StoredResult = Schema.parseJson(
  Schema.Union(SnapshotJob.Outcome, Schema.TaggedStruct("JobFailed", { reason: SnapshotJob.JobFailed.fields.reason, message: Schema.String }))
)

/** A run's result as kept in the schedule (`last_outcome`), for callers waiting in another process. */
export const encodeResult = (result: RunResult): string =>
  Schema.encodeSync(StoredResult)(
    Either.isRight(result) ? result.right : { _tag: "JobFailed", reason: result.left.reason, message: result.left.message }
  )

/** Reads back `encodeResult`; text that is not one is a `corrupt` failure. */
export const decodeResult = (connectionId: string, text: string): Effect.Effect<RunResult, SchedulerError> =>
  Effect.map(
    decode(StoredResult, corrupt(`the last outcome of ${connectionId}`))(text),
    (value): RunResult =>
      value._tag === "JobFailed"
        ? Either.left(new SnapshotJob.JobFailed({ connectionId, reason: value.reason, message: value.message }))
        : Either.right(value)
  )

/** The columns of a schedule row that `schedule` and waiting callers read. */
const ScheduleRow = Schema.Struct({
  next_run_at: Schema.NullOr(Integer),
  failures: Integer,
  recheck_requested: Integer,
  recheck_done: Integer,
  lease_owner: Schema.NullOr(Schema.String),
  lease_expires_at: Schema.NullOr(Integer),
  last_recheck: Schema.NullOr(Integer),
  last_outcome: Schema.NullOr(Schema.String)
})

type JobContext = Effect.Effect.Context<ReturnType<typeof SnapshotJob.run>>

/** A run this process holds the lease of. */
interface Lease {
  readonly connectionId: string
  readonly startedAt: number
  /** The re-check counter when claimed: a run satisfies every re-check up to it. */
  readonly recheck: number
  /** Claimed because someone asked for a re-check: the run reads everything (no change feed). */
  readonly requested: boolean
}

interface Waiter {
  readonly recheck: number
  readonly deferred: Deferred.Deferred<RunResult>
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))

/** Builds the scheduler (and the fiber that claims due connections) for the current Scope. */
export const make = (settings: SchedulerSettings) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const sql = yield* SqlClient.SqlClient
    const context = yield* Effect.context<JobContext>()
    const me = settings.instance
    const leaseMillis = Duration.toMillis(settings.lease)
    const wake = yield* Queue.sliding<void>(1)
    const activity = yield* SubscriptionRef.make<Activity>({ requested: 0, seen: 0, parkedUntil: null, running: 0, stopping: false })
    const running = new Map<string, Lease>()
    const waiters = new Map<string, Array<Waiter>>()
    const runs = yield* FiberMap.make<string>()
    // PostgreSQL is the database several processes share; SQLite serves one.
    const shared = sql.onDialectOrElse({ pg: () => true, orElse: () => false })

    /** Counts a wake-up, then wakes the poller (counted first, so `settled` never misses it). */
    const nudge = Effect.zipRight(
      SubscriptionRef.update(activity, (a) => ({ ...a, requested: a.requested + 1 })),
      Queue.offer(wake, undefined)
    )
    const isStopping = Effect.map(SubscriptionRef.get(activity), (a) => a.stopping)

    const intervalOf = (connection: Store.Connection) =>
      (SnapshotJob.settingsOf(connection.settings).intervalSeconds ?? Duration.toSeconds(settings.interval)) * 1000

    // ----- the schedule rows --------------------------------------------------------------------

    const queries = (now: number): ScheduleQueries.Context => ({ sql, me, now, shared })

    /**
     * Takes the lease of the rows `pick` selects (a subquery of connection ids) for this process.
     * On PostgreSQL `pick` locks its rows with `skip locked`, so two processes never claim one row.
     */
    const takeLeases = (pick: Statement.Statement<unknown>, now: number, requested: boolean) =>
      Effect.map(
        sql<Row>`update drift_monitor_schedule
          set lease_owner = ${me}, lease_started_at = ${now}, lease_expires_at = ${now + leaseMillis}, lease_recheck = recheck_requested
          where connection_id in (${pick})
          returning connection_id, lease_recheck`,
        (rows) =>
          rows.map((r): Lease => ({ connectionId: String(r["connection_id"]), startedAt: now, recheck: Number(r["lease_recheck"] ?? 0), requested }))
      )

    /**
     * Claims up to `n` connections nobody holds (or whose holder's lease expired): pending
     * re-checks first, then those due, earliest first. Two statements, each served by an index, so
     * a claim reads about `n` rows whatever the schedule's size (see `ScheduleQueries`).
     */
    const claim = (n: number, now: number) =>
      Effect.gen(function* () {
        const rechecks = yield* takeLeases(ScheduleQueries.pickRechecks(queries(now), n), now, true)
        if (rechecks.length >= n) return rechecks
        const due = yield* takeLeases(ScheduleQueries.pickDue(queries(now), n - rechecks.length), now, false)
        return [...rechecks, ...due]
      })

    /** When the poller should look again: now when a re-check waits, else the earliest due time or foreign lease expiry. */
    const nextWake = (now: number) =>
      Effect.map(ScheduleQueries.wakeTimes(queries(now)), (rows) => {
        const recheck = num(rows[0]?.["recheck"])
        const due = num(rows[0]?.["due"])
        const expiry = num(rows[0]?.["expiry"])
        return Math.min(recheck ?? Infinity, due ?? Infinity, expiry ?? Infinity)
      })

    /** Extends a held lease; false when it is no longer ours. */
    const renew = (lease: Lease) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const rows = yield* sql<Row>`update drift_monitor_schedule set lease_expires_at = ${now + leaseMillis}
          where connection_id = ${lease.connectionId} and lease_owner = ${me} and lease_started_at = ${lease.startedAt}
          returning connection_id`
        return rows.length > 0
      })

    /**
     * Inside the transaction that stores a run: the lease must still be ours; sets the next due time
     * from the interval of the connection as the run read it (a change of settings asks for a re-check,
     * whose run sets the due time again). One statement checks the lease and moves the due time: the
     * update locks the row, as `select … for update` did.
     */
    const onStore = (lease: Lease): SnapshotJob.OnStore => (stored, at, connection) =>
      Effect.gen(function* () {
        const next = stored === "committed" ? at + jittered(intervalOf(connection), settings.jitter, yield* Random.next) : null
        const held = yield* sql<Row>`update drift_monitor_schedule set next_run_at = ${next}, failures = 0
          where connection_id = ${lease.connectionId} and lease_owner = ${me} and lease_started_at = ${lease.startedAt}
          returning connection_id`
        if (held.length === 0) {
          return yield* Effect.fail(
            new SnapshotJob.JobFailed({ connectionId: lease.connectionId, reason: "lease", message: "another process took over this connection's lease" })
          )
        }
        if (stored === "committed") {
          yield* sql`insert into drift_monitor_runs (connection_id, owner, started_at, finished_at, outcome)
            values (${lease.connectionId}, ${me}, ${lease.startedAt}, ${at}, ${stored})`
        }
      })

    /** Gives the lease back with the run's result; `next` undefined keeps the due time `onStore` set. */
    const release = (lease: Lease, result: RunResult, next: number | null | undefined, failures: number) =>
      Effect.gen(function* () {
        const finished = yield* Clock.currentTimeMillis
        const outcome = encodeResult(result)
        // `next` undefined: keep the due time `onStore` set in the run's own transaction.
        const due = next === undefined ? sql.literal("") : sql`, next_run_at = ${next}, failures = ${failures}`
        yield* sql`update drift_monitor_schedule set lease_owner = null, lease_started_at = null, lease_expires_at = null,
          recheck_done = lease_recheck, last_recheck = lease_recheck, last_started_at = ${lease.startedAt}, last_finished_at = ${finished},
          last_owner = ${me}, last_outcome = ${outcome}${due}
          where connection_id = ${lease.connectionId} and lease_owner = ${me} and lease_started_at = ${lease.startedAt}`
      })

    /** Lets the lease go without a result (shutdown): another process may take it at once. */
    const abandon = (lease: Lease) =>
      sql`update drift_monitor_schedule set lease_owner = null, lease_started_at = null, lease_expires_at = null
        where connection_id = ${lease.connectionId} and lease_owner = ${me} and lease_started_at = ${lease.startedAt}`.pipe(Effect.ignore)

    // ----- one run --------------------------------------------------------------------------------

    const settle = (connectionId: string, upTo: number, result: RunResult) =>
      Effect.gen(function* () {
        const list = waiters.get(connectionId) ?? []
        const done = list.filter((w) => w.recheck <= upTo)
        const rest = list.filter((w) => w.recheck > upTo)
        if (rest.length === 0) waiters.delete(connectionId)
        else waiters.set(connectionId, rest)
        yield* Effect.forEach(done, (w) => Deferred.succeed(w.deferred, result), { discard: true })
      })

    /** Renews the lease until it is lost, then ends with the `lease` failure. */
    const heartbeat = (lease: Lease): Effect.Effect<RunResult> =>
      Effect.gen(function* () {
        for (;;) {
          yield* Effect.sleep(Duration.millis(Math.max(50, Math.floor(leaseMillis / 3))))
          const kept = yield* renew(lease).pipe(Effect.orElseSucceed(() => true))
          if (!kept) {
            return Either.left(
              new SnapshotJob.JobFailed({ connectionId: lease.connectionId, reason: "lease", message: "the lease was lost during the run" })
            )
          }
        }
      })

    const runOne = (lease: Lease): Effect.Effect<void, never, JobContext> =>
      Effect.gen(function* () {
        const id = lease.connectionId
        const result: RunResult = yield* Effect.raceFirst(
          Effect.either(SnapshotJob.run(id, onStore(lease), settings, { full: lease.requested })),
          heartbeat(lease)
        )
        const finished = yield* Clock.currentTimeMillis
        if (Either.isLeft(result) && result.left.reason === "lease") {
          // Someone else runs it now; their run answers the waiters.
          yield* Effect.logWarning(`connection ${id}: ${result.left.message}`)
          return
        }
        let next: number | null | undefined
        let failures = 0
        if (Either.isRight(result)) {
          const outcome = result.right
          if (outcome._tag === "Committed") {
            yield* Effect.logInfo(
              `snapshot ${outcome.snapshotId} of ${id} committed: ${outcome.driftEvents} drift event(s), ${outcome.findingChanges} finding change(s)`
            )
            next = undefined
          } else if (outcome._tag === "CredentialExpired") {
            yield* Effect.logWarning(`connection ${id} paused: ${outcome.message}`)
            next = undefined
          } else if (outcome._tag === "AccountUnavailable") {
            // The account is suspended or locked: keep the schedule; the alert says why.
            yield* Effect.logWarning(`connection ${id}: ${outcome.message}`)
            next = undefined
          } else if (outcome._tag === "Superseded") next = finished
          else next = null
        } else {
          yield* Effect.logWarning(`snapshot of ${id} failed: ${result.left.message}`)
          // The count of failures drives the backoff; if even that cannot be recorded, the schedule's
          // own count still backs off (the database is likely the failure), and the log says so.
          const previous = yield* sql<Row>`select failures from drift_monitor_schedule where connection_id = ${id}`.pipe(
            Effect.map((rows) => Number(rows[0]?.["failures"] ?? 0)),
            Effect.tapError((e) => Effect.logWarning(`cannot read the failures of ${id}: ${sqlDetail(e)}`)),
            Effect.orElseSucceed(() => 0)
          )
          failures = yield* ConnectionState.failed(id, finished, result.left.message).pipe(
            Effect.tapError((e) => Effect.logWarning(`cannot record the failure of ${id}: ${sqlDetail(e)}`)),
            Effect.orElseSucceed(() => previous + 1)
          )
          if (failures >= 3) {
            yield* ConnectionState.raise(id, "failing", result.left.message, finished).pipe(
              Effect.tapError((e) => Effect.logWarning(`cannot raise the failing alert of ${id}: ${sqlDetail(e)}`)),
              Effect.ignore
            )
          }
          next = finished + backoffMillis(settings, failures)
        }
        yield* release(lease, result, next, failures).pipe(
          Effect.tapError((e) => Effect.logWarning(`cannot release the lease of ${id}: ${e.message}`)),
          Effect.ignore
        )
        yield* settle(id, lease.recheck, result)
      }).pipe(
        Effect.onInterrupt(() => abandon(lease)),
        Effect.ensuring(
          Effect.sync(() => {
            if (running.get(lease.connectionId) === lease) running.delete(lease.connectionId)
          }).pipe(
            // One update: the run is gone and a wake-up is owed, so `settled` never sees the first
            // without the second (and returns before the poller claims what this run made room for).
            Effect.zipRight(SubscriptionRef.update(activity, (a) => ({ ...a, running: running.size, requested: a.requested + 1 }))),
            Effect.zipRight(Queue.offer(wake, undefined))
          )
        )
      )

    // ----- the poller -----------------------------------------------------------------------------

    const poll = Effect.gen(function* () {
      for (;;) {
        if (yield* isStopping) return
        // Every wake-up asked for before this point is handled by this pass: its changes are visible.
        const seen = (yield* SubscriptionRef.get(activity)).requested
        const now = yield* Clock.currentTimeMillis
        const free = settings.concurrency - running.size
        const retryAt = now + Duration.toMillis(settings.pollEvery)
        // Other processes change a shared schedule without waking us: look again every `pollEvery`.
        // Alone on SQLite, every change comes through this process and wakes the poller itself.
        let wakeAt = shared ? retryAt : Infinity
        if (free > 0) {
          // A failing database wakes no one when it recovers: look again after `pollEvery`.
          const claimed = yield* claim(free, now).pipe(
            Effect.tapError((e) =>
              Effect.zipRight(Effect.logWarning(`cannot claim due connections: ${sqlDetail(e)}`), Effect.sync(() => (wakeAt = retryAt)))
            ),
            Effect.orElseSucceed((): Array<Lease> => [])
          )
          if (yield* isStopping) {
            yield* Effect.forEach(claimed, abandon, { discard: true })
            return
          }
          for (const lease of claimed) {
            if (running.has(lease.connectionId)) {
              // Our own earlier run of it lost its lease (it stores nothing): let this claim go too.
              yield* abandon(lease)
              continue
            }
            running.set(lease.connectionId, lease)
            yield* FiberMap.run(runs, lease.connectionId, Effect.provide(runOne(lease), context))
          }
          if (claimed.length < free) {
            const due = yield* nextWake(now).pipe(
              Effect.tapError((e) => Effect.logWarning(`cannot read when connections are due: ${sqlDetail(e)}`)),
              Effect.orElseSucceed(() => retryAt)
            )
            wakeAt = Math.min(wakeAt, Math.max(due, now + 1))
          }
        }
        yield* SubscriptionRef.update(activity, (a) => ({ ...a, seen, parkedUntil: wakeAt, running: running.size }))
        // Until `wakeAt` by the clock as it is now: the pass itself took time (a TestClock may have moved).
        const parkedAt = yield* Clock.currentTimeMillis
        yield* Effect.race(
          Queue.take(wake),
          Number.isFinite(wakeAt) ? Effect.sleep(Duration.millis(Math.max(0, wakeAt - parkedAt))) : Effect.never
        )
      }
    })

    // ----- start ----------------------------------------------------------------------------------

    /** When a connection without a schedule row is first due: after its latest snapshot's interval, or now. */
    const firstRun = (connection: Store.Connection) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        if (connection.status !== "active") return null
        const latest = yield* store.latestSnapshot(connection.id)
        if (Option.isNone(latest)) return now
        const r = yield* Random.next
        return Math.max(latest.value.snapshot.finishedAt.epochMillis + jittered(intervalOf(connection), settings.jitter, r), now)
      }).pipe(Effect.orElse(() => Clock.currentTimeMillis))

    const ensureRow = (connectionId: string, nextRunAt: number | null) =>
      sql`insert into drift_monitor_schedule (connection_id, next_run_at) values (${connectionId}, ${nextRunAt})
        on conflict (connection_id) do nothing`

    // Connections stored before the schedule existed (or by another tool) get a row. A scheduler that
    // cannot read its schedule does not start: it would run nothing and say nothing.
    const connections = yield* Effect.mapError(store.listConnections, (e) => new SchedulerError({ reason: "unavailable", message: e.message }))
    const known = new Set(
      (yield* sql<Row>`select connection_id from drift_monitor_schedule`.pipe(Effect.mapError(unavailable("cannot read the schedule")))).map(
        (r) => String(r["connection_id"])
      )
    )
    for (const connection of connections) {
      if (!known.has(connection.id)) {
        yield* ensureRow(connection.id, yield* firstRun(connection)).pipe(Effect.mapError(unavailable(`cannot schedule ${connection.id}`)))
      }
    }

    const poller = yield* Effect.forkScoped(poll)

    // Graceful shutdown: registered after the FiberMap, so it runs before the runs are interrupted
    // (interrupted runs give their leases back).
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* SubscriptionRef.update(activity, (a) => ({ ...a, stopping: true }))
        yield* Fiber.interrupt(poller)
        // Every run that ends updates `running`: wait for the last one, at most `shutdownGrace`.
        yield* activity.changes.pipe(
          Stream.takeUntil((a) => a.running === 0),
          Stream.runDrain,
          Effect.timeout(settings.shutdownGrace),
          Effect.ignore
        )
      })
    )

    /** Reads one connection's schedule row, decoded. */
    const readRow = (connectionId: string) =>
      Effect.gen(function* () {
        const rows = yield* sql<Row>`select * from drift_monitor_schedule where connection_id = ${connectionId}`.pipe(
          Effect.mapError(unavailable(`cannot read the schedule of ${connectionId}`))
        )
        if (rows[0] === undefined) return Option.none()
        return Option.some(yield* decode(ScheduleRow, corrupt(`the schedule of ${connectionId}`))(rows[0]))
      })

    const requestRecheck = (connectionId: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        yield* ensureRow(connectionId, now)
        const rows = yield* sql<Row>`update drift_monitor_schedule set recheck_requested = recheck_requested + 1
          where connection_id = ${connectionId} returning recheck_requested`
        yield* nudge
        return Number(rows[0]?.["recheck_requested"] ?? 0)
      }).pipe(Effect.mapError(unavailable(`cannot request a re-check of ${connectionId}`)))

    /** Waits for a run in another process that saw re-check `n` (polls: nothing tells this process). */
    const awaitElsewhere = (connectionId: string, n: number): Effect.Effect<RunResult, SchedulerError> =>
      Effect.gen(function* () {
        for (;;) {
          yield* Effect.sleep(Duration.millis(Math.max(50, Math.floor(Duration.toMillis(settings.pollEvery) / 4))))
          const row = yield* readRow(connectionId)
          if (Option.isNone(row)) return Either.right({ _tag: "Paused", status: "paused" } satisfies SnapshotJob.Outcome)
          if ((row.value.last_recheck ?? 0) >= n && row.value.last_outcome !== null) {
            return yield* decodeResult(connectionId, row.value.last_outcome)
          }
        }
      })

    const service: Service = {
      add: (connectionId) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          yield* sql`insert into drift_monitor_schedule (connection_id, next_run_at) values (${connectionId}, ${now})
            on conflict (connection_id) do update set next_run_at = ${now}`.pipe(Effect.mapError(unavailable(`cannot schedule ${connectionId}`)))
          yield* nudge
        }),
      remove: (connectionId) =>
        Effect.gen(function* () {
          yield* sql`delete from drift_monitor_schedule where connection_id = ${connectionId}`.pipe(
            Effect.mapError(unavailable(`cannot unschedule ${connectionId}`))
          )
          yield* settle(connectionId, Infinity, Either.right({ _tag: "Paused", status: "paused" }))
          yield* FiberMap.remove(runs, connectionId)
        }),
      recheck: (connectionId) => Effect.asVoid(requestRecheck(connectionId)),
      recheckAndWait: (connectionId) =>
        Effect.gen(function* () {
          const deferred = yield* Deferred.make<RunResult>()
          const n = yield* requestRecheck(connectionId)
          const list = waiters.get(connectionId) ?? []
          list.push({ recheck: n, deferred })
          waiters.set(connectionId, list)
          // Alone on SQLite every run is ours; with others, the run may happen in another process.
          return yield* shared ? Effect.raceFirst(Deferred.await(deferred), awaitElsewhere(connectionId, n)) : Deferred.await(deferred)
        }),
      schedule: (connectionId) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const found = yield* readRow(connectionId)
          if (Option.isNone(found)) return Option.none()
          const row = found.value
          const held = row.lease_owner !== null && (row.lease_expires_at ?? 0) > now
          return Option.some({
            running: held,
            nextRunAt: row.recheck_requested > row.recheck_done ? now : row.next_run_at,
            failures: row.failures,
            owner: held ? row.lease_owner : null
          })
        }),
      wake: nudge,
      settled: (expected = 0) =>
        Effect.gen(function* () {
          const { requested } = yield* SubscriptionRef.get(activity)
          const now = yield* Clock.currentTimeMillis
          yield* activity.changes.pipe(
            // Every wake-up asked for so far handled, the ones before this call included.
            Stream.takeUntil((a) => a.seen >= Math.max(requested, a.requested) && a.parkedUntil !== null && a.parkedUntil > now && a.running === expected),
            Stream.runDrain
          )
        }),
      activity: activity.changes
    }
    return service
  })

/** The scheduler for the layer's lifetime. */
export const layer = (settings: SchedulerSettings) => Layer.scoped(Scheduler, make(settings))
