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
 *
 * Change detection (issue #15, see `ChangeDetection`): before reading, the job asks the provider's
 * change feed what changed since the connection's feed position and runs an incremental snapshot
 * (re-reading only that); a full snapshot runs instead on the reconciliation schedule, after a feed
 * error, or when there is no position yet. The new position is committed with the snapshot.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { Check, Drift, Snapshot, Store } from "@plumbline/core"
import type { ChangeFeed, Credential, Scope, SnapshotRunner } from "@plumbline/core"
import { Clock, DateTime, Duration, Effect, Either, Option, PubSub, Random, Schema } from "effect"
import * as ChangeDetection from "./ChangeDetection.js"
import * as ConnectionState from "./ConnectionState.js"
import * as EndUsers from "./EndUsers.js"
import * as Events from "./Events.js"
import { type WebhookError, Webhooks } from "./Webhooks.js"
import { type FeedService, Provider } from "./Wiring.js"

/**
 * What a run did. A Schema, because the scheduler keeps the last outcome in the database for callers
 * waiting in another process, and reads it back by decoding.
 */
export const Outcome = Schema.Union(
  Schema.TaggedStruct("Committed", {
    snapshotId: Schema.String,
    driftEvents: Schema.Number,
    findingChanges: Schema.Number,
    /** How the snapshot was taken (issue #15); absent in outcomes stored before it. */
    run: Schema.optional(Schema.Literal("full", "incremental", "reconciliation")),
    /** Drift this (reconciliation) run found that the feed had not announced. */
    missedByFeed: Schema.optional(Schema.Number)
  }),
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
  /** Seconds after which a resource no feed mark covers is read again; the scheduler's default when absent. */
  readonly slowCadenceSeconds?: number | undefined
}

/** Reads the app's settings out of a connection's JSON settings. */
export const settingsOf = (settings: Store.Settings): ConnectionSettings => {
  const zones = settings["zones"]
  const interval = settings["intervalSeconds"]
  const cadence = settings["slowCadenceSeconds"]
  return {
    zones: Array.isArray(zones) ? zones.filter((z): z is string => typeof z === "string") : undefined,
    intervalSeconds: typeof interval === "number" && interval > 0 ? interval : undefined,
    ...(typeof cadence === "number" && cadence > 0 ? { slowCadenceSeconds: cadence } : {})
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
  at: number,
  /** The connection as the run read it (its interval sets the next due time). */
  connection: Store.Connection
) => Effect.Effect<void, JobFailed | SqlError, SqlClient.SqlClient>

const keepJobFailed = (fail: ReturnType<typeof storeFailure>) => (e: JobFailed | Store.StoreError | SqlError | WebhookError) =>
  e._tag === "JobFailed" ? e : fail(e)

/** How change detection paces full snapshots (the scheduler's settings). */
export interface Detection {
  /** A full snapshot at least this often (reconciliation). */
  readonly reconcileInterval: Duration.Duration
  /** Default slower cadence of resources no mark covers. */
  readonly slowCadence: Duration.Duration
}

/** Daily reconciliation, hourly slower cadence. */
export const defaultDetection: Detection = { reconcileInterval: Duration.hours(24), slowCadence: Duration.hours(1) }

/** What a run will do, decided from the feed before reading. */
type Plan =
  | {
      readonly _tag: "incremental"
      readonly mode: ChangeFeed.FeedMode
      readonly changes: ChangeFeed.Changes
      readonly previous: Store.StoredSnapshot
      /** The credential the feed was read through. */
      readonly credentialId: string
    }
  | {
      readonly _tag: "full"
      /** The mode and position the feed starts from (mode `full` and no position without a feed). */
      readonly mode: ChangeFeed.Mode
      readonly position: ChangeFeed.Position | undefined
      readonly lagSeconds: number | undefined
      /** The credential the restarted feed reads through (none without a feed). */
      readonly credentialId: string | undefined
      /** Reconciliation: afterwards, read what the feed announced since this position, to count what it missed. */
      readonly reconcileFrom:
        | { readonly mode: ChangeFeed.FeedMode; readonly position: ChangeFeed.Position; readonly credential: FeedCredential }
        | undefined
      readonly feedError: string | undefined
    }

const feedMessage = (e: ChangeFeed.FeedUnavailable | { readonly _tag: string; readonly message: string }) =>
  e._tag === "FeedUnavailable" ? e.message : `${e._tag}: ${e.message}`

/** A credential the feed may read through. */
interface FeedCredential {
  readonly id: string
  readonly credential: Credential.Credential
}

const isForbidden = (e: ChangeFeed.FeedUnavailable | { readonly _tag: string }) => e._tag === "FeedUnavailable" && (e as ChangeFeed.FeedUnavailable).reason === "forbidden"

/**
 * Starts the feed afresh (no position) in the first of `modes` that one of `credentials` allows,
 * trying every credential for a mode before the next mode (a connection of per-zone tokens may have
 * one that can read the audit log); `forbidden` moves on, any other error gives up (the next run
 * tries again). Called before a full read, so a change made during the read is announced next run.
 */
const startFeed = (
  feed: FeedService,
  credentials: ReadonlyArray<FeedCredential>,
  connectionId: string,
  modes: ReadonlyArray<ChangeFeed.FeedMode>,
  previous: Snapshot.Snapshot
) =>
  Effect.gen(function* () {
    let error: string | undefined
    for (const mode of modes) {
      for (const candidate of credentials) {
        const started = yield* Effect.either(feed.changes(candidate.credential, { connectionId, mode, position: Option.none(), previous }))
        if (Either.isRight(started)) {
          return { mode, position: started.right.position, lagSeconds: started.right.lagSeconds, credentialId: candidate.id, error }
        }
        error = feedMessage(started.left)
        if (!isForbidden(started.left)) return { mode: "full" as const, position: undefined, lagSeconds: undefined, credentialId: undefined, error }
      }
    }
    return { mode: "full" as const, position: undefined, lagSeconds: undefined, credentialId: undefined, error }
  })

/** Decides how this run reads: incremental from the feed, or full (and the feed restarted). */
const planRun = (input: {
  /**
   * The feed with the active credentials it may read through, the one it read through last first;
   * absent: every run is full.
   */
  readonly feed: { readonly service: FeedService; readonly credentials: ReadonlyArray<FeedCredential> } | undefined
  readonly connectionId: string
  readonly state: ChangeDetection.State
  readonly previous: Option.Option<Store.StoredSnapshot>
  /** The snapshot a connection without one starts its feed from (built only when needed). */
  readonly empty: () => Snapshot.Snapshot
  readonly now: number
  readonly detection: Detection
  /** Read everything (a requested re-check), as a reconciliation. */
  readonly full: boolean
}): Effect.Effect<Plan> =>
  Effect.gen(function* () {
    const { connectionId, previous, state } = input
    if (input.feed === undefined || input.feed.service.modes.length === 0 || input.feed.credentials.length === 0) {
      return { _tag: "full", mode: "full", position: undefined, lagSeconds: undefined, credentialId: undefined, reconcileFrom: undefined, feedError: undefined } as const
    }
    const { credentials, service: feed } = input.feed
    // The held position is read through the credential that produced it (else the first one).
    const holder = credentials.find((c) => c.id === state.credentialId) ?? credentials[0]!
    const held =
      state.mode !== "full" && state.position !== undefined ? { mode: state.mode, position: state.position, credential: holder } : undefined
    // A restart tries the holder first too: it read the best mode last time.
    const ordered = [holder, ...credentials.filter((c) => c !== holder)]
    const reconcileDue = input.full || state.lastFullAt === null || input.now - state.lastFullAt >= Duration.toMillis(input.detection.reconcileInterval)
    let startFrom = feed.modes
    let feedError: string | undefined
    if (held !== undefined && Option.isSome(previous) && !reconcileDue) {
      const read = yield* Effect.either(
        feed.changes(held.credential.credential, { connectionId, mode: held.mode, position: Option.some(held.position), previous: previous.value.snapshot })
      )
      if (Either.isRight(read)) {
        return { _tag: "incremental", mode: held.mode, changes: read.right, previous: previous.value, credentialId: held.credential.id } as const
      }
      feedError = feedMessage(read.left)
      yield* Effect.logWarning(`change feed of ${connectionId} (${held.mode}): ${feedError}; this run reads everything`)
      // Forbidden: the credential lost this mode; another may hold it, so this mode is tried again
      // through every credential before the next. Retention, unavailable: start over.
      if (isForbidden(read.left)) startFrom = [held.mode, ...ChangeDetection.modesAfter(feed.modes, held.mode)]
    }
    const started = yield* startFeed(feed, ordered, connectionId, startFrom, Option.match(previous, { onNone: input.empty, onSome: (p) => p.snapshot }))
    return {
      _tag: "full",
      mode: started.mode,
      position: started.position,
      lagSeconds: started.lagSeconds,
      credentialId: started.credentialId,
      reconcileFrom: held !== undefined && Option.isSome(previous) && reconcileDue && feedError === undefined ? held : undefined,
      feedError: feedError ?? started.error
    } as const
  })

/**
 * Runs one snapshot of `connectionId`. `onStore` runs inside the transaction that stores the result
 * (the snapshot, or the credential-expired state); when it fails, nothing is stored.
 */
/**
 * `full`: read everything whatever the feed says, and count what it missed (a reconciliation). A
 * re-check someone asked for is one: the customer who just changed something in the dashboard must
 * see it now, not when the audit log shows it, and every credential is exercised.
 */
export const run = (
  connectionId: string,
  onStore: OnStore = () => Effect.void,
  detection: Detection = defaultDetection,
  options: { readonly full?: boolean } = {}
) =>
  Effect.gen(function* () {
    const store = yield* Store.Store
    const provider = yield* Provider
    const webhooks = yield* Webhooks
    const sql = yield* SqlClient.SqlClient
    const bus = yield* Events.Bus
    const fail = storeFailure(connectionId)

    const connection = yield* Effect.mapError(store.getConnection(connectionId), fail)
    if (connection.status !== "active") return { _tag: "Paused", status: connection.status } as Outcome
    const stored = yield* Effect.mapError(store.credentialsOf(connectionId), fail)
    const previous = yield* Effect.mapError(store.latestSnapshot(connectionId), fail)
    // Where each zone was last seen (its account), so a zone only an expired credential can see is
    // reported in the right listing; and its name, for the alert.
    const knownZones = new Map<string, { readonly parent: string | undefined; readonly name: string }>()
    for (const result of Option.match(previous, { onNone: () => [], onSome: (p) => p.snapshot.results })) {
      if (result.scope.kind === provider.zoneKind) knownZones.set(result.scope.id, { parent: result.scope.parent, name: result.scope.name ?? result.scope.id })
    }
    for (const zone of Option.match(previous, { onNone: () => [], onSome: (p) => provider.zonesOf(p.snapshot) })) {
      knownZones.set(zone.id, { parent: knownZones.get(zone.id)?.parent, name: zone.name })
    }
    const credentials = stored.map(({ credential, info }) => ({
      id: info.id,
      credential,
      active: info.status === "active",
      zones: (info.scopes ?? []).map((id) => ({ id, parent: knownZones.get(id)?.parent }))
    }))
    const settings = settingsOf(connection.settings)
    const startedAt = yield* Clock.currentTimeMillis
    yield* Events.publish({ type: "snapshot.started", connectionId, at: new Date(startedAt).toISOString() })

    const include = (scope: Scope.Scope) =>
      settings.zones === undefined || scope.kind !== provider.zoneKind || settings.zones.includes(scope.id)
    // The change feed may read through any active credential; `planRun` keeps the one that reads the
    // best mode (with per-zone tokens, the one holding Account Settings Read reads the audit log).
    const feedCredentials = credentials.filter((c) => c.active).map((c) => ({ id: c.id, credential: c.credential }))
    const detected = yield* Effect.mapError(ChangeDetection.get(connectionId), fail)
    const plan = yield* planRun({
      feed: provider.feed === undefined ? undefined : { service: provider.feed, credentials: feedCredentials },
      connectionId,
      state: detected,
      previous,
      // Every field is a literal or a number: nothing to validate.
      empty: () =>
        new Snapshot.Snapshot(
          {
            connectionId,
            connector: { id: provider.connectorId, version: "none" },
            schemaVersion: 0,
            startedAt: DateTime.unsafeMake(startedAt),
            finishedAt: DateTime.unsafeMake(startedAt),
            requestCount: 0,
            outcome: "complete",
            results: []
          },
          true
        ),
      now: startedAt,
      detection,
      full: options.full === true
    })
    const unmarked = plan._tag === "incremental" ? (provider.feed?.unmarked(plan.mode) ?? []) : []
    const incremental: SnapshotRunner.Incremental | undefined =
      plan._tag === "incremental"
        ? {
            previous: plan.previous.snapshot,
            previousId: plan.previous.id,
            changes: plan.changes,
            cadence:
              unmarked.length === 0
                ? undefined
                : {
                    resources: unmarked,
                    maxAge: settings.slowCadenceSeconds === undefined ? detection.slowCadence : Duration.seconds(settings.slowCadenceSeconds)
                  }
          }
        : undefined
    const read = yield* provider.snapshot(credentials, {
      connectionId,
      include,
      onProgress: (event) => PubSub.publish(bus, { type: "progress", connectionId, progress: Events.progressJson(event) }),
      ...(incremental === undefined ? {} : { incremental })
    })
    const { snapshot, zonesSeen } = read
    // An incremental run may read nothing through some credentials (their zones all carried). One of
    // them, picked at random, is asked whether the provider still accepts it (one cheap request), so
    // a revoked per-zone token is noticed within a few runs, not at the next full read.
    const refused = new Map(read.refused)
    if (plan._tag === "incremental" && provider.verify !== undefined && snapshot.outcome !== "credential-invalid") {
      const idle = credentials.filter((c) => c.active && !refused.has(c.id) && !zonesSeen.has(c.id) && c.id !== plan.credentialId)
      if (idle.length > 0) {
        const pick = idle[yield* Random.nextIntBetween(0, idle.length)]!
        const checked = yield* Effect.either(provider.verify(pick.credential))
        if (Either.isLeft(checked) && checked.left._tag === "CredentialInvalid") refused.set(pick.id, checked.left)
      }
    }
    const now = yield* Clock.currentTimeMillis
    const zoneOf = (id: string): Events.EventZone => ({ id, name: knownZones.get(id)?.name ?? id })

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
        at: new Date(now),
        zones: [...new Set(stored.flatMap(({ info }) => info.scopes ?? []))].sort().map(zoneOf)
      })
      const superseded = yield* Effect.gen(function* () {
        // The customer may have supplied a new token while this run used the old one.
        const current = yield* store.getConnection(connectionId)
        if (current.credentialFingerprint !== connection.credentialFingerprint) return true
        yield* onStore("credential_expired", now, connection)
        yield* store.updateConnection(connectionId, { status: "credential_expired" })
        for (const { info } of stored) {
          if (info.status === "active") yield* store.updateCredential(connectionId, info.id, { status: "expired" })
        }
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

    // Issue #13: some of several credentials were refused. Each is marked expired, with an alert and
    // an event naming its fingerprint and the zones only it could see; the others' zones are committed
    // as usual below. A credential replaced or removed meanwhile is left alone.
    const stillSeen = new Set([...zonesSeen].filter(([id]) => !refused.has(id)).flatMap(([, zones]) => zones))
    const expiring = stored.flatMap(({ info }) => {
      const error = refused.get(info.id)
      if (error === undefined || info.status !== "active") return []
      const zones = (info.scopes ?? []).filter((z) => !stillSeen.has(z)).sort().map(zoneOf)
      const names = zones.length === 0 ? "no zone only it could see" : `zones ${zones.map((z) => z.name).join(", ")}`
      const message = `The credential ${info.fingerprint} is ${error.reason}: ${names} ${zones.length === 1 ? "is" : "are"} not monitored until a token that can see ${zones.length === 1 ? "it" : "them"} is added`
      return [{ info, error, zones, message }]
    })
    const expiredEvents: Array<Events.DomainEvent> = []
    if (expiring.length > 0) {
      const endUser = yield* Effect.mapError(EndUsers.of(connectionId), fail)
      for (const e of expiring) {
        expiredEvents.push(
          Events.credentialExpired({
            endUser,
            connectionId,
            connectionName: connection.name,
            credentialFingerprint: e.info.fingerprint,
            reason: e.error.reason,
            message: e.message,
            at: new Date(now),
            zones: e.zones,
            partial: true
          })
        )
      }
    }

    const previousFindings = yield* Effect.mapError(store.latestFindings(connectionId), fail)
    const drift = Option.map(previous, (p) => Drift.diff(p.snapshot, snapshot, provider.diffOptions))
    // Reconciliation: what did the feed announce over the same time? Drift it did not is missed.
    let missed = 0
    if (plan._tag === "full" && plan.reconcileFrom !== undefined && Option.isSome(previous) && Option.isSome(drift) && provider.feed !== undefined) {
      const from = plan.reconcileFrom
      const since = yield* Effect.either(
        provider.feed.changes(from.credential.credential, { connectionId, mode: from.mode, position: Option.some(from.position), previous: previous.value.snapshot })
      )
      if (Either.isRight(since)) missed = ChangeDetection.missedBy(drift.value, since.right.marks, previous.value.snapshot, snapshot)
      else yield* Effect.logWarning(`change feed of ${connectionId}: cannot check what it missed: ${feedMessage(since.left)}`)
    }
    const readAll = plan._tag === "full" || !Snapshot.isIncremental(snapshot)
    const runKind = plan._tag === "incremental" ? "incremental" : plan.reconcileFrom !== undefined ? "reconciliation" : "full"
    const nextDetection: ChangeDetection.State =
      plan._tag === "incremental"
        ? {
            mode: plan.mode,
            position: plan.changes.position,
            credentialId: plan.credentialId,
            lagSeconds: plan.changes.lagSeconds ?? null,
            missedByFeed: detected.missedByFeed,
            lastFullAt: readAll ? startedAt : detected.lastFullAt,
            lastFeedError: null
          }
        : {
            mode: plan.mode,
            position: plan.position,
            credentialId: plan.credentialId,
            lagSeconds: plan.lagSeconds ?? null,
            missedByFeed: detected.missedByFeed + missed,
            lastFullAt: startedAt,
            lastFeedError: plan.feedError ?? null
          }
    const findings = Check.run(provider.checks, snapshot)
    const changes = findingEvents(
      previousFindings.map((f) => f.finding),
      findings
    )

    const committed = yield* Effect.gen(function* () {
      yield* onStore("committed", now, connection)
      const snapshotId = yield* store.commit({ snapshot, drift: Option.getOrUndefined(drift), findings })
      // The credentials as they are now (one may have been replaced during the run), read only when
      // something is to be written to them: one expires, or one now sees other zones than it did.
      const seesSame = (scopes: ReadonlyArray<string> | null | undefined, zones: ReadonlyArray<string>) =>
        JSON.stringify(scopes ?? null) === JSON.stringify([...zones].sort())
      const stale =
        expiring.length > 0 ||
        [...zonesSeen].some(([id, zones]) => !refused.has(id) && !seesSame(stored.find((c) => c.info.id === id)?.info.scopes, zones))
      const current = new Map(stale ? (yield* store.listCredentials(connectionId)).map((c) => [c.id, c]) : [])
      const expired: Array<Events.DomainEvent> = []
      for (const [index, e] of expiring.entries()) {
        const latest = current.get(e.info.id)
        if (latest === undefined || latest.fingerprint !== e.info.fingerprint || latest.status !== "active") continue
        yield* store.updateCredential(connectionId, e.info.id, { status: "expired" })
        yield* ConnectionState.raise(connectionId, "credential_expired", e.message, now)
        expired.push(expiredEvents[index]!)
      }
      // What each working credential sees now, for the next run's routing and the connection view.
      for (const [id, zones] of zonesSeen) {
        const known = current.get(id)
        if (known === undefined || refused.has(id) || known.status !== "active") continue
        if (!seesSame(known.scopes, zones)) {
          yield* store.updateCredential(connectionId, id, { scopes: [...zones].sort() })
        }
      }
      yield* webhooks.enqueue(expired)
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
      // The feed position moves with the snapshot that consumed its marks, under the same lease check.
      yield* ChangeDetection.put(connectionId, nextDetection, now)
      return { snapshotId, events: [...expired, ...events], driftEvents: driftEvents.length, expired: expired.length }
    }).pipe(sql.withTransaction, Effect.mapError(keepJobFailed(fail)))

    if (committed.expired > 0) {
      yield* Events.publish({ type: "connection.status", connectionId, status: "active", alert: "credential_expired" })
    }
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
      findingChanges: changes.length,
      // Said only where change detection is at work: without a feed every run is full.
      ...(provider.feed === undefined ? {} : { run: runKind }),
      ...(runKind === "reconciliation" ? { missedByFeed: missed } : {})
    } as Outcome
  }).pipe(
    Effect.catchAllDefect((defect) =>
      Effect.fail(new JobFailed({ connectionId, reason: "defect", message: defect instanceof Error ? defect.message : String(defect) }))
    ),
    Effect.withSpan("SnapshotJob.run", { attributes: { connection: connectionId } })
  )
