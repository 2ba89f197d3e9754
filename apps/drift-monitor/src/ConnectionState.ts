/**
 * What the app keeps about each connection beside the store's own record: its alert (credential
 * expired, since when, why), the last run and the consecutive failures that drive backoff. Kept in
 * the app's `drift_monitor_connection_state` table so an alert survives a restart.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"
import { decode, Integer, type Row } from "./internal/Rows.js"

/**
 * An alert a connection raises. `account_unavailable`: the provider account itself is suspended or
 * locked (issue #14 §4), something only the customer can settle with the provider.
 */
export const AlertKind = Schema.Literal("credential_expired", "failing", "account_unavailable")
export type AlertKind = typeof AlertKind.Type

/** The alert as the API shows it. */
export class Alert extends Schema.Class<Alert>("Alert")({
  kind: AlertKind,
  since: Schema.String,
  message: Schema.String
}) {}

/** A connection's stored state does not decode. */
export class ConnectionStateError extends Schema.TaggedError<ConnectionStateError>()("ConnectionStateError", {
  reason: Schema.Literal("corrupt"),
  connectionId: Schema.String,
  message: Schema.String
}) {}

/** A connection's run state. */
export interface State {
  readonly alert: Alert | null
  readonly lastRunAt: string | null
  readonly lastError: string | null
  readonly failures: number
}

/** A row of `drift_monitor_connection_state`. */
const StateRow = Schema.Struct({
  alert: Schema.NullOr(AlertKind),
  alert_since: Schema.NullOr(Integer),
  alert_message: Schema.NullOr(Schema.String),
  last_run_at: Schema.NullOr(Integer),
  last_error: Schema.NullOr(Schema.String),
  failures: Integer
})

const empty: State = { alert: null, lastRunAt: null, lastError: null, failures: 0 }

const ensure = (sql: SqlClient.SqlClient, id: string) =>
  sql`insert into drift_monitor_connection_state (connection_id, failures) values (${id}, 0) on conflict (connection_id) do nothing`

/** The state of one connection (empty when never run). */
export const get = (id: string): Effect.Effect<State, SqlError | ConnectionStateError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const found = (yield* sql<Row>`select * from drift_monitor_connection_state where connection_id = ${id}`)[0]
    if (found === undefined) return empty
    const row = yield* decode(
      StateRow,
      (detail) => new ConnectionStateError({ reason: "corrupt", connectionId: id, message: `the state of connection ${id}: ${detail}` })
    )(found)
    const iso = (millis: number | null) => (millis === null ? null : new Date(millis).toISOString())
    return {
      alert: row.alert === null ? null : new Alert({ kind: row.alert, since: iso(row.alert_since) ?? "", message: row.alert_message ?? "" }),
      lastRunAt: iso(row.last_run_at),
      lastError: row.last_error,
      failures: row.failures
    }
  })

/** Raises an alert (keeps the original `since` when the same alert is raised again). */
export const raise = (id: string, kind: AlertKind, message: string, at: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* ensure(sql, id)
    yield* sql`update drift_monitor_connection_state
      set alert_since = case when alert = ${kind} then alert_since else ${at} end, alert = ${kind}, alert_message = ${message}
      where connection_id = ${id}`
  })

/** Clears the alert. */
export const clear = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`update drift_monitor_connection_state set alert = null, alert_since = null, alert_message = null where connection_id = ${id}`
  })

/** Records a successful run. */
export const succeeded = (id: string, at: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // One statement, run after every committed snapshot: the row is created or updated in place.
    yield* sql`insert into drift_monitor_connection_state (connection_id, failures, last_run_at) values (${id}, 0, ${at})
      on conflict (connection_id) do update set last_run_at = ${at}, last_error = null, failures = 0,
      alert = case when drift_monitor_connection_state.alert in ('failing', 'account_unavailable') then null else drift_monitor_connection_state.alert end,
      alert_since = case when drift_monitor_connection_state.alert in ('failing', 'account_unavailable') then null else drift_monitor_connection_state.alert_since end`
  })

/** Records a failed run; returns the consecutive failures so far. */
export const failed = (id: string, at: number, error: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* ensure(sql, id)
    yield* sql`update drift_monitor_connection_state set last_run_at = ${at}, last_error = ${error}, failures = failures + 1
      where connection_id = ${id}`
    const row = (yield* sql<Row>`select failures from drift_monitor_connection_state where connection_id = ${id}`)[0]
    return Number(row?.["failures"] ?? 1)
  })

/** Forgets a deleted connection. */
export const remove = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from drift_monitor_connection_state where connection_id = ${id}`)
