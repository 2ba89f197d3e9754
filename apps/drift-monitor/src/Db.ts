/**
 * The app's database, shared by the store (`@plumbline/store-sql`, its own `plumbline_*` tables and
 * migrations) and the app's own tables below (`drift_monitor_*`, migrated by their own Migrator
 * table), through one `SqlClient`. Sharing the client is what lets a snapshot commit and the events
 * it produces be written in one transaction.
 *
 * - SQLite (the default): one file in the data folder, for one process.
 * - PostgreSQL (`DRIFT_MONITOR_DATABASE_URL=postgres://…`): for several processes sharing the work
 *   through the scheduler's leases (see `Scheduler`) and one request budget per token (see
 *   `SharedBudget`).
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Migrations, SqliteStore } from "@plumbline/store-sql"
import type { ConfigError, Redacted } from "effect"
import { Effect, Layer } from "effect"
import { dirname } from "node:path"
import * as DataFolder from "./DataFolder.js"

/** Where the app keeps its data. */
export type Database =
  | { readonly _tag: "sqlite"; readonly filename: string }
  | { readonly _tag: "pg"; readonly url: Redacted.Redacted<string> }

/** Column types per dialect (times are epoch milliseconds, so 64-bit on PostgreSQL). */
const types = (sql: SqlClient.SqlClient) =>
  sql.onDialectOrElse({
    pg: () => ({ serial: "bigserial primary key", int: "bigint" }),
    orElse: () => ({ serial: "integer primary key autoincrement", int: "integer" })
  })

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  const statements = [
    `create table drift_monitor_events (
      seq ${t.serial},
      id text not null unique,
      type text not null,
      connection_id text,
      payload text not null,
      created_at ${t.int} not null
    )`,
    `create index drift_monitor_events_connection on drift_monitor_events (connection_id, seq)`,
    `create table drift_monitor_endpoints (
      id text primary key,
      url text not null,
      description text not null,
      secret text not null,
      event_types text not null,
      enabled integer not null,
      created_at ${t.int} not null
    )`,
    `create table drift_monitor_deliveries (
      seq ${t.serial},
      id text not null unique,
      endpoint_id text not null references drift_monitor_endpoints (id) on delete cascade,
      event_id text not null,
      event_type text not null,
      status text not null,
      attempts integer not null,
      next_attempt_at ${t.int},
      last_attempt_at ${t.int},
      last_status integer,
      last_error text,
      created_at ${t.int} not null,
      delivered_at ${t.int},
      unique (endpoint_id, event_id)
    )`,
    `create index drift_monitor_deliveries_due on drift_monitor_deliveries (status, next_attempt_at)`,
    `create table drift_monitor_connection_state (
      connection_id text primary key,
      alert text,
      alert_since ${t.int},
      alert_message text,
      last_run_at ${t.int},
      last_error text,
      failures integer not null default 0
    )`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/**
 * The scheduler's state, the source of truth every process reads: when each connection is next due
 * (`null` while paused), a pending re-check, the lease of the process running it, and the last run.
 * The request-budget log and pauses shared by every process (PostgreSQL; see `SharedBudget`).
 */
const schedule = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  const statements = [
    `create table drift_monitor_schedule (
      connection_id text primary key,
      next_run_at ${t.int},
      failures integer not null default 0,
      recheck_requested integer not null default 0,
      recheck_done integer not null default 0,
      lease_owner text,
      lease_started_at ${t.int},
      lease_expires_at ${t.int},
      lease_recheck integer,
      last_recheck integer,
      last_started_at ${t.int},
      last_finished_at ${t.int},
      last_owner text,
      last_outcome text
    )`,
    `create index drift_monitor_schedule_due on drift_monitor_schedule (next_run_at)`,
    `create table drift_monitor_budget_log (
      seq ${t.serial},
      budget_key text not null,
      at ${t.int} not null
    )`,
    `create index drift_monitor_budget_log_key on drift_monitor_budget_log (budget_key, at)`,
    `create table drift_monitor_budget_pause (
      budget_key text primary key,
      paused_until ${t.int} not null
    )`,
    `create table drift_monitor_runs (
      seq ${t.serial},
      connection_id text not null,
      owner text not null,
      started_at ${t.int} not null,
      finished_at ${t.int} not null,
      outcome text not null
    )`,
    `create index drift_monitor_runs_connection on drift_monitor_runs (connection_id, started_at)`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/** Webhook secret rotation: the rotated-out secret (sealed) and until when it still signs. */
const webhookSecretRotation = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  yield* sql.unsafe(`alter table drift_monitor_endpoints add column previous_secret text`)
  yield* sql.unsafe(`alter table drift_monitor_endpoints add column previous_until ${t.int}`)
})

/**
 * Hosted connect flow (issue #13): connect sessions — only a SHA-256 hash of each session's token is
 * kept — and the end user a connection was made for (the product's own id for its customer).
 */
const connectSessions = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  const statements = [
    `create table drift_monitor_connect_sessions (
      id text primary key,
      token_hash text not null,
      end_user_id text not null,
      end_user_display_name text,
      end_user_email text,
      reconnect text,
      allowed_origins text not null,
      return_url text,
      created_at ${t.int} not null,
      expires_at ${t.int} not null,
      verify_attempts integer not null default 0,
      claimed_at ${t.int},
      completed_at ${t.int},
      connection_id text
    )`,
    `create table drift_monitor_end_users (
      connection_id text primary key,
      end_user_id text not null,
      display_name text,
      email text,
      created_at ${t.int} not null
    )`,
    `create index drift_monitor_end_users_id on drift_monitor_end_users (end_user_id)`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/**
 * Indexes that let the scheduler's claim and wake-up statements (`internal/ScheduleQueries`) read
 * only the rows they return, so their cost does not grow with the number of connections: pending
 * re-checks (a partial index over rare rows) and held leases (for the earliest foreign lease
 * expiry). Due rows use `drift_monitor_schedule_due`. Before, both statements scanned and sorted the
 * whole table, about 6 ms a claim at 10,000 connections, which capped one process below B4's load.
 */
const scheduleIndexes = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe(
    `create index drift_monitor_schedule_recheck on drift_monitor_schedule (next_run_at) where recheck_requested > recheck_done`
  )
  yield* sql.unsafe(`create index drift_monitor_schedule_lease on drift_monitor_schedule (lease_expires_at) where lease_owner is not null`)
})

/**
 * Change detection (issue #15): each connection's feed mode and position (JSON of
 * `ChangeFeed.Position`), the feed's last lag, the drift reconciliation found that the feed missed,
 * and when the last full snapshot ran.
 */
const changeFeed = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = types(sql)
  yield* sql.unsafe(`create table drift_monitor_change_feed (
    connection_id text primary key,
    mode text not null,
    position text,
    lag_millis ${t.int},
    missed_by_feed ${t.int} not null default 0,
    last_full_at ${t.int},
    last_feed_error text,
    updated_at ${t.int} not null
  )`)
})

/** The Migrator table of the app's own migrations (the store keeps `plumbline_migrations`). */
export const migrationsTable = "drift_monitor_migrations"

/** Runs the app's migrations. */
export const migrate = Migrator.make({})({
  loader: Migrator.fromRecord({ "1_initial": initial, "2_schedule": schedule, "3_webhook_secret_rotation": webhookSecretRotation, "4_connect_sessions": connectSessions, "5_schedule_indexes": scheduleIndexes, "6_change_feed": changeFeed }),
  table: migrationsTable
})

const configureSqlite = SqliteStore.configureConnection({ busyTimeout: "5 seconds" })

/**
 * PostgreSQL: processes starting together would race to create the same tables, so migrations (the
 * store's, then the app's) run under a session advisory lock: one process migrates, the others wait
 * and find them applied.
 */
const migrateLocked = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  return yield* Effect.acquireUseRelease(
    sql.reserve,
    (connection) =>
      Effect.gen(function* () {
        yield* connection.executeRaw("select pg_advisory_lock(hashtext('drift_monitor_migrations'))", [])
        return yield* Effect.ensuring(
          Effect.zipRight(Migrations.run, migrate),
          Effect.ignore(connection.executeRaw("select pg_advisory_unlock(hashtext('drift_monitor_migrations'))", []))
        )
      }),
    () => Effect.void
  ).pipe(Effect.scoped)
})

/**
 * Before SQLite opens the file: the data folder 0700 and the database with its WAL and SHM 0600
 * (see `DataFolder`). After the migrations (the first write, which creates the WAL and SHM), once
 * more, in case a file appeared with other bits.
 */
const secureSqlite = (filename: string) =>
  Effect.sync(() => {
    DataFolder.secureFolder(dirname(filename))
    DataFolder.secureDatabase(filename)
  })

/** The `SqlClient` on `database`, configured and with the app's tables migrated. */
export const layer = (
  database: Database
): Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError | ConfigError.ConfigError> =>
  database._tag === "sqlite"
    ? (Layer.effectDiscard(Effect.zipRight(Effect.zipRight(configureSqlite, migrate), secureSqlite(database.filename))).pipe(
        Layer.provideMerge(SqliteClient.layer({ filename: database.filename })),
        Layer.provide(Layer.effectDiscard(secureSqlite(database.filename)))
      ) as Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError>)
    : (Layer.effectDiscard(migrateLocked).pipe(
        Layer.provideMerge(PgClient.layer({ url: database.url, applicationName: "drift-monitor", maxConnections: 16 }))
      ) as Layer.Layer<SqlClient.SqlClient, SqlError | Migrator.MigrationError>)

/** Whether the database is shared by several processes (leases and the shared budget apply). */
export const isShared = (database: Database): boolean => database._tag === "pg"
