import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, TestClock } from "effect"
import * as ChangeFeed from "../src/ChangeFeed.js"
import * as Drift from "../src/Drift.js"
import * as Snapshot from "../src/Snapshot.js"
import * as SnapshotRunner from "../src/SnapshotRunner.js"
import * as Toy from "./fixtures/ToyConnector.js"

const run = (data: Toy.ToyData, options: Partial<SnapshotRunner.RunOptions> = {}) => {
  const fake = Toy.fakeProvider(data)
  return Effect.map(
    SnapshotRunner.run(Toy.connector, { connectionId: "conn-1", ...options }).pipe(Effect.provide(Toy.layer(fake))),
    (snapshot) => ({ snapshot, paths: fake.requests.map((r) => r.url.pathname.replace(/^\/api/, "")) })
  )
}

const changes = (marks: ReadonlyArray<{ scope: string; resources?: ReadonlyArray<string> }>) =>
  Effect.map(
    DateTime.now,
    (at) =>
      new ChangeFeed.Changes({
        position: new ChangeFeed.Position({ mode: "audit_log", at, cursor: { seen: ["e1"] } }),
        marks: marks.map((m) => new ChangeFeed.Mark({ ...m, reason: "test" })),
        requestCount: 1
      })
  )

/** An incremental run after `previous` and a full run over the same data, for comparison. */
const both = (
  data: Toy.ToyData,
  previous: Snapshot.Snapshot,
  marks: ReadonlyArray<{ scope: string; resources?: ReadonlyArray<string> }>,
  extra: Partial<SnapshotRunner.Incremental> = {}
) =>
  Effect.gen(function* () {
    const incremental = yield* run(data, {
      incremental: { previous, previousId: "snap-1", changes: yield* changes(marks), ...extra }
    })
    const full = yield* run(data)
    return { incremental, full }
  })

const keysRead = (snapshot: Snapshot.Snapshot) => snapshot.provenance?.read ?? "full"

describe("SnapshotRunner incremental runs", () => {
  it.effect("with no marks every result is carried: no request but the feed's, and the same content hash as a full read", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      yield* TestClock.adjust(Duration.minutes(1))
      const { full, incremental } = yield* both(data, previous, [])
      assert.deepStrictEqual(incremental.paths, [])
      // The feed's read (one request, as `changes` says) is what the snapshot cost.
      assert.strictEqual(incremental.snapshot.requestCount, 1)
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
      assert.deepStrictEqual(keysRead(incremental.snapshot), [])
      const how = Snapshot.obtained(incremental.snapshot, "records@zone:z1")
      assert.strictEqual(how._tag, "carried")
      if (how._tag === "carried") {
        assert.strictEqual(how.from, "snap-1")
        assert.deepStrictEqual(how.position.cursor, { seen: ["e1"] })
      }
      assert.isTrue(Snapshot.isIncremental(incremental.snapshot))
      assert.isFalse(Snapshot.isIncremental(full.snapshot))
      // Provenance survives JSON, and stays out of the content.
      const again = yield* Snapshot.fromJson(Snapshot.toJson(incremental.snapshot))
      assert.strictEqual(Snapshot.toJson(again), Snapshot.toJson(incremental.snapshot))
      assert.strictEqual(Snapshot.contentJson(again), Snapshot.contentJson(full.snapshot))
    }))

  it.effect("carries the previous snapshot's own results, and sorts them even when that snapshot was not in order", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      const { full, incremental } = yield* both(data, previous, [{ scope: "zone:z1", resources: ["records"] }])
      const read = new Set(keysRead(incremental.snapshot))
      for (const result of incremental.snapshot.results) {
        if (!read.has(result.key)) assert.strictEqual(result, previous.results.find((r) => r.key === result.key))
      }
      // So drift has nothing to compare in them.
      assert.strictEqual(Drift.diff(previous, incremental.snapshot).changes.length, 0)
      const shuffled = new Snapshot.Snapshot({ ...previous, results: [...previous.results].reverse() })
      const again = yield* both(data, shuffled, [{ scope: "zone:z1", resources: ["records"] }])
      assert.deepStrictEqual(again.incremental.snapshot.results.map((r) => r.key), full.snapshot.results.map((r) => r.key))
      assert.strictEqual(Snapshot.contentHash(again.incremental.snapshot), Snapshot.contentHash(full.snapshot))
    }))

  it.effect("a mark with resources re-reads exactly those resources in that scope", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      data.records.push({ id: "r9", zone: "z1", type: "A", name: "new.redpine.io", content: "192.0.2.9" })
      data.firewall[0]!.action = "allow" // not announced: stays as it was
      const { full, incremental } = yield* both(data, previous, [{ scope: "zone:z1", resources: ["records"] }])
      assert.deepStrictEqual(incremental.paths, ["/zones/z1/records", "/zones/z1/records"])
      assert.deepStrictEqual(keysRead(incremental.snapshot), ["records@zone:z1"])
      const records = Snapshot.find(incremental.snapshot, "records", "zone:z1")?.status
      assert.deepStrictEqual(records?._tag === "ok" && records.records.map((r) => r.key), ["r1", "r2", "r3", "r9"])
      const firewall = Snapshot.find(incremental.snapshot, "firewall", "zone:z1")?.status
      assert.deepStrictEqual(firewall?._tag === "ok" && firewall.records.map((r) => (r.value as { action: string }).action), ["block"])
      assert.notStrictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
    }))

  it.effect("a mark without resources re-reads every resource of the scope and of the scopes it produces", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      data.records = data.records.filter((r) => r.id !== "r4")
      data.zones[0]!.plan = "free"
      const { full, incremental } = yield* both(data, previous, [{ scope: "account:acc1" }])
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
      assert.deepStrictEqual(keysRead(incremental.snapshot), incremental.snapshot.results.map((r) => r.key).filter((k) => k !== "accounts@connection:conn-1"))
      assert.strictEqual(Snapshot.obtained(incremental.snapshot, "accounts@connection:conn-1")._tag, "carried")
    }))

  it.effect("the root key re-reads everything: a full snapshot without provenance", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      const { full, incremental } = yield* both(data, previous, [{ scope: "connection:conn-1" }])
      assert.strictEqual(incremental.paths.length, full.paths.length)
      assert.isUndefined(incremental.snapshot.provenance)
      assert.strictEqual(Snapshot.obtained(incremental.snapshot, "records@zone:z1")._tag, "read")
    }))

  it.effect("the root key with resources re-reads only those resources of the root scope", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      const marks = [{ scope: "connection:conn-1", resources: ["accounts"] }]
      const unchanged = yield* both(data, previous, marks)
      assert.deepStrictEqual(unchanged.incremental.paths, ["/accounts"])
      assert.deepStrictEqual(keysRead(unchanged.incremental.snapshot), ["accounts@connection:conn-1"])
      // A renamed account is a changed scope: everything under it is read again.
      data.accounts[0]!.name = "Redpine Ltd"
      const { full, incremental } = yield* both(data, previous, marks)
      assert.include(incremental.paths, "/zones/z1/records")
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
    }))

  it.effect("a re-read producer adds new child scopes (read in full) and drops vanished ones", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      data.zones = data.zones.filter((z) => z.id !== "z2")
      data.zones.push({ id: "z3", account: "acc1", name: "redpine.net", plan: "pro", modified_on: "2026-02-01T00:00:00Z" })
      data.records.push({ id: "r5", zone: "z3", type: "A", name: "redpine.net", content: "192.0.2.5" })
      const { full, incremental } = yield* both(data, previous, [{ scope: "account:acc1", resources: ["zones"] }])
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
      assert.deepStrictEqual(
        [...incremental.paths].sort(),
        ["/zones", "/zones/z3/analytics", "/zones/z3/audit", "/zones/z3/firewall", "/zones/z3/records"]
      )
      assert.isUndefined(Snapshot.find(incremental.snapshot, "records", "zone:z2"))
      assert.strictEqual(Snapshot.obtained(incremental.snapshot, "records@zone:z1")._tag, "carried")
      assert.strictEqual(Snapshot.obtained(incremental.snapshot, "records@zone:z3")._tag, "read")
    }))

  it.effect("a child whose attributes changed is read again in full", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      data.zones[1]!.plan = "pro" // z2 gains analytics
      const { full, incremental } = yield* both(data, previous, [{ scope: "account:acc1", resources: ["zones"] }])
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
      assert.strictEqual(Snapshot.find(incremental.snapshot, "analytics", "zone:z2")?.status._tag, "ok")
      assert.strictEqual(Snapshot.obtained(incremental.snapshot, "records@zone:z1")._tag, "carried")
    }))

  it.effect("a mark on a scope the previous snapshot never saw re-reads every producer to find it", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      data.zones.push({ id: "z3", account: "acc1", name: "redpine.net", plan: "free", modified_on: "2026-02-01T00:00:00Z" })
      const { full, incremental } = yield* both(data, previous, [{ scope: "zone:z3" }])
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
      assert.include(incremental.paths, "/accounts")
      assert.include(incremental.paths, "/zones/z3/records")
      assert.notInclude(incremental.paths, "/zones/z1/records")
    }))

  it.effect("a result that failed before is read again", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      data.failures.set("/zones/z1/firewall", 404)
      const { snapshot: previous } = yield* run(data)
      assert.strictEqual(Snapshot.find(previous, "firewall", "zone:z1")?.status._tag, "failed")
      data.failures.clear()
      const { full, incremental } = yield* both(data, previous, [])
      assert.deepStrictEqual(incremental.paths, ["/zones/z1/firewall"])
      assert.strictEqual(Snapshot.contentHash(incremental.snapshot), Snapshot.contentHash(full.snapshot))
    }))

  it.effect("an incomplete previous snapshot or another connector version means a full read", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: previous } = yield* run(data)
      const older = new Snapshot.Snapshot({ ...previous, connector: { id: "toy", version: "0.9.0" } })
      const { full, incremental } = yield* both(data, older, [])
      assert.strictEqual(incremental.paths.length, full.paths.length)
      assert.isUndefined(incremental.snapshot.provenance)
    }))

  it.effect("resources on the slower cadence are re-read once per maxAge in each scope, each scope at its own turn", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      let previous = (yield* run(data)).snapshot
      const cadence = { resources: ["firewall"], maxAge: Duration.hours(1) }
      // Runs every 5 minutes for three hours: each zone's firewall is read once in each hour, in
      // one run of the twelve, and the two zones' turns differ (their phases come from their keys).
      const turns: Record<string, Array<number>> = {}
      for (let k = 1; k <= 36; k++) {
        yield* TestClock.adjust(Duration.minutes(5))
        const next = yield* both(data, previous, [], { cadence })
        for (const path of next.incremental.paths) (turns[path] ??= []).push(k)
        assert.strictEqual(Snapshot.contentHash(next.incremental.snapshot), Snapshot.contentHash(next.full.snapshot))
        previous = next.incremental.snapshot
      }
      assert.deepStrictEqual(Object.keys(turns).sort(), ["/zones/z1/firewall", "/zones/z2/firewall"])
      for (const runs of Object.values(turns)) {
        assert.strictEqual(runs.length, 3)
        assert.deepStrictEqual([runs[1]! - runs[0]!, runs[2]! - runs[1]!], [12, 12])
      }
      assert.notDeepEqual(turns["/zones/z1/firewall"], turns["/zones/z2/firewall"])
      // A change on the cadence shows within one period, though no mark announced it.
      data.firewall[0]!.action = "allow"
      let seen = false
      for (let k = 0; k < 12 && !seen; k++) {
        yield* TestClock.adjust(Duration.minutes(5))
        const next = yield* both(data, previous, [], { cadence })
        seen = Snapshot.contentHash(next.incremental.snapshot) === Snapshot.contentHash(next.full.snapshot)
        previous = next.incremental.snapshot
      }
      assert.isTrue(seen)
    }))

  it.effect("a gap of maxAge or more since the previous snapshot re-reads the cadence in every scope", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      const { snapshot: first } = yield* run(data)
      const cadence = { resources: ["firewall"], maxAge: Duration.hours(1) }
      yield* TestClock.adjust(Duration.minutes(60))
      const late = yield* both(data, first, [], { cadence })
      assert.deepStrictEqual([...late.incremental.paths].sort(), ["/zones/z1/firewall", "/zones/z2/firewall"])
      // Read in this run, so the oldest read moves on; carried results keep the oldest they had.
      assert.strictEqual(
        DateTime.toEpochMillis(Snapshot.oldestReadOf(late.incremental.snapshot, "firewall")),
        DateTime.toEpochMillis(late.incremental.snapshot.startedAt)
      )
      assert.strictEqual(
        DateTime.toEpochMillis(Snapshot.oldestReadOf(late.incremental.snapshot, "records")),
        DateTime.toEpochMillis(first.startedAt)
      )
    }))
})
