/**
 * The API's views: what the domain returns, shaped as the API's Schemas (`Api`) say. Pure
 * functions, each typed by the Schema it feeds, so a view that drifts from its Schema does not
 * compile. Times become ISO strings and absent values `null`; a snapshot's records are counted, not
 * copied, except where one resource is asked for.
 */
import { type RequestBudget, Snapshot, Store } from "@plumbline/core"
import { DateTime, Option, Schema } from "effect"
import type * as Api from "./Api.js"
import type * as ChangeDetection from "./ChangeDetection.js"
import type * as Connections from "./Connections.js"
import * as ConnectSessions from "./ConnectSessions.js"
import type { RunResult } from "./Scheduler.js"
import type { Discovery } from "./Wiring.js"

const iso = (d: DateTime.DateTime) => DateTime.formatIso(d)

/** A page of a listing, its cursor `null` on the last page. */
export const page = <A, B>(page: Store.Page<A>, view: (a: A) => B): { readonly items: ReadonlyArray<B>; readonly next: string | null } => ({
  items: page.items.map(view),
  next: Option.getOrNull(page.next)
})

/** A stored snapshot without its records. */
export const snapshotSummary = (s: Store.SnapshotSummary): typeof Api.SnapshotSummaryView.Type => ({
  id: s.id,
  startedAt: iso(s.startedAt),
  finishedAt: iso(s.finishedAt),
  outcome: s.outcome,
  resultCount: s.resultCount,
  recordCount: s.recordCount,
  kind: s.incremental === true ? "incremental" : "full"
})

/** A token's request budget state. */
export const budgetState = (s: RequestBudget.State): typeof Api.BudgetStateView.Type => ({
  limit: s.limit,
  windowSeconds: s.windowMillis / 1000,
  used: s.used,
  pausedUntil: s.pausedUntil > 0 ? new Date(s.pausedUntil).toISOString() : null
})

/** A connection's overview. */
export const connection = (o: Connections.Overview): typeof Api.ConnectionView.Type => ({
  id: o.connection.id,
  name: o.connection.name,
  connectorId: o.connection.connectorId,
  status: o.connection.status,
  credentialFingerprint: o.connection.credentialFingerprint,
  zones: o.zones,
  intervalSeconds: o.intervalSeconds,
  alert: o.alert,
  schedule: {
    running: Option.match(o.schedule, { onNone: () => false, onSome: (s) => s.running }),
    nextRunAt: Option.match(o.schedule, {
      onNone: () => null,
      onSome: (s) => (s.nextRunAt === null ? null : new Date(s.nextRunAt).toISOString())
    }),
    failures: o.state.failures,
    lastRunAt: o.state.lastRunAt,
    lastError: o.state.lastError
  },
  latestSnapshot: o.latest === undefined ? null : snapshotSummary(o.latest),
  score: o.score,
  createdAt: iso(o.connection.createdAt),
  updatedAt: iso(o.connection.updatedAt),
  ...notesOf(o.notes),
  endUser: o.endUser,
  credentials: o.credentials.map((c) => ({ id: c.id, fingerprint: c.fingerprint, status: c.status, zones: c.scopes === null ? null : [...c.scopes] })),
  changeDetection: changeDetection(o.detection, o.betterPermission, o.slowCadenceSeconds)
})

/** A connection's change detection (issue #15). */
export const changeDetection = (
  state: ChangeDetection.State,
  betterPermission: string | null,
  slowCadenceSeconds: number
): typeof Api.ChangeDetectionView.Type => ({
  slowCadenceSeconds,
  mode: state.mode,
  betterPermission,
  lagSeconds: state.lagSeconds,
  missedByFeed: state.missedByFeed,
  lastFullAt: state.lastFullAt === null ? null : new Date(state.lastFullAt).toISOString(),
  lastFeedError: state.lastFeedError
})

/** Notes when there are any; absent otherwise, so a plain answer stays as it was. */
const notesOf = (notes: ReadonlyArray<string> | undefined) => (notes === undefined || notes.length === 0 ? {} : { notes: [...notes] })

/** What a pasted token can do and see, with every permission to add so that everything can be read. */
export const verification = (discovery: Discovery & { readonly notes?: ReadonlyArray<string> }): typeof Api.VerificationView.Type => {
  const missing = new Set<string>()
  for (const grant of discovery.verification.grants) if (grant.status === "missing") for (const p of grant.permissions) missing.add(p)
  return {
    subject: discovery.verification.subject,
    status: discovery.verification.status,
    expiresAt: discovery.verification.expiresAt ?? null,
    grants: discovery.verification.grants.map((g) => ({ resource: g.resource, status: g.status, permissions: [...g.permissions] })),
    missingPermissions: Array.from(missing).sort(),
    zones: discovery.zones.map((z) => ({ id: z.id, name: z.name, status: z.status, plan: z.plan ?? null, account: z.account ?? null })),
    ...notesOf(discovery.notes)
  }
}

/** One resource in one scope of a snapshot: its status and record count, and how it was obtained. */
export const result = (r: Snapshot.ResourceResult, obtained: Snapshot.Obtained = { _tag: "read" }): typeof Api.ResultView.Type => ({
  obtained: obtained._tag,
  carriedFrom: obtained._tag === "carried" ? (obtained.from ?? null) : null,
  resource: r.resource,
  scope: r.scope.key,
  scopeName: r.scope.name ?? null,
  status: r.status._tag,
  records: Snapshot.recordsOfStatus(r.status).length,
  detail:
    r.status._tag === "partial"
      ? `${r.status.problems.length} item(s) could not be decoded: ${r.status.problems
          .map((p) => `#${p.index}${p.id === undefined ? "" : ` (${p.id})`} at ${p.path || "/"}: ${p.message}`)
          .join("; ")}`
      : r.status._tag === "skipped"
      ? `${r.status.reason}: ${r.status.detail}`
      : r.status._tag === "failed"
        ? r.status.error.message
        : r.status._tag === "forbidden"
          ? `grant ${r.status.permissions.join(", ")}`
          : null,
  permissions: r.status._tag === "forbidden" ? [...r.status.permissions] : []
})

/** The latest snapshot with its per-resource results. */
export const snapshot = (latest: Store.StoredSnapshot): typeof Api.SnapshotView.Type => {
  const s = latest.snapshot
  return {
    id: latest.id,
    startedAt: iso(s.startedAt),
    finishedAt: iso(s.finishedAt),
    outcome: s.outcome,
    resultCount: s.results.length,
    recordCount: s.results.reduce((n, r) => n + Snapshot.recordsOfStatus(r.status).length, 0),
    requestCount: s.requestCount,
    kind: Snapshot.isIncremental(s) ? "incremental" : "full",
    results: s.results.map((r) => result(r, Snapshot.obtained(s, r.key)))
  }
}

/** The records of one resource in one scope. */
export const records = (r: Connections.Records): typeof Api.RecordsView.Type => ({
  snapshotId: r.snapshotId,
  resource: r.result.resource,
  scope: r.result.scope.key,
  status: r.result.status._tag,
  records: Snapshot.recordsOfStatus(r.result.status).map((record) => ({ key: record.key, value: record.value }))
})

/** A zone of a connection. */
export const zone = ({ monitored, zone }: Connections.ConnectionZone): typeof Api.ConnectionZoneView.Type => ({
  id: zone.id,
  name: zone.name,
  attributes: {
    ...(zone.plan === undefined ? {} : { plan: zone.plan }),
    ...(zone.account === undefined ? {} : { account: zone.account }),
    status: zone.status
  },
  monitored
})

/** One checklist item: a check's verdict on one scope, with how to fix it or why it was skipped. */
export const checklistItem = ({ check, stored }: Connections.Checklist["items"][number]): typeof Api.ChecklistItemView.Type => {
  const f = stored.finding
  const v = f.verdict
  return {
    checkId: f.checkId,
    title: f.title,
    description: check?.description ?? "",
    severity: f.severity,
    scope: f.scope.key,
    scopeName: f.scope.name ?? null,
    status: v._tag,
    evidence: v._tag === "pass" || v._tag === "fail" ? v.evidence : null,
    remediation:
      v._tag === "fail"
        ? {
            summary: v.remediation.summary,
            expression: v.remediation.expression ?? null,
            request:
              v.remediation.request === undefined
                ? null
                : { method: v.remediation.request.method, path: v.remediation.request.path, body: v.remediation.request.body ?? null }
          }
        : null,
    detail: v._tag === "skipped" || v._tag === "error" ? v.detail : null,
    permissions: v._tag === "skipped" ? [...v.permissions] : [],
    evaluatedAt: iso(f.evaluatedAt),
    snapshotId: stored.snapshotId
  }
}

/** The checklist of the latest snapshot. */
export const checklist = (c: Connections.Checklist): typeof Api.ChecklistView.Type => ({
  score: c.score,
  snapshotId: c.snapshotId,
  items: c.items.map(checklistItem)
})

/** Every verdict of a check, oldest first. */
export const findingHistory = (history: ReadonlyArray<Store.StoredFinding>): typeof Api.FindingHistoryView.Type =>
  history.map((h) => ({
    snapshotId: h.snapshotId,
    scope: h.finding.scope.key,
    status: h.finding.verdict._tag,
    evaluatedAt: iso(h.finding.evaluatedAt)
  }))

const encodeDriftEvent = Schema.encodeSync(Store.DriftEvent)

/** A drift event; its change as core's `Drift` encodes it (JSON Pointer paths, before and after). */
export const driftEvent = (e: Store.DriftEvent): typeof Api.DriftEventView.Type => ({
  id: e.id,
  connectionId: e.connectionId,
  snapshotId: e.snapshotId,
  detectedAt: iso(e.detectedAt),
  kind: e.kind,
  resource: e.resource,
  scope: e.scope.key,
  key: e.key ?? null,
  change: encodeDriftEvent(e).change
})

const notActive = "the connection is not active"
const nothing = { snapshotId: null, driftEvents: 0, findingChanges: 0, message: null } as const

/** The outcome of a re-check, as the API reports it. */
export const recheck = (r: Connections.Recheck): typeof Api.RecheckView.Type => {
  switch (r._tag) {
    case "Queued":
      return { ...nothing, outcome: "queued" }
    case "Inactive":
      return { ...nothing, outcome: r.status === "credential_expired" ? "credential_expired" : "paused", message: notActive }
    case "Ran":
      return run(r.result)
  }
}

const run = (result: RunResult): typeof Api.RecheckView.Type => {
  if (result._tag === "Left") return { ...nothing, outcome: "failed", message: result.left.message }
  const outcome = result.right
  switch (outcome._tag) {
    case "Committed":
      return { outcome: "committed", snapshotId: outcome.snapshotId, driftEvents: outcome.driftEvents, findingChanges: outcome.findingChanges, message: null }
    case "CredentialExpired":
      return { ...nothing, outcome: "credential_expired", message: outcome.message }
    case "Paused":
      return { ...nothing, outcome: outcome.status === "credential_expired" ? "credential_expired" : "paused", message: notActive }
    case "Superseded":
      return { ...nothing, outcome: "queued", message: "the token was replaced during the run; re-checking with the new one" }
    case "AccountUnavailable":
      return { ...nothing, outcome: "failed", message: outcome.message }
  }
}

// ---------------------------------------------------------------------------------------------
// Connect sessions (issue #13)

/** Where a connect session stands at `now`. */
export const connectSession = (session: ConnectSessions.Session, now: number): typeof Api.ConnectSessionView.Type => ({
  id: session.id,
  status: ConnectSessions.statusOf(session, now),
  endUser: session.endUser,
  expiresAt: new Date(session.expiresAt).toISOString(),
  ...(session.connectionId === null ? {} : { connectionId: session.connectionId }),
  ...(session.reconnect === null ? {} : { reconnect: session.reconnect })
})
