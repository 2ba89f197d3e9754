import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Credential, Store } from "@plumbline/core"
import { Deferred, Effect, Fiber, Option } from "effect"
import * as ConnectionState from "../src/ConnectionState.js"
import * as SnapshotJob from "../src/SnapshotJob.js"
import { Webhooks } from "../src/Webhooks.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"

const withServices = <A, E, R>(s: Fake.FakeState, body: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Harness.tempDir, (dir) => Effect.provide(body, Fake.services(dir, s))).pipe(Effect.scoped)

const newConnection = Effect.flatMap(Store.Store, (store) =>
  store.createConnection({ connectorId: "fake", name: "conn", credential: Fake.credential })
)

const eventTypes = Effect.flatMap(Webhooks, (w) =>
  Effect.map(w.events({ limit: 100 }), (page) => page.items.map((e) => e.type).reverse())
)

describe("SnapshotJob", () => {
  it.effect("commits the snapshot with its drift events, findings and the events they raise", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const webhooks = yield* Webhooks
        const { id } = yield* newConnection
        const first = yield* SnapshotJob.run(id)
        assert.strictEqual(first._tag, "Committed")
        // A new connection's failing check is an event; there is no drift without a previous snapshot.
        assert.deepStrictEqual(yield* eventTypes, ["finding.changed"])
        s.items.push("b")
        const second = yield* SnapshotJob.run(id)
        assert.deepStrictEqual(second, { _tag: "Committed", snapshotId: second._tag === "Committed" ? second.snapshotId : "", driftEvents: 1, findingChanges: 1 })
        assert.deepStrictEqual(yield* eventTypes, ["finding.changed", "drift.detected", "finding.changed"])
        const drift = yield* store.driftEvents({ since: 0, connectionId: id })
        const events = yield* webhooks.events({ type: "drift.detected" })
        assert.strictEqual(events.items[0]?.id, drift.items[0]?.id, "the webhook id is the drift event's id")
        const findings = yield* store.latestFindings(id)
        assert.strictEqual(findings[0]?.finding.verdict._tag, "pass")
        // Nothing changed: a snapshot, no events.
        const third = yield* SnapshotJob.run(id)
        assert.strictEqual(third._tag === "Committed" && third.driftEvents + third.findingChanges, 0)
        assert.strictEqual((yield* eventTypes).length, 3)
      })
    )
  })

  it.effect("a passing first verdict is not an event", () => {
    const s = Fake.state()
    s.items = ["a", "b"]
    return withServices(
      s,
      Effect.gen(function* () {
        const { id } = yield* newConnection
        yield* SnapshotJob.run(id)
        assert.deepStrictEqual(yield* eventTypes, [])
      })
    )
  })

  it.effect("stores nothing when the events cannot be recorded: snapshot and events are one transaction", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const sql = yield* SqlClient.SqlClient
        const { id } = yield* newConnection
        yield* sql.unsafe("drop table drift_monitor_events")
        const error = yield* Effect.flip(SnapshotJob.run(id))
        assert.strictEqual(error.reason, "store")
        assert.isTrue(Option.isNone(yield* store.latestSnapshot(id)))
        assert.strictEqual((yield* store.latestFindings(id)).length, 0)
      })
    )
  })

  it.effect("a refused credential pauses the connection with an alert and one event, and stores no snapshot", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const { id } = yield* newConnection
        yield* SnapshotJob.run(id)
        s.mode = "credential-invalid"
        const outcome = yield* SnapshotJob.run(id)
        assert.strictEqual(outcome._tag, "CredentialExpired")
        assert.strictEqual((yield* store.getConnection(id)).status, "credential_expired")
        const state = yield* ConnectionState.get(id)
        assert.strictEqual(state.alert?.kind, "credential_expired")
        assert.include(state.alert?.message ?? "", "revoked")
        assert.strictEqual((yield* store.listSnapshots(id)).items.length, 1, "the last good snapshot stays the latest")
        assert.deepStrictEqual(yield* SnapshotJob.run(id), { _tag: "Paused", status: "credential_expired" })
        assert.deepStrictEqual(yield* eventTypes, ["finding.changed", "connection.credential_expired"])
      })
    )
  })

  it.effect("a suspended account raises its own alert, keeps the connection active, stores nothing, and clears on recovery", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const { id } = yield* newConnection
        yield* SnapshotJob.run(id)
        s.mode = "account-suspended"
        const outcome = yield* SnapshotJob.run(id)
        assert.strictEqual(outcome._tag, "AccountUnavailable")
        // Not a credential problem: the connection stays active and scheduled.
        assert.strictEqual((yield* store.getConnection(id)).status, "active")
        const state = yield* ConnectionState.get(id)
        assert.strictEqual(state.alert?.kind, "account_unavailable")
        assert.include(state.alert?.message ?? "", "suspended")
        assert.strictEqual((yield* store.listSnapshots(id)).items.length, 1, "the last good snapshot stays the latest")
        // No webhook: neither an expired credential nor drift.
        assert.deepStrictEqual(yield* eventTypes, ["finding.changed"])
        // The account is restored: the next run commits and clears the alert.
        s.mode = "ok"
        assert.strictEqual((yield* SnapshotJob.run(id))._tag, "Committed")
        assert.isNull((yield* ConnectionState.get(id)).alert)
      })
    )
  })

  it.effect("a token replaced during the run is not marked expired by the old token's refusal", () => {
    const s = Fake.state()
    return withServices(
      s,
      Effect.gen(function* () {
        const store = yield* Store.Store
        const { id } = yield* newConnection
        s.mode = "credential-invalid"
        s.latch = yield* Deferred.make<void>()
        const running = yield* Effect.fork(SnapshotJob.run(id))
        // The run has read the connection and its token, and waits inside the provider.
        yield* Fake.entered(s)
        yield* store.replaceCredential(id, Credential.make("fake-token", "another-secret-0123456789"))
        yield* Deferred.succeed(s.latch, undefined)
        const outcome = yield* Fiber.join(running)
        assert.strictEqual(outcome._tag, "Superseded")
        assert.strictEqual((yield* store.getConnection(id)).status, "active")
        assert.deepStrictEqual(yield* eventTypes, [])
      })
    )
  })

  it("reads the app's settings out of a connection's JSON settings", () => {
    assert.deepStrictEqual(SnapshotJob.settingsOf({ zones: ["z1", 3], intervalSeconds: 120 }), { zones: ["z1"], intervalSeconds: 120 })
    assert.deepStrictEqual(SnapshotJob.settingsOf({ intervalSeconds: -1 }), { zones: undefined, intervalSeconds: undefined })
  })
})
