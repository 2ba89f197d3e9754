/**
 * The product API, as an `@effect/platform` HttpApi: groups of JSON endpoints under `/api`, every
 * request and response a Schema (so the OpenAPI description at `/api/openapi.json` is generated
 * from the same definitions the server decodes with), and a few Schema-typed errors that carry
 * their HTTP status and a clear `message`.
 *
 * Authentication: every endpoint except `GET /api/health` needs the API key, as
 * `Authorization: Bearer <key>` or `x-api-key: <key>`.
 *
 * Tokens are write-only: request bodies accept them (`token`), no response schema has a field
 * that could carry one.
 */
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiMiddleware, HttpApiSchema, HttpApiSecurity, OpenApi } from "@effect/platform"
import { Context, Schema } from "effect"
import type { Session } from "./ConnectSessions.js"
import { Alert } from "./ConnectionState.js"
import { EndUser } from "./EndUsers.js"
import { EventType } from "./Events.js"
import { Delivery, DeliveryStatus, Endpoint, StoredEvent } from "./Webhooks.js"

// ---------------------------------------------------------------------------------------------
// Errors

/** The request is malformed or asks for something impossible. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { message: Schema.String }, HttpApiSchema.annotations({ status: 400 })) {}

/** The API key is missing or wrong. */
export class Unauthorized extends Schema.TaggedError<Unauthorized>()("Unauthorized", { message: Schema.String }, HttpApiSchema.annotations({ status: 401 })) {}

/** The connection, snapshot, endpoint or delivery does not exist. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }, HttpApiSchema.annotations({ status: 404 })) {}

/** The provider refused the pasted token (invalid, expired, revoked or disabled). */
export class CredentialRejected extends Schema.TaggedError<CredentialRejected>()(
  "CredentialRejected",
  { message: Schema.String, reason: Schema.String },
  HttpApiSchema.annotations({ status: 422 })
) {}

/** The provider could not be reached or failed while verifying. */
export class UpstreamFailed extends Schema.TaggedError<UpstreamFailed>()("UpstreamFailed", { message: Schema.String }, HttpApiSchema.annotations({ status: 502 })) {}

/** The database is unavailable. */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", { message: Schema.String }, HttpApiSchema.annotations({ status: 503 })) {}

/**
 * The token's request budget cannot serve the request within the deadline (issue #16 item 8): its
 * window is spent, or Cloudflare paused it with a 429. Sent with `Retry-After` (whole seconds).
 */
export class BudgetSpent extends Schema.TaggedError<BudgetSpent>()(
  "BudgetSpent",
  { message: Schema.String, retryAfterSeconds: Schema.Number },
  HttpApiSchema.annotations({ status: 429 })
) {}

/** The token's request budget could not be consulted in time (its database). Sent with `Retry-After`. */
export class BudgetUnavailable extends Schema.TaggedError<BudgetUnavailable>()(
  "BudgetUnavailable",
  { message: Schema.String, retryAfterSeconds: Schema.Number },
  HttpApiSchema.annotations({ status: 503 })
) {}

// ---------------------------------------------------------------------------------------------
// Security

/** The API key check, as bearer token or `x-api-key` header. */
export class Authorization extends HttpApiMiddleware.Tag<Authorization>()("Authorization", {
  failure: Unauthorized,
  security: {
    bearer: HttpApiSecurity.bearer,
    apiKey: HttpApiSecurity.apiKey({ key: "x-api-key", in: "header" })
  }
}) {}

// ---------------------------------------------------------------------------------------------
// Shapes

/**
 * A name a person gives something (a connection): 1 to 200 characters, trimmed, without control
 * characters (C0, DEL, C1) or bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069), which
 * could make a name render as something else in the dashboard, a terminal or a log.
 */
export const DisplayName = Schema.String.pipe(
  Schema.trimmed(),
  Schema.minLength(1),
  Schema.maxLength(200, { message: () => "a name has at most 200 characters" }),
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  Schema.filter((s) => !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s), {
    message: () => "a name may not contain control characters or bidi overrides"
  })
)

const Id = Schema.Struct({ id: Schema.String })
/**
 * A pasted token. Its failure message never quotes the value, so a rejected token is not echoed back.
 * Whitespace around it is allowed here and left in: `Connections` trims it and tells the caller so.
 */
const Token = Schema.String.pipe(
  Schema.filter((raw) => {
    const s = raw.trim()
    return s.length > 0 && s.length <= 4096 && !/\s/.test(s)
  }, {
    message: () => "token: expected a non-empty token without spaces, at most 4096 characters"
  })
).annotations({
  identifier: "Token",
  description: "The provider token. Write-only: never returned, logged or stored unencrypted.",
  message: () => "token: expected a non-empty token without spaces, at most 4096 characters"
})
const ZoneIds = Schema.Array(Schema.String.pipe(Schema.minLength(1)))

/** Several tokens at once (issue #13: one per zone, or any mix), 1–50. */
const Tokens = Schema.Array(Token).pipe(Schema.minItems(1), Schema.maxItems(50))

/** A body with `token` or `tokens`, not both and not neither. */
const oneOfTokenOrTokens = <S extends Schema.Schema.Any & { readonly Type: { readonly token?: unknown; readonly tokens?: unknown } }>(schema: S) =>
  schema.pipe(
    Schema.filter((body: { readonly token?: unknown; readonly tokens?: unknown }) => (body.token === undefined) !== (body.tokens === undefined), {
      message: () => "token: give either token or tokens"
    })
  )

/** A connection's credential (issue #13: a connection may hold several), never its secret. */
export const CredentialView = Schema.Struct({
  id: Schema.String,
  /** A one-way fingerprint of the token. */
  fingerprint: Schema.String,
  /** `expired`: the provider refused it; the zones only it could see are not monitored. */
  status: Schema.Literal("active", "expired"),
  /** The zone ids it was last seen to read; `null` when not known yet. */
  zones: Schema.NullOr(Schema.Array(Schema.String))
})

/** What the token can do for one resource. */
export const GrantView = Schema.Struct({
  resource: Schema.String,
  status: Schema.Literal("granted", "missing", "unknown", "not_applicable"),
  permissions: Schema.Array(Schema.String)
})

/** A zone the token can see. */
export const ZoneView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.NullOr(Schema.String),
  plan: Schema.NullOr(Schema.String),
  account: Schema.NullOr(Schema.String)
})

/** The wizard's first step: what a pasted token can do and see. */
export const VerificationView = Schema.Struct({
  subject: Schema.String,
  status: Schema.String,
  expiresAt: Schema.NullOr(Schema.String),
  grants: Schema.Array(GrantView),
  /** Every permission to grant so that every resource can be read. */
  missingPermissions: Schema.Array(Schema.String),
  zones: Schema.Array(ZoneView),
  /** What the caller should know about its request, e.g. that the pasted token was trimmed. */
  notes: Schema.optional(Schema.Array(Schema.String))
})

/** A stored snapshot without its records. */
export const SnapshotSummaryView = Schema.Struct({
  id: Schema.String,
  startedAt: Schema.String,
  finishedAt: Schema.String,
  outcome: Schema.String,
  resultCount: Schema.Number,
  recordCount: Schema.Number,
  /** `incremental`: composed from the previous snapshot and the change feed (some results carried); `full`: every resource read. */
  kind: Schema.Literal("full", "incremental")
})

/**
 * How a connection's changes are detected (issue #15): the mode, the permission that would enable a
 * better one (`null` when none would), how late the feed was when last read, and how many drift
 * changes a full reconciliation found that the feed had not announced.
 */
export const ChangeDetectionView = Schema.Struct({
  mode: Schema.Literal("audit_log", "probes", "full"),
  betterPermission: Schema.NullOr(Schema.String),
  lagSeconds: Schema.NullOr(Schema.Number),
  missedByFeed: Schema.Number,
  /** When the last full snapshot (reconciliation) ran. */
  lastFullAt: Schema.NullOr(Schema.String),
  /** Why the feed last failed (the run then read everything); `null` after a good read. */
  lastFeedError: Schema.NullOr(Schema.String),
  /** Seconds after which a resource no feed mark covers is read again: the connection's own, or the default. */
  slowCadenceSeconds: Schema.Number
})

/** Where the scheduler stands with a connection. */
export const ScheduleView = Schema.Struct({
  running: Schema.Boolean,
  nextRunAt: Schema.NullOr(Schema.String),
  failures: Schema.Number,
  lastRunAt: Schema.NullOr(Schema.String),
  lastError: Schema.NullOr(Schema.String)
})

/**
 * The token's request budget (issue #16 item 8): the limit per window, requests in the current
 * window, and until when a 429 paused it (`null` when not paused).
 */
export const BudgetStateView = Schema.Struct({
  limit: Schema.Number,
  windowSeconds: Schema.Number,
  used: Schema.Number,
  pausedUntil: Schema.NullOr(Schema.String)
})

/** A connection, never with its token. */
export const ConnectionView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  connectorId: Schema.String,
  status: Schema.Literal("active", "paused", "credential_expired"),
  /** A one-way fingerprint of the token, to tell tokens apart. */
  credentialFingerprint: Schema.String,
  zones: Schema.NullOr(Schema.Array(Schema.String)),
  intervalSeconds: Schema.Number,
  alert: Schema.NullOr(Alert),
  schedule: ScheduleView,
  latestSnapshot: Schema.NullOr(SnapshotSummaryView),
  score: Schema.NullOr(Schema.Number),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  /** What the caller should know about its request, e.g. that the pasted token was trimmed. */
  notes: Schema.optional(Schema.Array(Schema.String)),
  /** The end user of the connect session that made it; `null` when made without one. */
  endUser: Schema.NullOr(EndUser),
  /** The token's request budget: on `get`, and on `list` when the budget is in this process. */
  budget: Schema.optional(BudgetStateView),
  /** The credentials it holds, oldest first: which zones each reads, which expired. */
  credentials: Schema.Array(CredentialView),
  /** How its changes are detected (issue #15). */
  changeDetection: ChangeDetectionView
})

/** A zone of a connection, from its latest snapshot. */
export const ConnectionZoneView = Schema.Struct({
  id: Schema.String,
  name: Schema.NullOr(Schema.String),
  attributes: Schema.Record({ key: Schema.String, value: Schema.String }),
  monitored: Schema.Boolean
})

/** One resource in one scope of a snapshot. */
export const ResultView = Schema.Struct({
  resource: Schema.String,
  scope: Schema.String,
  scopeName: Schema.NullOr(Schema.String),
  status: Schema.Literal("ok", "partial", "skipped", "forbidden", "failed"),
  records: Schema.Number,
  detail: Schema.NullOr(Schema.String),
  permissions: Schema.Array(Schema.String),
  /** `read` in this snapshot, or `carried` from an earlier one (incremental snapshots, issue #15). */
  obtained: Schema.Literal("read", "carried"),
  /** For a carried result: the id of the snapshot it was carried from, when known. */
  carriedFrom: Schema.NullOr(Schema.String)
})

/** The latest snapshot with its per-resource results. */
export const SnapshotView = Schema.Struct({
  ...SnapshotSummaryView.fields,
  requestCount: Schema.Number,
  results: Schema.Array(ResultView)
})

/** Records of one resource in one scope. */
export const RecordsView = Schema.Struct({
  snapshotId: Schema.String,
  resource: Schema.String,
  scope: Schema.String,
  status: Schema.String,
  records: Schema.Array(Schema.Struct({ key: Schema.String, value: Schema.Unknown }))
})

/** A page of a listing; pass `next` as `cursor` for the following page. */
const Page = <A, I, R>(item: Schema.Schema<A, I, R>) => Schema.Struct({ items: Schema.Array(item), next: Schema.NullOr(Schema.String) })

/** A drift event. */
export const DriftEventView = Schema.Struct({
  id: Schema.String,
  connectionId: Schema.String,
  snapshotId: Schema.String,
  detectedAt: Schema.String,
  kind: Schema.Literal("added", "removed", "changed", "coverage"),
  resource: Schema.String,
  scope: Schema.String,
  key: Schema.NullOr(Schema.String),
  change: Schema.Unknown
})

/** How to fix a failing check. */
export const RemediationView = Schema.Struct({
  summary: Schema.String,
  expression: Schema.NullOr(Schema.String),
  request: Schema.NullOr(Schema.Struct({ method: Schema.String, path: Schema.String, body: Schema.Unknown }))
})

/** One checklist item: a check's verdict on one scope. */
export const ChecklistItemView = Schema.Struct({
  checkId: Schema.String,
  title: Schema.String,
  description: Schema.String,
  severity: Schema.String,
  scope: Schema.String,
  scopeName: Schema.NullOr(Schema.String),
  status: Schema.Literal("pass", "fail", "skipped", "error"),
  evidence: Schema.Unknown,
  remediation: Schema.NullOr(RemediationView),
  detail: Schema.NullOr(Schema.String),
  permissions: Schema.Array(Schema.String),
  evaluatedAt: Schema.String,
  snapshotId: Schema.String
})

/** The checklist of a connection's latest snapshot. */
export const ChecklistView = Schema.Struct({
  score: Schema.Number,
  snapshotId: Schema.NullOr(Schema.String),
  items: Schema.Array(ChecklistItemView)
})

/** A verdict in a finding's history. */
export const FindingHistoryView = Schema.Array(
  Schema.Struct({ snapshotId: Schema.String, scope: Schema.String, status: Schema.String, evaluatedAt: Schema.String })
)

/** The result of a re-check. */
export const RecheckView = Schema.Struct({
  outcome: Schema.Literal("queued", "committed", "credential_expired", "paused", "failed"),
  snapshotId: Schema.NullOr(Schema.String),
  driftEvents: Schema.Number,
  findingChanges: Schema.Number,
  message: Schema.NullOr(Schema.String)
})

const Paging = {
  limit: Schema.optional(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 1000))),
  cursor: Schema.optional(Schema.String)
}

// ---------------------------------------------------------------------------------------------
// Groups

/** Connections: the wizard, CRUD, credential replacement, re-check, and what a connection holds. */
export class ConnectionsGroup extends HttpApiGroup.make("connections")
  .add(
    HttpApiEndpoint.post("verify", "/connections/verify")
      .setPayload(Schema.Struct({ token: Token }))
      .addSuccess(VerificationView)
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
      .annotate(OpenApi.Summary, "Verify a pasted token: grants, missing permissions and visible zones")
  )
  .add(
    HttpApiEndpoint.post("create", "/connections")
      .setPayload(
        oneOfTokenOrTokens(
          Schema.Struct({
            name: DisplayName,
            token: Schema.optional(Token),
            /** Several tokens (one per zone, say): each zone is read through one that can see it. */
            tokens: Schema.optional(Tokens),
            zones: Schema.optional(ZoneIds),
            intervalSeconds: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(60, 86_400)))
          })
        )
      )
      .addSuccess(ConnectionView, { status: 201 })
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
      .annotate(OpenApi.Summary, "Create a connection with a token and the zones to monitor; its first snapshot starts at once")
  )
  .add(
    HttpApiEndpoint.get("list", "/connections")
      .setUrlParams(Schema.Struct({ endUserId: Schema.optional(Schema.String) }))
      .addSuccess(Schema.Array(ConnectionView))
      .annotate(OpenApi.Summary, "Every connection, or those made for one end user (endUserId)")
  )
  .add(HttpApiEndpoint.get("get", "/connections/:id").setPath(Id).addSuccess(ConnectionView))
  .add(
    HttpApiEndpoint.patch("update", "/connections/:id")
      .setPath(Id)
      .setPayload(
        Schema.Struct({
          name: Schema.optional(DisplayName),
          zones: Schema.optional(Schema.NullOr(ZoneIds)),
          intervalSeconds: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.between(60, 86_400)))),
          paused: Schema.optional(Schema.Boolean),
          /** The slower cadence of resources no change-feed mark covers (issue #15); `null` for the default. */
          slowCadenceSeconds: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.between(60, 604_800))))
        })
      )
      .addSuccess(ConnectionView)
      // New zones are checked with the provider, with the stored token.
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
  )
  .add(HttpApiEndpoint.del("delete", "/connections/:id").setPath(Id).addSuccess(HttpApiSchema.NoContent))
  .add(
    HttpApiEndpoint.put("replaceCredential", "/connections/:id/credential")
      .setPath(Id)
      .setPayload(
        oneOfTokenOrTokens(
          Schema.Struct({
            token: Schema.optional(Token),
            tokens: Schema.optional(Tokens),
            /** `replace` (default): in place of every credential; `add`: beside them (a token for an expired zone). */
            mode: Schema.optional(Schema.Literal("replace", "add"))
          })
        )
      )
      .addSuccess(ConnectionView)
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
      .annotate(OpenApi.Summary, "Replace the token(s), or add some (mode add); an expired connection or zone resumes")
  )
  .add(
    HttpApiEndpoint.post("recheck", "/connections/:id/recheck")
      .setPath(Id)
      .setUrlParams(Schema.Struct({ wait: Schema.optional(Schema.BooleanFromString) }))
      .addSuccess(RecheckView)
      .annotate(OpenApi.Summary, "Re-check now; with wait=true, answer when the snapshot is committed")
  )
  .add(HttpApiEndpoint.get("zones", "/connections/:id/zones").setPath(Id).addSuccess(Schema.Array(ConnectionZoneView)))
  .add(
    HttpApiEndpoint.get("snapshots", "/connections/:id/snapshots")
      .setPath(Id)
      .setUrlParams(Schema.Struct(Paging))
      .addSuccess(Page(SnapshotSummaryView))
  )
  .add(HttpApiEndpoint.get("latestSnapshot", "/connections/:id/snapshots/latest").setPath(Id).addSuccess(SnapshotView))
  .add(
    HttpApiEndpoint.get("records", "/connections/:id/snapshots/latest/records")
      .setPath(Id)
      .setUrlParams(Schema.Struct({ resource: Schema.String, scope: Schema.String }))
      .addSuccess(RecordsView)
  )
  .add(HttpApiEndpoint.get("checklist", "/connections/:id/checklist").setPath(Id).addSuccess(ChecklistView))
  .add(
    HttpApiEndpoint.get("findingHistory", "/connections/:id/findings/:checkId/history")
      .setPath(Schema.Struct({ id: Schema.String, checkId: Schema.String }))
      .setUrlParams(Schema.Struct({ scope: Schema.optional(Schema.String) }))
      .addSuccess(FindingHistoryView)
  )
  .middleware(Authorization) {}

/** Drift events across connections, paged and filtered. */
export class DriftGroup extends HttpApiGroup.make("drift")
  .add(
    HttpApiEndpoint.get("list", "/drift-events")
      .setUrlParams(
        Schema.Struct({
          connectionId: Schema.optional(Schema.String),
          scope: Schema.optional(Schema.String),
          resource: Schema.optional(Schema.String),
          since: Schema.optional(Schema.DateFromString.pipe(Schema.validDate())),
          ...Paging
        })
      )
      .addSuccess(Page(DriftEventView))
      .annotate(OpenApi.Summary, "Drift events, oldest first; filter by connection, scope (kind:id), resource and time")
  )
  .middleware(Authorization) {}

/** Webhook endpoints, the delivery log and the event log. */
export class WebhooksGroup extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("create", "/webhooks")
      .setPayload(
        Schema.Struct({
          url: Schema.String,
          // Shown in the dashboard and the delivery log: refused with control characters or bidi overrides, as names are (#16 item 7).
          description: Schema.optional(DisplayName),
          eventTypes: Schema.optional(Schema.Array(EventType))
        })
      )
      .addSuccess(Schema.Struct({ endpoint: Endpoint, secret: Schema.String }), { status: 201 })
      .annotate(OpenApi.Summary, "Add an endpoint; the signing secret (whsec_…) is returned only here")
  )
  .add(HttpApiEndpoint.get("list", "/webhooks").addSuccess(Schema.Array(Endpoint)))
  .add(HttpApiEndpoint.del("delete", "/webhooks/:id").setPath(Id).addSuccess(HttpApiSchema.NoContent))
  // Secret rotation: the new secret once; the previous one keeps signing until `previousValidUntil`.
  .add(
    HttpApiEndpoint.post("rotateSecret", "/webhooks/:id/rotate-secret")
      .setPath(Id)
      .addSuccess(Schema.Struct({ endpoint: Endpoint, secret: Schema.String, previousValidUntil: Schema.String }))
      .annotate(OpenApi.Summary, "Rotate the signing secret; the new one is returned only here, and deliveries carry both signatures until previousValidUntil")
  )
  .add(
    HttpApiEndpoint.del("dropPreviousSecret", "/webhooks/:id/previous-secret")
      .setPath(Id)
      .addSuccess(HttpApiSchema.NoContent)
      .annotate(OpenApi.Summary, "End a rotation's overlap now: deliveries are signed with the new secret only")
  )
  .add(
    HttpApiEndpoint.get("deliveries", "/webhooks/deliveries")
      .setUrlParams(
        Schema.Struct({
          endpointId: Schema.optional(Schema.String),
          status: Schema.optional(DeliveryStatus),
          eventId: Schema.optional(Schema.String),
          ...Paging
        })
      )
      .addSuccess(Page(Delivery))
      .annotate(OpenApi.Summary, "The delivery log, newest first")
  )
  .add(HttpApiEndpoint.post("redeliver", "/webhooks/deliveries/:id/retry").setPath(Id).addSuccess(Delivery))
  .add(
    HttpApiEndpoint.get("events", "/events")
      .setUrlParams(Schema.Struct({ connectionId: Schema.optional(Schema.String), type: Schema.optional(EventType), ...Paging }))
      .addSuccess(Page(StoredEvent))
      .annotate(OpenApi.Summary, "The event log (what webhooks carry), newest first")
  )
  .middleware(Authorization) {}

/** Liveness, without authentication. */
export class SystemGroup extends HttpApiGroup.make("system").add(
  HttpApiEndpoint.get("health", "/health").addSuccess(Schema.Struct({ status: Schema.Literal("ok") }))
) {}

// ---------------------------------------------------------------------------------------------
// Connect sessions (issue #13): the product's API to open one, and the headless API the end
// customer's browser uses with the session's token.

/** The session was completed: its token opens nothing any more. */
export class Gone extends Schema.TaggedError<Gone>()("Gone", { message: Schema.String }, HttpApiSchema.annotations({ status: 410 })) {}

/** Too many attempts in one session. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", { message: Schema.String }, HttpApiSchema.annotations({ status: 429 })) {}

/** Another request is completing the same session. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", { message: Schema.String }, HttpApiSchema.annotations({ status: 409 })) {}

/** The connect session a headless request was authenticated with. */
export class CurrentConnectSession extends Context.Tag("@plumbline/drift-monitor/CurrentConnectSession")<CurrentConnectSession, Session>() {}

/**
 * The session token check of the headless routes: `Authorization: Bearer <session token>`. The API
 * key is not a session token, so it opens none of them; a session token is not the API key, so it
 * opens no `/api` route.
 */
export class ConnectSessionAuthorization extends HttpApiMiddleware.Tag<ConnectSessionAuthorization>()("ConnectSessionAuthorization", {
  failure: Schema.Union(Unauthorized, Gone, Unavailable),
  provides: CurrentConnectSession,
  security: { connectSession: HttpApiSecurity.bearer }
}) {}

/** No C0/C1 control characters or bidi overrides (see `DisplayName`). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const printable = (s: string) => !/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s)

/** The product's id for its customer: 1 to 200 printable characters. */
const EndUserId = Schema.String.pipe(
  Schema.minLength(1, { message: () => "endUser.id: expected a non-empty id" }),
  Schema.maxLength(200, { message: () => "endUser.id: at most 200 characters" }),
  Schema.filter(printable, { message: () => "endUser.id may not contain control characters or bidi overrides" })
)

const Email = Schema.String.pipe(
  Schema.maxLength(254),
  Schema.pattern(/^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[^\s@<>()[\],;:".]+$/, { message: () => "endUser.email: expected an email address" })
)

/** Whether `s` is exactly an origin (`scheme://host[:port]`): https, or http on localhost or 127.0.0.1. */
export const isAllowedOrigin = (s: string): boolean => {
  if (!URL.canParse(s)) return false
  const url = new URL(s)
  if (url.origin !== s) return false
  return url.protocol === "https:" || (url.protocol === "http:" && (url.hostname === "localhost" || url.hostname === "127.0.0.1"))
}

const Origin = Schema.String.pipe(
  Schema.maxLength(500),
  Schema.filter(isAllowedOrigin, {
    message: () => "allowedOrigins: each must be an exact origin (scheme://host[:port], no path): https, or http://localhost / http://127.0.0.1"
  })
)

const ReturnUrl = Schema.String.pipe(
  Schema.maxLength(2000),
  Schema.filter((s) => URL.canParse(s) && ["http:", "https:"].includes(new URL(s).protocol), {
    message: () => "returnUrl: expected an absolute http(s) URL"
  })
)

/** What the product sends to open a connect session. */
export const NewConnectSession = Schema.Struct({
  endUser: Schema.Struct({
    id: EndUserId,
    displayName: Schema.optional(DisplayName),
    email: Schema.optional(Email)
  }),
  /** Reconnect: the connection whose credential the session replaces. */
  reconnect: Schema.optional(Schema.String.pipe(Schema.minLength(1), Schema.maxLength(200))),
  allowedOrigins: Schema.optional(Schema.Array(Origin).pipe(Schema.maxItems(20))),
  returnUrl: Schema.optional(ReturnUrl),
  ttlSeconds: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.between(60, 3600)))
})

/** A new session: its token (the secret) is shown only here. */
export const ConnectSessionCreatedView = Schema.Struct({
  id: Schema.String,
  /** The session's secret, shown once: it goes to the end customer's browser, in the URL's fragment. */
  token: Schema.Redacted(
    Schema.String.annotations({
      identifier: "ConnectSessionToken",
      description: "The connect session's secret (not a provider token), shown once; only its hash is stored."
    })
  ),
  connectUrl: Schema.String,
  expiresAt: Schema.String
})

/** Where a connect session stands. */
export const ConnectSessionView = Schema.Struct({
  id: Schema.String,
  status: Schema.Literal("pending", "completed", "expired"),
  endUser: EndUser,
  expiresAt: Schema.String,
  connectionId: Schema.optional(Schema.String),
  reconnect: Schema.optional(Schema.String)
})

/** What the connect page shows first: who, which permissions, and the token template link. */
export const ConnectSessionInfoView = Schema.Struct({
  endUser: EndUser,
  requiredPermissions: Schema.Array(Schema.String),
  optionalPermissions: Schema.Array(Schema.String),
  /** Why an optional permission is worth granting, by permission (Account Settings Read: faster change detection). */
  permissionPurposes: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  tokenTemplateUrl: Schema.String,
  expiresAt: Schema.String,
  reconnect: Schema.optional(Schema.String)
})

/** A zone a completed session monitors. */
export const ConnectZoneView = Schema.Struct({ id: Schema.String, name: Schema.String })

/** A completed session: the connection made (or restored) and the zones it monitors. */
export const ConnectCompletedView = Schema.Struct({ connectionId: Schema.String, zones: Schema.Array(ConnectZoneView) })

/** Connect sessions, for the product's backend (API key). */
export class ConnectSessionsGroup extends HttpApiGroup.make("connectSessions")
  .add(
    HttpApiEndpoint.post("create", "/connect-sessions")
      .setPayload(NewConnectSession)
      .addSuccess(ConnectSessionCreatedView, { status: 201 })
      .annotate(OpenApi.Summary, "Open a connect session for an end user; the token is returned only here")
  )
  .add(
    HttpApiEndpoint.get("get", "/connect-sessions/:id")
      .setPath(Id)
      .addSuccess(ConnectSessionView)
      .annotate(OpenApi.Summary, "A connect session's status: pending, completed (with connectionId) or expired")
  )
  .middleware(Authorization) {}

/** The headless connect API under `/connect/api`, for the end customer's browser (session token). */
export class ConnectGroup extends HttpApiGroup.make("connect")
  .add(
    HttpApiEndpoint.get("session", "/session")
      .addSuccess(ConnectSessionInfoView)
      .annotate(OpenApi.Summary, "The session: end user, permissions to grant and the Cloudflare token template link")
  )
  .add(
    HttpApiEndpoint.post("verify", "/verify")
      .setPayload(Schema.Struct({ token: Token }))
      .addSuccess(VerificationView)
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
      .annotate(OpenApi.Summary, "Verify a pasted token: grants, missing permissions and zones (at most 10 per session)")
  )
  .add(
    HttpApiEndpoint.post("complete", "/complete")
      .setPayload(
        Schema.Struct({
          tokens: Tokens,
          zones: Schema.optional(ZoneIds),
          /** Reconnect sessions: `replace` (default) the connection's credentials, or `add` these beside them. */
          mode: Schema.optional(Schema.Literal("replace", "add"))
        })
      )
      .addSuccess(ConnectCompletedView)
      .addError(CredentialRejected)
      .addError(UpstreamFailed)
      .annotate(OpenApi.Summary, "Create the connection (or restore the reconnected one); the session is then consumed")
  )
  // 429: more than 10 verifications in the session; 409: another request is completing it.
  .addError(TooManyRequests)
  .addError(Conflict)
  .middleware(ConnectSessionAuthorization)
  .prefix("/connect/api") {}

/** The whole API. */
export class Api extends HttpApi.make("drift-monitor")
  .add(ConnectionsGroup)
  .add(DriftGroup)
  .add(WebhooksGroup)
  .add(SystemGroup)
  .add(ConnectSessionsGroup)
  .addError(NotFound)
  .addError(BadRequest)
  .addError(Unavailable)
  .addError(BudgetSpent)
  .addError(BudgetUnavailable)
  .prefix("/api")
  // After the prefix: the headless routes live beside the dashboard, at /connect/api.
  .add(ConnectGroup)
  .annotate(OpenApi.Title, "Plumbline drift monitor API")
  .annotate(OpenApi.Description, "Connections, snapshots, drift events, posture checks and webhooks. Authenticate with the API key as a bearer token or x-api-key header.") {}
