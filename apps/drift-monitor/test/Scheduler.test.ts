import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Store } from "@plumbline/core"
import { Context, Deferred, Duration, Effect, Either, Exit, Fiber, Layer, Option, Scope, Stream, TestClock } from "effect"
import * as ConnectionState from "../src/ConnectionState.js"
import * as Scheduler from "../src/Scheduler.js"
import * as SnapshotJob from "../src/SnapshotJob.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"

// Every wait below is on the scheduler's own signal (`settled`: caught up, nothing due now, the
// runs in progress counted) or on a run's result, never on a number of yields or an amount of time.

const startScheduler = (settings = Fake.schedulerSettings) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(Scheduler.layer(settings), scope)
    return { scheduler: Context.get(context, Scheduler.Scheduler), close: Scope.close(scope, Exit.void) }
  })

const newConnection = (name = "conn") =>
  Effect.flatMap(Store.Store, (store) => store.createConnection({ connectorId: "fake", name, credential: Fake.credential }))

/** Runs `body` with the fake provider's services on a fresh SQLite file. */
const withServices = <A, E, R>(s: Fake.FakeState, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Harness.tempDir, (dir) => Effect.provide(body, Fake.services(dir, s))).pipe(Effect.scoped)

describe("Scheduler", () => {
  it.effect("snapshots a new connection at once, then every interval with jitter inside its bounds", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const { scheduler, close } = yield* startScheduler()
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 1)
        // 60 s ± 10 %: never before 54 s, always by 66 s.
        yield* TestClock.adjust(Duration.seconds(53))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(13))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 2)
        const schedule = yield* scheduler.schedule(connection.id)
        assert.isTrue(Option.isSome(schedule))
        yield* close
      })
    )
  })

  it.effect("runs at most `concurrency` snapshots at once", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        s.latch = yield* Deferred.make<void>()
        const { scheduler, close } = yield* startScheduler({ ...Fake.schedulerSettings, concurrency: 2 })
        for (const name of ["a", "b", "c", "d"]) yield* scheduler.add((yield* newConnection(name)).id)
        // Two snapshots started and held by the latch; the poller caught up with all four and parked.
        yield* Fake.entered(s, 2)
        yield* scheduler.settled(2)
        assert.strictEqual(s.inFlight, 2)
        yield* Deferred.succeed(s.latch, undefined)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 4)
        assert.strictEqual(s.maxInFlight, 2)
        yield* close
      })
    )
  })

  it.effect("backs off after failures (30 s, 60 s, 120 s) and returns to the interval after a success", () => {
    const s = Fake.state()
    s.mode = "all-failed"
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const { scheduler, close } = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0 })
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 1)
        for (const [wait, runs] of [[29, 1], [1, 2], [59, 2], [1, 3], [119, 3], [1, 4]] as const) {
          yield* TestClock.adjust(Duration.seconds(wait))
          yield* scheduler.settled()
          assert.strictEqual(s.runs, runs, `after ${wait} s more`)
        }
        assert.isTrue(Option.isNone(yield* store.latestSnapshot(connection.id)), "a failed snapshot is not committed")
        const failing = yield* ConnectionState.get(connection.id)
        assert.strictEqual(failing.failures, 4)
        assert.strictEqual(failing.alert?.kind, "failing", "three failures in a row raise an alert")
        s.mode = "ok"
        yield* TestClock.adjust(Duration.seconds(240))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 5)
        assert.isTrue(Option.isSome(yield* store.latestSnapshot(connection.id)))
        assert.isNull((yield* ConnectionState.get(connection.id)).alert, "a success clears it")
        yield* TestClock.adjust(Duration.seconds(59))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 5)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 6)
        yield* close
      })
    )
  })

  it.effect("pauses a connection whose credential is refused until a new one is supplied, then resumes", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const { scheduler, close } = yield* startScheduler()
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        s.mode = "credential-invalid"
        const result = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isRight(result) && result.right._tag === "CredentialExpired")
        assert.strictEqual((yield* store.getConnection(connection.id)).status, "credential_expired")
        const runs = s.runs
        yield* TestClock.adjust(Duration.hours(5))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, runs, "no run while the credential is expired")
        const paused = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isRight(paused) && paused.right._tag === "Paused")
        s.mode = "ok"
        yield* store.replaceCredential(connection.id, Fake.credential)
        yield* scheduler.recheck(connection.id)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, runs + 1)
        assert.strictEqual((yield* store.getConnection(connection.id)).status, "active")
        yield* close
      })
    )
  })

  it.effect("re-check runs at once and reports the committed snapshot", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const { scheduler, close } = yield* startScheduler()
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        s.items.push("b")
        const result = yield* scheduler.recheckAndWait(connection.id)
        assert.strictEqual(s.runs, 2)
        assert.isTrue(Either.isRight(result))
        if (Either.isRight(result) && result.right._tag === "Committed") {
          assert.strictEqual(result.right.driftEvents, 1)
          assert.strictEqual(result.right.findingChanges, 1)
        } else assert.fail("expected a committed run")
        yield* close
      })
    )
  })

  it.effect("after a restart, resumes from the store without redoing fresh work", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const first = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0 })
        const connection = yield* newConnection()
        yield* first.scheduler.add(connection.id)
        yield* first.scheduler.settled()
        yield* first.close
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(20))
        const second = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0 })
        yield* second.scheduler.settled()
        assert.strictEqual(s.runs, 1, "the snapshot of 20 s ago is still fresh")
        yield* TestClock.adjust(Duration.seconds(40))
        yield* second.scheduler.settled()
        assert.strictEqual(s.runs, 2, "due 60 s after the last snapshot")
        yield* second.close
        // A stale connection runs at once on start.
        yield* TestClock.adjust(Duration.minutes(10))
        const third = yield* startScheduler()
        yield* third.scheduler.settled()
        assert.strictEqual(s.runs, 3)
        yield* third.close
      })
    )
  })

  it.effect("shuts down gracefully: a running snapshot finishes and is committed", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        s.latch = yield* Deferred.make<void>()
        const { scheduler, close } = yield* startScheduler()
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* Fake.entered(s)
        yield* scheduler.settled(1)
        assert.strictEqual(s.inFlight, 1)
        const closing = yield* Effect.fork(close)
        // Shutdown has begun (no new run may start) while the snapshot still waits on the latch.
        yield* scheduler.activity.pipe(Stream.takeUntil((a) => a.stopping), Stream.runDrain)
        assert.strictEqual(s.inFlight, 1)
        yield* Deferred.succeed(s.latch, undefined)
        yield* Fiber.join(closing)
        assert.isTrue(Option.isSome(yield* store.latestSnapshot(connection.id)))
        assert.strictEqual(s.runs, 1, "no new run starts during shutdown")
      })
    )
  })

  it.effect("backs off while the store is unavailable and answers a waiting re-check with the failure", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { scheduler, close } = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0 })
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 1)
        yield* sql.unsafe("alter table plumbline_connections rename to plumbline_connections_away")
        const result = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isLeft(result) && result.left.reason === "store")
        yield* sql.unsafe("alter table plumbline_connections_away rename to plumbline_connections")
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(30))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 2, "retried after the backoff")
        yield* close
      })
    )
  })

  it.effect("a schedule the database cannot read or write is a failure for every caller; the poller looks again after pollEvery", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { scheduler, close } = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0, pollEvery: Duration.minutes(4) })
        const first = yield* newConnection("first")
        yield* scheduler.add(first.id)
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 1)
        const second = yield* newConnection("second")

        yield* sql.unsafe("alter table drift_monitor_schedule rename to drift_monitor_schedule_away")
        const operations = {
          add: scheduler.add(second.id),
          recheck: scheduler.recheck(first.id),
          recheckAndWait: Effect.asVoid(scheduler.recheckAndWait(first.id)),
          schedule: Effect.asVoid(scheduler.schedule(first.id)),
          remove: scheduler.remove(second.id)
        }
        for (const [name, operation] of Object.entries(operations)) {
          const error = yield* Effect.flip(operation)
          assert.strictEqual(error._tag, "SchedulerError", name)
          assert.strictEqual(error.reason, "unavailable", name)
          assert.include(error.message, "no such table: drift_monitor_schedule", name)
        }
        // Woken while the schedule is away, the poller fails to claim; it must not sleep until woken again.
        yield* scheduler.wake
        yield* scheduler.settled()
        yield* sql.unsafe("alter table drift_monitor_schedule_away rename to drift_monitor_schedule")
        yield* TestClock.adjust(Duration.minutes(4))
        yield* scheduler.settled()
        assert.strictEqual(s.runs, 2, "the overdue connection ran at the poller's next look")
        yield* close
      })
    )
  })

  it.effect("a schedule row or stored outcome that does not decode is a corrupt failure, not a wrong value", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const { scheduler, close } = yield* startScheduler()
        const connection = yield* newConnection()
        yield* scheduler.add(connection.id)
        yield* scheduler.settled()
        assert.isTrue(Option.isSome(yield* scheduler.schedule(connection.id)))
        yield* sql`update drift_monitor_schedule set failures = 'many' where connection_id = ${connection.id}`
        const error = yield* Effect.flip(scheduler.schedule(connection.id))
        assert.strictEqual(error.reason, "corrupt")
        assert.include(error.message, "failures")
        assert.notInclude(error.message, "many", "the stored value is not quoted")
        yield* close
      })
    )
  })

  it.effect("keeps a run's result as JSON a process reads back; anything else is corrupt", () =>
    Effect.gen(function* () {
      const results: ReadonlyArray<Scheduler.RunResult> = [
        Either.right({ _tag: "Committed", snapshotId: "s1", driftEvents: 2, findingChanges: 1 }),
        Either.right({ _tag: "CredentialExpired", message: "revoked" }),
        Either.right({ _tag: "Paused", status: "paused" }),
        Either.right({ _tag: "Superseded" }),
        Either.left(new SnapshotJob.JobFailed({ connectionId: "c1", reason: "upstream", message: "every read failed" }))
      ]
      for (const result of results) {
        assert.deepStrictEqual(yield* Scheduler.decodeResult("c1", Scheduler.encodeResult(result)), result)
      }
      for (const text of ["not json", '{"_tag":"Committed"}', '{"_tag":"Exploded"}', '{"_tag":"JobFailed","reason":"bored","message":"x"}']) {
        const error = yield* Effect.flip(Scheduler.decodeResult("c1", text))
        assert.strictEqual(error.reason, "corrupt", text)
      }
    })
  )
})
