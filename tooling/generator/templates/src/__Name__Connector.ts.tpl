/**
 * The __Title__ connector: reads __Title__'s configuration into canonical records. One pipeline per
 * connection (`layer`), one place that unwraps the provider's envelope (`getPage`), and one
 * resource per kind of provider object. It starts with an example resource, `items`, against an
 * example API (`GET /items?page=N&per_page=M` answering `{ data, meta: { total_pages } }`):
 * replace it with the provider's real resources.
 */
import { Connector, ConnectorError, Credential, HttpPipeline, Pagination, type RequestBudget, Resource, type Scope } from "@plumbline/core"
import type { HttpClient } from "@effect/platform"
import { Context, Duration, Effect, Layer, Schema } from "effect"

/** The provider's production base URL. */
export const defaultBaseUrl = "https://api.__name__.example/v1"

/**
 * __Title__'s documented request limit for one token: the pipeline keeps every request of a token
 * inside it. Replace the example with the limit the provider's API documentation states (cite it
 * here); core has no default, because a limit guessed wrong either wastes the provider's allowance
 * or gets the token blocked.
 */
export const budget: RequestBudget.Limits = { limit: 600, window: Duration.minutes(1) }

/** The page size the connector asks for (the largest the provider allows). */
export const perPage = 50

/** The HTTP pipeline of one connection. */
export class __Name__Http extends Context.Tag("@plumbline/__name__/__Name__Http")<__Name__Http, HttpPipeline.ProviderHttp>() {}

/** The provider's error entries, `{ errors: [{ code, message }] }`. */
const errorMessages = (body: unknown): ReadonlyArray<ConnectorError.ProviderMessage> => {
  const errors = (body as { readonly errors?: unknown } | undefined)?.errors
  return Array.isArray(errors) ? (errors as Array<ConnectorError.ProviderMessage>) : []
}

/** Options of a connection. */
export interface Options {
  readonly credential: Credential.Credential
  readonly baseUrl?: string
}

/** The connector's services for one connection, over the app's `HttpClient` and request budget. */
export const layer = (options: Options): Layer.Layer<__Name__Http, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(
    __Name__Http,
    HttpPipeline.make({
      baseUrl: options.baseUrl ?? defaultBaseUrl,
      credential: options.credential,
      errorMessages,
      budget
    })
  )

/** One page of a listing, as the provider wraps it. */
const Page = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ data: Schema.Array(item), meta: Schema.Struct({ total_pages: Schema.Number }) })

/** GETs one page and decodes it; a body that does not match names the resource and the field. */
const getPage = <A, I>(resource: string, scope: Scope.Scope, item: Schema.Schema<A, I>, path: string, page: number) =>
  Effect.gen(function* () {
    const http = yield* __Name__Http
    const response = yield* http.get(path, { page, per_page: perPage })
    return yield* Effect.mapError(Schema.decodeUnknown(Page(item))(response.body), (error) =>
      ConnectorError.decodeFailureFrom(error, { resource, scope: scope.key, input: response.body })
    )
  })

/** An example record: the provider's field names, kept as they are on the wire. */
export const Item = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  enabled: Schema.Boolean,
  updated_at: Schema.String
})
export type Item = typeof Item.Type

/** The example resource: every item of the connection, page by page. */
export const items = Resource.make({
  name: "items",
  description: "Items of the account (example resource)",
  scope: "connection",
  schema: Item,
  identity: (item) => item.id,
  permissions: ["items:read"],
  volatile: ["/updated_at"],
  read: (scope) =>
    Pagination.collectPageNumber({
      perPage,
      key: (item: Item) => item.id,
      path: "/items",
      fetch: (page) =>
        Effect.map(getPage("items", scope, Item, "/items", page), (body) => ({ items: body.data, totalPages: body.meta.total_pages }))
    })
})

/** The __Title__ connector. */
export const connector = Connector.make<__Name__Http>({
  id: "__name__",
  version: "0.0.0",
  schemaVersion: 1,
  credentialKind: "__name__-token",
  scopes: ["connection"],
  resources: [items],
  verify: Effect.gen(function* () {
    const http = yield* __Name__Http
    const response = yield* http.get("/token")
    const token = yield* Effect.orDie(Schema.decodeUnknown(Schema.Struct({ id: Schema.String }))(response.body))
    return new Credential.Verification({ subject: token.id, status: "active", grants: [] })
  })
})
