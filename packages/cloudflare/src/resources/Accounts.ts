/**
 * Accounts the token can see (`GET /accounts`, 50 per page). An account-owned (`cfat_`) token may
 * not list accounts (400/1001), so its own account is read instead (`GET /accounts/{id}`). A token
 * refused the listing (403) still reaches its zones: their accounts (id and name) stand in. Each
 * account becomes an `account` scope.
 */
import { type ConnectorError, Json, Resource, Scope } from "@plumbline/core"
import { Effect, Schema, Stream } from "effect"
import { type CallContext, CloudflareClient } from "../CloudflareClient.js"
import { callContext } from "../internal/context.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** `/accounts` allows 5–50 per page (official schema, `GET /accounts` operation `accounts-list-accounts`, parameter `per_page`). */
export const PER_PAGE = 50

/**
 * An account as Cloudflare sends it; members it does not name are kept (`extra`). `managed_by`
 * (`parent_org_id`, `parent_org_name`) comes from the TypeScript SDK `Account` (shared API-NOTES §5.2).
 */
export const AccountWire = openStruct({
  id: Schema.String,
  name: Schema.String,
  type: Schema.optional(Schema.NullOr(Schema.String)),
  created_on: Schema.optional(Schema.NullOr(Schema.String)),
  settings: Schema.optional(Schema.NullOr(Json.Json)),
  managed_by: Schema.optional(Schema.NullOr(Json.Json))
})
export type AccountWire = typeof AccountWire.Type

/** The canonical account record. */
export const Account = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  type: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  settings: Schema.optional(Json.Json),
  managed_by: Schema.optional(Json.Json),
  extra: Extra
})
export type Account = typeof Account.Type

/** Wire → canonical. */
export const toRecord = (wire: AccountWire): Account =>
  compact({
    id: wire.id,
    name: wire.name,
    type: orUndefined(wire.type),
    created_on: orUndefined(wire.created_on),
    settings: orUndefined(wire.settings),
    managed_by: orUndefined(wire.managed_by),
    extra: extraOf(wire, AccountWire.fields)
  })

const NAME = "accounts"

const ZoneAccount = Schema.Struct({ account: Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.NullOr(Schema.String)) }) })

/** The distinct accounts of the zones the token can list (50 per page). */
const accountsOfZones = (context: CallContext) =>
  Effect.gen(function* () {
    const client = yield* CloudflareClient
    const zones = yield* client.readPages(
      "/zones",
      { perPage: 50, item: Schema.Struct({ id: Schema.String, ...ZoneAccount.fields }), key: (z) => z.id },
      { ...context, permission: "Zone Read" }
    )
    const byId = new Map<string, Account>()
    for (const zone of zones) byId.set(zone.account.id, compact({ id: zone.account.id, name: zone.account.name ?? zone.account.id }))
    return [...byId.values()]
  })

/** The accounts of the token, read whole. */
export const read = (scope?: Scope.Scope): Effect.Effect<ReadonlyArray<Account>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.gen(function* () {
    const client = yield* CloudflareClient
    const context = callContext(NAME, scope)
    const one = (id: string) => Effect.map(client.get(`/accounts/${id}`, {}, AccountWire, context), (a) => [toRecord(a.result)])
    if (client.tokenKind === "account-owned") {
      const id = yield* client.ownerAccountId
      return id === undefined ? [] : yield* one(id)
    }
    const configured = client.configuredAccountId
    return yield* Effect.map(client.readPages("/accounts", { perPage: PER_PAGE, item: AccountWire, key: (a) => a.id }, context), (accounts) =>
      accounts.map(toRecord)
    ).pipe(
      Effect.catchAll((error) => {
        // An unprefixed account-owned token may not list accounts (400/1001): read the configured one.
        if (configured !== undefined && error._tag === "RequestRejected" && error.status === 400 && error.codes.some((c) => c.code === 1001)) {
          return one(configured)
        }
        // A token refused the account listing can still reach its zones: their accounts are enough
        // to walk the tree (id and name only).
        if (error._tag === "PermissionMissing") return accountsOfZones(context)
        return Effect.fail(error)
      })
    )
  })

/** Streams the accounts of the token. */
export const list = (scope?: Scope.Scope): Stream.Stream<Account, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.fromIterableEffect(read(scope))

/** The accounts resource; produces `account` scopes. */
export const resource = Resource.make({
  name: NAME,
  description: "Accounts the token can see (an account-owned token: its own account)",
  scope: "connection",
  schema: Account,
  identity: (a: Account) => a.id,
  permissions: [Permissions.forResource(NAME)],
  read,
  produces: {
    scope: "account",
    fromRecord: (a: Account) =>
      new Scope.Scope({ kind: "account", id: a.id, name: a.name, attributes: a.type === undefined ? {} : { type: a.type } })
  }
})
