import { assert, describe, it } from "@effect/vitest"
import { Snapshot, Store } from "@plumbline/core"
import { Keyring } from "@plumbline/store-sql"
import { Context, Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import * as ChangeDetection from "../src/ChangeDetection.js"
import type { Database } from "../src/Db.js"
import * as SnapshotJob from "../src/SnapshotJob.js"
import * as Views from "../src/Views.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"

const newConnection = Effect.flatMap(Store.Store, (store) =>
  store.createConnection({ connectorId: "fake", name: "conn", credential: Fake.credential })
)

/** Runs one job and returns how it ran (`run`) and what it found. */
const runJob = (id: string, detection: SnapshotJob.Detection = SnapshotJob.defaultDetection) =>
  Effect.map(SnapshotJob.run(id, undefined, detection), (outcome) => {
    assert.strictEqual(outcome._tag, "Committed")
    return outcome._tag === "Committed" ? outcome : assert.fail("not committed")
  })

/** The connection's change detection as the API shows it. */
const view = (id: string, feed: Fake.FakeFeed) =>
  Effect.map(ChangeDetection.get(id), (state) =>
    Views.changeDetection(state, ChangeDetection.betterPermission({ modes: feed.modes, permissionFor: (m) => (m === "audit_log" ? "Account Settings Read" : "Zone Read") }, state.mode), 3600)
  )

const withServices = <A, E, R>(s: Fake.FakeState, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Harness.tempDir, (dir) => Effect.provide(body, Fake.services(dir, s))).pipe(Effect.scoped)

const hourly: SnapshotJob.Detection = { reconcileInterval: Duration.hours(1), slowCadence: Duration.minutes(30) }

describe("Change detection", () => {
  it.effect("a connection with a feed runs incremental snapshots; its view shows the mode and the feed's lag", () => {
    const s = Fake.state()
    const feed = (s.feed = Fake.feed())
    return withServices(s, Effect.gen(function* () {
      const store = yield* Store.Store
      const { id } = yield* newConnection
      // No position yet: the feed starts before a full read.
      assert.strictEqual((yield* runJob(id)).run, "full")
      assert.deepStrictEqual(feed.reads, [{ mode: "audit_log", position: undefined }])
      // Nothing announced: everything carried, nothing read.
      assert.strictEqual((yield* runJob(id)).run, "incremental")
      assert.deepStrictEqual(feed.reads[1]?.position?.cursor, { n: 1 })
      const latest = Option.getOrThrow(yield* store.latestSnapshot(id))
      assert.strictEqual(Snapshot.obtained(latest.snapshot, `items@connection:${id}`)._tag, "carried")
      // An announced change is read and becomes drift.
      s.items.push("b")
      feed.pending.push(Fake.itemsMark(id))
      const third = yield* runJob(id)
      assert.deepStrictEqual([third.run, third.driftEvents], ["incremental", 1])
      const listed = yield* store.listSnapshots(id)
      // The third read everything there was (one resource): a full snapshot by content.
      assert.deepStrictEqual(listed.items.map((x) => Views.snapshotSummary(x).kind), ["full", "incremental", "full"])
      const shown = yield* view(id, feed)
      assert.deepStrictEqual([shown.mode, shown.lagSeconds, shown.missedByFeed, shown.betterPermission], ["audit_log", 7, 0, null])
    }))
  })

  it.effect("reconciliation catches a change the feed hid and reports missedByFeed", () => {
    const s = Fake.state()
    const feed = (s.feed = Fake.feed())
    return withServices(s, Effect.gen(function* () {
      const { id } = yield* newConnection
      yield* runJob(id, hourly)
      // A change the feed never announces: the incremental run carries the old items.
      s.items.push("b")
      yield* TestClock.adjust(Duration.minutes(1))
      const hidden = yield* runJob(id, hourly)
      assert.deepStrictEqual([hidden.run, hidden.driftEvents], ["incremental", 0])
      // The daily (here hourly) full snapshot finds it, and counts it against the feed.
      yield* TestClock.adjust(Duration.hours(1))
      const reconciled = yield* runJob(id, hourly)
      assert.deepStrictEqual([reconciled.run, reconciled.driftEvents, reconciled.missedByFeed], ["reconciliation", 1, 1])
      assert.strictEqual((yield* view(id, feed)).missedByFeed, 1)
      // An announced change is not missed, even when reconciliation is what reads it.
      s.items.push("c")
      feed.pending.push(Fake.itemsMark(id))
      yield* TestClock.adjust(Duration.hours(1))
      const announced = yield* runJob(id, hourly)
      assert.deepStrictEqual([announced.run, announced.driftEvents, announced.missedByFeed], ["reconciliation", 1, 0])
      assert.strictEqual((yield* view(id, feed)).missedByFeed, 1)
    }))
  })

  it.effect("forbidden falls to probes, then to full; a feed error makes the run full", () => {
    const s = Fake.state()
    const feed = (s.feed = Fake.feed())
    feed.forbidden.add("audit_log")
    return withServices(s, Effect.gen(function* () {
      const { id } = yield* newConnection
      yield* runJob(id)
      assert.deepStrictEqual(feed.reads.map((r) => r.mode), ["audit_log", "probes"])
      let shown = yield* view(id, feed)
      assert.deepStrictEqual([shown.mode, shown.betterPermission], ["probes", "Account Settings Read"])
      assert.strictEqual((yield* runJob(id)).run, "incremental")
      // The credential loses probes too: this run reads everything, and the mode is full.
      feed.forbidden.add("probes")
      assert.strictEqual((yield* runJob(id)).run, "full")
      shown = yield* view(id, feed)
      assert.deepStrictEqual([shown.mode, shown.betterPermission], ["full", "Account Settings Read"])
      // Permission granted: the next run starts the best feed again, the one after is incremental.
      feed.forbidden.clear()
      assert.strictEqual((yield* runJob(id)).run, "full")
      assert.strictEqual((yield* view(id, feed)).mode, "audit_log")
      assert.strictEqual((yield* runJob(id)).run, "incremental")
      // Retention (an outage longer than the log keeps): full, with the reason shown; then incremental again.
      feed.failNext = "retention"
      assert.strictEqual((yield* runJob(id)).run, "full")
      assert.include((yield* view(id, feed)).lastFeedError ?? "", "retention")
      assert.strictEqual((yield* runJob(id)).run, "incremental")
      assert.isNull((yield* view(id, feed)).lastFeedError)
    }))
  })

  it.effect("in probes mode, resources no probe covers are re-read once per slower cadence, at the scope's own turn", () => {
    const s = Fake.state()
    const feed = (s.feed = Fake.feed(["probes"]))
    feed.unmarkedByProbes.push("items")
    const detection: SnapshotJob.Detection = { reconcileInterval: Duration.hours(24), slowCadence: Duration.minutes(30) }
    return withServices(
      s,
      Effect.gen(function* () {
        const { id } = yield* newConnection
        yield* runJob(id, detection)
        s.items.push("b") // no probe can see it
        // Runs every 5 minutes over one 30-minute period: the change shows in exactly one of them
        // (the scope's turn comes once per period, at a phase its key decides), incrementally.
        const runs: Array<readonly [string | undefined, number]> = []
        for (let k = 0; k < 6; k++) {
          yield* TestClock.adjust(Duration.minutes(5))
          const outcome = yield* runJob(id, detection)
          runs.push([outcome.run, outcome.driftEvents])
        }
        assert.deepStrictEqual(runs.map(([run]) => run), Array(6).fill("incremental"))
        assert.strictEqual(runs.filter(([, drift]) => drift === 1).length, 1)
        assert.strictEqual(runs.reduce((n, [, drift]) => n + drift, 0), 1)
      })
    )
  })

  it.effect("the feed position survives a restart (same SQLite file)", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const keys = Keyring.generate("k1")
      const before = Fake.state()
      before.feed = Fake.feed()
      const id = yield* Effect.gen(function* () {
        const { id } = yield* newConnection
        yield* runJob(id)
        yield* runJob(id)
        return id
      }).pipe(Effect.provide(Fake.services(dir, before, keys)), Effect.scoped)
      assert.strictEqual(before.feed.issued, 2)
      // A new process on the same file: it reads from the position the last run committed.
      const after = Fake.state()
      const feed = (after.feed = Fake.feed())
      after.items.push("b")
      feed.pending.push(Fake.itemsMark(id))
      const outcome = yield* runJob(id).pipe(Effect.provide(Fake.services(dir, after, keys)), Effect.scoped)
      assert.deepStrictEqual(feed.reads, [{ mode: "audit_log", position: feed.reads[0]?.position }])
      assert.deepStrictEqual(feed.reads[0]?.position?.cursor, { n: 2 })
      assert.deepStrictEqual([outcome.run, outcome.driftEvents], ["incremental", 1])
    }).pipe(Effect.scoped)
  )
})

describeWithPostgres("Change detection on a shared database", (server) => {
  it.live(
    "two processes share the feed position: the second reads on from where the first committed",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const database: Database = { _tag: "pg", url: Redacted.make(url) }
        const keys = Keyring.generate("k1")
        const processOf = (s: Fake.FakeState) => Layer.build(Fake.servicesOn(database, s, keys))
        const first = Fake.state()
        first.feed = Fake.feed()
        const a = yield* processOf(first)
        const second = Fake.state()
        const feed = (second.feed = Fake.feed())
        const b = yield* processOf(second)
        const id = yield* Effect.provide(
          Effect.gen(function* () {
            const { id } = yield* newConnection
            yield* runJob(id)
            yield* runJob(id)
            return id
          }),
          a
        )
        assert.strictEqual(Context.get(a, Store.Store) !== Context.get(b, Store.Store), true)
        second.items.push("b")
        feed.pending.push(Fake.itemsMark(id))
        const outcome = yield* Effect.provide(runJob(id), b)
        assert.deepStrictEqual(feed.reads.map((r) => [r.mode, r.position?.cursor]), [["audit_log", { n: 2 }]])
        assert.deepStrictEqual([outcome.run, outcome.driftEvents], ["incremental", 1])
        // And back: the first process reads on from the second's position.
        const again = yield* Effect.provide(runJob(id), a)
        assert.strictEqual(again.run, "incremental")
        assert.deepStrictEqual(first.feed.reads.at(-1)?.position?.cursor, { n: 1 })
      }).pipe(Effect.scoped),
    60_000
  )
})
