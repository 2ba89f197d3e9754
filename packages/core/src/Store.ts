/**
 * The store: where connections, snapshots, drift events and findings are kept. This module is the
 * port only — the `Store` Tag, the shapes it stores and returns, its typed error and the few pure
 * helpers every implementation shares (stable drift event ids, opaque cursors). Adapters such as
 * `@plumbline/store-sql` provide it.
 *
 * Every implementation keeps these promises, checked by one contract test suite:
 * - a connection's credentials (one or several) are encrypted at rest, each on its own; a secret is
 *   never returned except by `credentialOf` / `credentialsOf` (decrypted, `Redacted`, for the
 *   scheduler), and never appears in an error;
 * - `commit` stores a snapshot, its drift events and its findings in one transaction: all or nothing;
 * - drift events have stable ids (a hash of connection, snapshot and change), so a retried commit or
 *   a retried webhook delivery never produces a second id for the same change;
 * - retention removes old snapshots only; drift events and findings are kept.
 */
import { createHash } from "node:crypto"
import type { Effect, Option } from "effect"
import { Context, Either, Predicate, Schema } from "effect"
import type * as Check from "./Check.js"
import type * as Credential from "./Credential.js"
import * as Drift from "./Drift.js"
import * as Json from "./Json.js"
import { Scope } from "./Scope.js"
import type * as Snapshot from "./Snapshot.js"

// ---------------------------------------------------------------------------------------------
// Errors

/** The unique symbol that marks a store error. */
export const TypeId: unique symbol = Symbol.for("@plumbline/core/StoreError")
export type TypeId = typeof TypeId

/** Why a store operation failed. */
export const StoreErrorReason = Schema.Literal(
  /** The connection or snapshot does not exist. */
  "not-found",
  /** The write contradicts what is stored (a duplicate id). */
  "conflict",
  /** Stored data is inconsistent (a record a manifest names is missing, a row does not decode). */
  "corrupt",
  /** The database cannot be reached or refused the operation. */
  "unavailable",
  /** A credential could not be decrypted: its key is unknown or the ciphertext was altered. */
  "decryption-failed",
  /** The caller passed something the store cannot accept (a foreign cursor, a mismatched connection). */
  "invalid"
)
export type StoreErrorReason = typeof StoreErrorReason.Type

/** A store operation failed. Names what was wrong (entity and id), never a secret. */
export class StoreError extends Schema.TaggedError<StoreError>("@plumbline/core/StoreError")("StoreError", {
  reason: StoreErrorReason,
  /** What the operation was about: `connection`, `snapshot`, `credential`, `cursor`, `database` … */
  entity: Schema.String,
  id: Schema.optional(Schema.String),
  detail: Schema.optional(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const id = this.id === undefined ? "" : ` ${this.id}`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `Store ${this.reason} (${this.entity}${id})${detail}`
  }
}

/** Is this value a store error? */
export const isStoreError = (u: unknown): u is StoreError => Predicate.hasProperty(u, TypeId)

// ---------------------------------------------------------------------------------------------
// Connections

/** Whether the scheduler should read a connection. */
export const ConnectionStatus = Schema.Literal("active", "paused", "credential_expired")
export type ConnectionStatus = typeof ConnectionStatus.Type

/** A connection's settings (zones filter, interval …): a JSON object the app interprets. */
export const Settings = Schema.Record({ key: Schema.String, value: Json.Json })
export type Settings = typeof Settings.Type

/** A connection as the store returns it: everything but the secret. */
export class Connection extends Schema.Class<Connection>("@plumbline/core/Connection")({
  id: Schema.String,
  connectorId: Schema.String,
  name: Schema.String,
  settings: Settings,
  status: ConnectionStatus,
  credentialKind: Schema.String,
  /** `Credential.fingerprint` of the stored credential: lets the app tell credentials apart, one-way. */
  credentialFingerprint: Schema.String,
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}) {}

/** What `createConnection` needs. `id` is generated when absent. */
export interface NewConnection {
  readonly id?: string | undefined
  readonly connectorId: string
  readonly name: string
  readonly settings?: Settings | undefined
  readonly credential: Credential.Credential
  /** The scopes (zone ids) the credential was seen to read; `null` or absent: not known. */
  readonly credentialScopes?: ReadonlyArray<string> | null | undefined
}

// ---------------------------------------------------------------------------------------------
// Credentials of a connection (several per connection: a token per zone, issue #13)

/** Whether a connection's credential is used: `expired` once the provider refused it. */
export const CredentialStatus = Schema.Literal("active", "expired")
export type CredentialStatus = typeof CredentialStatus.Type

/**
 * One credential a connection holds, as the store returns it: never the secret. A connection may
 * hold several (a customer with many zones pastes one token per zone); each is sealed on its own.
 */
export class ConnectionCredential extends Schema.Class<ConnectionCredential>("@plumbline/core/ConnectionCredential")({
  /** The store's id of this credential within its connection. */
  id: Schema.String,
  kind: Schema.String,
  /** `Credential.fingerprint` of the secret: one-way. */
  fingerprint: Schema.String,
  status: CredentialStatus,
  /** The scopes (zone ids) it was last seen to read; `null` when not known. */
  scopes: Schema.NullOr(Schema.Array(Schema.String)),
  createdAt: Schema.DateTimeUtc,
  updatedAt: Schema.DateTimeUtc
}) {}

/** A credential with its secret decrypted (`Redacted`): what `credentialsOf` returns, for the scheduler only. */
export interface OpenCredential {
  readonly info: ConnectionCredential
  readonly credential: Credential.Credential
}

/** A change to one stored credential. Absent fields are left as they are. */
export interface CredentialUpdate {
  readonly status?: CredentialStatus | undefined
  readonly scopes?: ReadonlyArray<string> | null | undefined
}

/** The fields of a connection a customer may change. Absent fields are left as they are. */
export interface ConnectionUpdate {
  readonly name?: string | undefined
  readonly settings?: Settings | undefined
  readonly status?: ConnectionStatus | undefined
}

// ---------------------------------------------------------------------------------------------
// Snapshots

/** The id the store gives a committed snapshot. */
export const SnapshotId = Schema.String.pipe(Schema.brand("@plumbline/core/SnapshotId"))
export type SnapshotId = typeof SnapshotId.Type

/** A snapshot with the id it is stored under. */
export interface StoredSnapshot {
  readonly id: SnapshotId
  readonly snapshot: Snapshot.Snapshot
}

/** A stored snapshot without its records, for listings. */
export class SnapshotSummary extends Schema.Class<SnapshotSummary>("@plumbline/core/SnapshotSummary")({
  id: SnapshotId,
  connectionId: Schema.String,
  startedAt: Schema.DateTimeUtc,
  finishedAt: Schema.DateTimeUtc,
  outcome: Schema.Literal("complete", "credential-invalid"),
  resultCount: Schema.Number,
  recordCount: Schema.Number,
  /** Whether it was composed incrementally (issue #15: some results carried); absent from stores that do not say. */
  incremental: Schema.optional(Schema.Boolean)
}) {}

/** What `commit` stores together, atomically. */
export interface Commit {
  readonly snapshot: Snapshot.Snapshot
  /** The drift from the previous snapshot; each change becomes a drift event. */
  readonly drift?: Drift.DriftReport | undefined
  readonly findings: ReadonlyArray<Check.Finding>
}

// ---------------------------------------------------------------------------------------------
// Drift events and findings

/** What a drift event is about: a record added, removed or changed, or a coverage change. */
export const DriftEventKind = Schema.Literal("added", "removed", "changed", "coverage")
export type DriftEventKind = typeof DriftEventKind.Type

/** One change of a drift report, as stored and delivered. `id` is stable (see `driftEventId`). */
export class DriftEvent extends Schema.Class<DriftEvent>("@plumbline/core/DriftEvent")({
  id: Schema.String,
  connectionId: Schema.String,
  snapshotId: SnapshotId,
  /** When the change was seen: the `to` time of its report (the new snapshot's `finishedAt`). */
  detectedAt: Schema.DateTimeUtc,
  kind: DriftEventKind,
  resource: Schema.String,
  scope: Scope,
  /** The record's identity key; absent for coverage changes. */
  key: Schema.optional(Schema.String),
  change: Schema.Union(Drift.Added, Drift.Removed, Drift.Changed, Drift.CoverageChange)
}) {}

/** A finding with the snapshot it was judged on. */
export interface StoredFinding {
  readonly snapshotId: SnapshotId
  readonly finding: Check.Finding
}

/** One page of a listing; `next` is an opaque cursor for the following page, absent on the last. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly next: Option.Option<string>
}

/** Paging of a listing: at most `limit` items after `cursor` (a previous page's `next`). */
export interface Paging {
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
}

/** A drift event query: events detected at or after `since`, oldest first, in a stable order. */
export interface DriftQuery extends Paging {
  readonly since: Date | number
  readonly connectionId?: string | undefined
  /** A scope key, `kind:id` (`zone:…`). */
  readonly scope?: string | undefined
  readonly resource?: string | undefined
}

/** A finding history query: every verdict of one check on one connection, oldest first. */
export interface FindingHistoryQuery {
  readonly connectionId: string
  readonly checkId: string
  /** A scope key, `kind:id`; all scopes when absent. */
  readonly scope?: string | undefined
}

/** What to keep: the last `keepLast` snapshots of each connection, and any younger than `maxAgeDays`. */
export interface RetentionPolicy {
  readonly keepLast?: number | undefined
  readonly maxAgeDays?: number | undefined
}

/** What retention removed. Drift events and findings are never removed by retention. */
export interface RetentionResult {
  readonly snapshotsDeleted: number
  /** Stored content (records, or whatever units an implementation addresses) no snapshot references any more. */
  readonly blobsDeleted: number
}

// ---------------------------------------------------------------------------------------------
// The port

/** The store's operations. */
export interface Service {
  /** Stores a new connection with its credential encrypted; returns it without any secret. */
  readonly createConnection: (input: NewConnection) => Effect.Effect<Connection, StoreError>
  readonly getConnection: (id: string) => Effect.Effect<Connection, StoreError>
  /** Every connection, ordered by id. */
  readonly listConnections: Effect.Effect<ReadonlyArray<Connection>, StoreError>
  readonly updateConnection: (id: string, update: ConnectionUpdate) => Effect.Effect<Connection, StoreError>
  /**
   * Replaces every credential of the connection with this one (the customer rotated it); a
   * `credential_expired` connection becomes `active`.
   */
  readonly replaceCredential: (
    id: string,
    credential: Credential.Credential,
    scopes?: ReadonlyArray<string> | null
  ) => Effect.Effect<Connection, StoreError>
  /** The decrypted credential, secret `Redacted`: for the scheduler only. With several, the first active one. */
  readonly credentialOf: (id: string) => Effect.Effect<Credential.Credential, StoreError>
  /**
   * Adds a credential to the connection, `active`; one with the same secret is refreshed instead
   * (active again, its scopes updated). The connection's `credentialFingerprint` becomes its own.
   */
  readonly addCredential: (
    id: string,
    credential: Credential.Credential,
    scopes?: ReadonlyArray<string> | null
  ) => Effect.Effect<ConnectionCredential, StoreError>
  /** Marks a credential expired or active, or records the scopes it reads. */
  readonly updateCredential: (id: string, credentialId: string, update: CredentialUpdate) => Effect.Effect<ConnectionCredential, StoreError>
  /** Removes one credential (never the last one: a connection always holds at least one). */
  readonly removeCredential: (id: string, credentialId: string) => Effect.Effect<void, StoreError>
  /** The connection's credentials, oldest first, without secrets. */
  readonly listCredentials: (id: string) => Effect.Effect<ReadonlyArray<ConnectionCredential>, StoreError>
  /** The connection's credentials, oldest first, decrypted (secrets `Redacted`): for the scheduler only. */
  readonly credentialsOf: (id: string) => Effect.Effect<ReadonlyArray<OpenCredential>, StoreError>
  /** Deletes a connection and everything stored for it. */
  readonly deleteConnection: (id: string) => Effect.Effect<void, StoreError>
  /** Re-encrypts every credential not sealed with the active key; returns how many were re-encrypted. */
  readonly rotateKeys: Effect.Effect<number, StoreError>

  /** Stores a snapshot, its drift events and its findings in one transaction. Idempotent for the same snapshot. */
  readonly commit: (input: Commit) => Effect.Effect<SnapshotId, StoreError>
  /** The snapshot with the latest `finishedAt` of a connection. */
  readonly latestSnapshot: (connectionId: string) => Effect.Effect<Option.Option<StoredSnapshot>, StoreError>
  readonly snapshotById: (id: SnapshotId) => Effect.Effect<StoredSnapshot, StoreError>
  /** A connection's snapshots, newest first. */
  readonly listSnapshots: (connectionId: string, paging?: Paging) => Effect.Effect<Page<SnapshotSummary>, StoreError>

  readonly driftEvents: (query: DriftQuery) => Effect.Effect<Page<DriftEvent>, StoreError>
  readonly findingHistory: (query: FindingHistoryQuery) => Effect.Effect<ReadonlyArray<StoredFinding>, StoreError>
  /** The findings committed with the connection's latest snapshot. */
  readonly latestFindings: (connectionId: string) => Effect.Effect<ReadonlyArray<StoredFinding>, StoreError>

  readonly applyRetention: (policy: RetentionPolicy) => Effect.Effect<RetentionResult, StoreError>
}

/** The store. */
export class Store extends Context.Tag("@plumbline/core/Store")<Store, Service>() {}

// ---------------------------------------------------------------------------------------------
// Shared helpers

/** The kind, location and key of one change of a drift report. */
export const describeChange = (
  change: Drift.RecordChange | Drift.CoverageChange
): { readonly kind: DriftEventKind; readonly resource: string; readonly scope: Scope; readonly key: string | undefined } =>
  change instanceof Drift.CoverageChange
    ? { kind: "coverage", resource: change.resource, scope: change.scope, key: undefined }
    : { kind: change._tag, resource: change.resource, scope: change.scope, key: change.key }

/**
 * The stable id of a drift event: 32 hex characters of SHA-256 over connection, snapshot, kind,
 * resource, scope and record key. A report holds at most one change per record (or per resource
 * and scope for coverage), so the id is unique within a snapshot and the same on every retry.
 */
export const driftEventId = (
  connectionId: string,
  snapshotId: string,
  change: Drift.RecordChange | Drift.CoverageChange
): string => {
  const { key, kind, resource, scope } = describeChange(change)
  return createHash("sha256")
    .update([connectionId, snapshotId, kind, resource, scope.key, key ?? ""].join("\u0000"))
    .digest("hex")
    .slice(0, 32)
}

/** The drift events of a report committed as `snapshotId`: record changes first, then coverage, as the report orders them. */
export const driftEventsOf = (snapshotId: SnapshotId, report: Drift.DriftReport): Array<DriftEvent> =>
  [...report.changes, ...report.coverage].map((change) => {
    const { key, kind, resource, scope } = describeChange(change)
    return new DriftEvent({
      id: driftEventId(report.connectionId, snapshotId, change),
      connectionId: report.connectionId,
      snapshotId,
      detectedAt: report.to,
      kind,
      resource,
      scope,
      ...(key === undefined ? {} : { key }),
      change
    })
  })

/** Encodes a cursor position as an opaque string. */
export const encodeCursor = (position: ReadonlyArray<string | number>): string =>
  Buffer.from(JSON.stringify(position), "utf8").toString("base64url")

/** Decodes a cursor made by `encodeCursor` with `arity` parts; anything else is an `invalid` cursor. */
export const decodeCursor = (cursor: string, arity: number): Either.Either<ReadonlyArray<string | number>, StoreError> => {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    if (
      Array.isArray(parsed) &&
      parsed.length === arity &&
      parsed.every((p) => typeof p === "string" || (typeof p === "number" && Number.isFinite(p)))
    ) {
      return Either.right(parsed as ReadonlyArray<string | number>)
    }
  } catch {
    // Any malformed cursor is the same caller error, reported below.
  }
  return Either.left(new StoreError({ reason: "invalid", entity: "cursor", detail: "not a cursor of this listing" }))
}
