/**
 * The handlers of the connect session routes (issue #13): the product's `/api/connect-sessions`
 * (API key) and the headless `/connect/api/*` the end customer's browser calls with the session's
 * token. Like `ApiHandlers`, they only translate: the request to a `ConnectSessions` or `Connections`
 * call, the failure to one of the API's errors (never quoting a token), the result to a view.
 */
import { HttpApiBuilder, HttpServerRequest } from "@effect/platform"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Effect, Layer, Redacted } from "effect"
import * as Api from "./Api.js"
import * as ApiHandlers from "./ApiHandlers.js"
import { RequestBudget } from "@plumbline/core"
import { type AppConfig, defaultBudgetDeadline } from "./Config.js"
import { Connections, type ConnectionsError } from "./Connections.js"
import { type ConnectSessionError, ConnectSessions } from "./ConnectSessions.js"
import * as TokenTemplate from "./TokenTemplate.js"
import * as Views from "./Views.js"

/** A session failure as the API's error. */
const fromSession = (e: ConnectSessionError): Api.BadRequest | Api.Unauthorized | Api.NotFound | Api.Unavailable | Api.Gone | Api.TooManyRequests | Api.Conflict => {
  switch (e.reason) {
    case "not-found":
      return new Api.NotFound({ message: e.message })
    case "unauthorized":
      return new Api.Unauthorized({ message: e.message })
    case "consumed":
      return new Api.Gone({ message: e.message })
    case "too-many-attempts":
      return new Api.TooManyRequests({ message: e.message })
    case "busy":
      return new Api.Conflict({ message: e.message })
    case "invalid":
      return new Api.BadRequest({ message: e.message })
    case "corrupt":
      return new Api.Unavailable({ message: e.message })
  }
}

type Failure = ConnectSessionError | SqlError | ConnectionsError

/** Every error a connect route answers with. */
type ConnectApiError =
  | Api.BadRequest
  | Api.Unauthorized
  | Api.NotFound
  | Api.Unavailable
  | Api.Gone
  | Api.TooManyRequests
  | Api.Conflict
  | Api.CredentialRejected
  | Api.UpstreamFailed
  | Api.BudgetSpent
  | Api.BudgetUnavailable

/** Runs a connect operation, its failure as the API's error. */
const run = <A, R>(effect: Effect.Effect<A, Failure, R>): Effect.Effect<A, ConnectApiError, R> =>
  Effect.catchAll(effect, (e): Effect.Effect<never, ConnectApiError> =>
    e._tag === "ConnectSessionError"
      ? Effect.fail(fromSession(e))
      : e._tag === "SqlError"
        ? Effect.fail(ApiHandlers.fromSqlError(e))
        : ApiHandlers.fromConnections(Effect.fail(e))
  )

/** The origin end customers reach: the configured public URL, else the origin the product called. */
const publicOrigin = (config: AppConfig, request: HttpServerRequest.HttpServerRequest) =>
  config.publicUrl ?? `http://${request.headers["host"] ?? `${config.host}:${config.port}`}`

/** The name the template link gives the customer's new token. */
const tokenName = "Plumbline (read-only)"

/** The session token check of the headless routes. */
export const layerAuthorization = Layer.effect(
  Api.ConnectSessionAuthorization,
  Effect.map(ConnectSessions, (sessions) => ({
    connectSession: (token) =>
      Effect.mapError(sessions.authenticate(token), (e) =>
        e._tag === "SqlError"
          ? ApiHandlers.fromSqlError(e)
          : e.reason === "consumed"
            ? new Api.Gone({ message: e.message })
            : e.reason === "corrupt"
              ? new Api.Unavailable({ message: e.message })
              : new Api.Unauthorized({ message: "unknown or expired connect session" })
      )
  }))
)

/** The handlers of both groups, given the app's configuration. */
export const layer = (config: AppConfig) => {
  const product = HttpApiBuilder.group(Api.Api, "connectSessions", (handlers) =>
    Effect.gen(function* () {
      const sessions = yield* ConnectSessions
      return handlers
        .handle("create", ({ payload }) =>
          Effect.gen(function* () {
            const request = yield* HttpServerRequest.HttpServerRequest
            const { session, token } = yield* sessions.create(payload)
            // The public id in the query lets the server frame the page for this session's origins;
            // the secret stays in the fragment, which no server log or Referer sees.
            const connectUrl = `${publicOrigin(config, request)}/connect?sid=${encodeURIComponent(session.id)}#session=${encodeURIComponent(Redacted.value(token))}`
            return { id: session.id, token, connectUrl, expiresAt: new Date(session.expiresAt).toISOString() }
          }).pipe(
            Effect.catchTag("StoreError", (e) => Effect.fail(ApiHandlers.fromStoreError(e))),
            Effect.catchTag("SqlError", (e) => Effect.fail(ApiHandlers.fromSqlError(e)))
          )
        )
        .handle("get", ({ path }) =>
          Effect.gen(function* () {
            const session = yield* sessions.get(path.id)
            return Views.connectSession(session, yield* Clock.currentTimeMillis)
          }).pipe(
            Effect.mapError((e) =>
              e._tag === "SqlError"
                ? ApiHandlers.fromSqlError(e)
                : e.reason === "not-found"
                  ? new Api.NotFound({ message: e.message })
                  : new Api.Unavailable({ message: e.message })
            )
          )
        )
    })
  )

  const headless = HttpApiBuilder.group(Api.Api, "connect", (handlers) =>
    Effect.gen(function* () {
      const sessions = yield* ConnectSessions
      const connections = yield* Connections
      return handlers
        .handle("session", () =>
          Effect.map(Api.CurrentConnectSession, (session) => ({
            endUser: session.endUser,
            requiredPermissions: [...TokenTemplate.requiredPermissions],
            optionalPermissions: [...TokenTemplate.optionalPermissions],
            permissionPurposes: { ...TokenTemplate.permissionPurposes },
            tokenTemplateUrl: TokenTemplate.url([...TokenTemplate.requiredPermissions, ...TokenTemplate.optionalPermissions], tokenName),
            expiresAt: new Date(session.expiresAt).toISOString(),
            ...(session.reconnect === null ? {} : { reconnect: session.reconnect })
          }))
        )
        .handle("verify", ({ payload }) =>
          run(
            Effect.gen(function* () {
              const session = yield* Api.CurrentConnectSession
              yield* sessions.countVerification(session)
              return Views.verification(yield* connections.verify(payload.token))
            })
          ).pipe(RequestBudget.withDeadline(config.budgetDeadline ?? defaultBudgetDeadline))
        )
        .handle("complete", ({ payload }) =>
          run(Effect.flatMap(Api.CurrentConnectSession, (session) => sessions.complete(session, payload))).pipe(
            RequestBudget.withDeadline(config.budgetDeadline ?? defaultBudgetDeadline)
          )
        )
    })
  )

  return Layer.mergeAll(product, headless).pipe(
    Layer.provide(layerAuthorization),
    Layer.provide(ApiHandlers.layerAuthorization(config.apiKey))
  )
}
