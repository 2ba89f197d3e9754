/**
 * One snapshot of one connection, end to end: read the credential, take the snapshot (streaming
 * progress to the live bus), diff it against the latest stored snapshot, run the posture checks,
 * and commit the snapshot, its drift events, its findings and the domain events they produce in
 * one database transaction — so a crash never leaves a stored change without its webhook, or a
 * webhook for a change that was not stored.
 *
 * A refused credential is not a failure to retry: the connection becomes `credential_expired`
 * with an alert and a `connection.credential_expired` event, and nothing is committed (the last
 * good snapshot stays the latest). A snapshot in which every read failed is a failure (the
 * scheduler backs off) and is not committed either, so an outage never shows up as drift.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Check, Drift, Store } from "@plumbline/core"
import type { Scope } from "@plumbline/core"
import { Clock, DateTime, Effect, Option, PubSub, Schema } from "effect"
import * as ConnectionState from "./ConnectionState.js"
import * as EndUsers from "./EndUsers.js"
import * as Events from "./Events.js"
import { type WebhookError, Webhooks } from "./Webhooks.js"
import { Provider } from "./Wiring.js"

/**
 * What a run did. A Schema, because the scheduler keeps the last outcome in the database for callers
 * waiting in another process, and reads it back by decoding.
 */
export const Outcome = Schema.Union(
  Schema.TaggedStruct("Committed", { snapshotId: Schema.String, driftEvents: Schema.Number, findingChanges: Schema.Number }),
  Schema.TaggedStruct("CredentialExpired", { message: Schema.String }),
  Schema.TaggedStruct("Paused", { status: Store.ConnectionStatus }),
  /** The token was replaced while the run used the old one: nothing stored, run again at once. */
  Schema.TaggedStruct("Superseded", {}),
  /**
   * The provider account is suspended or locked: nothing stored (every read was refused), an
   * `account_unavailable` alert raised, and the connection keeps its schedule so that the first run
   * after the account is restored commits and clears the alert.
   */
  Schema.TaggedStruct("AccountUnavailable", { message: Schema.String })
)
export type Outcome = typeof Outcome.Type

/** A run that failed and should be retried later. */
export class JobFailed extends Schema.TaggedError<JobFailed>()("JobFailed", {
  connectionId: Schema.String,
  /** `lease`: this process no longer holds the connection's lease, another one runs it now. */
  reason: Schema.Literal("store", "upstream", "defect", "lease"),
  message: Schema.String
}) {}

/** A connection's settings as the app interprets them. */
export interface ConnectionSettings {
  /** Zone ids to read; all zones the token can see when absent. */
  readonly zones: ReadonlyArray<string> | undefined
  /** Seconds between snapshots; the scheduler's default when absent. */
  readonly intervalSeconds: number | undefined
}

/** Reads the app's settings out of a connection's JSON settings. */
export const settingsOf = (settings: Store.Settings): ConnectionSettings => {
  const zones = settings["zones"]
  const interval = settings["intervalSeconds"]
  return {
    zones: Array.isArray(zones) ? zones.filter((z): z is string => typeof z === "string") : undefined,
    intervalSeconds: typeof interval === "number" && interval > 0 ? interval : undefined
  }
}

/** Which findings changes are events: real changes, and failing findings seen for the first time. */
export const findingEvents = (
  before: ReadonlyArray<Check.Finding>,
  after: ReadonlyArray<Check.Finding>
): Array<{ readonly before: Check.Finding | undefined; readonly after: Check.Finding }> =>
  Check.changed(before, after).filter((c) => c.before !== undefined || c.after.verdict._tag === "fail")

const storeFailure = (connectionId: string) => (e: { readonly message: string }) =>
  new JobFailed({ connectionId, reason: "store", message: e.message })

/** What a stored run's transaction also does: the scheduler's lease check and next due time. */
export type OnStore = (
  stored: "committed" | "credential_expired",
  at: number
) => Effect.Effect<void, JobFailed | SqlError, SqlClient.SqlClient>

const keepJobFailed = (fail: ReturnType<typeof storeFailure>) => (e: JobFailed | Store.StoreError | SqlError | WebhookError) =>
  e._tag === "JobFailed" ? e : fail(e)

/**
 * Runs one snapshot of `connectionId`. `onStore` runs inside the transaction that stores the result
 * (the snapshot, or the credential-expired state); when it fails, nothing is stored.
 */
export const run = (connectionId: string, onStore: OnStore = () => Effect.void) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const provider = yield* Provider
    const webhooks = yield* Webhooks
    const sql = yield* SqlClient.SqlClient
    const bus = yield* Events.Bus
    const fail = storeFailure(connectionId)

    const connection = yield* Effect.mapError(store.getConnection(connectionId), fail)
    if (connection.status !== "active") return { _tag: "Paused", status: connection.status } as Outcome
    const credential = yield* Effect.mapError(store.credentialOf(connectionId), fail)
    const settings = settingsOf(connection.settings)
    const startedAt = yield* Clock.currentTimeMillis
    yield* Events.publish({ type: "snapshot.started", connectionId, at: new Date(startedAt).toISOString() })

    const include = (scope: Scope.Scope) =>
      settings.zones === undefined || scope.kind !== provider.zoneKind || settings.zones.includes(scope.id)
    const snapshot = yield* provider.snapshot(credential, {
      connectionId,
      include,
      onProgress: (event) => PubSub.publish(bus, { type: "progress", connectionId, progress: Events.progressJson(event) })
    })
    const now = yield* Clock.currentTimeMillis

    if (snapshot.outcome === "credential-invalid") {
      const message = snapshot.credentialError?.message ?? "The credential was refused"
      // Whose connection it is (issue #13), so the product can tell its customer.
      const endUser = yield* Effect.mapError(EndUsers.of(connectionId), fail)
      const event = Events.credentialExpired({
        endUser,
        connectionId,
        connectionName: connection.name,
        credentialFingerprint: connection.credentialFingerprint,
        reason: snapshot.credentialError?.reason ?? "invalid",
        message,
        at: new Date(now)
      })
      const superseded = yield* Effect.gen(function* () {
        // The customer may have supplied a new token while this run used the old one.
        const current = yield* store.getConnection(connectionId)
        if (current.credentialFingerprint !== connection.credentialFingerprint) return true
        yield* onStore("credential_expired", now)
        yield* store.updateConnection(connectionId, { status: "credential_expired" })
        yield* ConnectionState.raise(connectionId, "credential_expired", message, now)
        yield* webhooks.enqueue([event])
        return false
      }).pipe(sql.withTransaction, Effect.mapError(keepJobFailed(fail)))
      if (superseded) {
        yield* Events.publish({ type: "snapshot.finished", connectionId, at: new Date(now).toISOString(), outcome: "failed", detail: "the token was replaced during the run" })
        return { _tag: "Superseded" } as Outcome
      }
      yield* Events.publish({ type: "connection.status", connectionId, status: "credential_expired", alert: "credential_expired" })
      yield* Events.publish({ type: "event", connectionId, event: { id: event.id, type: event.type } })
      yield* Events.publish({ type: "snapshot.finished", connectionId, at: new Date(now).toISOString(), outcome: "credential-invalid", detail: message })
      return { _tag: "CredentialExpired", message } as Outcome
    }

    // A suspended or locked account (issue #14 §4) is neither a refused credential nor a failure to
    // retry soon: nothing is committed (drift would read the refused reads as everything gone), and
    // the connection raises an alert of its own.
    const accountRefusal = snapshot.results.flatMap((r) =>
      r.status._tag === "failed" && r.status.error._tag === "AccountUnavailable" ? [r.status.error] : []
    )[0]
    if (accountRefusal !== undefined) {
      const message = accountRefusal.message
      yield* Effect.mapError(ConnectionState.raise(connectionId, "account_unavailable", message, now), fail)
      yield* Events.publish({ type: "connection.status", connectionId, status: connection.status, alert: "account_unavailable" })
      yield* Events.publish({ type: "snapshot.finished", connectionId, at: new Date(now).toISOString(), outcome: "failed", detail: message })
      return { _tag: "AccountUnavailable", message } as Outcome
    }

    const failedResults = snapshot.results.filter((r) => r.status._tag === "failed")
    if (snapshot.results.length > 0 && failedResults.length === snapshot.results.length) {
      const first = failedResults[0]?.status
      const message = first?._tag === "failed" ? first.error.message : "every read failed"
      yield* Events.publish({ type: "snapshot.finished", connectionId, at: new Date(now).toISOString(), outcome: "failed", detail: message })
      return yield* Effect.fail(new JobFailed({ connectionId, reason: "upstream", message }))
    }

    const previous = yield* Effect.mapError(store.latestSnapshot(connectionId), fail)
    const previousFindings = yield* Effect.mapError(store.latestFindings(connectionId), fail)
    const drift = Option.map(previous, (p) => Drift.diff(p.snapshot, snapshot, provider.diffOptions))
    const findings = Check.run(provider.checks, snapshot)
    const changes = findingEvents(
      previousFindings.map((f) => f.finding),
      findings
    )

    const committed = yield* Effect.gen(function* () {
      yield* onStore("committed", now)
      const snapshotId = yield* store.commit({ snapshot, drift: Option.getOrUndefined(drift), findings })
      const driftEvents = Option.match(drift, {
        onNone: () => [],
        onSome: (report) => Store.driftEventsOf(snapshotId, report)
      })
      const events = [
        ...driftEvents.map((e) => Events.driftDetected(e, connection.name)),
        ...changes.map((c) => Events.findingChanged({ snapshotId, connectionName: connection.name, before: c.before, after: c.after }))
      ]
      yield* webhooks.enqueue(events)
      yield* ConnectionState.succeeded(connectionId, now)
      return { snapshotId, events, driftEvents: driftEvents.length }
    }).pipe(sql.withTransaction, Effect.mapError(keepJobFailed(fail)))

    yield* Events.publish({
      type: "snapshot.finished",
      connectionId,
      at: DateTime.formatIso(snapshot.finishedAt),
      outcome: "committed",
      snapshotId: committed.snapshotId
    })
    for (const event of committed.events) {
      yield* Events.publish({ type: "event", connectionId, event: { id: event.id, type: event.type } })
    }
    return {
      _tag: "Committed",
      snapshotId: committed.snapshotId,
      driftEvents: committed.driftEvents,
      findingChanges: changes.length
    } as Outcome
  }).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.fail(new JobFailed({ connectionId, reason: "defect", message: defect instanceof Error ? defect.message : String(defect) }))
    ),
    Effect.withSpan("SnapshotJob.run", { attributes: { connection: connectionId } })
  )
