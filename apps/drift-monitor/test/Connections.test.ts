import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Store } from "@plumbline/core"
import { Deferred, Duration, Effect, Fiber, Layer, Option, PubSub, Queue, Stream, TestClock } from "effect"
import { type AppConfig, layerConfiguration } from "../src/Config.js"
import * as ConnectionState from "../src/ConnectionState.js"
import { Connections } from "../src/Connections.js"
import * as Events from "../src/Events.js"
import * as Scheduler from "../src/Scheduler.js"
import * as Views from "../src/Views.js"
import { Webhooks } from "../src/Webhooks.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"

/** The app's configuration with the test scheduler (60 s, no jitter): the default interval is 60 s. */
const configIn = (dir: string): AppConfig => ({
  ...Harness.config(dir, "http://127.0.0.1:9/client/v4"),
  scheduler: { ...Fake.schedulerSettings, jitter: 0 }
})

/**
 * Runs `body` with the Connections service on the fake provider, a real scheduler and a real SQLite
 * file — the service's own dependencies replaced, as its `DefaultWithoutDependencies` allows.
 */
const withConnections = <A, E, R>(s: Fake.FakeState, body: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const dir = yield* Harness.tempDir
    const config = configIn(dir)
    const services = Layer.provideMerge(Scheduler.layer(config.scheduler), Fake.services(dir, s))
    const layer = Connections.DefaultWithoutDependencies.pipe(
      Layer.provideMerge(services),
      Layer.provideMerge(layerConfiguration(config))
    )
    return yield* Effect.provide(body, layer)
  }).pipe(Effect.scoped)

const settled = Effect.flatMap(Scheduler.Scheduler, (scheduler) => scheduler.settled())

const zone = (id: string, name: string) => ({ id, name, status: "active", plan: undefined, account: undefined })

describe("Connections", () => {
  it.effect("33 concurrent re-checks of one connection share one run (issue #16)", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const created = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        assert.strictEqual(s.runs, 1)
        yield* Fake.entered(s) // the first run's
        s.latch = yield* Deferred.make<void>()
        // One re-check starts the run, held open; 32 more come while it runs, and join it.
        const firstCaller = yield* Effect.fork(connections.recheck(created.connection.id, { wait: true }))
        yield* Fake.entered(s)
        const flood = yield* Effect.fork(
          Effect.all(
            Array.from({ length: 32 }, () => connections.recheck(created.connection.id, { wait: true })),
            { concurrency: "unbounded" }
          )
        )
        // Released only once all 33 callers wait on a re-check: none of them can have missed it.
        yield* Stream.runDrain(Stream.takeUntil(connections.recheckWaiters, (n) => n >= 33))
        yield* Deferred.succeed(s.latch, undefined)
        const results = [yield* Fiber.join(firstCaller), ...(yield* Fiber.join(flood))]
        yield* settled
        assert.strictEqual(s.runs, 2, "one run for the 33 re-checks")
        assert.strictEqual(new Set(results.map((r) => JSON.stringify(Views.recheck(r)))).size, 1, "all got its result")
        assert.strictEqual(Views.recheck(results[0]!).outcome, "committed")
      })
    )
  })

  it.effect("creates a connection with the zones its token sees; its first snapshot runs at once", () => {
    const s = Fake.state()
    s.zones = [zone("z1", "one.example"), zone("z2", "two.example")]
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const created = yield* connections.create({ name: "Acme", token: "fake-token-0123456789", zones: ["z1"] })
        assert.strictEqual(created.connection.status, "active")
        assert.deepStrictEqual(created.zones, ["z1"])
        assert.strictEqual(created.intervalSeconds, 60, "the scheduler's default")
        assert.isTrue(Option.isSome(created.schedule), "scheduled before the answer")
        yield* settled
        assert.strictEqual(s.runs, 1)
        const overview = yield* connections.get(created.connection.id)
        assert.isDefined(overview.latest)
        assert.strictEqual(overview.score, 0, "the fake check fails until item b exists")
        assert.deepStrictEqual(
          (yield* connections.zones(created.connection.id)).map((z) => [z.zone.name, z.monitored]),
          [["one.example", true], ["two.example", false]]
        )
      })
    )
  })

  it.effect("refuses a zone the token cannot see, and stores nothing", () => {
    const s = Fake.state()
    s.zones = [zone("z1", "one.example")]
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const refused = yield* Effect.flip(connections.create({ name: "Acme", token: "fake-token-0123456789", zones: ["z1", "nope"] }))
        assert.strictEqual(refused._tag, "ConnectionError")
        assert.strictEqual(refused.message, "zones: the token cannot see nope")
        assert.deepStrictEqual(yield* connections.list, [])
      })
    )
  })

  it.effect("a schedule that cannot be written fails the creation, which stores nothing", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const store = yield* Store.Store
        const sql = yield* SqlClient.SqlClient
        yield* Harness.refuseScheduleWrites(sql)
        const failed = yield* Effect.flip(connections.create({ name: "Acme", token: "fake-token-0123456789" }))
        assert.strictEqual(failed._tag, "SchedulerError")
        assert.include(failed.message, "the schedule refuses writes")
        assert.deepStrictEqual(yield* store.listConnections, [], "the connection was rolled back with its schedule")
        yield* Harness.allowScheduleWrites(sql)
        const created = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        assert.strictEqual(s.runs, 1)
        assert.strictEqual((yield* store.listConnections).length, 1)
        assert.strictEqual(created.connection.name, "Acme")
      })
    )
  })

  it.effect("updates name, zones and interval; null returns a setting to its default", () => {
    const s = Fake.state()
    s.zones = [zone("z1", "one.example")]
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const { connection } = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        const changed = yield* connections.update(connection.id, { name: "Acme EU", zones: ["z1"], intervalSeconds: 120 })
        assert.strictEqual(changed.connection.name, "Acme EU")
        assert.deepStrictEqual(changed.zones, ["z1"])
        assert.strictEqual(changed.intervalSeconds, 120)
        assert.deepStrictEqual(changed.connection.settings, { zones: ["z1"], intervalSeconds: 120 })
        const reset = yield* connections.update(connection.id, { zones: null, intervalSeconds: null })
        assert.strictEqual(reset.connection.name, "Acme EU", "an absent field is left as it is")
        assert.isNull(reset.zones)
        assert.strictEqual(reset.intervalSeconds, 60)
        assert.deepStrictEqual(reset.connection.settings, {})
      })
    )
  })

  it.effect("pauses (no run while paused) and resumes (re-checked at once), announcing each status", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const bus = yield* Events.Bus
        const events = yield* PubSub.subscribe(bus)
        const { connection } = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        assert.strictEqual(s.runs, 1)

        const paused = yield* connections.update(connection.id, { paused: true })
        assert.strictEqual(paused.connection.status, "paused")
        const recheck = yield* connections.recheck(connection.id, { wait: false })
        assert.deepStrictEqual(recheck, { _tag: "Inactive", status: "paused" })
        yield* TestClock.adjust(Duration.hours(2))
        yield* settled
        assert.strictEqual(s.runs, 1, "no snapshot while paused")

        const resumed = yield* connections.update(connection.id, { paused: false })
        assert.strictEqual(resumed.connection.status, "active")
        yield* settled
        assert.strictEqual(s.runs, 2, "re-checked at once")

        const statuses = Array.from(yield* Queue.takeAll(events)).filter((e) => e.type === "connection.status")
        assert.deepStrictEqual(
          statuses.map((e) => (e.type === "connection.status" ? e.status : "")),
          ["paused", "active"]
        )
      })
    )
  })

  it.effect("an expired credential is not resumed by un-pausing, and stays expired when paused; a new token restores it", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const webhooks = yield* Webhooks
        const { connection } = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        s.mode = "credential-invalid"
        const expired = yield* connections.recheck(connection.id, { wait: true })
        assert.strictEqual(expired._tag === "Ran" && expired.result._tag === "Right" && expired.result.right._tag, "CredentialExpired")

        const refused = yield* Effect.flip(connections.update(connection.id, { paused: false }))
        assert.strictEqual(refused._tag, "ConnectionError")
        assert.include(refused.message, "PUT /connections/{id}/credential")
        const stillExpired = yield* connections.update(connection.id, { paused: true })
        assert.strictEqual(stillExpired.connection.status, "credential_expired")
        assert.strictEqual(stillExpired.alert?.kind, "credential_expired")

        s.mode = "ok"
        const runs = s.runs
        const restored = yield* connections.replaceCredential(connection.id, "fake-token-replacement-0123456789")
        assert.strictEqual(restored.connection.status, "active")
        assert.isNull(restored.alert)
        assert.notStrictEqual(restored.connection.credentialFingerprint, connection.credentialFingerprint)
        yield* settled
        assert.strictEqual(s.runs, runs + 1, "re-checked at once with the new token")
        const types = (yield* webhooks.events({})).items.map((e) => e.type)
        assert.include(types, "connection.restored")
      })
    )
  })

  it.effect("deletes a connection with its snapshots, schedule and state", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const scheduler = yield* Scheduler.Scheduler
        const sql = yield* SqlClient.SqlClient
        const { connection } = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        assert.isNotNull((yield* ConnectionState.get(connection.id)).lastRunAt)

        yield* connections.remove(connection.id)
        const gone = yield* Effect.flip(connections.get(connection.id))
        assert.isTrue(gone._tag === "StoreError" && gone.reason === "not-found")
        assert.isTrue(Option.isNone(yield* scheduler.schedule(connection.id)), "unscheduled")
        assert.deepStrictEqual(yield* ConnectionState.get(connection.id), { alert: null, lastRunAt: null, lastError: null, failures: 0 })
        const [snapshots] = yield* sql<{ n: number }>`select count(*) as n from plumbline_snapshots where connection_id = ${connection.id}`
        assert.strictEqual(Number(snapshots?.n), 0)
        const again = yield* Effect.flip(connections.remove(connection.id))
        assert.isTrue(again._tag === "StoreError" && again.reason === "not-found")
        yield* TestClock.adjust(Duration.hours(2))
        yield* settled
        assert.strictEqual(s.runs, 1, "never run again")
      })
    )
  })

  it.effect("reads the records of one resource in one scope of the latest snapshot", () => {
    const s = Fake.state()
    s.items = ["a", "c"]
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const { connection } = yield* Effect.flatMap(Store.Store, (store) =>
          Effect.map(store.createConnection({ connectorId: "fake", name: "Acme", credential: Fake.credential }), (connection) => ({ connection }))
        )
        const scope = `connection:${connection.id}`
        const none = yield* Effect.flip(connections.records(connection.id, "items", scope))
        assert.isTrue(none._tag === "ConnectionError" && none.reason === "not-found")
        assert.strictEqual(none.message, `connection ${connection.id} has no snapshot yet`)

        yield* connections.recheck(connection.id, { wait: true })
        const records = yield* connections.records(connection.id, "items", scope)
        assert.deepStrictEqual(Views.records(records), {
          snapshotId: records.snapshotId,
          resource: "items",
          scope,
          status: "ok",
          records: [
            { key: "a", value: { key: "a" } },
            { key: "c", value: { key: "c" } }
          ]
        })
        const latest = yield* connections.latestSnapshot(connection.id)
        assert.strictEqual(records.snapshotId, latest.id)
        const unknown = yield* Effect.flip(connections.records(connection.id, "nope", scope))
        assert.isTrue(unknown._tag === "ConnectionError" && unknown.reason === "not-found")
        assert.strictEqual(unknown.message, `the latest snapshot has no nope in ${scope}`)
      })
    )
  })

  it.effect("lists every verdict of a check, oldest first, in one scope or all", () => {
    const s = Fake.state()
    return withConnections(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const { connection } = yield* connections.create({ name: "Acme", token: "fake-token-0123456789" })
        yield* settled
        s.items.push("b")
        const second = yield* connections.recheck(connection.id, { wait: true })
        assert.strictEqual(second._tag === "Ran" && second.result._tag === "Right" && second.result.right._tag, "Committed")

        const scope = `connection:${connection.id}`
        const history = yield* connections.findingHistory(connection.id, Fake.hasB.id)
        assert.deepStrictEqual(
          history.map((h) => h.finding.verdict._tag),
          ["fail", "pass"]
        )
        assert.deepStrictEqual(Views.findingHistory(yield* connections.findingHistory(connection.id, Fake.hasB.id, scope)).map((h) => [h.scope, h.status]), [
          [scope, "fail"],
          [scope, "pass"]
        ])
        assert.deepStrictEqual(yield* connections.findingHistory(connection.id, Fake.hasB.id, "zone:elsewhere"), [])
        assert.deepStrictEqual(yield* connections.findingHistory(connection.id, "no.such-check"), [])
        const checklist = yield* connections.checklist(connection.id)
        assert.strictEqual(checklist.score, 100)
        assert.strictEqual(checklist.items[0]?.check?.description, Fake.hasB.description)
        const missing = yield* Effect.flip(connections.findingHistory("nope", Fake.hasB.id))
        assert.isTrue(missing._tag === "StoreError" && missing.reason === "not-found")
      })
    )
  })
})
