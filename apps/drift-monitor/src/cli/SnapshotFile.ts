/**
 * Snapshot files as the `plumbline` command writes and reads them: the snapshot's Schema encoding
 * as canonical JSON (sorted keys, two-space indent, a final newline), so two runs over unchanged data
 * differ only in their times and request counts, and `diff` and `check` decode exactly what
 * `snapshot` wrote. A file that cannot be read, is not JSON or is not a snapshot is a `CliError`
 * naming the file and the first thing wrong with it.
 */
import { FileSystem, type Error as PlatformError } from "@effect/platform"
import { Snapshot } from "@plumbline/core"
import { Effect, ParseResult, Schema } from "effect"
import { CliError } from "./CliError.js"

/** A snapshot as the text of a snapshot file. */
export const encode = (snapshot: Snapshot.Snapshot): string => `${Snapshot.toJson(snapshot, 2)}\n`

/**
 * How deep a snapshot file may nest. A snapshot's records are API objects a few dozen levels deep at
 * most; decoding much deeper values recurses past the stack, so such a file is refused first.
 */
export const maxDepth = 256

/** Whether `json` nests deeper than `limit` (arrays and objects); iterative, so any depth is measured safely. */
const deeperThan = (json: unknown, limit: number): boolean => {
  const stack: Array<readonly [unknown, number]> = [[json, 0]]
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [value, depth] = next
    if (typeof value !== "object" || value === null) continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1])
  }
  return false
}

/** Where in a value a parse issue is, as a JSON Pointer. */
const pointer = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0 ? "/" : path.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("")

/** Decodes the text of a snapshot file; `file` names it in errors. */
export const decode = (text: string, file: string): Effect.Effect<Snapshot.Snapshot, CliError> =>
  Effect.gen(function* () {
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) =>
        new CliError({
          reason: "file-malformed",
          file,
          detail: `not JSON (${error instanceof Error ? error.message : String(error)})`
        })
    })
    if (deeperThan(json, maxDepth)) {
      return yield* new CliError({ reason: "file-malformed", file, detail: `not a Plumbline snapshot: nested deeper than ${maxDepth} levels` })
    }
    return yield* Schema.decodeUnknown(Snapshot.Snapshot)(json).pipe(
      Effect.mapError((error) => {
        const first = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
        const at = first === undefined ? "" : ` at ${pointer(first.path)}: ${first.message}`
        return new CliError({ reason: "file-malformed", file, detail: `not a Plumbline snapshot${at}` })
      })
    )
  })

/** File-system failures in a person's words (the platform's own messages repeat the path and the errno). */
const systemReasons: Partial<Record<PlatformError.SystemErrorReason, string>> = {
  NotFound: "no such file or directory",
  PermissionDenied: "permission denied",
  BadResource: "not a regular file",
  Busy: "the file is busy"
}

const why = (error: PlatformError.PlatformError): string =>
  error._tag === "SystemError" ? (systemReasons[error.reason] ?? error.reason) : error.message

/** Reads and decodes a snapshot file. */
export const read = (file: string): Effect.Effect<Snapshot.Snapshot, CliError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readFileString(file)).pipe(
    Effect.mapError(
      (error) =>
        new CliError({
          reason: "file-unreadable",
          file,
          detail: `cannot read it (${why(error)})`
        })
    ),
    Effect.flatMap((text) => decode(text, file))
  )

/** Writes a snapshot file. */
export const write = (file: string, snapshot: Snapshot.Snapshot): Effect.Effect<void, CliError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.writeFileString(file, encode(snapshot))).pipe(
    Effect.mapError((error) => new CliError({ reason: "file-not-written", file, detail: `cannot write it (${why(error)})` }))
  )
