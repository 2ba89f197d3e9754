/**
 * The scheduler: one fiber per connection that sleeps until the connection is due, then runs a
 * `SnapshotJob` under a global concurrency limit (the per-token request budget applies underneath,
 * in the HTTP pipeline).
 *
 * - Due: `interval` (the connection's own `intervalSeconds`, or the default) after the last
 *   successful run, lengthened or shortened at random by up to `jitter` of it, so connections added
 *   together drift apart.
 * - Failure: the next attempt comes after `backoff · 2^(failures−1)`, capped at `maxBackoff`; a
 *   success resets it.
 * - Credential refused: the job marks the connection `credential_expired`; its fiber then waits,
 *   without a timer, until it is woken (a new credential was supplied) and the connection is active.
 * - Re-check: wakes the fiber to run at once (after the run in progress, if any); a caller may wait
 *   for that run's outcome.
 * - Restart: a connection whose latest stored snapshot is younger than its interval is next due
 *   when that snapshot's interval ends — fresh work is not redone.
 * - Shutdown: no new run starts; runs in progress get `shutdownGrace` to finish before they are
 *   interrupted (an interrupted commit is rolled back by its transaction).
 */
import { Store } from "@plumbline/core"
import { Clock, Context, Deferred, Duration, Effect, Either, FiberMap, Layer, Option, Queue, Random, Ref, Schedule as Sched } from "effect"
import type { SchedulerSettings } from "./Config.js"
import * as ConnectionState from "./ConnectionState.js"
import * as SnapshotJob from "./SnapshotJob.js"

/** The outcome of one run as a waiting caller sees it. */
export type RunResult = Either.Either<SnapshotJob.Outcome, SnapshotJob.JobFailed>

/** What the scheduler knows about one connection. */
export interface Schedule {
  readonly running: boolean
  /** Epoch ms of the next run; `null` while paused. */
  readonly nextRunAt: number | null
  readonly failures: number
}

/** The scheduler's operations. */
export interface Service {
  /** Starts scheduling a connection (a new one runs at once). */
  readonly add: (connectionId: string) => Effect.Effect<void>
  /** Stops scheduling a connection (a run in progress is interrupted). */
  readonly remove: (connectionId: string) => Effect.Effect<void>
  /** Runs the connection at once; with `wait`, returns that run's result. */
  readonly recheck: (connectionId: string) => Effect.Effect<void>
  readonly recheckAndWait: (connectionId: string) => Effect.Effect<RunResult>
  readonly schedule: (connectionId: string) => Effect.Effect<Option.Option<Schedule>>
}

/** The scheduler. */
export class Scheduler extends Context.Tag("@plumbline/drift-monitor/Scheduler")<Scheduler, Service>() {}

interface Entry {
  readonly wake: Queue.Queue<void>
  force: boolean
  running: boolean
  nextRunAt: number | null
  failures: number
  waiters: Array<Deferred.Deferred<RunResult>>
}

/** The wait after `failures` consecutive failures. */
export const backoffMillis = (settings: SchedulerSettings, failures: number): number =>
  Math.min(Duration.toMillis(settings.backoff) * 2 ** Math.max(0, failures - 1), Duration.toMillis(settings.maxBackoff))

/** An interval with jitter: `interval · (1 ± jitter·r)`, r uniform in [0, 1). */
export const jittered = (intervalMillis: number, jitter: number, random: number): number =>
  Math.round(intervalMillis * (1 + jitter * (2 * random - 1)))

type JobContext = Effect.Effect.Context<ReturnType<typeof SnapshotJob.run>>

/** Builds the scheduler and starts a fiber for every stored connection. */
export const make = (settings: SchedulerSettings) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const context = yield* Effect.context<JobContext>()
    const permits = yield* Effect.makeSemaphore(settings.concurrency)
    const entries = new Map<string, Entry>()
    const stopping = yield* Ref.make(false)
    const fibers = yield* FiberMap.make<string>()

    const intervalOf = (connection: Store.Connection) =>
      (SnapshotJob.settingsOf(connection.settings).intervalSeconds ?? Duration.toSeconds(settings.interval)) * 1000

    const nextAfterSuccess = (connection: Store.Connection, from: number) =>
      Effect.map(Random.next, (r) => from + jittered(intervalOf(connection), settings.jitter, r))

    const settle = (entry: Entry, result: RunResult) =>
      Effect.forEach(entry.waiters.splice(0), (d) => Deferred.succeed(d, result), { discard: true })

    const loop = (connectionId: string, entry: Entry): Effect.Effect<void, never, JobContext> =>
      Effect.gen(function* () {
        for (;;) {
          if (yield* Ref.get(stopping)) return
          const found = yield* Effect.either(store.getConnection(connectionId))
          if (Either.isLeft(found)) {
            if (found.left.reason === "not-found") {
              yield* settle(entry, Either.right({ _tag: "Paused", status: "paused" }))
              return
            }
            // The store is unavailable: back off like a failed run, and tell whoever is waiting.
            entry.failures++
            entry.force = false
            entry.nextRunAt = (yield* Clock.currentTimeMillis) + backoffMillis(settings, entry.failures)
            yield* settle(
              entry,
              Either.left(new SnapshotJob.JobFailed({ connectionId, reason: "store", message: found.left.message }))
            )
          } else if (found.right.status !== "active") {
            entry.nextRunAt = null
            entry.force = false
            yield* settle(entry, Either.right({ _tag: "Paused", status: found.right.status }))
            yield* Queue.take(entry.wake)
            continue
          }
          const now = yield* Clock.currentTimeMillis
          if (!entry.force && entry.nextRunAt !== null && entry.nextRunAt > now) {
            yield* Effect.race(Queue.take(entry.wake), Effect.sleep(Duration.millis(entry.nextRunAt - now)))
            continue
          }
          if (Either.isLeft(found)) continue
          entry.force = false
          const waiters = entry.waiters.splice(0)
          const result = yield* permits.withPermits(1)(
            Effect.gen(function* () {
              if (yield* Ref.get(stopping)) return undefined
              entry.running = true
              return yield* Effect.either(SnapshotJob.run(connectionId)).pipe(Effect.ensuring(Effect.sync(() => (entry.running = false))))
            })
          )
          if (result === undefined) return
          const finished = yield* Clock.currentTimeMillis
          if (Either.isRight(result)) {
            const outcome = result.right
            if (outcome._tag === "Committed") {
              yield* Effect.logInfo(
                `snapshot ${outcome.snapshotId} of ${connectionId} committed: ${outcome.driftEvents} drift event(s), ${outcome.findingChanges} finding change(s)`
              )
            } else if (outcome._tag === "CredentialExpired") {
              yield* Effect.logWarning(`connection ${connectionId} paused: ${outcome.message}`)
            }
            entry.failures = 0
            entry.nextRunAt = result.right._tag === "Committed" ? yield* nextAfterSuccess(found.right, finished) : null
          } else {
            yield* Effect.logWarning(`snapshot of ${connectionId} failed: ${result.left.message}`)
            entry.failures = yield* ConnectionState.failed(connectionId, finished, result.left.message).pipe(
              Effect.orElseSucceed(() => entry.failures + 1)
            )
            if (entry.failures >= 3) {
              yield* ConnectionState.raise(connectionId, "failing", result.left.message, finished).pipe(Effect.ignore)
            }
            entry.nextRunAt = finished + backoffMillis(settings, entry.failures)
          }
          yield* Effect.forEach(waiters, (d) => Deferred.succeed(d, result), { discard: true })
        }
      })

    /** When a connection is first due: after its latest snapshot's interval, or now. */
    const firstRun = (connectionId: string) =>
      Effect.gen(function* () {
        const connection = yield* store.getConnection(connectionId)
        const latest = yield* store.latestSnapshot(connectionId)
        const now = yield* Clock.currentTimeMillis
        if (Option.isNone(latest)) return now
        const finished = latest.value.snapshot.finishedAt.epochMillis
        const due = yield* nextAfterSuccess(connection, finished)
        return Math.max(due, now)
      }).pipe(Effect.orElse(() => Clock.currentTimeMillis))

    const start = (connectionId: string, nextRunAt: number) =>
      Effect.gen(function* () {
        if (entries.has(connectionId)) return entries.get(connectionId) as Entry
        const entry: Entry = {
          wake: yield* Queue.sliding<void>(1),
          force: false,
          running: false,
          nextRunAt,
          failures: 0,
          waiters: []
        }
        entries.set(connectionId, entry)
        yield* FiberMap.run(
          fibers,
          connectionId,
          loop(connectionId, entry).pipe(
            Effect.provide(context),
            Effect.ensuring(Effect.sync(() => entries.delete(connectionId)))
          )
        )
        return entry
      })

    const wake = (entry: Entry) =>
      Effect.sync(() => {
        entry.force = true
      }).pipe(Effect.zipRight(Queue.offer(entry.wake, undefined)))

    const entryFor = (connectionId: string) =>
      Effect.gen(function* () {
        const existing = entries.get(connectionId)
        if (existing !== undefined) return existing
        return yield* start(connectionId, yield* Clock.currentTimeMillis)
      })

    // Resume every stored connection.
    const connections = yield* Effect.orElseSucceed(store.listConnections, () => [])
    for (const connection of connections) yield* start(connection.id, yield* firstRun(connection.id))

    // Graceful shutdown: registered after the FiberMap, so it runs before the fibers are interrupted.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        yield* Ref.set(stopping, true)
        const idle = Effect.suspend(() => (Array.from(entries.values()).some((e) => e.running) ? Effect.fail("busy") : Effect.void))
        yield* idle.pipe(
          Effect.retry(Sched.spaced(Duration.millis(50))),
          Effect.timeout(settings.shutdownGrace),
          Effect.ignore
        )
      })
    )

    const service: Service = {
      add: (connectionId) => Effect.flatMap(entryFor(connectionId), wake),
      remove: (connectionId) =>
        Effect.gen(function* () {
          const entry = entries.get(connectionId)
          entries.delete(connectionId)
          if (entry !== undefined) yield* settle(entry, Either.right({ _tag: "Paused", status: "paused" }))
          yield* FiberMap.remove(fibers, connectionId)
        }),
      recheck: (connectionId) => Effect.flatMap(entryFor(connectionId), wake),
      recheckAndWait: (connectionId) =>
        Effect.gen(function* () {
          const entry = yield* entryFor(connectionId)
          const deferred = yield* Deferred.make<RunResult>()
          entry.waiters.push(deferred)
          yield* wake(entry)
          return yield* Deferred.await(deferred)
        }),
      schedule: (connectionId) =>
        Effect.sync(() => {
          const entry = entries.get(connectionId)
          return entry === undefined
            ? Option.none()
            : Option.some({ running: entry.running, nextRunAt: entry.nextRunAt, failures: entry.failures })
        })
    }
    return service
  })


/** The scheduler for the layer's lifetime. */
export const layer = (settings: SchedulerSettings) => Layer.scoped(Scheduler, make(settings))
