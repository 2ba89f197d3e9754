/**
 * The `Store` on any `@effect/sql` client: the dialect-neutral implementation that `SqliteStore`
 * and `PgStore` wrap. It runs the migrations, then serves every operation with portable SQL
 * (choosing per dialect only where PostgreSQL needs a table lock that SQLite's single writer makes
 * unnecessary).
 *
 * A commit is one transaction: the chunks of manifests not stored yet (content-addressed, inserted
 * in batches with `on conflict do nothing`), the manifests, the snapshot row, its result rows, its
 * drift events and its findings. Credentials are sealed with the `Keyring` before any SQL sees them.
 */
import { randomUUID } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Check, Credential, Json, Snapshot, Store } from "@plumbline/core"
import { Clock, DateTime, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as codec from "./internal/codec.js"
import { Keyring } from "./Keyring.js"
import * as Migrations from "./Migrations.js"

/** Rows per multi-row insert: 2–9 parameters a row stays far below SQLite's and PostgreSQL's limits. */
const WRITE_BATCH = 1000
/** Chunks per multi-row insert (each some kB of JSON). */
const CHUNK_BATCH = 100
/** Keys per `in (…)` lookup. */
const READ_BATCH = 2000
const DEFAULT_PAGE = 100
const MAX_PAGE = 1000
const DAY_MILLIS = 86_400_000

type Row = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Small helpers

/** PostgreSQL returns `bigint` as a string; SQLite returns a number. */
const num = (u: unknown): number => (typeof u === "number" ? u : Number(u))
const str = (u: unknown): string => String(u)
const bytes = (u: unknown): Uint8Array => u as Uint8Array

const failure = (
  reason: Store.StoreErrorReason,
  entity: string,
  id?: string | undefined,
  detail?: string | undefined
): Store.StoreError =>
  new Store.StoreError({
    reason,
    entity,
    ...(id === undefined ? {} : { id }),
    ...(detail === undefined ? {} : { detail })
  })

/** A database failure, described by the driver's message (which carries statement errors, never bound values). */
const unavailable =
  (entity: string) =>
  <A, E, R>(self: Effect.Effect<A, E | SqlError, R>): Effect.Effect<A, Exclude<E, SqlError> | Store.StoreError, R> =>
    Effect.catchIf(
      self,
      (e): e is SqlError => typeof e === "object" && e !== null && (e as { _tag?: unknown })._tag === "SqlError",
      (e) => {
        const cause = e.cause instanceof Error ? e.cause.message : e.message
        return Effect.fail(failure("unavailable", entity, undefined, cause.slice(0, 300)))
      }
    ) as Effect.Effect<A, Exclude<E, SqlError> | Store.StoreError, R>

const batches = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size))
  return out
}

const parseJson = (text: unknown, entity: string, id: string | undefined): Either.Either<unknown, Store.StoreError> => {
  try {
    return Either.right(JSON.parse(str(text)) as unknown)
  } catch {
    return Either.left(failure("corrupt", entity, id, "stored JSON does not parse"))
  }
}

const decodeWith =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (text: unknown, entity: string, id: string | undefined): Either.Either<A, Store.StoreError> =>
    Either.flatMap(parseJson(text, entity, id), (json) =>
      Either.mapLeft(Schema.decodeUnknownEither(schema)(json), () =>
        failure("corrupt", entity, id, "stored value does not match its schema")
      )
    )

/** A finding row's body: the finding and the snapshot it was judged on. */
const StoredFinding = Schema.Struct({ snapshotId: Store.SnapshotId, finding: Check.Finding })

const decodeSettings = decodeWith(Store.Settings)
const decodeEvent = decodeWith(Store.DriftEvent)
const decodeFinding = decodeWith(StoredFinding)
const encodeEvent = Schema.encodeSync(Store.DriftEvent)
const encodeFinding = Schema.encodeSync(StoredFinding)

const limitOf = (paging: Store.Paging | undefined): number =>
  Math.max(1, Math.min(MAX_PAGE, Math.floor(paging?.limit ?? DEFAULT_PAGE)))

/** Additional authenticated data of a sealed credential: it opens only in its own row. */
const credentialAad = (connectionId: string, kind: string) => `plumbline/credential\u0000${connectionId}\u0000${kind}`

// ---------------------------------------------------------------------------------------------
// The store

/** Builds the store on the `SqlClient` in context, after running the migrations. */
export const make: Effect.Effect<Store.Service, Store.StoreError, SqlClient.SqlClient | Keyring> = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const keyring = yield* Keyring
  yield* Migrations.run.pipe(
    Effect.mapError((e) =>
      failure("unavailable", "database", undefined, `migrations failed: ${e._tag === "SqlError" ? String(e.cause) : e.message}`.slice(0, 300))
    )
  )

  /** PostgreSQL: commits hold ROW EXCLUSIVE on manifests, retention SHARE ROW EXCLUSIVE, so a sweep never races a commit that reuses a manifest. SQLite has one writer. */
  const lockManifests = (mode: "commit" | "sweep") =>
    sql.onDialectOrElse({
      pg: () =>
        sql.unsafe(
          mode === "commit"
            ? "lock table plumbline_manifests in row exclusive mode"
            : "lock table plumbline_manifests, plumbline_chunks in share row exclusive mode"
        ),
      orElse: () => Effect.succeed([])
    })

  // ----- connections -----------------------------------------------------------------------

  const connectionColumns = sql.literal(
    "id, connector_id, name, settings, status, credential_kind, credential_fingerprint, created_at, updated_at"
  )

  const toConnection = (row: Row): Either.Either<Store.Connection, Store.StoreError> => {
    const id = str(row.id)
    return Either.flatMap(decodeSettings(row.settings, "connection", id), (settings) => {
      const status = Schema.decodeUnknownEither(Store.ConnectionStatus)(row.status)
      if (Either.isLeft(status)) return Either.left(failure("corrupt", "connection", id, "unknown status"))
      return Either.right(
        new Store.Connection({
          id,
          connectorId: str(row.connector_id),
          name: str(row.name),
          settings,
          status: status.right,
          credentialKind: str(row.credential_kind),
          credentialFingerprint: str(row.credential_fingerprint),
          createdAt: DateTime.unsafeMake(num(row.created_at)),
          updatedAt: DateTime.unsafeMake(num(row.updated_at))
        })
      )
    })
  }

  const connectionRow = (id: string) =>
    Effect.flatMap(
      sql<Row>`select ${connectionColumns} from plumbline_connections where id = ${id}`,
      (rows) => (rows[0] === undefined ? Effect.fail(failure("not-found", "connection", id)) : Effect.succeed(rows[0]))
    )

  const getConnection = (id: string) =>
    connectionRow(id).pipe(Effect.flatMap(toConnection), unavailable("connection"))

  const sealColumns = (id: string, credential: Credential.Credential) => {
    const sealed = keyring.seal(Redacted.value(credential.secret), credentialAad(id, credential.kind))
    return {
      credential_kind: credential.kind,
      credential_fingerprint: Credential.fingerprint(credential),
      credential_key_id: sealed.keyId,
      credential_sealed: Buffer.from(sealed.sealed)
    }
  }

  const openCredential = (id: string, row: Row): Either.Either<Credential.Credential, Store.StoreError> => {
    const kind = str(row.credential_kind)
    const keyId = str(row.credential_key_id)
    return Either.match(keyring.open({ keyId, sealed: bytes(row.credential_sealed) }, credentialAad(id, kind)), {
      onLeft: (why) =>
        Either.left(
          failure(
            "decryption-failed",
            "credential",
            id,
            why === "unknown-key"
              ? `sealed with key "${keyId}", which is not configured`
              : `key "${keyId}" does not open the stored credential (other key material, or altered data)`
          )
        ),
      onRight: (secret) => Either.right(Credential.make(kind, secret))
    })
  }

  const createConnection = (input: Store.NewConnection) =>
    Effect.gen(function* () {
      const id = input.id ?? randomUUID()
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          // `on conflict do nothing returning` reports a taken id the same way, even under a concurrent insert.
          const inserted = yield* sql`insert into plumbline_connections ${sql.insert({
            id,
            connector_id: input.connectorId,
            name: input.name,
            settings: Json.stringify(input.settings ?? {}),
            status: "active",
            ...sealColumns(id, input.credential),
            created_at: now,
            updated_at: now
          })} on conflict (id) do nothing returning id`
          if (inserted.length === 0) return yield* failure("conflict", "connection", id, "a connection with this id exists")
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const listConnections = sql<Row>`select ${connectionColumns} from plumbline_connections order by id`.pipe(
    Effect.flatMap((rows) => Effect.all(rows.map(toConnection))),
    unavailable("connection")
  )

  const updateConnection = (id: string, update: Store.ConnectionUpdate) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          yield* sql`update plumbline_connections set ${sql.update({
            ...(update.name === undefined ? {} : { name: update.name }),
            ...(update.settings === undefined ? {} : { settings: Json.stringify(update.settings) }),
            ...(update.status === undefined ? {} : { status: update.status }),
            updated_at: now
          })} where id = ${id}`
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const replaceCredential = (id: string, credential: Credential.Credential) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* sql.withTransaction(
        Effect.gen(function* () {
          const row = yield* connectionRow(id)
          const status = row.status === "credential_expired" ? "active" : str(row.status)
          yield* sql`update plumbline_connections set ${sql.update({
            ...sealColumns(id, credential),
            status,
            updated_at: now
          })} where id = ${id}`
        })
      )
      return yield* connectionRow(id).pipe(Effect.flatMap(toConnection))
    }).pipe(unavailable("connection"))

  const credentialOf = (id: string) =>
    sql<Row>`select credential_kind, credential_key_id, credential_sealed from plumbline_connections where id = ${id}`.pipe(
      Effect.flatMap((rows) =>
        rows[0] === undefined ? Effect.fail(failure("not-found", "connection", id)) : openCredential(id, rows[0])
      ),
      unavailable("credential")
    )

  const deleteConnection = (id: string) =>
    sql
      .withTransaction(
        Effect.gen(function* () {
          yield* connectionRow(id)
          yield* sql`delete from plumbline_connections where id = ${id}`
        })
      )
      .pipe(unavailable("connection"))

  const rotateKeys = sql
    .withTransaction(
      Effect.gen(function* () {
        const rows = yield* sql<Row>`select id, credential_kind, credential_key_id, credential_sealed
          from plumbline_connections where credential_key_id <> ${keyring.activeKeyId} order by id`
        for (const row of rows) {
          const id = str(row.id)
          const credential = yield* openCredential(id, row)
          const sealed = keyring.seal(Redacted.value(credential.secret), credentialAad(id, credential.kind))
          yield* sql`update plumbline_connections set ${sql.update({
            credential_key_id: sealed.keyId,
            credential_sealed: Buffer.from(sealed.sealed)
          })} where id = ${id}`
        }
        return rows.length
      })
    )
    .pipe(unavailable("credential"))

  // ----- snapshots -------------------------------------------------------------------------

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
          yield* lockManifests("commit")
          const connection = yield* sql`select id from plumbline_connections where id = ${connectionId}`
          if (connection.length === 0) return yield* failure("not-found", "connection", connectionId)
          const existing = yield* sql`select seq from plumbline_snapshots where id = ${id}`
          if (existing.length > 0) return // the same snapshot was committed before: nothing to add

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
          // A concurrent commit of the same snapshot won the race: it stored everything already.
          if (inserted === undefined) return
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

  const snapshotColumns = sql.literal(
    "seq, id, connection_id, started_at, finished_at, outcome, header, result_count, record_count"
  )

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
          results: built
        },
        true
      )
      return { id: Store.SnapshotId.make(id), snapshot } satisfies Store.StoredSnapshot
    })

  const latestRow = (connectionId: string) =>
    Effect.map(
      sql<Row>`select ${snapshotColumns} from plumbline_snapshots where connection_id = ${connectionId}
        order by finished_at desc, seq desc limit 1`,
      (rows) => Option.fromNullable(rows[0])
    )

  const latestSnapshot = (connectionId: string) =>
    latestRow(connectionId).pipe(
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
      return {
        items: page.map(
          (row) =>
            new Store.SnapshotSummary({
              id: Store.SnapshotId.make(str(row.id)),
              connectionId: str(row.connection_id),
              startedAt: DateTime.unsafeMake(num(row.started_at)),
              finishedAt: DateTime.unsafeMake(num(row.finished_at)),
              outcome: row.outcome === "credential-invalid" ? "credential-invalid" : "complete",
              resultCount: num(row.result_count),
              recordCount: num(row.record_count)
            })
        ),
        next:
          rows.length > limit && last !== undefined
            ? Option.some(Store.encodeCursor([num(last.finished_at), num(last.seq)]))
            : Option.none()
      } satisfies Store.Page<Store.SnapshotSummary>
    }).pipe(unavailable("snapshot"))

  // ----- drift events and findings ---------------------------------------------------------

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
    latestRow(connectionId).pipe(
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

  // ----- retention -------------------------------------------------------------------------

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
          yield* lockManifests("sweep")
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

  return Store.Store.of({
    createConnection,
    getConnection,
    listConnections,
    updateConnection,
    replaceCredential,
    credentialOf,
    deleteConnection,
    rotateKeys,
    commit,
    latestSnapshot,
    snapshotById,
    listSnapshots,
    driftEvents,
    findingHistory,
    latestFindings,
    applyRetention
  })
})

/** The store's Tag, re-exported for layer wiring. */
export const Tag = Store.Store

/** The store as a layer over the `SqlClient` and `Keyring` in context. */
export const layer: Layer.Layer<Store.Store, Store.StoreError, SqlClient.SqlClient | Keyring> = Layer.effect(Store.Store, make)

