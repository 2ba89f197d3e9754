/**
 * The handlers of `Api`: each endpoint only translates — the decoded request to a call of a service
 * (`Connections`, the store's drift events, `Webhooks`), the service's typed failure to one of the
 * API's errors, its result to a view (`Views`). A pasted token goes straight to `Connections`, which
 * wraps it in a `Credential` (its secret `Redacted`) for the provider and the store; no error message
 * carries it.
 */
import { timingSafeEqual } from "node:crypto"
import { HttpApiBuilder } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { ConnectorError, RequestBudget, Store } from "@plumbline/core"
import { Effect, Layer, Redacted } from "effect"
import * as Api from "./Api.js"
import { type AppConfig, defaultBudgetDeadline } from "./Config.js"
import { Connections, type ConnectionsError } from "./Connections.js"
import * as Views from "./Views.js"
import { type WebhookError, Webhooks } from "./Webhooks.js"

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

/** Whole seconds, at least 1, for `Retry-After`. */
const retrySeconds = (millis: number | undefined) => Math.max(1, Math.ceil((millis ?? 1_000) / 1000))

const fromConnector = (e: ConnectorError.ConnectorError) =>
  // The token's own budget refused under the request's deadline: 429 (spent or paused), 503 (unreachable).
  e._tag === "RateLimited" && e.budget !== undefined
    ? e.budget === "unavailable"
      ? new Api.BudgetUnavailable({ message: e.message, retryAfterSeconds: retrySeconds(e.retryAfterMillis) })
      : new Api.BudgetSpent({ message: e.message, retryAfterSeconds: retrySeconds(e.retryAfterMillis) })
    : e._tag === "CredentialInvalid"
    ? new Api.CredentialRejected({ message: e.message, reason: e.reason })
    : new Api.UpstreamFailed({ message: e.message })

/** A domain failure as the API's error; the schedule or a state that cannot be read is the database failing. */
const fromDomain = (e: Exclude<ConnectionsError, ConnectorError.ConnectorError>) => {
  switch (e._tag) {
    case "ConnectionError":
      return e.reason === "not-found" ? new Api.NotFound({ message: e.message }) : new Api.BadRequest({ message: e.message })
    case "StoreError":
      return fromStore(e)
    case "WebhookError":
      return fromWebhook(e)
    case "SchedulerError":
      return new Api.Unavailable({ message: `scheduler unavailable: ${e.message}` })
    case "ConnectionStateError":
      return new Api.Unavailable({ message: e.message })
    case "SqlError":
      return fromSql(e)
  }
}

/** Runs a domain operation, its failure as the API's error. */
const domain = <A, R>(effect: Effect.Effect<A, Exclude<ConnectionsError, ConnectorError.ConnectorError>, R>) =>
  Effect.mapError(effect, fromDomain)

/** Runs a domain operation that verifies a token with the provider (which may refuse it, or fail). */
const withToken = <A, R>(effect: Effect.Effect<A, ConnectionsError, R>) =>
  Effect.mapError(effect, (e) => (ConnectorError.isConnectorError(e) ? fromConnector(e) : fromDomain(e)))

// ---------------------------------------------------------------------------------------------
// Handlers

/** Every handler group, given the app's configuration. */
export const layer = (config: AppConfig) => {
  // A person waits on these: the token's budget answers within the deadline, or the request fails with Retry-After.
  const interactive = <A, R>(effect: Effect.Effect<A, ConnectionsError, R>) =>
    withToken(RequestBudget.withDeadline(config.budgetDeadline ?? defaultBudgetDeadline)(effect))
  const connections = HttpApiBuilder.group(Api.Api, "connections", (handlers) =>
    Effect.gen(function* () {
      const service = yield* Connections
      const budgets = yield* RequestBudget.RequestBudget
      /** The view with its token's budget state (issue #16 item 8). */
      const withBudget = (view: typeof Api.ConnectionView.Type) =>
        budgets.forKey(view.credentialFingerprint, config.budget).pipe(
          Effect.flatMap((budget) => budget.state),
          Effect.map((state) => ({ ...view, budget: Views.budgetState(state) }))
        )
      return handlers
        .handle("verify", ({ payload }) => interactive(Effect.map(service.verify(payload.token), Views.verification)))
        .handle("create", ({ payload }) => {
          const [token, ...moreTokens] = payload.tokens ?? [payload.token ?? ""]
          return interactive(Effect.map(service.create({ ...payload, token: token ?? "", moreTokens }), Views.connection))
        })
        .handle("list", ({ urlParams }) =>
          domain(
            Effect.map(urlParams.endUserId === undefined ? service.list : service.listByEndUser(urlParams.endUserId), (all) =>
              all.map(Views.connection)
            ).pipe(
              // In this process the state is a read of memory; in PostgreSQL a query per connection, so only `get` shows it.
              Effect.flatMap((views) => (config.databaseUrl === undefined ? Effect.forEach(views, withBudget) : Effect.succeed(views)))
            )
          )
        )
        .handle("get", ({ path }) => domain(Effect.flatMap(Effect.map(service.get(path.id), Views.connection), withBudget)))
        .handle("update", ({ path, payload }) => interactive(Effect.map(service.update(path.id, payload), Views.connection)))
        .handle("delete", ({ path }) => domain(service.remove(path.id)))
        .handle("replaceCredential", ({ path, payload }) =>
          interactive(Effect.map(service.replaceCredential(path.id, payload.tokens ?? [payload.token ?? ""], payload.mode), Views.connection))
        )
        .handle("recheck", ({ path, urlParams }) =>
          domain(Effect.map(service.recheck(path.id, { wait: urlParams.wait === true }), Views.recheck))
        )
        .handle("zones", ({ path }) => domain(Effect.map(service.zones(path.id), (zones) => zones.map(Views.zone))))
        .handle("snapshots", ({ path, urlParams }) =>
          domain(Effect.map(service.snapshots(path.id, urlParams), (page) => Views.page(page, Views.snapshotSummary)))
        )
        .handle("latestSnapshot", ({ path }) => domain(Effect.map(service.latestSnapshot(path.id), Views.snapshot)))
        .handle("records", ({ path, urlParams }) =>
          domain(Effect.map(service.records(path.id, urlParams.resource, urlParams.scope), Views.records))
        )
        .handle("checklist", ({ path }) => domain(Effect.map(service.checklist(path.id), Views.checklist)))
        .handle("findingHistory", ({ path, urlParams }) =>
          domain(Effect.map(service.findingHistory(path.id, path.checkId, urlParams.scope), Views.findingHistory))
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
          (page) => Views.page(page, Views.driftEvent)
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
        .handle("rotateSecret", ({ path }) => Effect.mapError(webhooks.rotateSecret(path.id), fromWebhook))
        .handle("dropPreviousSecret", ({ path }) => Effect.mapError(webhooks.dropPreviousSecret(path.id), fromWebhook))
        .handle("deliveries", ({ urlParams }) => Effect.mapError(webhooks.deliveries(urlParams), fromWebhook))
        .handle("redeliver", ({ path }) => Effect.mapError(webhooks.redeliver(path.id), fromWebhook))
        .handle("events", ({ urlParams }) => Effect.mapError(webhooks.events(urlParams), fromWebhook))
    })
  )

  const system = HttpApiBuilder.group(Api.Api, "system", (handlers) => handlers.handle("health", () => Effect.succeed({ status: "ok" as const })))

  return Layer.mergeAll(connections, drift, webhooksGroup, system).pipe(Layer.provide(layerAuthorization(config.apiKey)))
}

// ---------------------------------------------------------------------------------------------
// For the connect handlers (`ConnectHandlers`)

/** A `Connections` operation's failure as the API's error, provider refusals included. */
export const fromConnections = withToken

/** A database failure as the API's error. */
export const fromSqlError = fromSql

/** A store failure as the API's error. */
export const fromStoreError = fromStore
