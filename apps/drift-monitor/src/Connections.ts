/**
 * The connections domain: what can be done with a connection, whoever asks (the HTTP API today).
 * It verifies pasted tokens with the provider, keeps a connection's settings, status and schedule
 * consistent — a change the scheduler must see is written in the same transaction as the change
 * itself, so no answer ever claims a schedule that was not stored — raises the events a status change
 * means, and gathers what a connection's overview, checklist and snapshots show. Failures are the
 * services' own typed errors (`ConnectionsError`); the API decides what each means over HTTP.
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import { TokenFormat } from "@plumbline/cloudflare"
import type { ConnectorError } from "@plumbline/core"
import { Check, Credential, Snapshot, Store } from "@plumbline/core"
import { Clock, DateTime, Deferred, Duration, Effect, Either, FiberId, Option, Schema, SubscriptionRef } from "effect"
import { Configuration } from "./Config.js"
import * as ChangeDetection from "./ChangeDetection.js"
import * as ConnectionState from "./ConnectionState.js"
import * as EndUsers from "./EndUsers.js"
import * as Events from "./Events.js"
import { type RunResult, type Schedule, Scheduler, type SchedulerError } from "./Scheduler.js"
import * as Services from "./Services.js"
import * as SnapshotJob from "./SnapshotJob.js"
import { type WebhookError, Webhooks } from "./Webhooks.js"
import { type DiscoveredZone, type Discovery, Provider } from "./Wiring.js"

/** A request the connection cannot satisfy. */
export class ConnectionError extends Schema.TaggedError<ConnectionError>()("ConnectionError", {
  /**
   * `not-found`: the connection has no snapshot yet, or its latest has no such result; `invalid`:
   * the request contradicts the connection (a zone its token cannot see, resuming an expired one).
   */
  reason: Schema.Literal("not-found", "invalid"),
  message: Schema.String
}) {}

/** Every way a `Connections` operation fails. */
export type ConnectionsError =
  | ConnectionError
  | Store.StoreError
  | ConnectorError.ConnectorError
  | SchedulerError
  | WebhookError
  | ConnectionState.ConnectionStateError
  | SqlError

/** A new connection: its name, the pasted token (or several), and optionally its zones and interval. */
export interface NewConnection {
  readonly name: string
  readonly token: string
  /**
   * More tokens (issue #13): a customer with many zones may paste one per zone. Each is verified;
   * the connection holds them all and reads each zone through one that can see it.
   */
  readonly moreTokens?: ReadonlyArray<string> | undefined
  /** Zone ids to monitor; every zone the token sees when absent. */
  readonly zones?: ReadonlyArray<string> | undefined
  readonly intervalSeconds?: number | undefined
  /** Whose connection it is: the end user of the connect session that made it. */
  readonly endUser?: EndUsers.EndUser | undefined
}

/** Changes to a connection; `null` returns a setting to its default, absent leaves it. */
export interface ConnectionPatch {
  readonly name?: string | undefined
  readonly zones?: ReadonlyArray<string> | null | undefined
  readonly intervalSeconds?: number | null | undefined
  readonly paused?: boolean | undefined
  /** Seconds before a resource no change-feed mark covers is read again (issue #15). */
  readonly slowCadenceSeconds?: number | null | undefined
}

/** A connection with everything its overview shows. */
export interface Overview {
  readonly connection: Store.Connection
  /** Zone ids monitored; `null`: every zone the token sees. */
  readonly zones: ReadonlyArray<string> | null
  /** Seconds between snapshots: the connection's own, or the scheduler's default. */
  readonly intervalSeconds: number
  /** The alert it raises: the stored one, or the credential's when the connection is expired. */
  readonly alert: ConnectionState.Alert | null
  readonly state: ConnectionState.State
  /** Its schedule; none for a connection the scheduler does not know (yet). */
  readonly schedule: Option.Option<Schedule>
  readonly latest: Store.SnapshotSummary | undefined
  /** The latest checklist's score; `null` before the first snapshot. */
  readonly score: number | null
  /** What the caller should know about its request (the pasted token was trimmed). */
  readonly notes?: ReadonlyArray<string> | undefined
  /** The end user it was made for (`null`: made without a connect session). */
  readonly endUser: EndUsers.EndUser | null
  /** The zones the token just verified sees (on create and credential replacement only). */
  readonly visibleZones?: ReadonlyArray<DiscoveredZone> | undefined
  /** The credentials it holds (never their secrets), oldest first. */
  readonly credentials: ReadonlyArray<Store.ConnectionCredential>
  /** How its changes are detected (issue #15). */
  readonly detection: ChangeDetection.State
  /** The permission that would enable a better change-detection mode, if any. */
  readonly betterPermission: string | null
  /** The slower cadence in seconds: the connection's own, or the scheduler's default. */
  readonly slowCadenceSeconds: number
}

/** How new tokens join a connection: in place of its credentials, or beside them. */
export type CredentialMode = "replace" | "add"

/** The monitored zones among those a token sees (`selected` `undefined`: all of them), as events name them. */
export const monitoredZones = (
  visible: ReadonlyArray<DiscoveredZone>,
  selected: ReadonlyArray<string> | null | undefined
): ReadonlyArray<Events.EventZone> =>
  visible.filter((z) => selected == null || selected.includes(z.id)).map((z) => ({ id: z.id, name: z.name }))

/** What a re-check did. */
export type Recheck =
  /** Requested; the scheduler runs it at once. */
  | { readonly _tag: "Queued" }
  /** Not requested: the connection is paused or its credential expired. */
  | { readonly _tag: "Inactive"; readonly status: Exclude<Store.ConnectionStatus, "active"> }
  /** Run, and waited for. */
  | { readonly _tag: "Ran"; readonly result: RunResult }

/** What a pasted token can do and see, and notes on the request (the token was trimmed). */
export interface Verified extends Discovery {
  readonly notes: ReadonlyArray<string>
}

/** A zone of the latest snapshot, and whether the connection monitors it. */
export interface ConnectionZone {
  readonly zone: DiscoveredZone
  readonly monitored: boolean
}

/** The latest findings, each with its check (`undefined` for a check no longer wired). */
export interface Checklist {
  readonly score: number
  readonly snapshotId: string | null
  readonly items: ReadonlyArray<{ readonly stored: Store.StoredFinding; readonly check: Check.Check | undefined }>
}

/** One resource in one scope of the latest snapshot. */
export interface Records {
  readonly snapshotId: string
  readonly result: Snapshot.ResourceResult
}

const make = Effect.gen(function* () {
  const store = yield* Store.Store
  const provider = yield* Provider
  const scheduler = yield* Scheduler
  const webhooks = yield* Webhooks
  const sql = yield* SqlClient.SqlClient
  const bus = yield* Events.Bus
  const config = yield* Configuration
  const defaultInterval = Duration.toSeconds(config.scheduler.interval)
  const withSql = Effect.provideService(SqlClient.SqlClient, sql)
  const publish = (event: Events.LiveEvent) => Effect.provideService(Events.publish(event), Events.Bus, bus)

  const overview = (connection: Store.Connection) =>
    Effect.gen(function* () {
      const state = yield* withSql(ConnectionState.get(connection.id))
      const schedule = yield* scheduler.schedule(connection.id)
      const latest = yield* store.listSnapshots(connection.id, { limit: 1 })
      const findings = yield* store.latestFindings(connection.id)
      const settings = SnapshotJob.settingsOf(connection.settings)
      const endUser = yield* withSql(EndUsers.of(connection.id))
      const credentials = yield* store.listCredentials(connection.id)
      const detection = yield* withSql(ChangeDetection.get(connection.id))
      return {
        credentials,
        detection,
        betterPermission: ChangeDetection.betterPermission(provider.feed, detection.mode),
        slowCadenceSeconds: settings.slowCadenceSeconds ?? Duration.toSeconds(config.scheduler.slowCadence),
        endUser,
        connection,
        zones: settings.zones ?? null,
        intervalSeconds: settings.intervalSeconds ?? defaultInterval,
        alert:
          state.alert ??
          (connection.status === "credential_expired"
            ? new ConnectionState.Alert({
                kind: "credential_expired",
                since: DateTime.formatIso(connection.updatedAt),
                message: "The credential was refused"
              })
            : null),
        state,
        schedule,
        latest: latest.items[0],
        score: findings.length === 0 ? null : Check.score(findings.map((f) => f.finding))
      } satisfies Overview
    })

  /**
   * The pasted token as a credential (its secret `Redacted` from here on), verified. A token with a
   * character no token has is refused before any request is sent (the client would retry it for
   * seconds); surrounding whitespace is trimmed, and a note says so.
   */
  const discover = (raw: string) =>
    Effect.gen(function* () {
      const checked = TokenFormat.check(raw)
      if (Either.isLeft(checked)) {
        return yield* new ConnectionError({ reason: "invalid", message: `token: ${checked.left.message}` })
      }
      const credential = Credential.make(provider.credentialKind, checked.right.token)
      const discovery = yield* provider.discover(credential)
      const notes: ReadonlyArray<string> = checked.right.trimmed ? [TokenFormat.trimmedNote] : []
      return { credential, discovery, notes }
    })

  /**
   * Several pasted tokens, each verified (issue #13); the zones are the union of what they see, each
   * once. Notes are given once.
   */
  const discoverAll = (tokens: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const found = yield* Effect.forEach(tokens, discover)
      const zones = new Map<string, DiscoveredZone>()
      for (const { discovery } of found) for (const zone of discovery.zones) if (!zones.has(zone.id)) zones.set(zone.id, zone)
      const union: Discovery = { verification: found[0]!.discovery.verification, zones: [...zones.values()] }
      return { found, discovery: union, notes: [...new Set(found.flatMap((f) => f.notes))] }
    })

  /** Fails naming the zones of `zones` that `discovery`'s token cannot see (`whose`: "the token", "the new token"). */
  const visibleOrFail = (discovery: Discovery, zones: ReadonlyArray<string>, whose: string) => {
    const visible = new Set(discovery.zones.map((z) => z.id))
    const unknown = zones.filter((z) => !visible.has(z))
    return unknown.length === 0
      ? Effect.void
      : Effect.fail(new ConnectionError({ reason: "invalid", message: `zones: ${whose} cannot see ${unknown.join(", ")}` }))
  }

  /**
   * Re-checks in progress, by connection, started here: concurrent re-checks of one connection share
   * one run (a burst of clicks or a flood of requests must not run a full snapshot each). A caller
   * that arrives while one is queued or running gets its result; one that arrives after it ended
   * starts the next. The run belongs to the service's scope, not to a caller that may go away.
   */
  const rechecks = new Map<string, Deferred.Deferred<RunResult, SchedulerError>>()
  const scope = yield* Effect.scope
  /** Callers waiting on a shared re-check; observable, so a test waits for a flood to have joined. */
  const recheckWaiters = yield* SubscriptionRef.make(0)
  const awaitShared = (id: string) =>
    Effect.acquireUseRelease(
      SubscriptionRef.update(recheckWaiters, (n) => n + 1),
      () => Effect.flatMap(sharedRecheck(id), Deferred.await),
      () => SubscriptionRef.update(recheckWaiters, (n) => n - 1)
    )
  const sharedRecheck = (id: string): Effect.Effect<Deferred.Deferred<RunResult, SchedulerError>> =>
    Effect.suspend(() => {
      const running = rechecks.get(id)
      if (running !== undefined) return Effect.succeed(running)
      // Made and registered synchronously, so no second caller can slip in between.
      const done = Deferred.unsafeMake<RunResult, SchedulerError>(FiberId.none)
      rechecks.set(id, done)
      const forget = Effect.sync(() => rechecks.delete(id))
      return Effect.exit(scheduler.recheckAndWait(id)).pipe(
        Effect.flatMap((exit) => Effect.zipRight(forget, Deferred.done(done, exit))),
        Effect.onInterrupt(() => Effect.zipRight(forget, Deferred.interrupt(done))),
        Effect.forkIn(scope),
        Effect.as(done)
      )
    })

  const latestOf = (id: string) =>
    Effect.flatMap(store.latestSnapshot(id), (latest) =>
      Option.match(latest, {
        onNone: () => Effect.fail(new ConnectionError({ reason: "not-found", message: `connection ${id} has no snapshot yet` })),
        onSome: Effect.succeed
      })
    )

  return {
    /** What a pasted token can do and see. */
    verify: (token: string): Effect.Effect<Verified, ConnectorError.ConnectorError | ConnectionError> =>
      Effect.map(discover(token), ({ discovery, notes }) => ({ ...discovery, notes })),

    /** Stores a connection with a verified token and schedules its first snapshot at once. */
    create: (input: NewConnection) =>
      Effect.gen(function* () {
        const { discovery, found, notes } = yield* discoverAll([input.token, ...(input.moreTokens ?? [])])
        const [first, ...others] = found
        if (input.zones !== undefined) yield* visibleOrFail(discovery, input.zones, found.length === 1 ? "the token" : "the tokens")
        const connection = yield* Effect.gen(function* () {
          const connection = yield* store.createConnection({
            connectorId: provider.connectorId,
            name: input.name,
            settings: {
              ...(input.zones === undefined ? {} : { zones: [...input.zones] }),
              ...(input.intervalSeconds === undefined ? {} : { intervalSeconds: input.intervalSeconds })
            },
            credential: first!.credential,
            credentialScopes: first!.discovery.zones.map((z) => z.id)
          })
          for (const other of others) {
            yield* store.addCredential(connection.id, other.credential, other.discovery.zones.map((z) => z.id))
          }
          yield* scheduler.add(connection.id)
          // Whose it is, and the `connection.created` event, in the same transaction as the connection.
          const now = yield* Clock.currentTimeMillis
          if (input.endUser !== undefined) yield* withSql(EndUsers.attach(connection.id, input.endUser, now))
          yield* webhooks.enqueue([
            Events.created({
              connectionId: connection.id,
              connectionName: connection.name,
              endUser: input.endUser ?? null,
              zones: monitoredZones(discovery.zones, input.zones),
              at: new Date(now)
            })
          ])
          return connection
        }).pipe(sql.withTransaction)
        yield* scheduler.wake
        return { ...(yield* overview(connection)), notes, visibleZones: discovery.zones }
      }),

    /** Every connection. */
    list: Effect.flatMap(store.listConnections, (all) => Effect.forEach(all, overview)),

    /** The connections made for one end user (through connect sessions). */
    listByEndUser: (endUserId: string) =>
      Effect.gen(function* () {
        const ids = new Set(yield* withSql(EndUsers.connectionsOf(endUserId)))
        const all = yield* store.listConnections
        return yield* Effect.forEach(all.filter((c) => ids.has(c.id)), overview)
      }),

    /** One connection. */
    get: (id: string) => Effect.flatMap(store.getConnection(id), overview),

    /**
     * Renames, changes zones or interval, pauses or resumes. An expired credential cannot be resumed
     * this way (a new token can: `replaceCredential`), and pausing leaves it expired. New zones are
     * checked with the provider, as on create: a zone the token cannot see would silently stop
     * monitoring. An active connection is re-checked with its new settings.
     */
    update: (id: string, patch: ConnectionPatch) =>
      Effect.gen(function* () {
        const connection = yield* store.getConnection(id)
        if (patch.paused === false && connection.status === "credential_expired") {
          return yield* new ConnectionError({
            reason: "invalid",
            message: "paused: the credential expired; supply a new token with PUT /connections/{id}/credential"
          })
        }
        if (patch.zones !== undefined && patch.zones !== null) {
          // Every working token counts (issue #13: one per zone); the zones are what they see together.
          const open = yield* store.credentialsOf(id)
          const active = open.filter((c) => c.info.status === "active")
          const found = yield* Effect.forEach(active.length > 0 ? active : open, (c) => provider.discover(c.credential))
          const zones = new Map(found.flatMap((d) => d.zones).map((z) => [z.id, z]))
          yield* visibleOrFail({ verification: found[0]!.verification, zones: [...zones.values()] }, patch.zones, found.length === 1 ? "the token" : "the tokens")
        }
        const settings: Record<string, Store.Settings[string]> = { ...connection.settings }
        if (patch.zones === null) delete settings["zones"]
        else if (patch.zones !== undefined) settings["zones"] = [...patch.zones]
        if (patch.intervalSeconds === null) delete settings["intervalSeconds"]
        else if (patch.intervalSeconds !== undefined) settings["intervalSeconds"] = patch.intervalSeconds
        if (patch.slowCadenceSeconds === null) delete settings["slowCadenceSeconds"]
        else if (patch.slowCadenceSeconds !== undefined) settings["slowCadenceSeconds"] = patch.slowCadenceSeconds
        const status =
          patch.paused === undefined || connection.status === "credential_expired" ? undefined : patch.paused ? "paused" : "active"
        const updated = yield* Effect.gen(function* () {
          const updated = yield* store.updateConnection(id, {
            ...(patch.name === undefined ? {} : { name: patch.name }),
            settings,
            ...(status === undefined ? {} : { status })
          })
          if (updated.status === "active") yield* scheduler.recheck(id)
          return updated
        }).pipe(sql.withTransaction)
        if (updated.status !== connection.status) {
          yield* publish({ type: "connection.status", connectionId: id, status: updated.status, alert: null })
        }
        if (updated.status === "active") yield* scheduler.wake
        return yield* overview(updated)
      }),

    /** Deletes a connection with everything stored for it; a run in progress here is interrupted. */
    remove: (id: string) =>
      Effect.gen(function* () {
        yield* store.getConnection(id)
        yield* scheduler.remove(id)
        yield* store.deleteConnection(id)
        yield* withSql(ConnectionState.remove(id))
        yield* withSql(ChangeDetection.remove(id))
        yield* withSql(EndUsers.remove(id))
      }),

    /**
     * Supplies new tokens (issue #13). `replace` (the default): they take the place of every
     * credential, and together must see every zone the connection monitors. `add`: they join the
     * others; an expired credential whose zones they now cover is dropped. Either way, an expired
     * connection — or one with expired credentials no longer needed — is restored (a
     * `connection.restored` webhook, its alert cleared) and re-checked at once.
     */
    replaceCredential: (id: string, tokens: string | ReadonlyArray<string>, mode: CredentialMode = "replace") =>
      Effect.gen(function* () {
        const connection = yield* store.getConnection(id)
        const { discovery, found, notes } = yield* discoverAll(typeof tokens === "string" ? [tokens] : tokens)
        const selected = SnapshotJob.settingsOf(connection.settings).zones
        if (mode === "replace" && selected !== undefined) yield* visibleOrFail(discovery, selected, found.length === 1 ? "the new token" : "the new tokens")
        const before = yield* store.listCredentials(id)
        const wasExpired = connection.status === "credential_expired" || before.some((c) => c.status === "expired")
        const now = yield* Clock.currentTimeMillis
        const replaced = yield* Effect.gen(function* () {
          const [first, ...others] = found
          if (mode === "replace") {
            yield* store.replaceCredential(id, first!.credential, first!.discovery.zones.map((z) => z.id))
            for (const other of others) yield* store.addCredential(id, other.credential, other.discovery.zones.map((z) => z.id))
          } else {
            for (const one of found) yield* store.addCredential(id, one.credential, one.discovery.zones.map((z) => z.id))
            // Expired credentials whose zones the active ones now cover are not needed any more.
            const all = yield* store.listCredentials(id)
            const covered = new Set(all.filter((c) => c.status === "active").flatMap((c) => c.scopes ?? []))
            for (const old of all) {
              if (old.status === "expired" && (old.scopes ?? []).every((z) => covered.has(z))) yield* store.removeCredential(id, old.id)
            }
            if (connection.status === "credential_expired") yield* store.updateConnection(id, { status: "active" })
          }
          const remaining = yield* store.listCredentials(id)
          const restored = wasExpired && !remaining.some((c) => c.status === "expired")
          if (mode === "replace" || restored) yield* withSql(ConnectionState.clear(id))
          const replaced = yield* store.getConnection(id)
          if (restored) {
            yield* webhooks.enqueue([
              Events.restored({
                connectionId: id,
                connectionName: replaced.name,
                credentialFingerprint: replaced.credentialFingerprint,
                at: new Date(now),
                endUser: yield* withSql(EndUsers.of(id)),
                zones: monitoredZones(discovery.zones, selected)
              })
            ])
          }
          if (replaced.status === "active") yield* scheduler.recheck(id)
          return replaced
        }).pipe(sql.withTransaction)
        yield* publish({ type: "connection.status", connectionId: id, status: replaced.status, alert: null })
        if (replaced.status === "active") yield* scheduler.wake
        return { ...(yield* overview(replaced)), notes, visibleZones: discovery.zones }
      }),

    /**
     * Re-checks now. Without `wait`, only an active connection is queued; with it, the scheduler
     * runs it (a paused one answers `Paused`) and the run's result is returned. Concurrent re-checks
     * of one connection share one run.
     */
    recheck: (id: string, options: { readonly wait: boolean }) =>
      Effect.gen(function* () {
        const connection = yield* store.getConnection(id)
        if (options.wait) return { _tag: "Ran", result: yield* awaitShared(id) } satisfies Recheck
        if (connection.status !== "active") return { _tag: "Inactive", status: connection.status } satisfies Recheck
        // One already in progress will do; otherwise queued as before, so a schedule that cannot be written is an error here.
        if (!rechecks.has(id)) yield* scheduler.recheck(id)
        return { _tag: "Queued" } satisfies Recheck
      }),

    /** How many callers wait on a shared re-check, as it changes. */
    recheckWaiters: recheckWaiters.changes,

    /** The zones of the latest snapshot, monitored or not. */
    zones: (id: string) =>
      Effect.gen(function* () {
        const connection = yield* store.getConnection(id)
        const latest = yield* latestOf(id)
        const selected = SnapshotJob.settingsOf(connection.settings).zones
        return provider.zonesOf(latest.snapshot).map(
          (zone): ConnectionZone => ({ zone, monitored: selected === undefined || selected.includes(zone.id) })
        )
      }),

    /** A page of snapshot summaries, newest first. */
    snapshots: (id: string, paging: Store.Paging) => Effect.zipRight(store.getConnection(id), store.listSnapshots(id, paging)),

    /** The latest snapshot with its results. */
    latestSnapshot: (id: string) => Effect.zipRight(store.getConnection(id), latestOf(id)),

    /** The result of one resource in one scope (`kind:id`) of the latest snapshot. */
    records: (id: string, resource: string, scope: string) =>
      Effect.gen(function* () {
        yield* store.getConnection(id)
        const latest = yield* latestOf(id)
        const result = Snapshot.find(latest.snapshot, resource, scope)
        if (result === undefined) {
          return yield* new ConnectionError({ reason: "not-found", message: `the latest snapshot has no ${resource} in ${scope}` })
        }
        return { snapshotId: latest.id, result } satisfies Records
      }),

    /** The checklist of the latest snapshot. */
    checklist: (id: string) =>
      Effect.gen(function* () {
        yield* store.getConnection(id)
        const findings = yield* store.latestFindings(id)
        return {
          score: Check.score(findings.map((f) => f.finding)),
          snapshotId: findings[0]?.snapshotId ?? null,
          items: findings.map((stored) => ({ stored, check: provider.checks.find((c) => c.id === stored.finding.checkId) }))
        } satisfies Checklist
      }),

    /** Every verdict of one check, oldest first; of one scope (`kind:id`) when given. */
    findingHistory: (id: string, checkId: string, scope?: string) =>
      Effect.zipRight(store.getConnection(id), store.findingHistory({ connectionId: id, checkId, scope }))
  }
})

/**
 * The connections service. `Default` builds it with the app's services (`Services.layer`, from the
 * `Configuration`); `DefaultWithoutDependencies` takes them from context (tests give a fake provider).
 */
export class Connections extends Effect.Service<Connections>()("@plumbline/drift-monitor/Connections", {
  scoped: make,
  dependencies: [Services.layer]
}) {}
