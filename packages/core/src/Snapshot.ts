/**
 * A snapshot: what one connection's resources held at one time. Per resource and scope it records
 * a status — `ok` with the canonical records, `partial` (the records that decoded and the items that
 * did not), `skipped` (not available, with the reason),
 * `forbidden` (the permission to grant) or `failed` (the typed error) — so a partial view is never
 * mistaken for a complete one. Records are sorted by identity key and results by resource and
 * scope, and everything is written as canonical JSON: two runs over unchanged data give the same
 * `contentJson` bytes (and the same `toJson` bytes when their times and request counts agree).
 */
import { createHash } from "node:crypto"
import { DateTime, Schema } from "effect"
import { Position } from "./ChangeFeed.js"
import { ConnectorError, CredentialInvalid } from "./ConnectorError.js"
import { ItemProblem } from "./ItemProblem.js"
import * as Json from "./Json.js"
import { Scope } from "./Scope.js"

/** One canonical record: its identity key and its encoded value. */
export class SnapshotRecord extends Schema.Class<SnapshotRecord>("@plumbline/core/SnapshotRecord")({
  key: Schema.String,
  value: Json.Json
}) {}

/** The records were read completely. */
export class Ok extends Schema.TaggedClass<Ok>("@plumbline/core/Snapshot/Ok")("ok", {
  records: Schema.Array(SnapshotRecord)
}) {}

/**
 * Some items could not be decoded: `records` holds every good one, `problems` says which were left
 * out and why. Drift compares the records but never reports a missing one as removed.
 */
export class Partial extends Schema.TaggedClass<Partial>("@plumbline/core/Snapshot/Partial")("partial", {
  records: Schema.Array(SnapshotRecord),
  problems: Schema.NonEmptyArray(ItemProblem)
}) {}

/** The resource is not available in this scope (plan or feature); nothing was read. */
export class Skipped extends Schema.TaggedClass<Skipped>("@plumbline/core/Snapshot/Skipped")("skipped", {
  reason: Schema.Literal("plan", "feature"),
  detail: Schema.String
}) {}

/** The credential may not read the resource; `permissions` says what to grant. */
export class Forbidden extends Schema.TaggedClass<Forbidden>("@plumbline/core/Snapshot/Forbidden")("forbidden", {
  permissions: Schema.Array(Schema.String)
}) {}

/** Reading failed with a typed error. */
export class Failed extends Schema.TaggedClass<Failed>("@plumbline/core/Snapshot/Failed")("failed", {
  error: ConnectorError
}) {}

/** The status of one resource in one scope. */
export const ResourceStatus = Schema.Union(Ok, Partial, Skipped, Forbidden, Failed)
export type ResourceStatus = typeof ResourceStatus.Type

/** One resource in one scope. */
export class ResourceResult extends Schema.Class<ResourceResult>("@plumbline/core/ResourceResult")({
  resource: Schema.String,
  scope: Scope,
  status: ResourceStatus
}) {
  /** `resource@kind:id`, how drift and stores address a result. */
  get key(): string {
    return `${this.resource}@${this.scope.key}`
  }
}

/**
 * How an incremental snapshot was obtained (issue #15). Kept beside `results`, never inside them,
 * so an incremental snapshot has the same `contentJson` and `contentHash` as a full snapshot of the
 * same data. Compact on purpose: only the results re-read are listed (a handful per run), every
 * other result was carried from `from`, justified by `position`. A full snapshot has no provenance.
 */
export class Provenance extends Schema.Class<Provenance>("@plumbline/core/Snapshot/Provenance")({
  /** The snapshot the carried results were taken from: its store id when the caller knew it, and its start. */
  from: Schema.Struct({ id: Schema.optional(Schema.String), startedAt: Schema.DateTimeUtc }),
  /** The feed position that justified carrying: nothing it announced touched a carried result. */
  position: Position,
  /** Keys (`resource@kind:id`) of the results read in this run, sorted. */
  read: Schema.Array(Schema.String),
  /**
   * Per resource name, when its oldest result in this snapshot was last really read, at the
   * latest: a carried result counts as read when the oldest result it was carried with was.
   */
  oldestRead: Schema.Record({ key: Schema.String, value: Schema.DateTimeUtc })
}) {}

/** The whole snapshot. */
export class Snapshot extends Schema.Class<Snapshot>("@plumbline/core/Snapshot")({
  connectionId: Schema.String,
  connector: Schema.Struct({ id: Schema.String, version: Schema.String }),
  schemaVersion: Schema.Number,
  startedAt: Schema.DateTimeUtc,
  finishedAt: Schema.DateTimeUtc,
  requestCount: Schema.Number,
  /** `complete` when every resource was attempted; `credential-invalid` when the credential was refused midway. */
  outcome: Schema.Literal("complete", "credential-invalid"),
  credentialError: Schema.optional(CredentialInvalid),
  results: Schema.Array(ResourceResult),
  /** Present on an incremental snapshot only: which results were read and which carried. */
  provenance: Schema.optional(Provenance)
}) {}

const encode = Schema.encodeSync(Snapshot)
const decode = Schema.decodeUnknown(Snapshot)

/** Canonical JSON of a snapshot (sorted keys; `indent` for humans and golden files). */
export const toJson = (snapshot: Snapshot, indent?: number): string => Json.stringify(encode(snapshot), indent)

/** Parses a snapshot from JSON text or an already parsed value. */
export const fromJson = (input: string | unknown) =>
  decode(typeof input === "string" ? (JSON.parse(input) as unknown) : input)

/** Canonical JSON of the data alone (results), without timing and request count. */
export const contentJson = (snapshot: Snapshot): string => Json.stringify(encode(snapshot).results)

/** SHA-256 of `contentJson`: equal for two snapshots that saw the same data. */
export const contentHash = (snapshot: Snapshot): string =>
  createHash("sha256").update(contentJson(snapshot)).digest("hex")

/** The result of `resource` in `scopeKey` (`kind:id`), if the snapshot has one. */
export const find = (snapshot: Snapshot, resource: string, scopeKey: string): ResourceResult | undefined =>
  snapshot.results.find((r) => r.resource === resource && r.scope.key === scopeKey)

/** The records a status holds: all of an `ok` one, the decoded ones of a `partial` one, else none. */
export const recordsOfStatus = (status: ResourceStatus): ReadonlyArray<SnapshotRecord> =>
  status._tag === "ok" || status._tag === "partial" ? status.records : []

/** The records of every `ok` or `partial` result of `resource`, across scopes. */
export const recordsOf = (snapshot: Snapshot, resource: string): ReadonlyArray<{ scope: Scope; record: SnapshotRecord }> =>
  snapshot.results.flatMap((r) =>
    r.resource === resource ? recordsOfStatus(r.status).map((record) => ({ scope: r.scope, record })) : []
  )

/** How one result was obtained: read in this run, or carried from an earlier snapshot. */
export type Obtained =
  | { readonly _tag: "read" }
  | {
      readonly _tag: "carried"
      /** The store id of the snapshot it was carried from, when known. */
      readonly from: string | undefined
      readonly fromStartedAt: DateTime.Utc
      /** The feed position that justified carrying it. */
      readonly position: Position
    }

/** Whether a snapshot was composed incrementally (some results carried) rather than read in full. */
export const isIncremental = (snapshot: Snapshot): boolean => snapshot.provenance !== undefined

/** How the result with `key` (`resource@kind:id`) was obtained; every result of a full snapshot was read. */
export const obtained = (snapshot: Snapshot, key: string): Obtained => {
  const provenance = snapshot.provenance
  if (provenance === undefined || provenance.read.includes(key)) return { _tag: "read" }
  return { _tag: "carried", from: provenance.from.id, fromStartedAt: provenance.from.startedAt, position: provenance.position }
}

/**
 * When the results of `resource` in `snapshot` were last really read, at the oldest: the snapshot's
 * start for a full snapshot, else its provenance's record (or the start of the snapshot it came from).
 */
export const oldestReadOf = (snapshot: Snapshot, resource: string): DateTime.Utc =>
  snapshot.provenance === undefined
    ? snapshot.startedAt
    : (snapshot.provenance.oldestRead[resource] ?? DateTime.min(snapshot.provenance.from.startedAt, snapshot.startedAt))
