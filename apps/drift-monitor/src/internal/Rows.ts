/**
 * Decoding the app's own database rows. Both dialects hand back untyped records, and they differ:
 * SQLite returns integers as numbers, PostgreSQL returns `bigint` columns (the app's epoch-millisecond
 * times) as strings. Rows are decoded with Schema rather than cast, so a row that is not what the
 * code expects is a typed failure naming the column, never a crash or a silently wrong value — and
 * never quoting what it found there.
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
 * What a decode failure found, without the value: each failing path with what was expected there
 * (`failures: expected number`), or that it could not be decoded (JSON that does not parse). Schema's
 * own messages quote the value (`actual "…"`, a JSON parser's excerpt); a stored row's contents must
 * not reach an error message or a log.
 */
export const describeFailure = (error: ParseResult.ParseError): string => {
  const byPath = new Map<string, Set<string>>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const path = issue.path.length === 0 ? "value" : issue.path.map(String).join(".")
    const what =
      issue._tag === "Missing"
        ? "is missing"
        : issue._tag === "Type" || issue._tag === "Refinement"
          ? issue.message.replace(/,? actual [\s\S]*$/, "").replace(/^Expected/, "expected")
          : "cannot be decoded"
    byPath.set(path, (byPath.get(path) ?? new Set()).add(what))
  }
  return Array.from(byPath, ([path, whats]) => `${path}: ${Array.from(whats).join(" or ")}`).join("; ")
}

/** Decodes `input` with `schema`; a mismatch becomes `onError`'s failure, described by `describeFailure`. */
export const decode =
  <A, I, E>(schema: Schema.Schema<A, I>, onError: (detail: string) => E) =>
  (input: unknown): Effect.Effect<A, E> =>
    Schema.decodeUnknown(schema)(input).pipe(Effect.mapError((e) => onError(describeFailure(e))))
