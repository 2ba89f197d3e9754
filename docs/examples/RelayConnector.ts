/**
 * The guide's example connector: Relay, a fictional webhook-relay provider. Scopes
 * connection → workspace; `workspaces` pages by number and produces workspace scopes; `endpoints`
 * pages by cursor, needs `endpoints:read`, maps the wire shape to a canonical record and declares
 * a volatile field; `audit-log` is a Pro-plan feature. Every fenced sample in
 * docs/writing-a-connector.md is a verbatim excerpt of this file or its neighbours.
 */
import type { HttpClient } from "@effect/platform"
import { Connector, ConnectorError, Credential, HttpPipeline, Pagination, type RequestBudget, Resource, Scope } from "@plumbline/core"
import { Context, Duration, Effect, Layer, Option, Schema } from "effect"

// #region pipeline
/** The HTTP pipeline of one Relay connection. */
export class RelayHttp extends Context.Tag("@plumbline/relay/RelayHttp")<RelayHttp, HttpPipeline.ProviderHttp>() {}

/**
 * Relay's documented request limit for one token (its API reference: 300 requests a minute). Core
 * has no default budget: a limit guessed wrong either wastes the allowance or gets the token blocked.
 */
export const budget: RequestBudget.Limits = { limit: 300, window: Duration.minutes(1) }

/** Relay's error entries: `{ "errors": [{ "code": 4030, "message": "…" }] }`. */
const errorMessages = (body: unknown): ReadonlyArray<ConnectorError.ProviderMessage> => {
  const errors = (body as { readonly errors?: unknown } | undefined)?.errors
  return Array.isArray(errors) ? (errors as Array<ConnectorError.ProviderMessage>) : []
}

/** Relay answers 403 with code 4030 for a feature the workspace's plan lacks: that is a skip, not a denial. */
const classify = (failure: HttpPipeline.FailedResponse): ConnectorError.ConnectorError | undefined => {
  const gate = failure.codes.find((c) => c.code === 4030)
  if (failure.status === 403 && gate !== undefined) {
    return new ConnectorError.NotAvailable({ reason: "feature", detail: gate.message, status: 403, codes: [...failure.codes] })
  }
  return undefined
}

/** The connector's services for one connection: one pipeline, built once. */
export const layer = (options: {
  readonly credential: Credential.Credential
  readonly baseUrl?: string
}): Layer.Layer<RelayHttp, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(
    RelayHttp,
    HttpPipeline.make({
      baseUrl: options.baseUrl ?? "https://api.relay.example/v2",
      credential: options.credential,
      requestIdHeader: "x-relay-request-id",
      errorMessages,
      classify,
      budget
    })
  )
// #endregion pipeline

// #region envelope
/** A page-number listing, as Relay wraps it. */
const NumberedPage = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ data: Schema.Array(item), meta: Schema.Struct({ page: Schema.Number, total_pages: Schema.Number }) })

/** A cursor listing, as Relay wraps it. */
const CursorPage = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ data: Schema.Array(item), next_cursor: Schema.NullOr(Schema.String) })

/** The one place that GETs and unwraps: a body that does not match names the resource and the field. */
const getDecoded = <A, I>(
  resource: string,
  scope: Scope.Scope,
  schema: Schema.Schema<A, I>,
  path: string,
  params: Readonly<Record<string, string | number | undefined>>
) =>
  Effect.gen(function* () {
    const http = yield* RelayHttp
    const response = yield* http.get(path, params)
    return yield* Effect.mapError(Schema.decodeUnknown(schema)(response.body), (error) =>
      ConnectorError.decodeFailureFrom(error, { resource, scope: scope.key, input: response.body })
    )
  })
// #endregion envelope

// #region workspaces
/** The page size we ask for: the largest Relay allows. */
export const perPage = 100

const Workspace = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  plan: Schema.Literal("free", "pro"),
  updated_at: Schema.String
})

/** Workspaces: page numbers; each workspace becomes a scope that knows its plan. */
export const workspaces = Resource.make({
  name: "workspaces",
  description: "Workspaces the token can see",
  scope: "connection",
  schema: Workspace,
  identity: (workspace) => workspace.id,
  permissions: ["workspaces:read"],
  volatile: ["/updated_at"],
  read: (scope) =>
    Pagination.collectPageNumber({
      perPage,
      key: (workspace: typeof Workspace.Type) => workspace.id,
      path: "/workspaces",
      fetch: (page) =>
        Effect.map(getDecoded("workspaces", scope, NumberedPage(Workspace), "/workspaces", { page, per_page: perPage }), (body) => ({
          items: body.data,
          totalPages: body.meta.total_pages
        }))
    }),
  produces: {
    scope: "workspace",
    fromRecord: (workspace) =>
      new Scope.Scope({ kind: "workspace", id: workspace.id, name: workspace.name, attributes: { plan: workspace.plan } })
  }
})
// #endregion workspaces

// #region endpoint-mapping
/** An endpoint as Relay sends it: the provider's own field names. */
const EndpointWire = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  signing: Schema.NullOr(Schema.Struct({ algorithm: Schema.Literal("hmac-sha256", "ed25519") })),
  last_delivery_at: Schema.NullOr(Schema.String)
})

/** The canonical endpoint record: what drift compares and checks read. */
export const Endpoint = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: Schema.Array(Schema.String),
  signed: Schema.Boolean,
  algorithm: Schema.NullOr(Schema.String),
  lastDeliveryAt: Schema.NullOr(Schema.String)
})
export type Endpoint = typeof Endpoint.Type

/** Wire → canonical. Sets are sorted, so the same endpoint always gives the same bytes. */
export const toEndpoint = (wire: typeof EndpointWire.Type): Endpoint => ({
  id: wire.id,
  url: wire.url,
  events: [...wire.events].sort(),
  signed: wire.signing !== null,
  algorithm: wire.signing?.algorithm ?? null,
  lastDeliveryAt: wire.last_delivery_at
})
// #endregion endpoint-mapping

// #region endpoints
/** Endpoints of a workspace: cursor pages, a permission, and a field that changes on every delivery. */
export const endpoints = Resource.make({
  name: "endpoints",
  description: "Webhook endpoints of a workspace",
  scope: "workspace",
  schema: Endpoint,
  identity: (endpoint) => endpoint.id,
  permissions: ["endpoints:read"],
  volatile: ["/lastDeliveryAt"],
  read: (scope) =>
    Pagination.collectCursor({
      path: `/workspaces/${scope.id}/endpoints`,
      fetch: (cursor) =>
        Effect.map(
          getDecoded("endpoints", scope, CursorPage(EndpointWire), `/workspaces/${scope.id}/endpoints`, {
            limit: perPage,
            cursor: Option.getOrUndefined(cursor)
          }),
          (body) => ({ items: body.data.map(toEndpoint), next: body.next_cursor ?? undefined })
        )
    })
})
// #endregion endpoints

// #region audit-log
const AuditEntry = Schema.Struct({ id: Schema.String, action: Schema.String, actor: Schema.String })

/** The audit log: a Pro feature. The plan gate skips free workspaces without a request. */
export const auditLog = Resource.make({
  name: "audit-log",
  description: "Audit-log settings of a workspace (Pro plan)",
  scope: "workspace",
  schema: AuditEntry,
  identity: (entry) => entry.id,
  permissions: ["audit:read"],
  availability: (scope) =>
    scope.attributes["plan"] === "pro" ? Resource.available : Resource.unavailable("plan", "The audit log needs the Pro plan"),
  read: (scope) =>
    Pagination.collectPageNumber({
      perPage,
      key: (entry: typeof AuditEntry.Type) => entry.id,
      path: `/workspaces/${scope.id}/audit-log`,
      fetch: (page) =>
        Effect.map(
          getDecoded("audit-log", scope, NumberedPage(AuditEntry), `/workspaces/${scope.id}/audit-log`, { page, per_page: perPage }),
          (body) => ({ items: body.data, totalPages: body.meta.total_pages })
        )
    })
})
// #endregion audit-log

// #region connector
/** The Relay connector. `Connector.make` refuses a contract that does not hold together. */
export const connector = Connector.make<RelayHttp>({
  id: "relay",
  version: "0.1.0",
  schemaVersion: 1,
  credentialKind: "relay-api-token",
  scopes: ["connection", "workspace"],
  resources: [workspaces, endpoints, auditLog],
  verify: Effect.gen(function* () {
    const http = yield* RelayHttp
    const response = yield* http.get("/tokens/self")
    const token = yield* Effect.orDie(Schema.decodeUnknown(Schema.Struct({ id: Schema.String, status: Schema.Literal("active", "revoked") }))(response.body))
    return new Credential.Verification({ subject: token.id, status: token.status, grants: [] })
  })
})
// #endregion connector
