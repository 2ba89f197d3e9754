import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Check, Credential, Snapshot, Store } from "@plumbline/core"
import { DateTime, Effect, Option, Redacted } from "effect"
import * as Snapshots from "../src/internal/snapshots.js"
import * as Keyring from "../src/Keyring.js"
import * as Migrations from "../src/Migrations.js"
import { pgConfig, pgHarness, sqliteHarness } from "./fixtures/Databases.js"
import * as Fixtures from "./fixtures/Snapshots.js"
import type { Harness } from "./StoreContract.js"
import { keyOf } from "./StoreContract.js"

const k1 = keyOf("k1")

/** The migrations up to and including `level`, as a database made by an older release has them. */
const migrateTo = (level: number) =>
  Migrator.make({})({
    loader: Effect.map(Migrations.loader, (all) => all.filter(([id]) => id <= level)),
    table: Migrations.table
  })

/** Column and index names of `plumbline_connections`, from the dialect's catalog. */
const connectionsSchema = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const names = (rows: ReadonlyArray<{ readonly name: unknown }>) => rows.map((r) => String(r.name)).sort()
  const columns = yield* sql.onDialectOrElse({
    pg: () => sql<{ name: unknown }>`select column_name as name from information_schema.columns
      where table_schema = current_schema() and table_name = 'plumbline_connections'`,
    orElse: () => sql<{ name: unknown }>`select name from pragma_table_info('plumbline_connections')`
  })
  const indexes = yield* sql.onDialectOrElse({
    pg: () => sql<{ name: unknown }>`select indexname as name from pg_indexes
      where schemaname = current_schema() and tablename = 'plumbline_connections'`,
    orElse: () =>
      sql<{ name: unknown }>`select name from sqlite_master where type = 'index' and tbl_name = 'plumbline_connections'`
  })
  return { columns: names(columns), indexes: names(indexes) }
})

const scheduleColumns = ["lease_expires_at", "lease_owner", "next_run_at"]

/**
 * Builds a database at migration 1 and fills it through the store's own connection and snapshot
 * code (which never touches the schedule columns), with the schedule columns set as an early
 * scheduler might have left them; then opens the store, which applies the later migrations.
 */
const upgradesFromLevel1 = (harness: Harness) =>
  Effect.scoped(
    Effect.gen(function* () {
      const db = yield* harness
      const snapshot = Fixtures.make({ connectionId: "c1", records: 500, zones: 2, at: 1_000_000 })
      const finding = new Check.Finding({
        checkId: "ssl",
        title: "SSL",
        severity: "high",
        connectionId: "c1",
        scope: Fixtures.zoneScope("c1", 0),
        verdict: new Check.Pass({ evidence: { ok: true } }),
        evaluatedAt: DateTime.unsafeMake(1_000_000)
      })
      const stored = yield* db.withSql(
        Effect.gen(function* () {
          yield* migrateTo(1)
          const sql = yield* SqlClient.SqlClient
          const keyring = Keyring.make([k1])
          // A connection row as releases before migration 3 wrote it: the credential sealed in the
          // row, bound to the connection id and kind.
          const insertOld = (id: string, name: string, settings: string, secret: string, at: number) => {
            const credential = Credential.make("api_token", secret)
            const sealed = keyring.seal(secret, `plumbline/credential\u0000${id}\u0000api_token`)
            return sql`insert into plumbline_connections ${sql.insert({
              id,
              connector_id: "cloudflare",
              name,
              settings,
              status: "active",
              credential_kind: "api_token",
              credential_fingerprint: Credential.fingerprint(credential),
              credential_key_id: sealed.keyId,
              credential_sealed: Buffer.from(sealed.sealed),
              created_at: at,
              updated_at: at
            })}`
          }
          yield* insertOld("c1", "Acme", JSON.stringify({ zones: ["example.com"] }), "secret-1", 500_000)
          yield* insertOld("c2", "Other", "{}", "secret-2", 500_001)
          const created = new Store.Connection({
            id: "c1",
            connectorId: "cloudflare",
            name: "Acme",
            settings: { zones: ["example.com"] },
            status: "active",
            credentialKind: "api_token",
            credentialFingerprint: Credential.fingerprint(Credential.make("api_token", "secret-1")),
            createdAt: DateTime.unsafeMake(500_000),
            updatedAt: DateTime.unsafeMake(500_000)
          })
          const snapshots = yield* Snapshots.make
          const id = yield* snapshots.commit({ snapshot, findings: [finding] })
          yield* sql`update plumbline_connections set lease_owner = 'p1', lease_expires_at = 5, next_run_at = 7 where id = 'c1'`
          return { created, id, before: yield* connectionsSchema }
        }).pipe(Effect.provideService(Keyring.Keyring, Keyring.make([k1])))
      )
      // The starting point really is the old schema.
      assert.includeMembers(stored.before.columns, scheduleColumns)
      assert.include(stored.before.indexes, "plumbline_connections_next_run")
      assert.strictEqual(yield* db.count("plumbline_migrations"), 1)

      yield* Effect.flatMap(Store.Store, (store) =>
        Effect.gen(function* () {
          assert.deepStrictEqual(yield* store.getConnection("c1"), stored.created)
          assert.deepStrictEqual(
            (yield* store.listConnections).map((c) => c.id),
            ["c1", "c2"]
          )
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c1")).secret), "secret-1")
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c2")).secret), "secret-2")
          // The moved credentials are re-sealed with the per-credential binding, and still open.
          assert.strictEqual(yield* store.rotateKeys, 2)
          assert.strictEqual(yield* store.rotateKeys, 0)
          assert.strictEqual(Redacted.value((yield* store.credentialOf("c1")).secret), "secret-1")
          assert.deepStrictEqual(
            (yield* store.listCredentials("c1")).map((c) => [c.fingerprint, c.status]),
            [[stored.created.credentialFingerprint, "active"]]
          )
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(latest.id, stored.id)
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(snapshot))
          assert.deepStrictEqual(
            (yield* store.latestFindings("c1")).map((f) => f.finding.key),
            [finding.key]
          )
          // The upgraded table takes new connections and updates.
          yield* store.createConnection({ id: "c3", connectorId: "cloudflare", name: "New", credential: Credential.make("api_token", "s3") })
          assert.strictEqual((yield* store.updateConnection("c1", { status: "paused" })).status, "paused")
        })
      ).pipe(Effect.provide(db.open([k1])))

      const after = yield* db.withSql(connectionsSchema)
      for (const column of scheduleColumns) assert.notInclude(after.columns, column)
      assert.notInclude(after.indexes, "plumbline_connections_next_run")
      // Migration 3 moved the sealed credential to plumbline_credentials.
      assert.deepStrictEqual(
        after.columns,
        stored.before.columns.filter((c) => !scheduleColumns.includes(c) && !["credential_key_id", "credential_sealed"].includes(c))
      )
      assert.strictEqual(yield* db.count("plumbline_credentials"), 3)
      assert.strictEqual(yield* db.count("plumbline_migrations"), (yield* Migrations.loader).length)
      assert.strictEqual(yield* db.count("plumbline_connections"), 3)
      assert.strictEqual(yield* db.count("plumbline_findings"), 1)
    })
  )

describe("Migrations", () => {
  it.live("SQLite: a database at migration 1 upgrades: schedule columns and index gone, data intact", () =>
    upgradesFromLevel1(sqliteHarness)
  )
  const server = pgConfig()
  it.live.skipIf(server === undefined)(
    "PostgreSQL: a database at migration 1 upgrades: schedule columns and index gone, data intact",
    () => upgradesFromLevel1(pgHarness(server!))
  )
})
