/**
 * History: the drift events and findings stored with each commit, read back as a filtered,
 * cursor-paged stream of events, the history of one check, or the findings of a connection's latest
 * snapshot. Events page by their insertion sequence, so a reader never misses one committed later.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Store } from "@plumbline/core"
import { Effect, Option } from "effect"
import { latestRow } from "./snapshots.js"
import type { Row } from "./shared.js"
import { decodeWith, limitOf, num, str, StoredFinding, unavailable } from "./shared.js"

/** The store operations on drift events and findings. */
export type History = Pick<Store.Service, "driftEvents" | "findingHistory" | "latestFindings">

const decodeEvent = decodeWith(Store.DriftEvent)
const decodeFinding = decodeWith(StoredFinding)

/** The history operations on the `SqlClient` in context. */
export const make: Effect.Effect<History, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const driftEvents = (query: Store.DriftQuery) =>
    Effect.gen(function* () {
      const limit = limitOf(query)
      const since = query.since instanceof Date ? query.since.getTime() : query.since
      const clauses = [sql`detected_at >= ${since}`]
      if (query.connectionId !== undefined) clauses.push(sql`connection_id = ${query.connectionId}`)
      if (query.scope !== undefined) clauses.push(sql`scope_key = ${query.scope}`)
      if (query.resource !== undefined) clauses.push(sql`resource = ${query.resource}`)
      if (query.cursor !== undefined) {
        const [seq] = yield* Store.decodeCursor(query.cursor, 1)
        clauses.push(sql`seq > ${seq}`)
      }
      const rows = yield* sql<Row>`select seq, id, body from plumbline_drift_events where ${sql.and(clauses)}
        order by seq limit ${limit + 1}`
      const page = rows.slice(0, limit)
      const items = yield* Effect.all(page.map((row) => decodeEvent(row.body, "drift-event", str(row.id))))
      const last = page[page.length - 1]
      return {
        items,
        next: rows.length > limit && last !== undefined ? Option.some(Store.encodeCursor([num(last.seq)])) : Option.none()
      } satisfies Store.Page<Store.DriftEvent>
    }).pipe(unavailable("drift-event"))

  const toFindings = (rows: ReadonlyArray<Row>) =>
    Effect.all(rows.map((row) => decodeFinding(row.body, "finding", str(row.snapshot_id))))

  const findingHistory = (query: Store.FindingHistoryQuery) => {
    const clauses = [sql`connection_id = ${query.connectionId}`, sql`check_id = ${query.checkId}`]
    if (query.scope !== undefined) clauses.push(sql`scope_key = ${query.scope}`)
    return sql<Row>`select snapshot_id, body from plumbline_findings where ${sql.and(clauses)}
      order by evaluated_at, seq`.pipe(Effect.flatMap(toFindings), unavailable("finding"))
  }

  const latestFindings = (connectionId: string) =>
    latestRow(sql, connectionId).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.succeed([]),
          onSome: (row) =>
            sql<Row>`select snapshot_id, body from plumbline_findings where snapshot_id = ${str(row.id)} order by seq`.pipe(
              Effect.flatMap(toFindings)
            )
        })
      ),
      unavailable("finding")
    )

  return { driftEvents, findingHistory, latestFindings }
})
