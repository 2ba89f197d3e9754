/**
 * How a snapshot is split into rows and put back together. Kept free of SQL so it can be measured
 * on its own: hashing and canonical JSON are most of the cost of a large commit.
 */
import { hash } from "node:crypto"
import { ConnectorError, Json, Scope, Snapshot } from "@plumbline/core"
import { DateTime, Schema } from "effect"

/** Bytes of a chunk or manifest hash (SHA-256). */
export const HASH_BYTES = 32

/** SHA-256 of a string or bytes, as bytes. */
export const sha256 = (data: string | Uint8Array): Buffer => hash("sha256", data, "buffer")

/** A chunk: consecutive records of one result, stored once under the SHA-256 of its body. */
export interface Chunk {
  readonly hash: Buffer
  /** JSON of `[[key, value], …]`. */
  readonly body: string
  readonly recordCount: number
}

/** One result ready to be written. */
export interface PreparedResult {
  readonly resource: string
  readonly scope: string
  readonly status: string
  /** For `ok` results: the manifest (concatenated chunk hashes), its hash, and the chunks. */
  readonly manifest?: {
    readonly hash: Buffer
    readonly body: Buffer
    readonly recordCount: number
    readonly chunks: ReadonlyArray<Chunk>
  }
}

/** A snapshot ready to be written. */
export interface PreparedSnapshot {
  readonly header: string
  readonly results: ReadonlyArray<PreparedResult>
  readonly recordCount: number
  /** SHA-256 over header and results: equal for equal snapshots. */
  readonly digest: string
}

const encodeScope = Schema.encodeSync(Scope.Scope)
const encodeStatus = Schema.encodeSync(Snapshot.ResourceStatus)
const encodeCredentialError = Schema.encodeSync(ConnectorError.CredentialInvalid)
const encodeProvenance = Schema.encodeSync(Snapshot.Provenance)

/** A chunk ends after a record whose key hashes to 0 modulo this: about 64 records a chunk. */
const BOUNDARY_MASK = 63
/** …or after this many records, whatever the keys. */
const MAX_CHUNK = 256

/** FNV-1a over a string's UTF-16 code units: cheap, stable, good enough to place boundaries. */
const fnv1a = (text: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * Splits a result's records into content-defined chunks. Boundaries depend on record keys only, so
 * a changed, added or removed record changes the one chunk it falls in and leaves the others (and
 * their stored copies) as they were. Record JSON is not re-sorted: connectors emit records
 * deterministically, so equal data gives equal bytes without paying for canonicalisation; data
 * whose members arrive in another order is merely stored once more.
 */
export const chunk = (records: ReadonlyArray<Snapshot.SnapshotRecord>): Array<Chunk> => {
  const chunks: Array<Chunk> = []
  let current: Array<readonly [string, Json.Json]> = []
  const flush = () => {
    const body = JSON.stringify(current)
    chunks.push({ hash: sha256(body), body, recordCount: current.length })
    current = []
  }
  for (const record of records) {
    current.push([record.key, record.value])
    if ((fnv1a(record.key) & BOUNDARY_MASK) === 0 || current.length >= MAX_CHUNK) flush()
  }
  if (current.length > 0) flush()
  return chunks
}

/** Splits a snapshot into header, results, manifests and content-addressed chunks. */
export const prepare = (snapshot: Snapshot.Snapshot): PreparedSnapshot => {
  const header = Json.stringify({
    connector: snapshot.connector,
    schemaVersion: snapshot.schemaVersion,
    requestCount: snapshot.requestCount,
    credentialError: snapshot.credentialError === undefined ? undefined : encodeCredentialError(snapshot.credentialError),
    // An incremental snapshot's provenance (issue #15) lives in the header: it lists only the
    // results re-read, so the carried ones cost nothing beyond their result row (their manifests
    // and chunks are already stored).
    provenance: snapshot.provenance === undefined ? undefined : encodeProvenance(snapshot.provenance)
  })
  const digest = createDigest()
  digest.push(header)
  let recordCount = 0
  const results = snapshot.results.map((result): PreparedResult => {
    const scope = Json.stringify(encodeScope(result.scope))
    if (result.status._tag !== "ok") {
      const status = Json.stringify(encodeStatus(result.status))
      digest.push(result.resource, scope, status)
      return { resource: result.resource, scope, status }
    }
    const chunks = chunk(result.status.records)
    recordCount += result.status.records.length
    const body = Buffer.concat(
      chunks.map((c) => c.hash),
      chunks.length * HASH_BYTES
    )
    const manifestHash = sha256(body)
    const status = `{"_tag":"ok"}`
    digest.push(result.resource, scope, status, manifestHash.toString("hex"))
    return {
      resource: result.resource,
      scope,
      status,
      manifest: { hash: manifestHash, body, recordCount: result.status.records.length, chunks }
    }
  })
  return { header, results, recordCount, digest: digest.done() }
}

const createDigest = () => {
  const parts: Array<string> = []
  return {
    push: (...values: Array<string>) => {
      for (const v of values) parts.push(v)
    },
    done: () => sha256(parts.join("\u0000")).toString("hex")
  }
}

/** The stored id of a snapshot: derived from its connection, times and content, so a retried commit finds itself. */
export const snapshotId = (snapshot: Snapshot.Snapshot, digest: string): string =>
  sha256(
    [
      snapshot.connectionId,
      String(DateTime.toEpochMillis(snapshot.startedAt)),
      String(DateTime.toEpochMillis(snapshot.finishedAt)),
      snapshot.outcome,
      digest
    ].join("\u0000")
  )
    .toString("hex")
    .slice(0, 32)

/** Splits a manifest body into its chunk hashes. */
export const manifestHashes = (body: Uint8Array): Array<Buffer> => {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
  const out: Array<Buffer> = []
  for (let at = 0; at + HASH_BYTES <= bytes.byteLength; at += HASH_BYTES) out.push(bytes.subarray(at, at + HASH_BYTES))
  return out
}

/** A map key for a hash. */
export const hashKey = (hash: Uint8Array): string => Buffer.from(hash.buffer, hash.byteOffset, hash.byteLength).toString("latin1")

/** The header as stored: everything about a snapshot that is not its results. */
export const Header = Schema.Struct({
  connector: Snapshot.Snapshot.fields.connector,
  schemaVersion: Schema.Number,
  requestCount: Schema.Number,
  credentialError: Schema.optional(ConnectorError.CredentialInvalid),
  provenance: Schema.optional(Snapshot.Provenance)
})

/** Decodes a stored scope. */
export const decodeScope = Schema.decodeUnknownEither(Scope.Scope)
/** Decodes a stored non-`ok` status. */
export const decodeStatus = Schema.decodeUnknownEither(Snapshot.ResourceStatus)
/** Decodes a stored header. */
export const decodeHeader = Schema.decodeUnknownEither(Header)

/** Rebuilds the records of a chunk body. They were checked on the way in, so no validation runs again. */
export const recordsFromChunk = (body: string): Array<Snapshot.SnapshotRecord> =>
  (JSON.parse(body) as Array<[string, Json.Json]>).map(([key, value]) => new Snapshot.SnapshotRecord({ key, value }, true))
