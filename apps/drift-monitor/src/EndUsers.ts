/**
 * The end user a connection was made for: the product's own id for its customer, with an optional
 * display name and email, as the product gave them when it opened a connect session (issue #13).
 * Kept in the app's `drift_monitor_end_users` table, beside the store's connection, so the product
 * can find its customer's connections (`GET /api/connections?endUserId=`) and every event about a
 * connection can say whose it is. A connection made without a session has none.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, Schema } from "effect"
import { ConnectionStateError } from "./ConnectionState.js"
import { decode, type Row } from "./internal/Rows.js"

/** The product's customer, as the product named it. */
export const EndUser = Schema.Struct({
  id: Schema.String,
  displayName: Schema.NullOr(Schema.String),
  email: Schema.NullOr(Schema.String)
})
export type EndUser = typeof EndUser.Type

const EndUserRow = Schema.Struct({
  end_user_id: Schema.String,
  display_name: Schema.NullOr(Schema.String),
  email: Schema.NullOr(Schema.String)
})

const corrupt = (connectionId: string) => (detail: string) =>
  new ConnectionStateError({ reason: "corrupt", connectionId, message: `the end user of connection ${connectionId}: ${detail}` })

/** Records (or replaces) the end user of a connection. */
export const attach = (
  connectionId: string,
  endUser: EndUser,
  now: number
): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql`insert into drift_monitor_end_users (connection_id, end_user_id, display_name, email, created_at)
        values (${connectionId}, ${endUser.id}, ${endUser.displayName}, ${endUser.email}, ${now})
        on conflict (connection_id) do update set end_user_id = ${endUser.id}, display_name = ${endUser.displayName}, email = ${endUser.email}`
  ).pipe(Effect.asVoid)

/** The end user of a connection; `null` when it was made without a connect session. */
export const of = (connectionId: string): Effect.Effect<EndUser | null, SqlError | ConnectionStateError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const found = (yield* sql<Row>`select end_user_id, display_name, email from drift_monitor_end_users where connection_id = ${connectionId}`)[0]
    if (found === undefined) return null
    const row = yield* decode(EndUserRow, corrupt(connectionId))(found)
    return { id: row.end_user_id, displayName: row.display_name, email: row.email }
  })

/** The ids of the connections made for one end user. */
export const connectionsOf = (endUserId: string): Effect.Effect<ReadonlyArray<string>, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ readonly connection_id: string }>`select connection_id from drift_monitor_end_users where end_user_id = ${endUserId}`,
      (rows) => rows.map((r) => String(r.connection_id))
    )
  )

/** Forgets the end user of a deleted connection. */
export const remove = (connectionId: string): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from drift_monitor_end_users where connection_id = ${connectionId}`).pipe(Effect.asVoid)
