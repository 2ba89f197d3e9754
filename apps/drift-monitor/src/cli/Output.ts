/**
 * Where the `plumbline` command writes: stdout for the result (JSON, a table, a summary) and stderr
 * for everything else (progress, warnings, errors), so a redirected stdout is always clean. Behind
 * a Tag so tests capture both streams in memory and can pretend stderr is a terminal.
 */
import { Context, Effect, Layer } from "effect"
import { CliError } from "./CliError.js"

/** The two output streams, and what stderr is. */
export interface Service {
  /**
   * Writes `text` as is to stdout; completes once the stream took it (so a pipe gets every byte).
   * A reader that went away (`| head`) is not an error; a full disk is.
   */
  readonly stdout: (text: string) => Effect.Effect<void, CliError>
  /** Writes `text` as is to stderr, synchronously (loggers write through it and cannot wait). */
  readonly stderr: (text: string) => Effect.Effect<void>
  /** Is stderr an interactive terminal (progress bars redrawn with `\r` only make sense there)? */
  readonly stderrIsTerminal: boolean
  /** Width of the stderr terminal in columns (80 when unknown). */
  readonly columns: number
}

/** The command's output streams. */
export class Output extends Context.Tag("@plumbline/drift-monitor/cli/Output")<Output, Service>() {}

const writeStdout = (text: string): Effect.Effect<void, CliError> =>
  text.length === 0
    ? Effect.void
    : Effect.async<void, CliError>((resume) => {
        process.stdout.write(text, (error) => {
          const code = (error as NodeJS.ErrnoException | null | undefined)?.code
          resume(
            error === null || error === undefined || code === "EPIPE"
              ? Effect.void
              : Effect.fail(
                  new CliError({ reason: "file-not-written", file: "stdout", detail: `cannot write it (${code ?? error.message})` })
                )
          )
        })
      })

/** The process's own stdout and stderr. */
export const layerProcess: Layer.Layer<Output> = Layer.sync(Output, () => {
  // Write failures reach each write's callback; without a listener they would also crash the process.
  process.stdout.on("error", () => {})
  return {
    stdout: writeStdout,
    stderr: (text) =>
      Effect.sync(() => {
        process.stderr.write(text)
      }),
    stderrIsTerminal: process.stderr.isTTY === true,
    // A pseudo-terminal may report 0 columns.
    columns: process.stderr.columns > 0 ? process.stderr.columns : 80
  }
})

/** What a captured run wrote. */
export interface Captured {
  readonly stdout: () => string
  readonly stderr: () => string
}

/** In-memory streams, for tests; `terminal` makes stderr look like a terminal of that width. */
export const makeCaptured = (options: { readonly terminal?: { readonly columns: number } } = {}): { readonly service: Service; readonly captured: Captured } => {
  let out = ""
  let err = ""
  return {
    service: {
      stdout: (text) =>
        Effect.sync(() => {
          out += text
        }),
      stderr: (text) =>
        Effect.sync(() => {
          err += text
        }),
      stderrIsTerminal: options.terminal !== undefined,
      columns: options.terminal?.columns ?? 80
    },
    captured: { stdout: () => out, stderr: () => err }
  }
}
