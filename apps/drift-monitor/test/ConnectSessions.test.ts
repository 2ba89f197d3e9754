import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import { Keyring } from "@plumbline/store-sql"
import { Credential } from "@plumbline/core"
import { type AppConfig, layerConfiguration } from "../src/Config.js"
import { Connections } from "../src/Connections.js"
import { ConnectSessions, maxVerifyAttempts, statusOf } from "../src/ConnectSessions.js"
import type * as Db from "../src/Db.js"
import * as Scheduler from "../src/Scheduler.js"
import { Webhooks } from "../src/Webhooks.js"
import * as Fake from "./fixtures/FakeProvider.js"
import * as Harness from "./fixtures/Harness.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"

const configIn = (dir: string): AppConfig => ({
  ...Harness.config(dir, "http://127.0.0.1:9/client/v4"),
  scheduler: { ...Fake.schedulerSettings, jitter: 0 }
})

/** Runs `body` with ConnectSessions and Connections on the fake provider and a real SQLite file, on the TestClock. */
const withSessions = <A, E, R>(s: Fake.FakeState, body: Effect.Effect<A, E, R>, database?: Db.Database) =>
  Effect.gen(function* () {
    const dir = yield* Harness.tempDir
    const config = configIn(dir)
    const fake = database === undefined ? Fake.services(dir, s) : Fake.servicesOn(database, s, Keyring.generate("k1"))
    const services = Layer.provideMerge(Scheduler.layer(config.scheduler), fake)
    const layer = ConnectSessions.DefaultWithoutDependencies.pipe(
      Layer.provideMerge(Connections.DefaultWithoutDependencies),
      Layer.provideMerge(services),
      Layer.provideMerge(layerConfiguration(config))
    )
    return yield* Effect.provide(body, layer)
  }).pipe(Effect.scoped)

const zone = (id: string, name: string) => ({ id, name, status: "active", plan: undefined, account: undefined })
const settled = Effect.flatMap(Scheduler.Scheduler, (scheduler) => scheduler.settled())
const endUser = { id: "cus_42", displayName: "Acme Corp", email: "ops@acme.example" }

/** The webhook events of one type, oldest first. */
const eventsOf = (type: "connection.created" | "connection.restored" | "connection.credential_expired") =>
  Effect.flatMap(Webhooks, (w) =>
    Effect.map(w.events({ type, limit: 100 }), (page) => [...page.items].reverse().map((e) => ({ ...e, data: e.data as Record<string, unknown> })))
  )

/** A failure's reason (a session's), or its tag. */
const reasonOf = (e: { readonly _tag: string; readonly reason?: unknown }) => (e._tag === "ConnectSessionError" ? String(e.reason) : e._tag)

describe("ConnectSessions", () => {
  it.effect("opens a pending session whose token opens it; only the token's hash is stored", () =>
    withSessions(
      Fake.state(),
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const { session, token } = yield* sessions.create({ endUser, allowedOrigins: ["https://app.acme.example"] })
        assert.match(session.id, /^cs_/)
        assert.strictEqual(String(token), "<redacted>", "the token is Redacted in memory")
        assert.strictEqual(session.expiresAt - session.createdAt, 1_800_000, "30 minutes by default")
        assert.strictEqual(statusOf(yield* sessions.get(session.id), yield* TestClock.currentTimeMillis), "pending")
        const opened = yield* sessions.authenticate(token)
        assert.strictEqual(opened.id, session.id)
        assert.deepStrictEqual(opened.allowedOrigins, ["https://app.acme.example"])
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql<Record<string, unknown>>`select * from drift_monitor_connect_sessions`
        assert.notInclude(JSON.stringify(rows), Redacted.value(token).split(".")[1]!, "the secret is not stored")
        // A token of the right shape with a wrong secret, or of another shape, opens nothing.
        const wrong = yield* Effect.flip(sessions.authenticate(Redacted.make(`${session.id}.${"A".repeat(43)}`)))
        assert.strictEqual(reasonOf(wrong), "unauthorized")
        const garbage = yield* Effect.flip(sessions.authenticate(Redacted.make("test-api-key-0123456789")))
        assert.strictEqual(reasonOf(garbage), "unauthorized")
      })
    )
  )

  it.effect("expires after its ttl, on the clock: its token is then refused and its status is expired", () =>
    withSessions(
      Fake.state(),
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const { session, token } = yield* sessions.create({ endUser, ttlSeconds: 60 })
        yield* TestClock.adjust(Duration.seconds(59))
        assert.strictEqual((yield* sessions.authenticate(token)).id, session.id, "still open a second before")
        yield* TestClock.adjust(Duration.seconds(1))
        const refused = yield* Effect.flip(sessions.authenticate(token))
        assert.strictEqual(reasonOf(refused), "unauthorized")
        assert.strictEqual(statusOf(yield* sessions.get(session.id), yield* TestClock.currentTimeMillis), "expired")
      })
    )
  )

  it.effect("allows 10 verifications per session and refuses the 11th", () =>
    withSessions(
      Fake.state(),
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const { session } = yield* sessions.create({ endUser })
        for (let i = 0; i < maxVerifyAttempts; i++) yield* sessions.countVerification(session)
        const refused = yield* Effect.flip(sessions.countVerification(session))
        assert.strictEqual(refused._tag, "ConnectSessionError")
        assert.strictEqual(reasonOf(refused), "too-many-attempts")
        const other = yield* sessions.create({ endUser })
        yield* sessions.countVerification(other.session) // the budget is per session
      })
    )
  )

  it.effect("completing makes the connection for the end user, is single use, and raises connection.created with endUser and zones", () => {
    const s = Fake.state()
    s.zones = [zone("z1", "one.example"), zone("z2", "two.example")]
    return withSessions(
      s,
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const connections = yield* Connections
        const { session, token } = yield* sessions.create({ endUser })
        const done = yield* sessions.complete(yield* sessions.authenticate(token), { tokens: ["fake-token-0123456789"], zones: ["z2"] })
        assert.deepStrictEqual(done.zones, [{ id: "z2", name: "two.example" }])
        yield* settled
        const made = yield* connections.get(done.connectionId)
        assert.strictEqual(made.connection.name, "Acme Corp")
        assert.deepStrictEqual(made.endUser, endUser)
        // Consumed: the token opens nothing, a second completion makes nothing.
        const again = yield* Effect.flip(sessions.authenticate(token))
        assert.strictEqual(reasonOf(again), "consumed")
        const second = yield* Effect.flip(sessions.complete(session, { tokens: ["fake-token-0123456789"] }))
        assert.strictEqual(reasonOf(second), "consumed")
        assert.lengthOf(yield* connections.list, 1)
        const status = yield* sessions.get(session.id)
        assert.strictEqual(statusOf(status, yield* TestClock.currentTimeMillis), "completed")
        assert.strictEqual(status.connectionId, done.connectionId)
        const created = yield* eventsOf("connection.created")
        assert.lengthOf(created, 1)
        assert.deepInclude(created[0]!.data, {
          connectionId: done.connectionId,
          connectionName: "Acme Corp",
          endUser,
          zones: [{ id: "z2", name: "two.example" }]
        })
        // Listing by end user finds it; another end user has none.
        assert.deepStrictEqual((yield* connections.listByEndUser("cus_42")).map((o) => o.connection.id), [done.connectionId])
        assert.deepStrictEqual(yield* connections.listByEndUser("cus_other"), [])
      })
    )
  })

  it.effect("several tokens make one connection holding each of them (issue #13 item 4); the session is then consumed", () =>
    withSessions(
      Fake.state(),
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const connections = yield* Connections
        const { token } = yield* sessions.create({ endUser })
        const session = yield* sessions.authenticate(token)
        const done = yield* sessions.complete(session, { tokens: ["fake-token-0123456789", "fake-token-9876543210"] })
        const overview = yield* connections.get(done.connectionId)
        assert.deepStrictEqual(
          overview.credentials.map((c) => [c.fingerprint, c.status]),
          [
            [Credential.fingerprint(Credential.make("fake-token", "fake-token-0123456789")), "active"],
            [Credential.fingerprint(Credential.make("fake-token", "fake-token-9876543210")), "active"]
          ]
        )
        const consumed = yield* Effect.flip(sessions.authenticate(token))
        assert.strictEqual(consumed._tag === "ConnectSessionError" ? consumed.reason : consumed._tag, "consumed")
      })
    )
  )

  it.effect("a reconnect session restores an expired connection; the expiry and restore events carry the end user", () => {
    const s = Fake.state()
    s.zones = [zone("z1", "one.example")]
    return withSessions(
      s,
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const connections = yield* Connections
        const first = yield* sessions.create({ endUser })
        const { connectionId } = yield* sessions.complete(yield* sessions.authenticate(first.token), { tokens: ["fake-token-0123456789"] })
        yield* settled
        s.mode = "credential-invalid"
        yield* connections.recheck(connectionId, { wait: true })
        assert.strictEqual((yield* connections.get(connectionId)).connection.status, "credential_expired")
        const expired = yield* eventsOf("connection.credential_expired")
        assert.deepStrictEqual(expired[0]?.data["endUser"], endUser)

        s.mode = "ok"
        const again = yield* sessions.create({ endUser, reconnect: connectionId })
        const opened = yield* sessions.authenticate(again.token)
        assert.strictEqual(opened.reconnect, connectionId)
        const done = yield* sessions.complete(opened, { tokens: ["fake-token-abcdefghij"] })
        assert.strictEqual(done.connectionId, connectionId, "the same connection, not a new one")
        assert.deepStrictEqual(done.zones, [{ id: "z1", name: "one.example" }])
        assert.strictEqual((yield* connections.get(connectionId)).connection.status, "active")
        assert.lengthOf(yield* connections.list, 1)
        const restored = yield* eventsOf("connection.restored")
        assert.deepInclude(restored[0]!.data, {
          connectionId,
          connectionName: "Acme Corp",
          endUser,
          zones: [{ id: "z1", name: "one.example" }]
        })
      })
    )
  })

  it.effect("a reconnect session must name an existing connection", () =>
    withSessions(
      Fake.state(),
      Effect.gen(function* () {
        const sessions = yield* ConnectSessions
        const refused = yield* Effect.flip(sessions.create({ endUser, reconnect: "nope" }))
        assert.strictEqual(refused._tag, "StoreError")
      })
    )
  )

  it.effect("a connection made without a session has no end user, and its credential_expired event none either", () => {
    const s = Fake.state()
    return withSessions(
      s,
      Effect.gen(function* () {
        const connections = yield* Connections
        const made = yield* connections.create({ name: "Direct", token: "fake-token-0123456789" })
        assert.isNull(made.endUser)
        yield* settled
        s.mode = "credential-invalid"
        yield* connections.recheck(made.connection.id, { wait: true })
        const expired = yield* eventsOf("connection.credential_expired")
        assert.notProperty(expired[0]?.data ?? {}, "endUser")
        const created = yield* eventsOf("connection.created")
        assert.isNull(created[0]?.data["endUser"])
      })
    )
  })
})

describeWithPostgres("ConnectSessions on PostgreSQL", (server) => {
  it.live(
    "counts verifications, completes once and reads sessions back with bigint times",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const s = Fake.state()
        s.zones = [zone("z1", "one.example")]
        yield* withSessions(
          s,
          Effect.gen(function* () {
            const sessions = yield* ConnectSessions
            const { session, token } = yield* sessions.create({ endUser, allowedOrigins: ["https://app.acme.example"] })
            const opened = yield* sessions.authenticate(token)
            assert.deepStrictEqual(opened.allowedOrigins, ["https://app.acme.example"])
            assert.strictEqual(opened.expiresAt, session.expiresAt)
            for (let i = 0; i < maxVerifyAttempts; i++) yield* sessions.countVerification(opened)
            assert.strictEqual(reasonOf(yield* Effect.flip(sessions.countVerification(opened))), "too-many-attempts")
            const done = yield* sessions.complete(opened, { tokens: ["fake-token-0123456789"] })
            assert.deepStrictEqual(done.zones, [{ id: "z1", name: "one.example" }])
            assert.strictEqual(reasonOf(yield* Effect.flip(sessions.authenticate(token))), "consumed")
            assert.strictEqual((yield* sessions.get(session.id)).connectionId, done.connectionId)
            assert.deepStrictEqual((yield* Effect.flatMap(Connections, (c) => c.get(done.connectionId))).endUser, endUser)
          }),
          { _tag: "pg", url: Redacted.make(url) }
        )
      }).pipe(Effect.scoped),
    60_000
  )
})
