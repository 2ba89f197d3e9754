/**
 * Change detection (issue #15): how each connection learns what changed, kept with the connection
 * in `drift_monitor_change_feed` so that a restart or another process sharing the database carries
 * on from the same feed position — nothing read twice, nothing missed.
 *
 * - Mode: `audit_log` when the connector's feed can read the provider's log with the credential,
 *   else `probes` (cheap change markers), else `full`. A `forbidden` feed falls to the next mode.
 * - A run is incremental when the connection holds a position and the last full snapshot is less
 *   than the reconciliation interval old; otherwise it is full. A full run starts the feed afresh
 *   (from the best mode) *before* reading, so a change made during the read is announced next time.
 * - A feed error (`retention`, `unavailable`, or any connector error) makes the run full.
 * - Reconciliation, the full run on the slower schedule, also reads what the feed announced since
 *   its last position and counts each drift change the feed did not announce (`missedByFeed`).
 *
 * The state is written in the transaction that commits the snapshot, under the scheduler's lease
 * check: the position only ever moves with the snapshot that consumed its marks.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { Drift, Snapshot } from "@plumbline/core"
import { ChangeFeed, Scope } from "@plumbline/core"
import { Effect, Schema } from "effect"
import { ConnectionStateError } from "./ConnectionState.js"
import { decode, Integer, type Row } from "./internal/Rows.js"

/** What the app keeps about a connection's change detection. */
export interface State {
  readonly mode: ChangeFeed.Mode
  /** Where the feed stands; none before the first run, or after a feed error. */
  readonly position: ChangeFeed.Position | undefined
  /**
   * The credential the feed reads through (its id): the one that could read the best mode, not
   * simply the first, so a connection of per-zone tokens uses the one holding the audit-log permission.
   */
  readonly credentialId: string | undefined
  /** Seconds the feed was behind when last read. */
  readonly lagSeconds: number | null
  /** Drift changes reconciliation found that the feed had not announced, in all. */
  readonly missedByFeed: number
  /** Epoch ms of the last full snapshot (the reconciliation clock). */
  readonly lastFullAt: number | null
  /** Why the last feed read failed, for people; null after a good read. */
  readonly lastFeedError: string | null
}

/** The state of a connection never run. */
export const initial: State = { mode: "full", position: undefined, credentialId: undefined, lagSeconds: null, missedByFeed: 0, lastFullAt: null, lastFeedError: null }

/**
 * The `position` column: the position with the credential it is read through. Rows written before
 * the credential was kept hold the bare position (read with no credential: the next run chooses one).
 */
const StoredPosition = Schema.Union(Schema.Struct({ position: ChangeFeed.Position, credentialId: Schema.String }), ChangeFeed.Position)

const StateRow = Schema.Struct({
  mode: ChangeFeed.Mode,
  position: Schema.NullOr(Schema.parseJson(StoredPosition)),
  lag_millis: Schema.NullOr(Integer),
  missed_by_feed: Integer,
  last_full_at: Schema.NullOr(Integer),
  last_feed_error: Schema.NullOr(Schema.String)
})
const encodePosition = Schema.encodeSync(Schema.parseJson(StoredPosition))

/** The state of one connection (`initial` when never run). */
export const get = (connectionId: string): Effect.Effect<State, SqlError | ConnectionStateError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const found = (yield* sql<Row>`select * from drift_monitor_change_feed where connection_id = ${connectionId}`)[0]
    if (found === undefined) return initial
    const row = yield* decode(
      StateRow,
      (detail) => new ConnectionStateError({ reason: "corrupt", connectionId, message: `the change feed of connection ${connectionId}: ${detail}` })
    )(found)
    const stored = row.position ?? undefined
    return {
      mode: row.mode,
      position: stored === undefined || stored instanceof ChangeFeed.Position ? stored : stored.position,
      credentialId: stored === undefined || stored instanceof ChangeFeed.Position ? undefined : stored.credentialId,
      lagSeconds: row.lag_millis === null ? null : row.lag_millis / 1000,
      missedByFeed: row.missed_by_feed,
      lastFullAt: row.last_full_at,
      lastFeedError: row.last_feed_error
    }
  })

/** Writes the state of one connection (inside the run's commit transaction). */
export const put = (connectionId: string, state: State, at: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const values = {
      mode: state.mode,
      position:
        state.position === undefined
          ? null
          : encodePosition(state.credentialId === undefined ? state.position : { position: state.position, credentialId: state.credentialId }),
      lag_millis: state.lagSeconds === null ? null : Math.round(state.lagSeconds * 1000),
      missed_by_feed: state.missedByFeed,
      last_full_at: state.lastFullAt,
      last_feed_error: state.lastFeedError,
      updated_at: at
    }
    yield* sql`insert into drift_monitor_change_feed ${sql.insert({ connection_id: connectionId, ...values })}
      on conflict (connection_id) do update set ${sql.update(values)}`
  })

/** Forgets a deleted connection. */
export const remove = (connectionId: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => sql`delete from drift_monitor_change_feed where connection_id = ${connectionId}`)

/** The modes after `mode`, best first (`full` needs no feed and is always last). */
export const modesAfter = (modes: ReadonlyArray<ChangeFeed.FeedMode>, mode: ChangeFeed.Mode): ReadonlyArray<ChangeFeed.FeedMode> =>
  mode === "full" ? [] : modes.slice(modes.indexOf(mode) + 1)

/** The permission that would enable a better mode than `mode`, if there is one. */
export const betterPermission = (
  feed: { readonly modes: ReadonlyArray<ChangeFeed.FeedMode>; readonly permissionFor: (mode: ChangeFeed.FeedMode) => string | undefined } | undefined,
  mode: ChangeFeed.Mode
): string | null => {
  if (feed === undefined) return null
  const better = mode === "full" ? feed.modes : feed.modes.slice(0, Math.max(0, feed.modes.indexOf(mode)))
  for (const candidate of better) {
    const permission = feed.permissionFor(candidate)
    if (permission !== undefined) return permission
  }
  return null
}

/**
 * The drift changes of `report` the feed's `marks` did not announce: those an incremental run
 * would have carried unchanged. A change is announced by a resource-less root mark, a mark on its scope naming
 * its resource (or none), or a resource-less mark on a scope above it; a scope that appeared or
 * vanished is announced by any mark on its parent (its listing is read again). `previous` and
 * `next` give each scope's parent.
 */
export const missedBy = (
  report: Drift.DriftReport,
  marks: ReadonlyArray<ChangeFeed.Mark>,
  previous: Snapshot.Snapshot,
  next: Snapshot.Snapshot
): number => {
  const rootKey = Scope.root(report.connectionId).key
  if (marks.some((m) => m.scope === rootKey && m.resources === undefined)) return 0
  const parents = new Map<string, string | undefined>()
  const before = new Set<string>()
  for (const r of previous.results) {
    parents.set(r.scope.key, r.scope.parent)
    before.add(r.scope.key)
  }
  const after = new Set<string>()
  for (const r of next.results) {
    parents.set(r.scope.key, r.scope.parent)
    after.add(r.scope.key)
  }
  const byScope = new Map<string, Array<ChangeFeed.Mark>>()
  for (const m of marks) byScope.set(m.scope, [...(byScope.get(m.scope) ?? []), m])
  const announced = (resource: string, scopeKey: string): boolean => {
    if ((byScope.get(scopeKey) ?? []).some((m) => m.resources === undefined || m.resources.includes(resource))) return true
    const parent = parents.get(scopeKey)
    // A scope on one side only came or went with its parent's listing.
    if (parent !== undefined && before.has(scopeKey) !== after.has(scopeKey) && byScope.has(parent)) return true
    for (let up = parent; up !== undefined; up = parents.get(up)) {
      if ((byScope.get(up) ?? []).some((m) => m.resources === undefined)) return true
    }
    return false
  }
  let missed = 0
  for (const change of [...report.changes, ...report.coverage]) if (!announced(change.resource, change.scope.key)) missed++
  return missed
}
