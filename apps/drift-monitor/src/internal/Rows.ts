/**
 * Decoding the app's own database rows. Both dialects hand back untyped records, and they differ:
 * SQLite returns integers as numbers, PostgreSQL returns `bigint` columns (the app's epoch-millisecond
 * times) as strings. Rows are decoded with Schema rather than cast, so a row that is not what the
 * code expects is a typed failure naming the column, never a crash or a silently wrong value.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, ParseResult, Schema } from "effect"

/** A row as a dialect returns it. */
export type Row = Record<string, unknown>

/** An integer column: a number (SQLite, PostgreSQL `integer`) or a numeric string (PostgreSQL `bigint`). */
export const Integer = Schema.Union(Schema.Number, Schema.NumberFromString).pipe(Schema.int())

/** What went wrong with a statement, its cause's message included (the SqlError's own is generic). */
export const sqlDetail = (e: SqlError): string => {
  const cause = e.cause instanceof Error ? ` (${e.cause.message.slice(0, 200)})` : ""
  return `${e.message}${cause}`
}

/**
 * Decodes `input` with `schema`; a mismatch becomes `onError`'s failure with Schema's description of
 * what was wrong: the path and the expected type. The value found is left out (Schema quotes it as
 * `actual …`), so a corrupt row's contents never reach an error message or a log.
 */
export const decode =
  <A, I, E>(schema: Schema.Schema<A, I>, onError: (detail: string) => E) =>
  (input: unknown): Effect.Effect<A, E> =>
    Schema.decodeUnknown(schema)(input).pipe(
      Effect.mapError((e) => onError(ParseResult.TreeFormatter.formatErrorSync(e).replace(/,? actual [^\n]*/g, "")))
    )
