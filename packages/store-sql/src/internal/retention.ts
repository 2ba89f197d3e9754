/**
 * Retention: deletes the snapshots no rule keeps (deleting a snapshot cascades to its results; its
 * drift events and findings stay as history), then sweeps manifests no result references and chunks
 * no manifest names. On PostgreSQL it locks manifests and chunks against concurrent commits first.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Store } from "@plumbline/core"
import { Clock, Effect } from "effect"
import * as codec from "./codec.js"
import type { Row } from "./shared.js"
import { batches, bytes, failure, lockManifests, num, READ_BATCH, str, unavailable } from "./shared.js"

/** The store operation that applies a retention policy. */
export type Retention = Pick<Store.Service, "applyRetention">

const DAY_MILLIS = 86_400_000

/** The retention operation on the `SqlClient` in context. */
export const make: Effect.Effect<Retention, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient

  const applyRetention = (policy: Store.RetentionPolicy) =>
    Effect.gen(function* () {
      const keepLast = policy.keepLast === undefined ? undefined : Math.max(1, Math.floor(policy.keepLast))
      if (keepLast === undefined && policy.maxAgeDays === undefined) {
        return yield* failure("invalid", "retention", undefined, "give keepLast, maxAgeDays or both")
      }
      const now = yield* Clock.currentTimeMillis
      const cutoff = policy.maxAgeDays === undefined ? undefined : now - policy.maxAgeDays * DAY_MILLIS
      return yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* lockManifests(sql, "sweep")
          const rows = yield* sql<Row>`select seq, connection_id, finished_at from plumbline_snapshots
            order by connection_id, finished_at desc, seq desc`
          const doomed: Array<number> = []
          let connection: string | undefined
          let rank = 0
          for (const row of rows) {
            rank = str(row.connection_id) === connection ? rank + 1 : 0
            connection = str(row.connection_id)
            // The newest snapshot of a connection is always kept; otherwise either rule may keep one.
            const keptByCount = keepLast !== undefined && rank < keepLast
            const keptByAge = cutoff !== undefined && num(row.finished_at) >= cutoff
            if (rank > 0 && !keptByCount && !keptByAge) doomed.push(num(row.seq))
          }
          for (const batch of batches(doomed, READ_BATCH)) {
            yield* sql`delete from plumbline_snapshots where ${sql.in("seq", batch)}`
          }
          // Sweep what no result references any more (also what deleted connections left behind).
          const orphanManifests = yield* sql<Row>`select hash from plumbline_manifests m
            where not exists (select 1 from plumbline_results r where r.manifest = m.hash)`
          for (const batch of batches(orphanManifests.map((r) => bytes(r.hash)), READ_BATCH)) {
            yield* sql`delete from plumbline_manifests where ${sql.in("hash", batch)}`
          }
          let chunksDeleted = 0
          if (orphanManifests.length > 0) {
            const live = new Set<string>()
            const manifests = yield* sql<Row>`select body from plumbline_manifests`
            for (const m of manifests) for (const h of codec.manifestHashes(bytes(m.body))) live.add(codec.hashKey(h))
            const all = yield* sql<Row>`select hash from plumbline_chunks`
            const dead = all.map((r) => bytes(r.hash)).filter((h) => !live.has(codec.hashKey(h)))
            for (const batch of batches(dead, READ_BATCH)) {
              yield* sql`delete from plumbline_chunks where ${sql.in("hash", batch)}`
            }
            chunksDeleted = dead.length
          }
          return {
            snapshotsDeleted: doomed.length,
            blobsDeleted: orphanManifests.length + chunksDeleted
          } satisfies Store.RetentionResult
        })
      )
    }).pipe(unavailable("retention"))

  return { applyRetention }
})
