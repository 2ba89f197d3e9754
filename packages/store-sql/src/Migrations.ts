/**
 * The store's schema, as one set of `@effect/sql` Migrator migrations for both SQLite and
 * PostgreSQL. The tables are the same on both; only the column types that differ (binary data,
 * auto-incrementing keys, 64-bit integers) are chosen per dialect. Times are epoch milliseconds.
 *
 * Records are content-addressed in chunks: a result's records are cut into content-defined chunks
 * of about 64 records (boundaries chosen by record key, so a change touches one chunk);
 * `plumbline_chunks` holds each distinct chunk once, keyed by the SHA-256 of its JSON;
 * `plumbline_manifests` holds each distinct ordered list of chunk hashes once; a snapshot's results
 * point at manifests. An unchanged account therefore costs one snapshot row and one small row per
 * resource result; a changed record costs one chunk.
 */
import * as Migrator from "@effect/sql/Migrator"
import * as SqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"

/** The table the Migrator records applied migrations in. */
export const table = "plumbline_migrations"

const initial = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = sql.onDialectOrElse({
    pg: () => ({ blob: "bytea", int: "bigint", serial: "bigserial primary key", noRowid: "" }),
    orElse: () => ({ blob: "blob", int: "integer", serial: "integer primary key autoincrement", noRowid: " without rowid" })
  })
  const statements = [
    `create table plumbline_connections (
      id text primary key,
      connector_id text not null,
      name text not null,
      settings text not null,
      status text not null,
      credential_kind text not null,
      credential_fingerprint text not null,
      credential_key_id text not null,
      credential_sealed ${t.blob} not null,
      created_at ${t.int} not null,
      updated_at ${t.int} not null,
      lease_owner text,
      lease_expires_at ${t.int},
      next_run_at ${t.int}
    )`,
    `create index plumbline_connections_next_run on plumbline_connections (next_run_at)`,
    `create table plumbline_chunks (
      hash ${t.blob} primary key,
      record_count ${t.int} not null,
      body text not null
    )${t.noRowid}`,
    `create table plumbline_manifests (
      hash ${t.blob} primary key,
      record_count ${t.int} not null,
      body ${t.blob} not null
    )${t.noRowid}`,
    `create table plumbline_snapshots (
      seq ${t.serial},
      id text not null unique,
      connection_id text not null references plumbline_connections (id) on delete cascade,
      started_at ${t.int} not null,
      finished_at ${t.int} not null,
      stored_at ${t.int} not null,
      outcome text not null,
      header text not null,
      result_count ${t.int} not null,
      record_count ${t.int} not null
    )`,
    `create index plumbline_snapshots_latest on plumbline_snapshots (connection_id, finished_at, seq)`,
    `create table plumbline_results (
      snapshot_seq ${t.int} not null references plumbline_snapshots (seq) on delete cascade,
      position ${t.int} not null,
      resource text not null,
      scope text not null,
      status text not null,
      manifest ${t.blob},
      primary key (snapshot_seq, position)
    )`,
    `create index plumbline_results_manifest on plumbline_results (manifest)`,
    `create table plumbline_drift_events (
      seq ${t.serial},
      id text not null unique,
      connection_id text not null references plumbline_connections (id) on delete cascade,
      snapshot_id text not null,
      detected_at ${t.int} not null,
      kind text not null,
      resource text not null,
      scope_key text not null,
      record_key text,
      body text not null
    )`,
    `create index plumbline_drift_events_connection on plumbline_drift_events (connection_id, seq)`,
    `create index plumbline_drift_events_detected on plumbline_drift_events (detected_at)`,
    `create table plumbline_findings (
      seq ${t.serial},
      connection_id text not null references plumbline_connections (id) on delete cascade,
      snapshot_id text not null,
      check_id text not null,
      scope_key text not null,
      evaluated_at ${t.int} not null,
      verdict text not null,
      body text not null
    )`,
    `create index plumbline_findings_check on plumbline_findings (connection_id, check_id, seq)`,
    `create index plumbline_findings_snapshot on plumbline_findings (snapshot_id)`
  ]
  for (const statement of statements) yield* sql.unsafe(statement)
})

/**
 * The lease and next-run columns of `plumbline_connections`, and the index on `next_run_at`, were
 * made for a scheduler that now keeps its own table (the drift monitor's `drift_monitor_schedule`);
 * nothing reads or writes them. The index goes first: SQLite refuses to drop an indexed column.
 */
const dropConnectionSchedule = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql.unsafe("drop index plumbline_connections_next_run")
  for (const column of ["lease_owner", "lease_expires_at", "next_run_at"]) {
    yield* sql.unsafe(`alter table plumbline_connections drop column ${column}`)
  }
})

/**
 * Several credentials per connection (issue #13): `plumbline_credentials` holds each one sealed on
 * its own, with its status and the scopes (zones) it reads. The credential each connection had is
 * moved there as is: its sealed bytes stay bound to the connection id and kind (`aad = 'connection'`,
 * the old binding) until `rotateKeys` re-seals it with the new one (connection id, credential id and
 * kind). The connection row keeps the kind and fingerprint of its latest credential, not the secret.
 */
const credentials = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const t = sql.onDialectOrElse({
    pg: () => ({ blob: "bytea", int: "bigint" }),
    orElse: () => ({ blob: "blob", int: "integer" })
  })
  yield* sql.unsafe(`create table plumbline_credentials (
    connection_id text not null references plumbline_connections (id) on delete cascade,
    id text not null,
    position ${t.int} not null,
    kind text not null,
    fingerprint text not null,
    key_id text not null,
    sealed ${t.blob} not null,
    aad text not null,
    status text not null,
    scopes text,
    created_at ${t.int} not null,
    updated_at ${t.int} not null,
    primary key (connection_id, id)
  )`)
  yield* sql.unsafe(`insert into plumbline_credentials
    (connection_id, id, position, kind, fingerprint, key_id, sealed, aad, status, scopes, created_at, updated_at)
    select id, 'cr_' || credential_fingerprint, 1, credential_kind, credential_fingerprint, credential_key_id, credential_sealed,
      'connection', case when status = 'credential_expired' then 'expired' else 'active' end, null, created_at, updated_at
    from plumbline_connections`)
  for (const column of ["credential_key_id", "credential_sealed"]) {
    yield* sql.unsafe(`alter table plumbline_connections drop column ${column}`)
  }
})

/** The migrations, in order. */
export const loader: Migrator.Loader = Migrator.fromRecord({
  "1_initial": initial,
  "2_drop_connection_schedule": dropConnectionSchedule,
  "3_credentials": credentials
})

/** Runs every migration not yet applied (PostgreSQL serialises concurrent runs with a table lock). */
export const run = Migrator.make({})({ loader, table })
