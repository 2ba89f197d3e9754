/**
 * What the app keeps about each connection beside the store's own record: its alert (credential
 * expired, since when, why), the last run and the consecutive failures that drive backoff. Kept in
 * the app's `drift_monitor_connection_state` table so an alert survives a restart.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"

/** An alert a connection raises. */
export const AlertKind = Schema.Literal("credential_expired", "failing")
export type AlertKind = typeof AlertKind.Type

/** The alert as the API shows it. */
export class Alert extends Schema.Class<Alert>("Alert")({
  kind: AlertKind,
  since: Schema.String,
  message: Schema.String
}) {}

/** A connection's run state. */
export interface State {
  readonly alert: Alert | null
  readonly lastRunAt: string | null
  readonly lastError: string | null
  readonly failures: number
}

type Row = Record<string, unknown>

const empty: State = { alert: null, lastRunAt: null, lastError: null, failures: 0 }

const ensure = (sql: SqlClient.SqlClient, id: string) =>
  sql`insert into drift_monitor_connection_state (connection_id, failures) values (${id}, 0) on conflict (connection_id) do nothing`

/** The state of one connection (empty when never run). */
export const get = (id: string): Effect.Effect<State, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const row = (yield* sql<Row>`select * from drift_monitor_connection_state where connection_id = ${id}`)[0]
    if (row === undefined) return empty
    const failures = Number(row["failures"] ?? 0)
    const alert =
      row["alert"] === null || row["alert"] === undefined
        ? null
        : new Alert({
            kind: String(row["alert"]) as AlertKind,
            since: new Date(Number(row["alert_since"])).toISOString(),
            message: String(row["alert_message"] ?? "")
          })
    return {
      alert,
      lastRunAt: row["last_run_at"] === null ? null : new Date(Number(row["last_run_at"])).toISOString(),
      lastError: row["last_error"] === null ? null : String(row["last_error"]),
      failures
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
    yield* ensure(sql, id)
    yield* sql`update drift_monitor_connection_state set last_run_at = ${at}, last_error = null, failures = 0,
      alert = case when alert = 'failing' then null else alert end,
      alert_since = case when alert = 'failing' then null else alert_since end
      where connection_id = ${id}`
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
