/**
 * The handlers of `Api`: each endpoint is a thin translation between the API's Schemas and the
 * services (store, provider, scheduler, webhooks). A pasted token becomes a `Credential` (its secret
 * `Redacted`) on the first line that sees it and goes only to the provider (to verify) and to the
 * store (encrypted); errors are mapped to the API's errors with messages that never carry it.
 */
import { timingSafeEqual } from "node:crypto"
import { HttpApiBuilder } from "@effect/platform"
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type { ConnectorError} from "@plumbline/core";
import { Check, Credential, Snapshot, Store } from "@plumbline/core"
import { Clock, DateTime, Duration, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import * as Api from "./Api.js"
import type { AppConfig } from "./Config.js"
import * as ConnectionState from "./ConnectionState.js"
import * as Events from "./Events.js"
import { Scheduler } from "./Scheduler.js"
import * as SnapshotJob from "./SnapshotJob.js"
import { Webhooks, type WebhookError } from "./Webhooks.js"
import { Provider, type ProviderService } from "./Wiring.js"

// ---------------------------------------------------------------------------------------------
// Authorization

/** Does `given` equal the API key? Constant-time. */
export const keyMatches = (apiKey: Redacted.Redacted<string>, given: string): boolean => {
  const expected = Buffer.from(Redacted.value(apiKey), "utf8")
  const actual = Buffer.from(given, "utf8")
  return expected.length === actual.length && timingSafeEqual(expected, actual)
}

/** The API key middleware. */
export const layerAuthorization = (apiKey: Redacted.Redacted<string>): Layer.Layer<Api.Authorization> =>
  Layer.succeed(Api.Authorization, {
    bearer: (token) =>
      keyMatches(apiKey, Redacted.value(token))
        ? Effect.void
        : Effect.fail(new Api.Unauthorized({ message: "missing or wrong API key (Authorization: Bearer <key> or x-api-key)" })),
    apiKey: (key) =>
      keyMatches(apiKey, Redacted.value(key))
        ? Effect.void
        : Effect.fail(new Api.Unauthorized({ message: "missing or wrong API key (Authorization: Bearer <key> or x-api-key)" }))
  })

// ---------------------------------------------------------------------------------------------
// Error mapping

const fromStore = (e: Store.StoreError) => {
  switch (e.reason) {
    case "not-found":
      return new Api.NotFound({ message: `${e.entity} ${e.id ?? ""} does not exist`.replace(/\s+/g, " ").trim() })
    case "invalid":
    case "conflict":
      return new Api.BadRequest({ message: e.message })
    default:
      return new Api.Unavailable({ message: e.message })
  }
}

const fromSql = (e: SqlError) => new Api.Unavailable({ message: `database unavailable: ${e.message.slice(0, 200)}` })

const fromWebhook = (e: WebhookError) =>
  e.reason === "not-found"
    ? new Api.NotFound({ message: e.message })
    : e.reason === "invalid"
      ? new Api.BadRequest({ message: e.message })
      : new Api.Unavailable({ message: e.message })

const fromConnector = (e: ConnectorError.ConnectorError) =>
  e._tag === "CredentialInvalid"
    ? new Api.CredentialRejected({ message: e.message, reason: e.reason })
    : new Api.UpstreamFailed({ message: e.message })

// ---------------------------------------------------------------------------------------------
// Views

const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)

const summaryView = (s: Store.SnapshotSummary) => ({
  id: s.id,
  startedAt: iso(s.startedAt),
  finishedAt: iso(s.finishedAt),
  outcome: s.outcome,
  resultCount: s.resultCount,
  recordCount: s.recordCount
})

const resultView = (r: Snapshot.ResourceResult) => ({
  resource: r.resource,
  scope: r.scope.key,
  scopeName: r.scope.name ?? null,
  status: r.status._tag,
  records: r.status._tag === "ok" ? r.status.records.length : 0,
  detail:
    r.status._tag === "skipped"
      ? `${r.status.reason}: ${r.status.detail}`
      : r.status._tag === "failed"
        ? r.status.error.message
        : r.status._tag === "forbidden"
          ? `grant ${r.status.permissions.join(", ")}`
          : null,
  permissions: r.status._tag === "forbidden" ? [...r.status.permissions] : []
})

const verificationView = (discovery: { verification: Credential.Verification; zones: ReadonlyArray<{ id: string; name: string; status: string; plan: string | undefined; account: string | undefined }> }) => {
  const missing = new Set<string>()
  for (const grant of discovery.verification.grants) if (grant.status === "missing") for (const p of grant.permissions) missing.add(p)
  return {
    subject: discovery.verification.subject,
    status: discovery.verification.status,
    expiresAt: discovery.verification.expiresAt ?? null,
    grants: discovery.verification.grants.map((g) => ({ resource: g.resource, status: g.status, permissions: [...g.permissions] })),
    missingPermissions: Array.from(missing).sort(),
    zones: discovery.zones.map((z) => ({ id: z.id, name: z.name, status: z.status, plan: z.plan ?? null, account: z.account ?? null }))
  }
}

const encodeDriftEvent = Schema.encodeSync(Store.DriftEvent)
const driftView = (e: Store.DriftEvent) => ({
  id: e.id,
  connectionId: e.connectionId,
  snapshotId: e.snapshotId,
  detectedAt: iso(e.detectedAt),
  kind: e.kind,
  resource: e.resource,
  scope: e.scope.key,
  key: e.key ?? null,
  change: encodeDriftEvent(e).change as unknown
})

const checklistItem = (provider: ProviderService, stored: Store.StoredFinding) => {
  const f = stored.finding
  const check = provider.checks.find((c) => c.id === f.checkId)
  const v = f.verdict
  return {
    checkId: f.checkId,
    title: f.title,
    description: check?.description ?? "",
    severity: f.severity,
    scope: f.scope.key,
    scopeName: f.scope.name ?? null,
    status: v._tag,
    evidence: v._tag === "pass" || v._tag === "fail" ? (v.evidence as unknown) : null,
    remediation:
      v._tag === "fail"
        ? {
            summary: v.remediation.summary,
            expression: v.remediation.expression ?? null,
            request:
              v.remediation.request === undefined
                ? null
                : { method: v.remediation.request.method, path: v.remediation.request.path, body: (v.remediation.request.body ?? null) as unknown }
          }
        : null,
    detail: v._tag === "skipped" || v._tag === "error" ? v.detail : null,
    permissions: v._tag === "skipped" ? [...v.permissions] : [],
    evaluatedAt: iso(f.evaluatedAt),
    snapshotId: stored.snapshotId
  }
}

// ---------------------------------------------------------------------------------------------
// Handlers

/** Every handler group, given the app's configuration. */
export const layer = (config: AppConfig) => {
  const connections = HttpApiBuilder.group(Api.Api, "connections", (handlers) =>
    Effect.gen(function* () {
      const store = yield* Store.Store
      const provider = yield* Provider
      const scheduler = yield* Scheduler
      const webhooks = yield* Webhooks
      const sql = yield* SqlClient.SqlClient
      const bus = yield* Events.Bus
      const defaultInterval = Duration.toSeconds(config.scheduler.interval)

      const view = (connection: Store.Connection) =>
        Effect.gen(function* () {
          const state = yield* Effect.mapError(ConnectionState.get(connection.id), fromSql)
          const schedule = yield* scheduler.schedule(connection.id)
          const latest = yield* Effect.mapError(store.listSnapshots(connection.id, { limit: 1 }), fromStore)
          const findings = yield* Effect.mapError(store.latestFindings(connection.id), fromStore)
          const settings = SnapshotJob.settingsOf(connection.settings)
          return {
            id: connection.id,
            name: connection.name,
            connectorId: connection.connectorId,
            status: connection.status,
            credentialFingerprint: connection.credentialFingerprint,
            zones: settings.zones ?? null,
            intervalSeconds: settings.intervalSeconds ?? defaultInterval,
            alert:
              state.alert ??
              (connection.status === "credential_expired"
                ? new ConnectionState.Alert({ kind: "credential_expired", since: iso(connection.updatedAt), message: "The credential was refused" })
                : null),
            schedule: {
              running: Option.match(schedule, { onNone: () => false, onSome: (s) => s.running }),
              nextRunAt: Option.match(schedule, {
                onNone: () => null,
                onSome: (s) => (s.nextRunAt === null ? null : new Date(s.nextRunAt).toISOString())
              }),
              failures: state.failures,
              lastRunAt: state.lastRunAt,
              lastError: state.lastError
            },
            latestSnapshot: latest.items[0] === undefined ? null : summaryView(latest.items[0]),
            score: findings.length === 0 ? null : Check.score(findings.map((f) => f.finding)),
            createdAt: iso(connection.createdAt),
            updatedAt: iso(connection.updatedAt)
          }
        })

      const get = (id: string) => Effect.mapError(store.getConnection(id), fromStore)

      const discover = (token: string) => {
        const credential = Credential.make(provider.credentialKind, token)
        return Effect.map(Effect.mapError(provider.discover(credential), fromConnector), (discovery) => ({ credential, discovery }))
      }

      const latestOrNotFound = (id: string) =>
        Effect.flatMap(Effect.mapError(store.latestSnapshot(id), fromStore), (latest) =>
          Option.match(latest, {
            onNone: () => Effect.fail(new Api.NotFound({ message: `connection ${id} has no snapshot yet` })),
            onSome: Effect.succeed
          })
        )

      return handlers
        .handle("verify", ({ payload }) => Effect.map(discover(payload.token), ({ discovery }) => verificationView(discovery)))
        .handle("create", ({ payload }) =>
          Effect.gen(function* () {
            const { credential, discovery } = yield* discover(payload.token)
            if (payload.zones !== undefined) {
              const visible = new Set(discovery.zones.map((z) => z.id))
              const unknown = payload.zones.filter((z) => !visible.has(z))
              if (unknown.length > 0) {
                return yield* Effect.fail(new Api.BadRequest({ message: `zones: the token cannot see ${unknown.join(", ")}` }))
              }
            }
            const connection = yield* Effect.mapError(
              store.createConnection({
                connectorId: provider.connectorId,
                name: payload.name,
                settings: {
                  ...(payload.zones === undefined ? {} : { zones: [...payload.zones] }),
                  ...(payload.intervalSeconds === undefined ? {} : { intervalSeconds: payload.intervalSeconds })
                },
                credential
              }),
              fromStore
            )
            yield* scheduler.add(connection.id)
            return yield* view(connection)
          })
        )
        .handle("list", () =>
          Effect.flatMap(Effect.mapError(store.listConnections, fromStore), (all) => Effect.forEach(all, view))
        )
        .handle("get", ({ path }) => Effect.flatMap(get(path.id), view))
        .handle("update", ({ path, payload }) =>
          Effect.gen(function* () {
            const connection = yield* get(path.id)
            if (payload.paused === false && connection.status === "credential_expired") {
              return yield* Effect.fail(new Api.BadRequest({ message: "paused: the credential expired; supply a new token with PUT /connections/{id}/credential" }))
            }
            const settings: Record<string, Store.Settings[string]> = { ...connection.settings }
            if (payload.zones === null) delete settings["zones"]
            else if (payload.zones !== undefined) settings["zones"] = [...payload.zones]
            if (payload.intervalSeconds === null) delete settings["intervalSeconds"]
            else if (payload.intervalSeconds !== undefined) settings["intervalSeconds"] = payload.intervalSeconds
            const status =
              payload.paused === undefined || connection.status === "credential_expired" ? undefined : payload.paused ? "paused" : "active"
            const updated = yield* Effect.mapError(
              store.updateConnection(path.id, {
                ...(payload.name === undefined ? {} : { name: payload.name }),
                settings,
                ...(status === undefined ? {} : { status })
              }),
              fromStore
            )
            if (updated.status !== connection.status) {
              yield* Events.publish({ type: "connection.status", connectionId: path.id, status: updated.status, alert: null }).pipe(
                Effect.provideService(Events.Bus, bus)
              )
            }
            if (updated.status === "active") yield* scheduler.recheck(path.id)
            return yield* view(updated)
          })
        )
        .handle("delete", ({ path }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            yield* scheduler.remove(path.id)
            yield* Effect.mapError(store.deleteConnection(path.id), fromStore)
            yield* Effect.mapError(ConnectionState.remove(path.id), fromSql)
          })
        )
        .handle("replaceCredential", ({ path, payload }) =>
          Effect.gen(function* () {
            const connection = yield* get(path.id)
            const { credential } = yield* discover(payload.token)
            const wasExpired = connection.status === "credential_expired"
            const now = yield* Clock.currentTimeMillis
            const replaced = yield* Effect.gen(function* () {
              const replaced = yield* store.replaceCredential(path.id, credential)
              yield* ConnectionState.clear(path.id)
              if (wasExpired) {
                yield* webhooks.enqueue([
                  Events.restored({
                    connectionId: path.id,
                    connectionName: replaced.name,
                    credentialFingerprint: replaced.credentialFingerprint,
                    at: new Date(now)
                  })
                ])
              }
              return replaced
            }).pipe(
              sql.withTransaction,
              Effect.mapError((e) => (Store.isStoreError(e) ? fromStore(e) : fromSql(e)))
            )
            yield* Events.publish({ type: "connection.status", connectionId: path.id, status: replaced.status, alert: null }).pipe(
              Effect.provideService(Events.Bus, bus)
            )
            if (replaced.status === "active") yield* scheduler.recheck(path.id)
            return yield* view(replaced)
          })
        )
        .handle("recheck", ({ path, urlParams }) =>
          Effect.gen(function* () {
            const connection = yield* get(path.id)
            const none = { snapshotId: null, driftEvents: 0, findingChanges: 0, message: null }
            if (urlParams.wait !== true) {
              if (connection.status !== "active") {
                return { ...none, outcome: connection.status === "credential_expired" ? "credential_expired" : "paused", message: "the connection is not active" } as const
              }
              yield* scheduler.recheck(path.id)
              return { ...none, outcome: "queued" } as const
            }
            const result = yield* scheduler.recheckAndWait(path.id)
            if (Either.isLeft(result)) return { ...none, outcome: "failed", message: result.left.message } as const
            const outcome = result.right
            switch (outcome._tag) {
              case "Committed":
                return { outcome: "committed", snapshotId: outcome.snapshotId, driftEvents: outcome.driftEvents, findingChanges: outcome.findingChanges, message: null } as const
              case "CredentialExpired":
                return { ...none, outcome: "credential_expired", message: outcome.message } as const
              case "Paused":
                return { ...none, outcome: outcome.status === "credential_expired" ? "credential_expired" : "paused", message: "the connection is not active" } as const
              case "Superseded":
                return { ...none, outcome: "queued", message: "the token was replaced during the run; re-checking with the new one" } as const
            }
          })
        )
        .handle("zones", ({ path }) =>
          Effect.gen(function* () {
            const connection = yield* get(path.id)
            const latest = yield* latestOrNotFound(path.id)
            const selected = SnapshotJob.settingsOf(connection.settings).zones
            return provider.zonesOf(latest.snapshot).map((z) => ({
              id: z.id,
              name: z.name,
              attributes: { ...(z.plan === undefined ? {} : { plan: z.plan }), ...(z.account === undefined ? {} : { account: z.account }), status: z.status },
              monitored: selected === undefined || selected.includes(z.id)
            }))
          })
        )
        .handle("snapshots", ({ path, urlParams }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            const page = yield* Effect.mapError(store.listSnapshots(path.id, { limit: urlParams.limit, cursor: urlParams.cursor }), fromStore)
            return { items: page.items.map(summaryView), next: Option.getOrNull(page.next) }
          })
        )
        .handle("latestSnapshot", ({ path }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            const latest = yield* latestOrNotFound(path.id)
            const s = latest.snapshot
            return {
              id: latest.id,
              startedAt: iso(s.startedAt),
              finishedAt: iso(s.finishedAt),
              outcome: s.outcome,
              resultCount: s.results.length,
              recordCount: s.results.reduce((n, r) => n + (r.status._tag === "ok" ? r.status.records.length : 0), 0),
              requestCount: s.requestCount,
              results: s.results.map(resultView)
            }
          })
        )
        .handle("records", ({ path, urlParams }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            const latest = yield* latestOrNotFound(path.id)
            const result = Snapshot.find(latest.snapshot, urlParams.resource, urlParams.scope)
            if (result === undefined) {
              return yield* Effect.fail(new Api.NotFound({ message: `the latest snapshot has no ${urlParams.resource} in ${urlParams.scope}` }))
            }
            return {
              snapshotId: latest.id,
              resource: result.resource,
              scope: result.scope.key,
              status: result.status._tag,
              records: result.status._tag === "ok" ? result.status.records.map((r) => ({ key: r.key, value: r.value as unknown })) : []
            }
          })
        )
        .handle("checklist", ({ path }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            const findings = yield* Effect.mapError(store.latestFindings(path.id), fromStore)
            return {
              score: Check.score(findings.map((f) => f.finding)),
              snapshotId: findings[0]?.snapshotId ?? null,
              items: findings.map((f) => checklistItem(provider, f))
            }
          })
        )
        .handle("findingHistory", ({ path, urlParams }) =>
          Effect.gen(function* () {
            yield* get(path.id)
            const history = yield* Effect.mapError(
              store.findingHistory({ connectionId: path.id, checkId: path.checkId, scope: urlParams.scope }),
              fromStore
            )
            return history.map((h) => ({
              snapshotId: h.snapshotId,
              scope: h.finding.scope.key,
              status: h.finding.verdict._tag,
              evaluatedAt: iso(h.finding.evaluatedAt)
            }))
          })
        )
    })
  )

  const drift = HttpApiBuilder.group(Api.Api, "drift", (handlers) =>
    Effect.gen(function* () {
      const store = yield* Store.Store
      return handlers.handle("list", ({ urlParams }) =>
        Effect.map(
          Effect.mapError(
            store.driftEvents({
              since: urlParams.since ?? 0,
              connectionId: urlParams.connectionId,
              scope: urlParams.scope,
              resource: urlParams.resource,
              limit: urlParams.limit,
              cursor: urlParams.cursor
            }),
            fromStore
          ),
          (page) => ({ items: page.items.map(driftView), next: Option.getOrNull(page.next) })
        )
      )
    })
  )

  const webhooksGroup = HttpApiBuilder.group(Api.Api, "webhooks", (handlers) =>
    Effect.gen(function* () {
      const webhooks = yield* Webhooks
      return handlers
        .handle("create", ({ payload }) => Effect.mapError(webhooks.createEndpoint(payload), fromWebhook))
        .handle("list", () => Effect.mapError(webhooks.listEndpoints, fromWebhook))
        .handle("delete", ({ path }) => Effect.mapError(webhooks.deleteEndpoint(path.id), fromWebhook))
        .handle("deliveries", ({ urlParams }) => Effect.mapError(webhooks.deliveries(urlParams), fromWebhook))
        .handle("redeliver", ({ path }) => Effect.mapError(webhooks.redeliver(path.id), fromWebhook))
        .handle("events", ({ urlParams }) => Effect.mapError(webhooks.events(urlParams), fromWebhook))
    })
  )

  const system = HttpApiBuilder.group(Api.Api, "system", (handlers) => handlers.handle("health", () => Effect.succeed({ status: "ok" as const })))

  return Layer.mergeAll(connections, drift, webhooksGroup, system).pipe(Layer.provide(layerAuthorization(config.apiKey)))
}
