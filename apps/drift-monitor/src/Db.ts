/**
 * The app's database: one SQLite file in the data folder, shared by the store (`@plumbline/store-sql`,
 * its own `plumbline_*` tables and migrations) and the app's own tables below (`drift_monitor_*`,
 * migrated by their own Migrator table), through one `SqlClient`. Sharing the client is what lets a
 * snapshot commit and the events it produces be written in one transaction.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Effect, Layer } from "effect"

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const statements = [
    `create table drift_monitor_events (
      seq integer primary key autoincrement,
      id text not null unique,
      type text not null,
      connection_id text,
      payload text not null,
      created_at integer not null
    )`,
    `create index drift_monitor_events_connection on drift_monitor_events (connection_id, seq)`,
    `create table drift_monitor_endpoints (
      id text primary key,
      url text not null,
      description text not null,
      secret text not null,
      event_types text not null,
      enabled integer not null,
      created_at integer not null
    )`,
    `create table drift_monitor_deliveries (
      seq integer primary key autoincrement,
      id text not null unique,
      endpoint_id text not null references drift_monitor_endpoints (id) on delete cascade,
      event_id text not null,
      event_type text not null,
      status text not null,
      attempts integer not null,
      next_attempt_at integer,
      last_attempt_at integer,
      last_status integer,
      last_error text,
      created_at integer not null,
      delivered_at integer,
      unique (endpoint_id, event_id)
    )`,
    `create index drift_monitor_deliveries_due on drift_monitor_deliveries (status, next_attempt_at)`,
    `create table drift_monitor_connection_state (
      connection_id text primary key,
      alert text,
      alert_since integer,
      alert_message text,
      last_run_at integer,
      last_error text,
      failures integer not null default 0
    )`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/** The Migrator table of the app's own migrations (the store keeps `plumbline_migrations`). */
export const migrationsTable = "drift_monitor_migrations"

/** Runs the app's migrations. */
export const migrate = Migrator.make({})({
  loader: Migrator.fromRecord({ "1_initial": initial }),
  table: migrationsTable
})

const configure = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe("pragma foreign_keys = on")
  yield* sql.unsafe("pragma busy_timeout = 5000")
  yield* sql.unsafe("pragma synchronous = normal")
})

/** The `SqlClient` on the SQLite file `filename`, configured and with the app's tables migrated. */
export const layer = (filename: string): Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError> =>
  Layer.effectDiscard(Effect.zipRight(configure, migrate)).pipe(
    Layer.provideMerge(SqliteClient.layer({ filename }))
  ) as Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError>
