/**
 * Snapshots: committing one (chunks, manifests, the snapshot row, its results, drift events and
 * findings, all in one transaction) and loading one back, by id, as the latest, or as a page of
 * summaries.
 *
 * Chunks of manifests not stored yet are inserted in batches with `on conflict do nothing` (they
 * are content-addressed, so a concurrent commit storing the same chunk is harmless); a snapshot
 * committed twice is stored once, since its id is derived from its content.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import { Json, Snapshot, Store } from "@plumbline/core"
import { Clock, DateTime, Effect, Either, Option, Schema } from "effect"
import * as codec from "./codec.js"
import type { Row } from "./shared.js"
import {
  batches,
  bytes,
  CHUNK_BATCH,
  failure,
  limitOf,
  lockManifests,
  num,
  parseJson,
  READ_BATCH,
  str,
  StoredFinding,
  unavailable,
  WRITE_BATCH
} from "./shared.js"

/** The store operations on snapshots. */
export type Snapshots = Pick<Store.Service, "commit" | "latestSnapshot" | "snapshotById" | "listSnapshots">

/** The columns of `plumbline_snapshots` that loading and listing read. */
const SNAPSHOT_COLUMNS = "seq, id, connection_id, started_at, finished_at, outcome, header, result_count, record_count"

const encodeEvent = Schema.encodeSync(Store.DriftEvent)
const encodeFinding = Schema.encodeSync(StoredFinding)

/** The newest snapshot row of a connection (by finish time, then commit order), if it has one. */
export const latestRow = (sql: SqlClient.SqlClient, connectionId: string) =>
  Effect.map(
    sql<Row>`select ${sql.literal(SNAPSHOT_COLUMNS)} from plumbline_snapshots where connection_id = ${connectionId}
      order by finished_at desc, seq desc limit 1`,
    (rows) => Option.fromNullable(rows[0])
  )

/**
 * Whether a stored header is an incremental snapshot's: it has a provenance block. Listing reads only
 * that member, without decoding the provenance (the feed position can be large).
 */
const isIncrementalHeader = (header: unknown, id: string) =>
  Either.map(parseJson(header, "snapshot", id), (parsed) => {
    const provenance = typeof parsed === "object" && parsed !== null ? (parsed as { readonly provenance?: unknown }).provenance : undefined
    return provenance !== undefined && provenance !== null
  })

/** The snapshot operations on the `SqlClient` in context. */
export const make: Effect.Effect<Snapshots, never, SqlClient.SqlClient> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const snapshotColumns = sql.literal(SNAPSHOT_COLUMNS)

  const insertBatches = (table: string, rows: ReadonlyArray<Row>, conflict: string, size = WRITE_BATCH) =>
    Effect.forEach(
      batches(rows, size),
      (batch) => sql`insert into ${sql(table)} ${sql.insert(batch as Array<Row>)} ${sql.literal(conflict)}`,
      { discard: true }
    )

  const commit = ({ drift, findings, snapshot }: Store.Commit) =>
    Effect.gen(function* () {
      const connectionId = snapshot.connectionId
      if (drift !== undefined && drift.connectionId !== connectionId) {
        return yield* failure("invalid", "drift", connectionId, "the drift report is of another connection")
      }
      if (findings.some((f) => f.connectionId !== connectionId)) {
        return yield* failure("invalid", "finding", connectionId, "a finding is of another connection")
      }
      const prepared = codec.prepare(snapshot)
      const id = Store.SnapshotId.make(codec.snapshotId(snapshot, prepared.digest))
      const eventRows = (drift === undefined ? [] : Store.driftEventsOf(id, drift)).map((event) => ({
        id: event.id,
        connection_id: connectionId,
        snapshot_id: id,
        detected_at: DateTime.toEpochMillis(event.detectedAt),
        kind: event.kind,
        resource: event.resource,
        scope_key: event.scope.key,
        record_key: event.key ?? null,
        body: Json.stringify(encodeEvent(event))
      }))
      const findingRows = findings.map((finding) => ({
        connection_id: connectionId,
        snapshot_id: id,
        check_id: finding.checkId,
        scope_key: finding.scope.key,
        evaluated_at: DateTime.toEpochMillis(finding.evaluatedAt),
        verdict: finding.verdict._tag,
        body: Json.stringify(encodeFinding({ snapshotId: id, finding }))
      }))
      const now = yield* Clock.currentTimeMillis

      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* lockManifests(sql, "commit")
          const connection = yield* sql`select id from plumbline_connections where id = ${connectionId}`
          if (connection.length === 0) return yield* failure("not-found", "connection", connectionId)
          const [inserted] = yield* sql<Row>`insert into plumbline_snapshots ${sql.insert({
            id,
            connection_id: connectionId,
            started_at: DateTime.toEpochMillis(snapshot.startedAt),
            finished_at: DateTime.toEpochMillis(snapshot.finishedAt),
            stored_at: now,
            outcome: snapshot.outcome,
            header: prepared.header,
            result_count: prepared.results.length,
            record_count: prepared.recordCount
          })} on conflict (id) do nothing returning seq`
          // The same snapshot was committed before (or a concurrent commit of it won the race): it stored
          // everything already. Inserted first, so a repeated commit costs this one statement.
          if (inserted === undefined) return
          // Manifests (and so their records) already stored need not be written again.
          const manifests = new Map<string, NonNullable<codec.PreparedResult["manifest"]>>()
          for (const result of prepared.results) {
            if (result.manifest !== undefined) manifests.set(codec.hashKey(result.manifest.hash), result.manifest)
          }
          const stored = new Set<string>()
          for (const batch of batches(Array.from(manifests.values(), (m) => m.hash), READ_BATCH)) {
            const rows = yield* sql<Row>`select hash from plumbline_manifests where ${sql.in("hash", batch)}`
            for (const row of rows) stored.add(codec.hashKey(bytes(row.hash)))
          }
          const fresh = new Map<string, codec.Chunk>()
          const freshManifests: Array<Row> = []
          for (const [key, manifest] of manifests) {
            if (stored.has(key)) continue
            freshManifests.push({ hash: manifest.hash, record_count: manifest.recordCount, body: manifest.body })
            for (const c of manifest.chunks) fresh.set(codec.hashKey(c.hash), c)
          }
          yield* insertBatches(
            "plumbline_chunks",
            Array.from(fresh.values(), (c) => ({ hash: c.hash, record_count: c.recordCount, body: c.body })),
            "on conflict (hash) do nothing",
            CHUNK_BATCH
          )
          yield* Effect.forEach(
            freshManifests,
            (row) => sql`insert into plumbline_manifests ${sql.insert(row)} on conflict (hash) do nothing`,
            { discard: true }
          )

          const seq = num(inserted.seq)
          yield* insertBatches(
            "plumbline_results",
            prepared.results.map((result, position) => ({
              snapshot_seq: seq,
              position,
              resource: result.resource,
              scope: result.scope,
              status: result.status,
              manifest: result.manifest?.hash ?? null
            })),
            ""
          )
          yield* insertBatches("plumbline_drift_events", eventRows, "on conflict (id) do nothing")
          yield* insertBatches("plumbline_findings", findingRows, "")
        })
      )
      return id
    }).pipe(unavailable("snapshot"))


  /** Loads the results, manifests and records of a snapshot row and rebuilds the snapshot. */
  const load = (row: Row) =>
    Effect.gen(function* () {
      const id = str(row.id)
      const results = yield* sql<Row>`select resource, scope, status, manifest from plumbline_results
        where snapshot_seq = ${num(row.seq)} order by position`
      const manifestKeys = new Map<string, Uint8Array>()
      for (const result of results) {
        if (result.manifest !== null && result.manifest !== undefined) {
          manifestKeys.set(codec.hashKey(bytes(result.manifest)), bytes(result.manifest))
        }
      }
      const manifests = new Map<string, Array<Buffer>>()
      for (const batch of batches(Array.from(manifestKeys.values()), READ_BATCH)) {
        const rows = yield* sql<Row>`select hash, body from plumbline_manifests where ${sql.in("hash", batch)}`
        for (const m of rows) manifests.set(codec.hashKey(bytes(m.hash)), codec.manifestHashes(bytes(m.body)))
      }
      const wanted = new Map<string, Buffer>()
      for (const hashes of manifests.values()) for (const h of hashes) wanted.set(codec.hashKey(h), h)
      const chunkRecords = new Map<string, Array<Snapshot.SnapshotRecord>>()
      for (const batch of batches(Array.from(wanted.values()), READ_BATCH)) {
        const rows = yield* sql<Row>`select hash, body from plumbline_chunks where ${sql.in("hash", batch)}`
        for (const r of rows) chunkRecords.set(codec.hashKey(bytes(r.hash)), codec.recordsFromChunk(str(r.body)))
      }
      const header = yield* Either.mapLeft(
        Either.flatMap(parseJson(row.header, "snapshot", id), codec.decodeHeader),
        () => failure("corrupt", "snapshot", id, "header does not decode")
      )
      const built: Array<Snapshot.ResourceResult> = []
      for (const result of results) {
        const scope = yield* Either.mapLeft(
          Either.flatMap(parseJson(result.scope, "snapshot", id), codec.decodeScope),
          () => failure("corrupt", "snapshot", id, "a result's scope does not decode")
        )
        let status: Snapshot.ResourceStatus
        if (result.manifest === null || result.manifest === undefined) {
          status = yield* Either.mapLeft(
            Either.flatMap(parseJson(result.status, "snapshot", id), codec.decodeStatus),
            () => failure("corrupt", "snapshot", id, "a result's status does not decode")
          )
        } else {
          const hashes = manifests.get(codec.hashKey(bytes(result.manifest)))
          if (hashes === undefined) return yield* failure("corrupt", "snapshot", id, "a manifest is missing")
          const records: Array<Snapshot.SnapshotRecord> = []
          for (const h of hashes) {
            const part = chunkRecords.get(codec.hashKey(h))
            if (part === undefined) return yield* failure("corrupt", "snapshot", id, "a chunk named by a manifest is missing")
            for (const record of part) records.push(record)
          }
          status = new Snapshot.Ok({ records }, true)
        }
        built.push(new Snapshot.ResourceResult({ resource: str(result.resource), scope, status }, true))
      }
      const snapshot = new Snapshot.Snapshot(
        {
          connectionId: str(row.connection_id),
          connector: header.connector,
          schemaVersion: header.schemaVersion,
          startedAt: DateTime.unsafeMake(num(row.started_at)),
          finishedAt: DateTime.unsafeMake(num(row.finished_at)),
          requestCount: header.requestCount,
          outcome: row.outcome === "credential-invalid" ? "credential-invalid" : "complete",
          ...(header.credentialError === undefined ? {} : { credentialError: header.credentialError }),
          results: built,
          ...(header.provenance === undefined ? {} : { provenance: header.provenance })
        },
        true
      )
      return { id: Store.SnapshotId.make(id), snapshot } satisfies Store.StoredSnapshot
    })

  const latestSnapshot = (connectionId: string) =>
    latestRow(sql, connectionId).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeedNone, onSome: (row) => Effect.asSome(load(row)) })),
      unavailable("snapshot")
    )

  const snapshotById = (id: Store.SnapshotId) =>
    sql<Row>`select ${snapshotColumns} from plumbline_snapshots where id = ${id}`.pipe(
      Effect.flatMap((rows) => (rows[0] === undefined ? Effect.fail(failure("not-found", "snapshot", id)) : load(rows[0]))),
      unavailable("snapshot")
    )

  const listSnapshots = (connectionId: string, paging?: Store.Paging) =>
    Effect.gen(function* () {
      const limit = limitOf(paging)
      const clauses = [sql`connection_id = ${connectionId}`]
      if (paging?.cursor !== undefined) {
        const [finishedAt, seq] = yield* Store.decodeCursor(paging.cursor, 2)
        clauses.push(sql`(finished_at < ${finishedAt} or (finished_at = ${finishedAt} and seq < ${seq}))`)
      }
      const rows = yield* sql<Row>`select ${snapshotColumns} from plumbline_snapshots where ${sql.and(clauses)}
        order by finished_at desc, seq desc limit ${limit + 1}`
      const page = rows.slice(0, limit)
      const last = page[page.length - 1]
      const incremental: Array<boolean> = []
      for (const row of page) incremental.push(yield* isIncrementalHeader(row.header, str(row.id)))
      return {
        items: page.map(
          (row, index) =>
            new Store.SnapshotSummary({
              id: Store.SnapshotId.make(str(row.id)),
              connectionId: str(row.connection_id),
              startedAt: DateTime.unsafeMake(num(row.started_at)),
              finishedAt: DateTime.unsafeMake(num(row.finished_at)),
              outcome: row.outcome === "credential-invalid" ? "credential-invalid" : "complete",
              resultCount: num(row.result_count),
              recordCount: num(row.record_count),
              incremental: incremental[index] ?? false
            })
        ),
        next:
          rows.length > limit && last !== undefined
            ? Option.some(Store.encodeCursor([num(last.finished_at), num(last.seq)]))
            : Option.none()
      } satisfies Store.Page<Store.SnapshotSummary>
    }).pipe(unavailable("snapshot"))

  return { commit, latestSnapshot, snapshotById, listSnapshots }
})
