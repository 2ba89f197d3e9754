/**
 * The change-feed contract: how a connector tells the runtime what may have changed since the last
 * snapshot, so that a run re-reads only that and carries the rest from the previous snapshot.
 * A connector offers one or more modes, best first: `audit_log` reads the provider's own log of
 * writes, `probes` compares cheap change markers (versions, modification times). `full` is the
 * absence of a feed: every resource is read. A feed maps conservatively: what it cannot attribute
 * marks a whole scope (or the root, which marks everything), never nothing.
 */
import type { Effect, Option } from "effect"
import { Schema } from "effect"
import type { ConnectorError } from "./ConnectorError.js"
import type { Snapshot } from "./Snapshot.js"

/** How a connection's changes are detected. */
export const Mode = Schema.Literal("audit_log", "probes", "full")
export type Mode = typeof Mode.Type

/** A mode a connector's feed can offer (`full` needs no feed). */
export const FeedMode = Schema.Literal("audit_log", "probes")
export type FeedMode = typeof FeedMode.Type

/**
 * One thing that may have changed: a scope, by key (`kind:id`), and the resources in it to
 * re-read. Without `resources`, every resource of that scope is re-read, and so is every scope it
 * produces. The root scope's key marks the whole connection.
 */
export class Mark extends Schema.Class<Mark>("@plumbline/core/ChangeFeed/Mark")({
  scope: Schema.String,
  resources: Schema.optional(Schema.Array(Schema.String)),
  /** Why, for people: the audit entry or the marker that moved. Never a secret. */
  reason: Schema.String
}) {}

/**
 * Where a feed stands, kept with the connection across restarts and processes. `at` is the time
 * up to which changes are known; `cursor` is the connector's own state (ids seen at the boundary,
 * probe markers), opaque to the runtime but JSON.
 */
export class Position extends Schema.Class<Position>("@plumbline/core/ChangeFeed/Position")({
  mode: FeedMode,
  at: Schema.DateTimeUtc,
  cursor: Schema.Unknown
}) {}

/** What a feed read: the new position, the marks since the old one, and how late the feed is. */
export class Changes extends Schema.Class<Changes>("@plumbline/core/ChangeFeed/Changes")({
  position: Position,
  marks: Schema.Array(Mark),
  /** Seconds between the newest change the feed could know of and the moment it was read. */
  lagSeconds: Schema.optional(Schema.Number),
  /** Requests the read cost, for the connection's accounting. */
  requestCount: Schema.Number
}) {}

/**
 * The feed cannot answer in this mode.
 * - `forbidden`: the credential lacks `permission`; try the next mode.
 * - `retention`: the position is older than the provider keeps; the next run must be full.
 * - `unavailable`: the feed failed; the next run must be full.
 */
export class FeedUnavailable extends Schema.TaggedError<FeedUnavailable>("@plumbline/core/FeedUnavailable")(
  "FeedUnavailable",
  {
    mode: FeedMode,
    reason: Schema.Literal("forbidden", "retention", "unavailable"),
    message: Schema.String,
    permission: Schema.optional(Schema.String)
  }
) {}

/** A connector's change feed, with `R` the services it needs (usually its HTTP client). */
export interface ChangeFeed<R = never> {
  /** The modes offered, best first. */
  readonly modes: ReadonlyArray<FeedMode>
  /** The permission that enables `mode`, to tell a customer how to get a better one. */
  readonly permissionFor: (mode: FeedMode) => string | undefined
  /**
   * Reads what changed since `position` in `mode`. With no position, the feed starts now: it
   * returns a position and no marks, and the caller takes a full snapshot. `previous` is the
   * snapshot the marks are relative to (probes compare its markers).
   */
  readonly changes: (input: {
    readonly connectionId: string
    readonly mode: FeedMode
    readonly position: Option.Option<Position>
    readonly previous: Snapshot
  }) => Effect.Effect<Changes, FeedUnavailable | ConnectorError, R>
  /**
   * The resources `mode`'s marks can never cover (in probes mode, those without a change marker):
   * the runtime re-reads them on a slower cadence (`SnapshotRunner.Incremental.cadence`). Absent:
   * every resource can be marked.
   */
  readonly unmarked?: (mode: FeedMode) => ReadonlyArray<string>
}
