/**
 * The `plumbline` command for integration engineers (`@effect/cli`):
 *
 * - `plumbline snapshot [--connector cloudflare] [--zone NAME …] [--base-url URL] [--output FILE]`
 *   takes a snapshot with the token from the environment (`CLOUDFLARE_API_TOKEN`) and writes it as
 *   canonical JSON to stdout or `--output`, with a progress bar on a terminal's stderr;
 * - `plumbline diff BEFORE AFTER [--json]` prints the drift between two snapshot files;
 * - `plumbline check [SNAPSHOT] [--format table|ocsf]` prints the posture report of a snapshot
 *   file, or of a live snapshot taken as `snapshot` does.
 *
 * stdout carries only the result; progress, warnings and errors go to stderr. `run` turns the
 * outcome into the process exit code (see `CliError` for the table): 1 means "drift found" for
 * `diff` and "a check fails" for `check`, as `diff(1)` and linters do. The token is read with
 * `Config.redacted` and never printed: it is not an option (it would end up in shell history and
 * `ps`), and no error carries it.
 */
import { Args, Command, Options, ValidationError } from "@effect/cli"
import type { CliApp } from "@effect/cli"
import type { HttpClient } from "@effect/platform"
import type { RequestBudget, Scope } from "@plumbline/core"
import type { Snapshot } from "@plumbline/core"
import { Drift, Json } from "@plumbline/core"
import {
  Cause,
  Clock,
  Config,
  Context,
  Duration,
  Effect,
  Either,
  Exit,
  FiberRef,
  HashSet,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Ref,
  Schema
} from "effect"
import { CliError, ExitCode } from "./CliError.js"
import * as Connectors from "./Connectors.js"
import * as DriftSummary from "./DriftSummary.js"
import { Output } from "./Output.js"
import * as PostureTable from "./PostureTable.js"
import * as ProgressBar from "./ProgressBar.js"
import * as SnapshotFile from "./SnapshotFile.js"

/** The command's name and version, as `--help` and `--version` show them. */
export const NAME = "plumbline"
export const VERSION = "0.0.0"

/** What the command needs from the platform: files, the terminal, an HTTP client, a request budget, its output. */
export type Environment = CliApp.CliApp.Environment | HttpClient.HttpClient | RequestBudget.RequestBudget | Output

/** The exit code a command chose for a successful run (1 when it found drift or a failing check). */
class ExitStatus extends Context.Tag("@plumbline/drift-monitor/cli/ExitStatus")<ExitStatus, Ref.Ref<number>>() {}

const exitWith = (code: number) => Effect.flatMap(ExitStatus, (status) => Ref.set(status, code))

const warn = (text: string) => Effect.flatMap(Output, (output) => output.stderr(`plumbline: warning: ${text}\n`))

// ---------------------------------------------------------------------------------------------
// Options shared by the commands that take a live snapshot

const connectorOption = Options.choice("connector", Connectors.ids).pipe(
  Options.withDefault("cloudflare" as const),
  Options.withDescription("The provider to read (its token comes from the environment: CLOUDFLARE_API_TOKEN for cloudflare).")
)

const zoneOption = Options.text("zone").pipe(
  Options.repeated,
  Options.withDescription("Only this zone, by name or id; repeat for several. Default: every zone the token can read.")
)

const baseUrlOption = Options.text("base-url").pipe(
  Options.optional,
  Options.withDescription(
    "The provider's API (default: CLOUDFLARE_BASE_URL, else https://api.cloudflare.com/client/v4); point it at the simulator to try things out."
  )
)

const liveOptions = { connector: connectorOption, zone: zoneOption, baseUrl: baseUrlOption }

/** What a live snapshot is asked for. */
export interface LiveRequest {
  readonly connector: (typeof Connectors.ids)[number]
  readonly zone: ReadonlyArray<string>
  readonly baseUrl: Option.Option<string>
}

const connectorById = (id: string): Effect.Effect<Connectors.CliConnector, CliError> => {
  const connector = Connectors.all.get(id)
  return connector === undefined
    ? Effect.fail(
        new CliError({
          reason: "unknown-connector",
          detail: `the snapshot was taken by connector "${id}", which this command does not know (known: ${Connectors.ids.join(", ")})`
        })
      )
    : Effect.succeed(connector)
}

/**
 * The token from the environment; a missing or empty one is an error naming the variable, and so is
 * one with a character no token has (refused before any request, which would only be retried).
 * Whitespace around it is trimmed, with a warning.
 */
const tokenOf = (connector: Connectors.CliConnector) =>
  Effect.flatMap(presentTokenOf(connector), (token) => {
    const checked = connector.checkToken(Redacted.value(token))
    if (Either.isLeft(checked)) {
      return Effect.fail(new CliError({ reason: "token-malformed", variable: connector.tokenVariable, detail: checked.left.message }))
    }
    return checked.right.trimmed
      ? Effect.as(warn(`whitespace around the token in ${connector.tokenVariable} was removed`), Redacted.make(checked.right.token))
      : Effect.succeed(token)
  })

/** The token from the environment; a missing or empty one is an error naming the variable. */
const presentTokenOf = (connector: Connectors.CliConnector) =>
  Config.redacted(connector.tokenVariable).pipe(
    Effect.filterOrFail((token) => Redacted.value(token).trim().length > 0),
    Effect.mapError(
      () =>
        new CliError({
          reason: "token-missing",
          variable: connector.tokenVariable,
          detail: `export an API token with read access in ${connector.tokenVariable} (it is read from the environment only, never from an option)`
        })
    )
  )

/** `--base-url`, else the connector's environment variable, else the provider's API; checked to be an http(s) URL. */
const baseUrlOf = (connector: Connectors.CliConnector, flag: Option.Option<string>) =>
  Effect.gen(function* () {
    const fromEnv = yield* Config.option(Config.string(connector.baseUrlVariable)).pipe(Effect.orElseSucceed(() => Option.none()))
    const url = Option.getOrElse(Option.orElse(flag, () => fromEnv), () => connector.defaultBaseUrl)
    const parsed = URL.canParse(url) ? new URL(url) : undefined
    if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
      return yield* Effect.fail(new CliError({ reason: "bad-option", detail: `the base URL ${JSON.stringify(url)} is not an http(s) URL` }))
    }
    return url.replace(/\/+$/, "")
  })

/** Draws the progress bar on a terminal's stderr (throttled); elsewhere it draws nothing. */
const progressReporter = (connector: Connectors.CliConnector) =>
  Effect.gen(function* () {
    const output = yield* Output
    const state = yield* Ref.make(ProgressBar.initial)
    const lastDraw = yield* Ref.make(Number.NEGATIVE_INFINITY)
    const draw = Effect.flatMap(Ref.get(state), (s) => output.stderr(`${ProgressBar.clearLine}${ProgressBar.render(s, output.columns)}`))
    const onProgress = (event: Parameters<typeof ProgressBar.step>[1]) =>
      Effect.gen(function* () {
        yield* Ref.update(state, (s) => ProgressBar.step(s, event, connector.resourcesIn))
        const now = yield* Clock.currentTimeMillis
        const due = yield* Ref.modify(lastDraw, (last) => (now - last >= 80 ? [true, now] : [false, last]))
        if (due) yield* draw
      })
    return output.stderrIsTerminal
      ? { onProgress, done: Effect.zipRight(draw, output.stderr(ProgressBar.clearLine)) }
      : { onProgress: undefined, done: Effect.void }
  })

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`

/** `30 ok, 8 forbidden, 2 skipped`: the results of a snapshot by status. */
const describeResults = (snapshot: Snapshot.Snapshot): string => {
  const counts = new Map<string, number>()
  for (const r of snapshot.results) counts.set(r.status._tag, (counts.get(r.status._tag) ?? 0) + 1)
  return ["ok", "partial", "forbidden", "skipped", "failed"]
    .flatMap((tag) => ((counts.get(tag) ?? 0) > 0 ? [`${counts.get(tag)} ${tag}`] : []))
    .join(", ")
}

/**
 * Takes a live snapshot. A refused credential fails with `credential-refused`, a snapshot in which
 * nothing could be read with `snapshot-failed`; some failed reads are warnings (the snapshot records
 * them as `failed`, and drift reports them as coverage changes).
 */
const takeSnapshot = (request: LiveRequest) =>
  Effect.gen(function* () {
    const output = yield* Output
    const connector = yield* connectorById(request.connector)
    const token = yield* tokenOf(connector)
    const baseUrl = yield* baseUrlOf(connector, request.baseUrl)
    const zones = new Set(request.zone)
    const include = (scope: Scope.Scope) =>
      zones.size === 0 || scope.kind !== connector.zoneKind || zones.has(scope.id) || (scope.name !== undefined && zones.has(scope.name))
    const progress = yield* progressReporter(connector)
    const started = yield* Clock.currentTimeMillis
    const snapshot = yield* connector
      .snapshot(
        { token, baseUrl },
        { connectionId: connector.id, include, ...(progress.onProgress === undefined ? {} : { onProgress: progress.onProgress }) }
      )
      .pipe(Effect.ensuring(progress.done))
    const took = Duration.format(Duration.millis((yield* Clock.currentTimeMillis) - started))

    if (snapshot.outcome === "credential-invalid") {
      const why = snapshot.credentialError?.message ?? "The credential was refused"
      return yield* Effect.fail(
        new CliError({
          reason: "credential-refused",
          detail: `${connector.id} refused the token in ${connector.tokenVariable}: ${why}. Create or restore a token and try again.`
        })
      )
    }
    const failed = snapshot.results.filter((r) => r.status._tag === "failed")
    if (failed.length > 0 && !snapshot.results.some((r) => r.status._tag === "ok")) {
      const first = failed[0]
      const why = first?.status._tag === "failed" ? `: ${first.status.error.message}` : ""
      return yield* Effect.fail(
        new CliError({
          reason: "snapshot-failed",
          detail: `the snapshot read nothing: ${plural(failed.length, "read")} failed (first: ${first?.resource ?? "?"} in ${first?.scope.label ?? "?"}${why})`
        })
      )
    }
    for (const result of failed.slice(0, 10)) {
      const why = result.status._tag === "failed" ? result.status.error.message : result.status._tag
      yield* warn(`${result.resource} in ${result.scope.label} could not be read: ${why}`)
    }
    if (failed.length > 10) yield* warn(`… and ${failed.length - 10} more reads failed`)
    if (failed.length > 0) yield* warn(`the snapshot is partial: ${plural(failed.length, "read")} failed (recorded as "failed" in the snapshot)`)

    const seen = snapshot.results.map((r) => r.scope).filter((s) => s.kind === connector.zoneKind)
    for (const zone of zones) {
      if (!seen.some((s) => s.id === zone || s.name === zone)) {
        yield* warn(`${connector.zoneKind} ${zone} is not in the snapshot (the token cannot see it, or it does not exist)`)
      }
    }
    const zoneCount = new Set(seen.map((s) => s.key)).size
    yield* output.stderr(
      `snapshot of ${connector.id}: ${plural(zoneCount, connector.zoneKind)}, ${plural(snapshot.results.length, "result")} (${describeResults(snapshot)}), ${plural(snapshot.requestCount, "request")} in ${took}\n`
    )
    return snapshot
  })

// ---------------------------------------------------------------------------------------------
// The commands

/** `plumbline snapshot`. */
export const snapshot = Command.make(
  "snapshot",
  {
    ...liveOptions,
    output: Options.file("output").pipe(
      Options.withAlias("o"),
      Options.optional,
      Options.withDescription("Write the snapshot to this file instead of stdout.")
    )
  },
  ({ output: file, ...request }) =>
    Effect.gen(function* () {
      const taken = yield* takeSnapshot(request)
      if (Option.isSome(file)) {
        yield* SnapshotFile.write(file.value, taken)
        yield* Effect.flatMap(Output, (output) => output.stderr(`wrote ${file.value}\n`))
      } else {
        yield* Effect.flatMap(Output, (output) => output.stdout(SnapshotFile.encode(taken)))
      }
    })
).pipe(Command.withDescription("Take a snapshot with the token from the environment and write it as JSON."))

/** `plumbline diff`. */
export const diff = Command.make(
  "diff",
  {
    before: Args.file({ name: "before" }).pipe(Args.withDescription("The earlier snapshot file.")),
    after: Args.file({ name: "after" }).pipe(Args.withDescription("The later snapshot file.")),
    json: Options.boolean("json").pipe(Options.withDescription("Print the drift report as JSON instead of a summary."))
  },
  ({ after, before, json }) =>
    Effect.gen(function* () {
      const output = yield* Output
      const a = yield* SnapshotFile.read(before)
      const b = yield* SnapshotFile.read(after)
      if (a.connector.id !== b.connector.id) {
        return yield* Effect.fail(
          new CliError({
            reason: "connector-mismatch",
            detail: `${before} was taken by connector "${a.connector.id}" and ${after} by "${b.connector.id}"; only snapshots of one connector can be compared`
          })
        )
      }
      const connector = yield* connectorById(a.connector.id)
      const report = Drift.diff(a, b, { volatile: connector.volatile })
      yield* output.stdout(
        json ? `${Json.stringify(Schema.encodeSync(Drift.DriftReport)(report), 2)}\n` : DriftSummary.render(report)
      )
      if (!report.isEmpty) yield* exitWith(ExitCode.found)
    })
).pipe(Command.withDescription("Print what changed between two snapshot files (exit 0: no drift, 1: drift, 2: error)."))

/** `plumbline check`. */
export const check = Command.make(
  "check",
  {
    ...liveOptions,
    snapshot: Args.file({ name: "snapshot" }).pipe(
      Args.withDescription("A snapshot file; without one, a live snapshot is taken as `plumbline snapshot` does."),
      Args.optional
    ),
    format: Options.choice("format", ["table", "ocsf"] as const).pipe(
      Options.withDefault("table" as const),
      Options.withDescription("A table per zone, or the findings as OCSF 1.3 Compliance Finding events (JSON).")
    )
  },
  ({ format, snapshot: file, ...request }) =>
    Effect.gen(function* () {
      const output = yield* Output
      const taken = Option.isSome(file) ? yield* SnapshotFile.read(file.value) : yield* takeSnapshot(request)
      const connector = yield* connectorById(taken.connector.id)
      const report = connector.posture(taken)
      yield* output.stdout(format === "ocsf" ? `${Json.stringify(connector.ocsf(report), 2)}\n` : PostureTable.render(report))
      if (report.findings.some((f) => f.verdict._tag === "fail")) yield* exitWith(ExitCode.found)
    })
).pipe(Command.withDescription("Run the posture checks over a snapshot (exit 0: every check passes or is skipped, 1: a check fails)."))

/** `plumbline` and its subcommands. */
export const command = Command.make("plumbline", {}, () =>
  Effect.fail(new CliError({ reason: "bad-option", detail: "name a command: snapshot, diff or check (plumbline --help shows them)" }))
).pipe(
  Command.withDescription("Plumbline for integration engineers: snapshots, drift and posture checks from the command line."),
  Command.withSubcommands([snapshot, diff, check])
)

const cli = Command.run(command, { name: NAME, version: VERSION })

/** Warnings and errors logged underneath (retries, say) go to stderr, never into stdout's JSON. */
const stderrLogger = (output: Output["Type"]) =>
  Logger.make(({ logLevel, message }) => {
    if (LogLevel.lessThan(logLevel, LogLevel.Warning)) return
    const text = Array.isArray(message) ? message.map(String).join(" ") : String(message)
    const clear = output.stderrIsTerminal ? ProgressBar.clearLine : ""
    // Output.stderr is synchronous (see Output): a logger cannot wait.
    Effect.runSync(output.stderr(`${clear}plumbline: ${logLevel.label.toLowerCase()}: ${text}\n`))
  })

/**
 * Runs the command line `argv` (as `process.argv`: the runtime and the script first) and returns the
 * exit code. Never fails: errors are printed on stderr and become their exit codes.
 */
export const run = (argv: ReadonlyArray<string>): Effect.Effect<number, never, Environment> =>
  Effect.gen(function* () {
    const output = yield* Output
    const status = yield* Ref.make<number>(ExitCode.ok)
    const exit = yield* cli(argv).pipe(
      Effect.provideService(ExitStatus, status),
      Effect.locally(FiberRef.currentLoggers, HashSet.make(stderrLogger(output))),
      Effect.exit
    )
    if (Exit.isSuccess(exit)) return yield* Ref.get(status)
    const failure = Cause.failureOption(exit.cause)
    if (Option.isSome(failure)) {
      const error = failure.value
      // @effect/cli has already printed what was wrong with the command line.
      if (ValidationError.isValidationError(error)) return ExitCode.usage
      yield* output.stderr(`plumbline: ${error.message}\n`)
      return error.exitCode
    }
    if (Cause.isInterruptedOnly(exit.cause)) return 130
    yield* output.stderr(`plumbline: internal error (please report it): ${Cause.pretty(exit.cause)}\n`)
    return ExitCode.internal
  })
