/**
 * What every part of the SQL store shares: reading row values the same way on both dialects,
 * building `StoreError`s, turning database failures into `unavailable` errors, batching, decoding
 * stored JSON, paging limits, and the PostgreSQL table locks that keep commits and retention apart.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Check, Store } from "@plumbline/core"
import { Effect, Either, Schema } from "effect"

/** Rows per multi-row insert: 2–9 parameters a row stays far below SQLite's and PostgreSQL's limits. */
export const WRITE_BATCH = 1000
/** Chunks per multi-row insert (each some kB of JSON). */
export const CHUNK_BATCH = 100
/** Keys per `in (…)` lookup. */
export const READ_BATCH = 2000
const DEFAULT_PAGE = 100
const MAX_PAGE = 1000

/** A row as the driver returns it. */
export type Row = Record<string, unknown>

/** A number column: PostgreSQL returns `bigint` as a string, SQLite as a number. */
export const num = (u: unknown): number => (typeof u === "number" ? u : Number(u))
/** A text column. */
export const str = (u: unknown): string => String(u)
/** A binary column (`bytea` or `blob`): both drivers return a `Buffer`. */
export const bytes = (u: unknown): Uint8Array => u as Uint8Array

/** A `StoreError`, with `id` and `detail` only when given. */
export const failure = (
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

/** A database failure as an `unavailable` error, described by the driver's message (which carries statement errors, never bound values). */
export const unavailable =
  (entity: string) =>
  <A, R>(self: Effect.Effect<A, Store.StoreError | SqlError, R>): Effect.Effect<A, Store.StoreError, R> =>
    Effect.catchTag(self, "SqlError", (e) => {
      const cause = e.cause instanceof Error ? e.cause.message : e.message
      return Effect.fail(failure("unavailable", entity, undefined, cause.slice(0, 300)))
    })

/** `items` cut into runs of at most `size`. */
export const batches = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let at = 0; at < items.length; at += size) out.push(items.slice(at, at + size))
  return out
}

/** Stored JSON text parsed, or a `corrupt` error naming what holds it. */
export const parseJson = (text: unknown, entity: string, id: string | undefined): Either.Either<unknown, Store.StoreError> => {
  try {
    return Either.right(JSON.parse(str(text)) as unknown)
  } catch {
    return Either.left(failure("corrupt", entity, id, "stored JSON does not parse"))
  }
}

/** Stored JSON text decoded with `schema`, or a `corrupt` error. */
export const decodeWith =
  <A, I>(schema: Schema.Schema<A, I>) =>
  (text: unknown, entity: string, id: string | undefined): Either.Either<A, Store.StoreError> =>
    Either.flatMap(parseJson(text, entity, id), (json) =>
      Either.mapLeft(Schema.decodeUnknownEither(schema)(json), () =>
        failure("corrupt", entity, id, "stored value does not match its schema")
      )
    )

/** A finding row's body: the finding and the snapshot it was judged on (written by commits, read as history). */
export const StoredFinding = Schema.Struct({ snapshotId: Store.SnapshotId, finding: Check.Finding })

/** The page size asked for, clamped to 1–1000 (100 when not given). */
export const limitOf = (paging: Store.Paging | undefined): number =>
  Math.max(1, Math.min(MAX_PAGE, Math.floor(paging?.limit ?? DEFAULT_PAGE)))

/**
 * PostgreSQL: commits hold ROW EXCLUSIVE on manifests, retention SHARE ROW EXCLUSIVE, so a sweep
 * never races a commit that reuses a manifest. SQLite has one writer, so nothing to lock.
 */
export const lockManifests = (sql: SqlClient.SqlClient, mode: "commit" | "sweep") =>
  sql.onDialectOrElse({
    pg: () =>
      sql.unsafe(
        mode === "commit"
          ? "lock table plumbline_manifests in row exclusive mode"
          : "lock table plumbline_manifests, plumbline_chunks in share row exclusive mode"
      ),
    orElse: () => Effect.succeed([])
  })
