/**
 * The failures the `plumbline` command reports, each with the exit code it ends the process with.
 * Every one names what went wrong in terms a person at a terminal can act on (the environment
 * variable to set, the file that is not a snapshot, the credential to replace) and carries only
 * serialisable context — never the token.
 *
 * Exit codes (shared by every subcommand; see the README's CLI section):
 * - `0` success; `1` the answer is "yes" (drift found, a check fails) — set by the commands, not here;
 * - `2` usage or input: a missing token or one with characters no token has, an unreadable or malformed snapshot file, an unknown connector;
 * - `3` the provider refused the credential (invalid, expired, revoked, disabled);
 * - `4` the snapshot read nothing (every read failed: provider down, rate limited, …);
 * - `70` an internal error (a bug).
 */
import { Predicate, Schema } from "effect"

/** Exit codes of the `plumbline` command. */
export const ExitCode = {
  ok: 0,
  found: 1,
  usage: 2,
  credentialRefused: 3,
  snapshotFailed: 4,
  internal: 70
} as const

/** Why the command failed. */
export const Reason = Schema.Literal(
  "token-missing",
  "token-malformed",
  "bad-option",
  "file-unreadable",
  "file-malformed",
  "file-not-written",
  "unknown-connector",
  "connector-mismatch",
  "credential-refused",
  "snapshot-failed"
)
export type Reason = typeof Reason.Type

/** A failure of the `plumbline` command, printed on stderr as `plumbline: <message>`. */
export class CliError extends Schema.TaggedError<CliError>("@plumbline/drift-monitor/CliError")("CliError", {
  reason: Reason,
  /** What was wrong, in a sentence. */
  detail: Schema.String,
  /** The file concerned, for file reasons. */
  file: Schema.optional(Schema.String),
  /** The environment variable concerned, for `token-missing` and `token-malformed`. */
  variable: Schema.optional(Schema.String)
}) {
  override get message(): string {
    switch (this.reason) {
      case "token-missing":
        return `${this.variable ?? "the token variable"} is not set: ${this.detail}`
      case "token-malformed":
        return `${this.variable ?? "the token variable"}: ${this.detail}`
      case "file-unreadable":
      case "file-malformed":
      case "file-not-written":
        return `${this.file ?? "file"}: ${this.detail}`
      default:
        return this.detail
    }
  }

  /** The process exit code this failure ends with. */
  get exitCode(): number {
    switch (this.reason) {
      case "credential-refused":
        return ExitCode.credentialRefused
      case "snapshot-failed":
        return ExitCode.snapshotFailed
      default:
        return ExitCode.usage
    }
  }
}

/** Is this a `CliError`? */
export const isCliError = (u: unknown): u is CliError => Predicate.isTagged(u, "CliError") && u instanceof CliError
