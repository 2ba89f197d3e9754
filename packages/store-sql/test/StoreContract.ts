/**
 * The store contract: one suite every `Store` implementation must pass. `SqliteStore.test.ts` and
 * `PgStore.test.ts` run it against a real database each; a harness gives every test a fresh,
 * empty database and a few raw operations (count rows, run a statement, dump credential storage)
 * so the tests can see what was stored, not only what comes back.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { ChangeFeed, Check, ConnectorError, Credential, Drift, Snapshot, Store } from "@plumbline/core"
import type { Layer, Scope as EffectScope } from "effect"
import { DateTime, Effect, Either, Inspectable, Logger, LogLevel, Option, Redacted, Schema, TestClock } from "effect"
import * as Keyring from "../src/Keyring.js"
import * as Migrations from "../src/Migrations.js"
import * as Snapshots from "./fixtures/Snapshots.js"

/** One fresh database for one test. */
export interface Database {
  /** A store on this database with these keys (the first active); failing to open is a defect. */
  readonly open: (keys: Keys) => Layer.Layer<Store.Store>
  /** Runs `effect` on a plain client on this database: no store, no migrations, no pragmas. */
  readonly withSql: <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) => Effect.Effect<A, unknown>
  readonly count: (table: string) => Effect.Effect<number, unknown>
  readonly exec: (statement: string) => Effect.Effect<void, unknown>
  /** Everything the database holds about credentials, as bytes (the file, or the table's rows). */
  readonly contents: Effect.Effect<Buffer, unknown>
  /** The environment a child process needs to open this database through `layerConfig`. */
  readonly env: Record<string, string>
  /** Whether another process is inside a write transaction that has written rows, not committed yet. */
  readonly writeInProgress: Effect.Effect<boolean, unknown>
}

/** Makes a fresh database, dropped when the scope closes. */
export type Harness = Effect.Effect<Database, unknown, EffectScope.Scope>

export type Keys = readonly [Keyring.Key, ...Array<Keyring.Key>]

export const keyOf = (id: string): Keyring.Key => {
  const parsed = Keyring.parse(Keyring.generate(id))
  return Either.getOrThrow(parsed)[0]
}

const k1 = keyOf("k1")
const k2 = keyOf("k2")
const SECRET = "cf-token-Zq8v3WcT9uPn2LxK7bRm4sYd"

const token = (secret = SECRET) => Credential.make("api_token", secret)

const small = (connectionId: string, at: number, options: Partial<Snapshots.Options> = {}) =>
  Snapshots.make({ connectionId, records: 300, zones: 3, at, ...options })

const finding = (connectionId: string, checkId: string, zone: number, at: number, pass: boolean) =>
  new Check.Finding({
    checkId,
    title: `Check ${checkId}`,
    severity: "high",
    connectionId,
    scope: Snapshots.zoneScope(connectionId, zone),
    verdict: pass
      ? new Check.Pass({ evidence: { ok: true } })
      : new Check.Fail({ evidence: { ok: false }, remediation: new Check.Remediation({ summary: "Turn it on" }) }),
    evaluatedAt: DateTime.unsafeMake(at)
  })

const day = 86_400_000

/**
 * Bound for the tests that write and read 100,000 records: a few seconds alone, several times that
 * when every package's build and tests share two cores. Nothing waits on time; this only catches a hang.
 */
const HEAVY_TIMEOUT = 120_000

/** Runs `body` with a fresh database and a store on it (keys `k1`). */
const withStore = <A, E>(
  harness: Harness,
  body: (store: Store.Service, db: Database) => Effect.Effect<A, E, Store.Store>
) =>
  Effect.scoped(
    Effect.gen(function* () {
      const db = yield* harness
      return yield* Effect.flatMap(Store.Store, (store) => body(store, db)).pipe(Effect.provide(db.open([k1])))
    })
  )

const errorOf = <A>(effect: Effect.Effect<A, Store.StoreError>) =>
  Effect.flip(effect).pipe(Effect.map((e) => ({ reason: e.reason, entity: e.entity, message: e.message })))

const connect = (store: Store.Service, id: string) =>
  store.createConnection({ id, connectorId: "cloudflare", name: `Account ${id}`, credential: token() })

/** The suite. `name` names the implementation in test titles. */
export const contract = (name: string, harness: Harness) =>
  describe(`${name} store contract`, () => {
    // ----- connections -------------------------------------------------------------------

    // The test clock, not a real sleep, moves time on between the create and the update.
    it.effect("creates, reads, lists, updates and deletes connections", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          const created = yield* store.createConnection({
            id: "c-b",
            connectorId: "cloudflare",
            name: "Acme",
            settings: { zones: ["example.com"], intervalMinutes: 15 },
            credential: token()
          })
          assert.strictEqual(created.status, "active")
          assert.strictEqual(created.credentialKind, "api_token")
          assert.strictEqual(created.credentialFingerprint, Credential.fingerprint(token()))
          assert.deepStrictEqual(created.settings, { zones: ["example.com"], intervalMinutes: 15 })
          const generated = yield* store.createConnection({ connectorId: "cloudflare", name: "Other", credential: token("x") })
          assert.isTrue(generated.id.length > 0)
          yield* connect(store, "c-a")

          assert.deepStrictEqual((yield* store.getConnection("c-b")).name, "Acme")
          assert.deepStrictEqual(
            (yield* store.listConnections).map((c) => c.id),
            ["c-a", "c-b", generated.id].sort()
          )

          yield* TestClock.adjust("1 second")
          const updated = yield* store.updateConnection("c-b", { name: "Acme Ltd", status: "paused", settings: { zones: [] } })
          assert.strictEqual(updated.name, "Acme Ltd")
          assert.strictEqual(updated.status, "paused")
          assert.deepStrictEqual(updated.settings, { zones: [] })
          assert.strictEqual(updated.connectorId, "cloudflare")
          assert.isTrue(DateTime.toEpochMillis(updated.updatedAt) > DateTime.toEpochMillis(created.updatedAt))
          assert.strictEqual(DateTime.toEpochMillis(updated.createdAt), DateTime.toEpochMillis(created.createdAt))

          yield* store.deleteConnection("c-b")
          assert.deepStrictEqual((yield* errorOf(store.getConnection("c-b"))).reason, "not-found")
          assert.strictEqual((yield* store.listConnections).length, 2)
        })
      )
    )

    it.live("names the connection in not-found and conflict errors", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          assert.deepStrictEqual(yield* errorOf(store.getConnection("nope")), {
            reason: "not-found",
            entity: "connection",
            message: "Store not-found (connection nope)"
          })
          assert.strictEqual((yield* errorOf(store.updateConnection("nope", { name: "x" }))).reason, "not-found")
          assert.strictEqual((yield* errorOf(store.replaceCredential("nope", token()))).reason, "not-found")
          assert.strictEqual((yield* errorOf(store.credentialOf("nope"))).reason, "not-found")
          assert.strictEqual((yield* errorOf(store.credentialsOf("nope"))).reason, "not-found")
          assert.strictEqual((yield* errorOf(store.listCredentials("nope"))).reason, "not-found")
          assert.strictEqual((yield* errorOf(store.deleteConnection("nope"))).reason, "not-found")
          const conflict = yield* errorOf(connect(store, "c1"))
          assert.strictEqual(conflict.reason, "conflict")
          assert.strictEqual(conflict.entity, "connection")
        })
      )
    )

    it.live("returns the decrypted credential only through credentialOf, redacted", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const credential = yield* store.credentialOf("c1")
          assert.strictEqual(credential.kind, "api_token")
          assert.isTrue(Redacted.isRedacted(credential.secret))
          assert.strictEqual(Redacted.value(credential.secret), SECRET)
          assert.notInclude(String(credential.secret), SECRET)
        })
      )
    )

    it.live("replaces a credential: new fingerprint, an expired connection becomes active", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* store.updateConnection("c1", { status: "credential_expired" })
          const replaced = yield* store.replaceCredential("c1", token("cf-token-new-one"))
          assert.strictEqual(replaced.status, "active")
          assert.strictEqual(replaced.credentialFingerprint, Credential.fingerprint(token("cf-token-new-one")))
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c1")).secret), "cf-token-new-one")
          yield* store.updateConnection("c1", { status: "paused" })
          assert.strictEqual((yield* store.replaceCredential("c1", token("third"))).status, "paused")
        })
      )
    )

    it.live("holds several credentials per connection: add, refresh, expire, remove, replace all", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* store.createConnection({ id: "c1", connectorId: "cloudflare", name: "Acme", credential: token("zone-a"), credentialScopes: ["za"] })
          const second = yield* store.addCredential("c1", token("zone-b"), ["zb"])
          assert.strictEqual((yield* store.getConnection("c1")).credentialFingerprint, second.fingerprint)
          const listed = yield* store.listCredentials("c1")
          assert.deepStrictEqual(
            listed.map((c) => [c.fingerprint, c.status, c.scopes]),
            [
              [Credential.fingerprint(token("zone-a")), "active", ["za"]],
              [Credential.fingerprint(token("zone-b")), "active", ["zb"]]
            ]
          )
          assert.deepStrictEqual(
            (yield* store.credentialsOf("c1")).map((c) => [c.info.id, Redacted.value(c.credential.secret)]),
            [
              [listed[0]!.id, "zone-a"],
              [second.id, "zone-b"]
            ]
          )
          // Expired, then the same token added again: refreshed in place, not a third credential.
          const first = listed[0]!
          assert.strictEqual((yield* store.updateCredential("c1", first.id, { status: "expired" })).status, "expired")
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c1")).secret), "zone-b")
          const again = yield* store.addCredential("c1", token("zone-a"), ["za", "zc"])
          assert.deepStrictEqual([again.id, again.status, again.scopes], [first.id, "active", ["za", "zc"]])
          assert.strictEqual((yield* store.listCredentials("c1")).length, 2)
          yield* store.removeCredential("c1", second.id)
          assert.strictEqual((yield* errorOf(store.removeCredential("c1", first.id))).reason, "invalid")
          assert.strictEqual((yield* errorOf(store.updateCredential("c1", "cr_ghost", { status: "active" }))).reason, "not-found")
          // Replacing puts one credential in place of all.
          yield* store.addCredential("c1", token("zone-d"))
          yield* store.replaceCredential("c1", token("all-zones"), null)
          assert.deepStrictEqual(
            (yield* store.credentialsOf("c1")).map((c) => [Redacted.value(c.credential.secret), c.info.scopes]),
            [["all-zones", null]]
          )
          yield* store.deleteConnection("c1")
          assert.strictEqual((yield* errorOf(store.listCredentials("c1"))).reason, "not-found")
        })
      )
    )

    it.live("binds each sealed credential to its row: copied to another credential or connection, it does not open", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* store.addCredential("c1", token("second-secret"))
          yield* connect(store, "c2")
          // Another credential of the same connection takes the first one's sealed bytes.
          yield* db.exec(`update plumbline_credentials set sealed = (select sealed from plumbline_credentials where connection_id = 'c1' and position = 1),
            key_id = (select key_id from plumbline_credentials where connection_id = 'c1' and position = 1)
            where connection_id = 'c1' and position = 2`)
          const moved = yield* errorOf(store.credentialsOf("c1"))
          assert.strictEqual(moved.reason, "decryption-failed")
          assert.notInclude(moved.message, SECRET)
          // Another connection's row takes them too.
          yield* db.exec(`update plumbline_credentials set sealed = (select sealed from plumbline_credentials where connection_id = 'c1' and position = 1)
            where connection_id = 'c2'`)
          assert.strictEqual((yield* errorOf(store.credentialOf("c2"))).reason, "decryption-failed")
          // The untouched one still opens.
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c1")).secret), SECRET)
        })
      )
    )

    it.live("never lets the secret appear in stored bytes, returned values, logs or errors", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const db = yield* harness
          const logs: Array<string> = []
          const capture = Logger.make(({ annotations, cause, message }) => {
            logs.push(Inspectable.format({ message, cause: String(cause), annotations: Array.from(annotations) }))
          })
          const returned: Array<unknown> = []
          yield* Effect.gen(function* () {
            const store = yield* Store.Store
            returned.push(yield* connect(store, "c1"))
            returned.push(yield* store.getConnection("c1"))
            returned.push(yield* store.listConnections)
            returned.push(yield* store.updateConnection("c1", { name: "Renamed" }))
            returned.push(yield* store.replaceCredential("c1", token(SECRET)))
            returned.push(yield* store.credentialOf("c1"))
            returned.push(yield* store.addCredential("c1", token(SECRET)))
            returned.push(yield* store.listCredentials("c1"))
            returned.push(yield* store.credentialsOf("c1"))
            yield* Effect.logInfo("credential", yield* store.credentialOf("c1"))
          }).pipe(
            Effect.provide(db.open([k1])),
            Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
            Logger.withMinimumLogLevel(LogLevel.All)
          )
          // A store without the key fails to decrypt, and says so without the secret.
          const failure = yield* Effect.flip(Effect.flatMap(Store.Store, (s) => s.credentialOf("c1"))).pipe(
            Effect.provide(db.open([k2]))
          )
          assert.strictEqual(failure.reason, "decryption-failed")
          returned.push(failure, failure.message, JSON.stringify(failure))

          const contents = yield* db.contents
          assert.isTrue(contents.length > 0)
          assert.strictEqual(contents.indexOf(Buffer.from(SECRET, "utf8")), -1, "secret found in the database")
          assert.strictEqual(contents.indexOf(Buffer.from(SECRET, "utf16le")), -1)
          for (const value of returned) {
            const shown = [
              Inspectable.format(value),
              JSON.stringify(value),
              String(value),
              Inspectable.format(Schema.encodeUnknownEither(Schema.Unknown)(value))
            ].join("\n")
            assert.notInclude(shown, SECRET)
          }
          for (const line of logs) assert.notInclude(line, SECRET)
          assert.isTrue(logs.length > 0)
        })
      )
    )

    it.live("rotates keys: old credentials open with an older key until re-encrypted with the active one", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const db = yield* harness
          const use = <A>(keys: Keys, f: (store: Store.Service) => Effect.Effect<A, Store.StoreError>) =>
            Effect.flatMap(Store.Store, f).pipe(Effect.provide(db.open(keys)))
          yield* use([k1], (s) => Effect.zip(connect(s, "c1"), connect(s, "c2")))
          // k2 becomes active; k1 still opens what it sealed.
          assert.strictEqual(Redacted.value((yield* use([k2, k1], (s) => s.credentialOf("c1"))).secret), SECRET)
          yield* use([k2, k1], (s) => s.replaceCredential("c2", token("rotated-by-customer")))
          assert.strictEqual(yield* use([k2, k1], (s) => s.rotateKeys), 1)
          assert.strictEqual(yield* use([k2, k1], (s) => s.rotateKeys), 0)
          // k1 retired: everything opens with k2 alone.
          assert.strictEqual(Redacted.value((yield* use([k2], (s) => s.credentialOf("c1"))).secret), SECRET)
          assert.strictEqual(Redacted.value((yield* use([k2], (s) => s.credentialOf("c2"))).secret), "rotated-by-customer")
          // Without k2, decryption fails and names the key, not the secret.
          const missing = yield* Effect.flip(use([k1], (s) => s.credentialOf("c1")))
          assert.strictEqual(missing.reason, "decryption-failed")
          assert.include(missing.message, `"k2"`)
          // Same id, other material: refused, not garbled.
          const impostor = yield* Effect.flip(use([{ id: "k2", material: keyOf("k2").material }], (s) => s.credentialOf("c1")))
          assert.strictEqual(impostor.reason, "decryption-failed")
          // rotateKeys fails as a whole when a credential cannot be opened.
          assert.strictEqual((yield* Effect.flip(use([keyOf("k3")], (s) => s.rotateKeys))).reason, "decryption-failed")
        })
      )
    )

    // ----- snapshots ---------------------------------------------------------------------

    it.live("stores a snapshot and reads it back byte for byte, by id and as the latest", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          assert.isTrue(Option.isNone(yield* store.latestSnapshot("c1")))
          const snapshot = small("c1", 1_000_000)
          const id = yield* store.commit({ snapshot, findings: [] })
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(latest.id, id)
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(snapshot))
          const byId = yield* store.snapshotById(id)
          assert.strictEqual(Snapshot.toJson(byId.snapshot), Snapshot.toJson(snapshot))
          assert.deepStrictEqual(
            byId.snapshot.results.map((r) => r.status._tag),
            ["ok", "ok", "ok", "skipped", "forbidden", "failed"]
          )

          // A snapshot cut short by a refused credential keeps its outcome and error.
          const refused = new Snapshot.Snapshot({
            ...small("c1", 2_000_000),
            outcome: "credential-invalid",
            credentialError: new ConnectorError.CredentialInvalid({ reason: "expired", status: 401 })
          })
          const refusedId = yield* store.commit({ snapshot: refused, findings: [] })
          const back = yield* store.snapshotById(refusedId)
          assert.strictEqual(Snapshot.toJson(back.snapshot), Snapshot.toJson(refused))
          assert.strictEqual(back.snapshot.credentialError?.reason, "expired")
        })
      )
    )

    it.live(
      "reads a 100,000-record snapshot back intact",
      () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const snapshot = Snapshots.make({ connectionId: "c1", records: 100_000, at: 1_000_000 })
          const id = yield* store.commit({ snapshot, findings: [] })
          const back = yield* store.snapshotById(id)
          const flat = (s: Snapshot.Snapshot) =>
            JSON.stringify(Snapshot.recordsOf(s, "dns_records").map((r) => [r.scope.key, r.record.key, r.record.value]))
          assert.strictEqual(Snapshot.recordsOf(back.snapshot, "dns_records").length, 100_000)
          assert.strictEqual(flat(back.snapshot), flat(snapshot))
          assert.deepStrictEqual(
            back.snapshot.results.map((r) => [r.resource, r.scope.key, r.status._tag]),
            snapshot.results.map((r) => [r.resource, r.scope.key, r.status._tag])
          )
        })
      ),
      HEAVY_TIMEOUT
    )

    it.live("refuses unknown connections and snapshots, and mismatched drift or findings", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          assert.strictEqual((yield* errorOf(store.commit({ snapshot: small("ghost", 1), findings: [] }))).reason, "not-found")
          assert.deepStrictEqual(yield* errorOf(store.snapshotById(Store.SnapshotId.make("missing"))), {
            reason: "not-found",
            entity: "snapshot",
            message: "Store not-found (snapshot missing)"
          })
          yield* connect(store, "c1")
          const otherDrift = Drift.diff(small("c2", 1), small("c2", 2))
          assert.strictEqual(
            (yield* errorOf(store.commit({ snapshot: small("c1", 2), drift: otherDrift, findings: [] }))).reason,
            "invalid"
          )
          assert.strictEqual(
            (yield* errorOf(store.commit({ snapshot: small("c1", 2), findings: [finding("c2", "x", 0, 2, true)] }))).reason,
            "invalid"
          )
          assert.isTrue(Option.isNone(yield* store.latestSnapshot("c1")))
        })
      )
    )

    it.live("takes the latest snapshot by finish time, whatever the commit order", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          const newer = yield* store.commit({ snapshot: small("c1", 5_000), findings: [] })
          yield* store.commit({ snapshot: small("c1", 4_000, { changed: 10, revision: 1 }), findings: [] })
          yield* store.commit({ snapshot: small("c2", 9_000), findings: [] })
          assert.strictEqual(Option.getOrThrow(yield* store.latestSnapshot("c1")).id, newer)
          const page = yield* store.listSnapshots("c1")
          assert.deepStrictEqual(
            page.items.map((s) => DateTime.toEpochMillis(s.finishedAt)),
            [5_000, 4_000]
          )
          assert.strictEqual(page.items[0]?.recordCount, 300)
          assert.strictEqual(page.items[0]?.resultCount, 6)
          assert.isTrue(Option.isNone(page.next))
        })
      )
    )

    it.live("pages through snapshots newest first", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          for (let i = 1; i <= 5; i++) yield* store.commit({ snapshot: small("c1", i * 1_000), findings: [] })
          const seen: Array<number> = []
          let cursor: string | undefined
          do {
            const page: Store.Page<Store.SnapshotSummary> = yield* store.listSnapshots("c1", { limit: 2, cursor })
            seen.push(...page.items.map((s) => DateTime.toEpochMillis(s.finishedAt)))
            cursor = Option.getOrUndefined(page.next)
          } while (cursor !== undefined)
          assert.deepStrictEqual(seen, [5_000, 4_000, 3_000, 2_000, 1_000])
          assert.strictEqual((yield* errorOf(store.listSnapshots("c1", { cursor: "garbage" }))).reason, "invalid")
        })
      )
    )

    it.live("commits the same snapshot once: a retry returns the same id and adds nothing", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const first = small("c1", 1_000)
          yield* store.commit({ snapshot: first, findings: [] })
          const second = small("c1", 2_000, { changed: 1, revision: 1 })
          const commit = { snapshot: second, drift: Drift.diff(first, second), findings: [finding("c1", "ssl", 0, 2_000, true)] }
          const id = yield* store.commit(commit)
          assert.strictEqual(yield* store.commit(commit), id)
          assert.strictEqual(yield* db.count("plumbline_snapshots"), 2)
          assert.strictEqual(yield* db.count("plumbline_drift_events"), 1)
          assert.strictEqual(yield* db.count("plumbline_findings"), 1)
        })
      )
    )

    it.live("settles concurrent commits of one snapshot, and concurrent creates of one id, without duplicates", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          const created = yield* Effect.all([connect(store, "c1"), connect(store, "c1")].map(Effect.either), {
            concurrency: "unbounded"
          })
          assert.deepStrictEqual(
            created.map((r) => (Either.isLeft(r) ? r.left.reason : "created")).sort(),
            ["conflict", "created"]
          )
          const snapshot = small("c1", 1_000)
          const ids = yield* Effect.all(
            [1, 2, 3].map(() => store.commit({ snapshot, findings: [finding("c1", "ssl", 0, 1_000, true)] })),
            { concurrency: "unbounded" }
          )
          assert.strictEqual(new Set(ids).size, 1)
          assert.strictEqual(yield* db.count("plumbline_snapshots"), 1)
          assert.strictEqual(yield* db.count("plumbline_findings"), 1)
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(snapshot))
        })
      )
    )

    it.live("keeps an incremental snapshot's provenance; its carried results add no chunk and no manifest", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const first = Snapshots.make({ connectionId: "c1", records: 2_000, at: 1_000 })
          const firstId = yield* store.commit({ snapshot: first, findings: [] })
          const chunks = yield* db.count("plumbline_chunks")
          const manifests = yield* db.count("plumbline_manifests")
          const changed = Snapshots.make({ connectionId: "c1", records: 2_000, at: 2_000, changed: 1, revision: 3 })
          const read = "dns_records@zone:zone-0"
          const incremental = new Snapshot.Snapshot({
            ...changed,
            provenance: new Snapshot.Provenance({
              from: { id: firstId, startedAt: first.startedAt },
              position: new ChangeFeed.Position({ mode: "audit_log", at: changed.startedAt, cursor: { seen: ["e-1"] } }),
              read: [read],
              oldestRead: { dns_records: first.startedAt }
            })
          })
          const id = yield* store.commit({ snapshot: incremental, findings: [] })
          // Only the re-read zone's changed chunk and its manifest are new.
          assert.strictEqual(yield* db.count("plumbline_chunks"), chunks + 1)
          assert.strictEqual(yield* db.count("plumbline_manifests"), manifests + 1)
          const stored = yield* store.snapshotById(id)
          assert.strictEqual(Snapshot.toJson(stored.snapshot), Snapshot.toJson(incremental))
          assert.strictEqual(Snapshot.obtained(stored.snapshot, read)._tag, "read")
          const carried = Snapshot.obtained(stored.snapshot, "dns_records@zone:zone-1")
          assert.deepStrictEqual(carried._tag === "carried" && [carried.from, carried.position.cursor], [firstId, { seen: ["e-1"] }])
          const listed = yield* store.listSnapshots("c1")
          assert.deepStrictEqual(listed.items.map((s) => s.incremental), [true, false])
        })
      )
    )

    it.live("stores unchanged records once: an unchanged snapshot adds no chunk and no manifest", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* store.commit({ snapshot: Snapshots.make({ connectionId: "c1", records: 5_000, at: 1_000 }), findings: [] })
          const chunks = yield* db.count("plumbline_chunks")
          const manifests = yield* db.count("plumbline_manifests")
          assert.isTrue(chunks > 10)
          yield* store.commit({ snapshot: Snapshots.make({ connectionId: "c1", records: 5_000, at: 2_000 }), findings: [] })
          assert.strictEqual(yield* db.count("plumbline_chunks"), chunks)
          assert.strictEqual(yield* db.count("plumbline_manifests"), manifests)
          // One changed record: one new chunk, one new manifest (its zone's), nothing else.
          yield* store.commit({
            snapshot: Snapshots.make({ connectionId: "c1", records: 5_000, at: 3_000, changed: 1, revision: 7 }),
            findings: []
          })
          assert.strictEqual(yield* db.count("plumbline_chunks"), chunks + 1)
          assert.strictEqual(yield* db.count("plumbline_manifests"), manifests + 1)
          assert.strictEqual(yield* db.count("plumbline_snapshots"), 3)
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          const changed = Snapshot.recordsOf(latest.snapshot, "dns_records")[0]?.record.value as { ttl: number }
          assert.strictEqual(changed.ttl, 307)
        })
      )
    )

    it.live("commits snapshot, drift events and findings together or not at all", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const first = small("c1", 1_000)
          const firstId = yield* store.commit({ snapshot: first, findings: [finding("c1", "ssl", 0, 1_000, true)] })
          const counts = Effect.all([
            db.count("plumbline_snapshots"),
            db.count("plumbline_results"),
            db.count("plumbline_chunks"),
            db.count("plumbline_manifests"),
            db.count("plumbline_drift_events")
          ])
          const before = yield* counts
          // Break the last table a commit writes, so the commit fails after everything else was written.
          yield* db.exec("drop table plumbline_findings")
          const second = small("c1", 2_000, { changed: 50, revision: 2 })
          const failed = yield* errorOf(
            store.commit({ snapshot: second, drift: Drift.diff(first, second), findings: [finding("c1", "ssl", 0, 2_000, false)] })
          )
          assert.strictEqual(failed.reason, "unavailable")
          assert.deepStrictEqual(yield* counts, before)
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(latest.id, firstId)
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(first))
        })
      )
    )

    it.live("reports damaged data as corrupt, naming what is damaged", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const id = yield* store.commit({ snapshot: small("c1", 1_000), findings: [] })
          yield* db.exec("delete from plumbline_chunks")
          assert.deepStrictEqual(yield* errorOf(store.snapshotById(id)), {
            reason: "corrupt",
            entity: "snapshot",
            message: `Store corrupt (snapshot ${id}): a chunk named by a manifest is missing`
          })
          assert.strictEqual((yield* errorOf(store.latestSnapshot("c1"))).reason, "corrupt")
          yield* db.exec("update plumbline_connections set settings = 'not json'")
          assert.deepStrictEqual(yield* errorOf(store.getConnection("c1")), {
            reason: "corrupt",
            entity: "connection",
            message: "Store corrupt (connection c1): stored JSON does not parse"
          })
        })
      )
    )

    // ----- drift events and findings -----------------------------------------------------

    it.live("stores drift events with stable ids and pages through them with filters", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          const s1 = small("c1", 10_000)
          yield* store.commit({ snapshot: s1, findings: [] })
          const s2 = small("c1", 20_000, { changed: 150, revision: 1 })
          const report = Drift.diff(s1, s2)
          const id2 = yield* store.commit({ snapshot: s2, drift: report, findings: [] })
          const t1 = small("c2", 15_000)
          yield* store.commit({ snapshot: t1, findings: [] })
          const t2 = Snapshots.make({ connectionId: "c2", records: 290, zones: 3, at: 30_000 })
          const report2 = Drift.diff(t1, t2)
          yield* store.commit({ snapshot: t2, drift: report2, findings: [] })

          const expected = Store.driftEventsOf(id2, report)
          assert.strictEqual(expected.length, 150)
          const all = yield* store.driftEvents({ since: 0, connectionId: "c1", limit: 1000 })
          assert.deepStrictEqual(
            all.items.map((e) => e.id),
            expected.map((e) => e.id)
          )
          assert.strictEqual(
            JSON.stringify(Schema.encodeSync(Schema.Array(Store.DriftEvent))(all.items)),
            JSON.stringify(Schema.encodeSync(Schema.Array(Store.DriftEvent))(expected))
          )

          // Paging: every event exactly once, in the same order as one big page.
          const paged: Array<string> = []
          let cursor: string | undefined
          let pages = 0
          do {
            const page: Store.Page<Store.DriftEvent> = yield* store.driftEvents({ since: 0, limit: 40, cursor })
            paged.push(...page.items.map((e) => e.id))
            cursor = Option.getOrUndefined(page.next)
            pages++
          } while (cursor !== undefined)
          const everything = yield* store.driftEvents({ since: 0, limit: 1000 })
          assert.strictEqual(paged.length, 150 + report2.changes.length + report2.coverage.length)
          assert.deepStrictEqual(paged, everything.items.map((e) => e.id))
          assert.strictEqual(pages, Math.ceil(paged.length / 40))

          // Filters: time, connection, scope, resource.
          assert.strictEqual((yield* store.driftEvents({ since: 25_000, limit: 1000 })).items.length, report2.changes.length)
          assert.strictEqual((yield* store.driftEvents({ since: new Date(20_001), connectionId: "c1" })).items.length, 0)
          const zone1 = yield* store.driftEvents({ since: 0, connectionId: "c1", scope: "zone:zone-1", limit: 1000 })
          assert.strictEqual(zone1.items.length, 50)
          assert.isTrue(zone1.items.every((e) => e.scope.key === "zone:zone-1" && e.kind === "changed"))
          assert.strictEqual((yield* store.driftEvents({ since: 0, resource: "waf_rulesets" })).items.length, 0)
          assert.strictEqual((yield* store.driftEvents({ since: 0, resource: "dns_records", limit: 1000 })).items.length, paged.length)
          assert.strictEqual((yield* errorOf(store.driftEvents({ since: 0, cursor: "garbage" }))).reason, "invalid")
        })
      )
    )

    it.live("keeps coverage changes as drift events", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          const s1 = small("c1", 1_000)
          yield* store.commit({ snapshot: s1, findings: [] })
          const zone0 = Snapshots.zoneScope("c1", 0)
          const s2 = new Snapshot.Snapshot({
            ...s1,
            finishedAt: DateTime.unsafeMake(2_000),
            results: s1.results.map((r) =>
              r.resource === "dns_records" && r.scope.key === zone0.key
                ? new Snapshot.ResourceResult({ ...r, status: new Snapshot.Forbidden({ permissions: ["DNS Read"] }) })
                : r
            )
          })
          yield* store.commit({ snapshot: s2, drift: Drift.diff(s1, s2), findings: [] })
          const events = (yield* store.driftEvents({ since: 0 })).items
          assert.strictEqual(events.length, 1)
          const event = events[0]!
          assert.strictEqual(event.kind, "coverage")
          assert.isUndefined(event.key)
          assert.instanceOf(event.change, Drift.CoverageChange)
          assert.deepStrictEqual([event.resource, event.scope.key], ["dns_records", zone0.key])
        })
      )
    )

    it.live("keeps every finding as history and answers the latest findings", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          const ids: Array<Store.SnapshotId> = []
          for (const [i, pass] of [true, false, true].entries()) {
            const at = (i + 1) * 1_000
            ids.push(
              yield* store.commit({
                snapshot: small("c1", at, { changed: i, revision: i }),
                findings: [finding("c1", "ssl", 0, at, pass), finding("c1", "ssl", 1, at, true), finding("c1", "dnssec", 0, at, false)]
              })
            )
          }
          yield* store.commit({ snapshot: small("c2", 5_000), findings: [finding("c2", "ssl", 0, 5_000, false)] })

          const history = yield* store.findingHistory({ connectionId: "c1", checkId: "ssl", scope: "zone:zone-0" })
          assert.deepStrictEqual(
            history.map((h) => [h.snapshotId, h.finding.verdict._tag]),
            [
              [ids[0], "pass"],
              [ids[1], "fail"],
              [ids[2], "pass"]
            ]
          )
          assert.instanceOf(history[1]!.finding, Check.Finding)
          assert.strictEqual(history[1]!.finding.key, "ssl@zone:zone-0")
          assert.strictEqual((yield* store.findingHistory({ connectionId: "c1", checkId: "ssl" })).length, 6)
          assert.strictEqual((yield* store.findingHistory({ connectionId: "c1", checkId: "nothing" })).length, 0)

          const latest = yield* store.latestFindings("c1")
          assert.deepStrictEqual(
            latest.map((f) => [f.snapshotId, f.finding.key]),
            [
              [ids[2], "ssl@zone:zone-0"],
              [ids[2], "ssl@zone:zone-1"],
              [ids[2], "dnssec@zone:zone-0"]
            ]
          )
          assert.strictEqual((yield* store.latestFindings("nobody")).length, 0)
        })
      )
    )

    // ----- retention and deletion --------------------------------------------------------

    it.live("keeps the last N snapshots, and the drift events and findings of all", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          let previous: Snapshot.Snapshot | undefined
          for (let i = 0; i < 5; i++) {
            const snapshot = small("c1", (i + 1) * 1_000, { changed: 20, revision: i })
            yield* store.commit({
              snapshot,
              ...(previous === undefined ? {} : { drift: Drift.diff(previous, snapshot) }),
              findings: [finding("c1", "ssl", 0, (i + 1) * 1_000, i % 2 === 0)]
            })
            previous = snapshot
          }
          const other = yield* store.commit({ snapshot: small("c2", 500), findings: [] })
          const events = yield* db.count("plumbline_drift_events")
          const chunksBefore = yield* db.count("plumbline_chunks")

          const result = yield* store.applyRetention({ keepLast: 2 })
          assert.strictEqual(result.snapshotsDeleted, 3)
          assert.isTrue(result.blobsDeleted > 0)
          assert.isTrue((yield* db.count("plumbline_chunks")) < chunksBefore)
          assert.deepStrictEqual(
            (yield* store.listSnapshots("c1")).items.map((s) => DateTime.toEpochMillis(s.finishedAt)),
            [5_000, 4_000]
          )
          assert.strictEqual(Option.getOrThrow(yield* store.latestSnapshot("c2")).id, other)
          assert.strictEqual(yield* db.count("plumbline_drift_events"), events)
          assert.strictEqual((yield* store.findingHistory({ connectionId: "c1", checkId: "ssl" })).length, 5)
          // What is kept still reads back whole.
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(previous!))
          const older = (yield* store.listSnapshots("c1")).items[1]!
          assert.strictEqual(Snapshot.recordsOf((yield* store.snapshotById(older.id)).snapshot, "dns_records").length, 300)
          assert.deepStrictEqual(yield* store.applyRetention({ keepLast: 2 }), { snapshotsDeleted: 0, blobsDeleted: 0 })
        })
      )
    )

    it.effect("keeps snapshots younger than D days, and always the newest", () =>
      withStore(harness, (store) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          // Retention measures age against the store's clock: the test clock, set to a fixed day.
          const now = Date.UTC(2025, 0, 31)
          yield* TestClock.setTime(now)
          for (const age of [40, 20, 10, 1]) yield* store.commit({ snapshot: small("c1", now - age * day), findings: [] })
          yield* store.commit({ snapshot: small("c2", now - 90 * day), findings: [] })
          const result = yield* store.applyRetention({ maxAgeDays: 15 })
          assert.strictEqual(result.snapshotsDeleted, 2)
          assert.strictEqual((yield* store.listSnapshots("c1")).items.length, 2)
          assert.strictEqual((yield* store.listSnapshots("c2")).items.length, 1)
          // Either rule keeps a snapshot: the last 3, or anything younger than 15 days.
          yield* store.commit({ snapshot: small("c1", now - 30 * day, { changed: 1, revision: 1 }), findings: [] })
          yield* store.commit({ snapshot: small("c1", now - 60 * day, { changed: 1, revision: 2 }), findings: [] })
          assert.strictEqual((yield* store.applyRetention({ keepLast: 3, maxAgeDays: 15 })).snapshotsDeleted, 1)
          assert.strictEqual((yield* errorOf(store.applyRetention({}))).reason, "invalid")
        })
      )
    )

    it.live("deletes a connection with everything stored for it, and retention sweeps its content", () =>
      withStore(harness, (store, db) =>
        Effect.gen(function* () {
          yield* connect(store, "c1")
          yield* connect(store, "c2")
          const s1 = small("c1", 1_000)
          yield* store.commit({ snapshot: s1, findings: [] })
          const s2 = small("c1", 2_000, { changed: 5, revision: 1 })
          yield* store.commit({ snapshot: s2, drift: Drift.diff(s1, s2), findings: [finding("c1", "ssl", 0, 2_000, true)] })
          const kept = Snapshots.make({ connectionId: "c2", records: 120, zones: 2, at: 3_000 })
          yield* store.commit({ snapshot: kept, findings: [] })
          yield* store.deleteConnection("c1")
          assert.strictEqual(yield* db.count("plumbline_snapshots"), 1)
          assert.strictEqual(yield* db.count("plumbline_drift_events"), 0)
          assert.strictEqual(yield* db.count("plumbline_findings"), 0)
          assert.isTrue((yield* store.applyRetention({ keepLast: 1 })).blobsDeleted > 0)
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c2"))
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(kept))
        })
      )
    )

    it.live("opens an existing database again: migrations run once, data persists", () =>
      Effect.scoped(
        Effect.gen(function* () {
          const db = yield* harness
          const snapshot = small("c1", 1_000)
          const id = yield* Effect.flatMap(Store.Store, (s) =>
            Effect.zipRight(connect(s, "c1"), s.commit({ snapshot, findings: [] }))
          ).pipe(Effect.provide(db.open([k1])))
          const again = yield* Effect.flatMap(Store.Store, (s) => s.snapshotById(id)).pipe(Effect.provide(db.open([k1])))
          assert.strictEqual(Snapshot.toJson(again.snapshot), Snapshot.toJson(snapshot))
          assert.strictEqual(yield* db.count("plumbline_migrations"), (yield* Migrations.loader).length)
        })
      )
    )
  })

