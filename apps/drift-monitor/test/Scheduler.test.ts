import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Store } from "@plumbline/core"
import { Context, Deferred, Duration, Effect, Either, Exit, Fiber, Layer, Option, Scope, TestClock } from "effect"
import * as ConnectionState from "../src/ConnectionState.js"
import * as Scheduler from "../src/Scheduler.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"

/** Lets forked fibers run (SQLite answers synchronously, so no real time passes). */
const settle = Effect.repeatN(Effect.yieldNow(), 200)

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
        yield* settle
        assert.strictEqual(s.runs, 1)
        // 60 s ± 10 %: never before 54 s, always by 66 s.
        yield* TestClock.adjust(Duration.seconds(53))
        yield* settle
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(13))
        yield* settle
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
        yield* settle
        assert.strictEqual(s.inFlight, 2)
        yield* Deferred.succeed(s.latch, undefined)
        yield* settle
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
        yield* settle
        assert.strictEqual(s.runs, 1)
        for (const [wait, runs] of [[29, 1], [1, 2], [59, 2], [1, 3], [119, 3], [1, 4]] as const) {
          yield* TestClock.adjust(Duration.seconds(wait))
          yield* settle
          assert.strictEqual(s.runs, runs, `after ${wait} s more`)
        }
        assert.isTrue(Option.isNone(yield* store.latestSnapshot(connection.id)), "a failed snapshot is not committed")
        const failing = yield* ConnectionState.get(connection.id)
        assert.strictEqual(failing.failures, 4)
        assert.strictEqual(failing.alert?.kind, "failing", "three failures in a row raise an alert")
        s.mode = "ok"
        yield* TestClock.adjust(Duration.seconds(240))
        yield* settle
        assert.strictEqual(s.runs, 5)
        assert.isTrue(Option.isSome(yield* store.latestSnapshot(connection.id)))
        assert.isNull((yield* ConnectionState.get(connection.id)).alert, "a success clears it")
        yield* TestClock.adjust(Duration.seconds(59))
        yield* settle
        assert.strictEqual(s.runs, 5)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* settle
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
        yield* settle
        s.mode = "credential-invalid"
        const result = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isRight(result) && result.right._tag === "CredentialExpired")
        assert.strictEqual((yield* store.getConnection(connection.id)).status, "credential_expired")
        const runs = s.runs
        yield* TestClock.adjust(Duration.hours(5))
        yield* settle
        assert.strictEqual(s.runs, runs, "no run while the credential is expired")
        const paused = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isRight(paused) && paused.right._tag === "Paused")
        s.mode = "ok"
        yield* store.replaceCredential(connection.id, Fake.credential)
        yield* scheduler.recheck(connection.id)
        yield* settle
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
        yield* settle
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
        yield* settle
        yield* first.close
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(20))
        const second = yield* startScheduler({ ...Fake.schedulerSettings, jitter: 0 })
        yield* settle
        assert.strictEqual(s.runs, 1, "the snapshot of 20 s ago is still fresh")
        yield* TestClock.adjust(Duration.seconds(40))
        yield* settle
        assert.strictEqual(s.runs, 2, "due 60 s after the last snapshot")
        yield* second.close
        // A stale connection runs at once on start.
        yield* TestClock.adjust(Duration.minutes(10))
        const third = yield* startScheduler()
        yield* settle
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
        yield* settle
        assert.strictEqual(s.inFlight, 1)
        const closing = yield* Effect.fork(close)
        yield* settle
        yield* Deferred.succeed(s.latch, undefined)
        yield* TestClock.adjust(Duration.millis(100))
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
        yield* settle
        assert.strictEqual(s.runs, 1)
        yield* sql.unsafe("alter table plumbline_connections rename to plumbline_connections_away")
        const result = yield* scheduler.recheckAndWait(connection.id)
        assert.isTrue(Either.isLeft(result) && result.left.reason === "store")
        yield* sql.unsafe("alter table plumbline_connections_away rename to plumbline_connections")
        assert.strictEqual(s.runs, 1)
        yield* TestClock.adjust(Duration.seconds(30))
        yield* settle
        assert.strictEqual(s.runs, 2, "retried after the backoff")
        yield* close
      })
    )
  })
})
