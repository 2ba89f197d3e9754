/**
 * Zones of an account (`GET /zones?account.id=…`, 50 per page, the API's maximum). Each zone
 * becomes a `zone` scope whose attributes carry its plan (`plan.legacy_id`) and account, so
 * plan-gated resources are skipped without a request.
 */
import { type ConnectorError, Resource, Scope } from "@plumbline/core"
import { Effect, Schema, Stream } from "effect"
import { CloudflareClient } from "../CloudflareClient.js"
import { callContext } from "../internal/context.js"
import { compact, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** `/zones` allows 5–50 per page (official schema, `GET /zones` operation `zones-get`, parameter `per_page`). */
export const PER_PAGE = 50

/** A zone as Cloudflare sends it. */
export const ZoneWire = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.optional(Schema.NullOr(Schema.String)),
  paused: Schema.optional(Schema.NullOr(Schema.Boolean)),
  type: Schema.optional(Schema.NullOr(Schema.String)),
  account: Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.NullOr(Schema.String)) }),
  // Absent on zones still pending or partial-setup (CNAME) zones; the official schema does not require it.
  name_servers: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  vanity_name_servers: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  original_registrar: Schema.optional(Schema.NullOr(Schema.String)),
  development_mode: Schema.optional(Schema.NullOr(Schema.Number)),
  plan: Schema.optional(
    Schema.NullOr(Schema.Struct({ id: Schema.optional(Schema.String), name: Schema.optional(Schema.String), legacy_id: Schema.optional(Schema.String) }))
  ),
  created_on: Schema.optional(Schema.NullOr(Schema.String)),
  modified_on: Schema.optional(Schema.NullOr(Schema.String)),
  activated_on: Schema.optional(Schema.NullOr(Schema.String))
})
export type ZoneWire = typeof ZoneWire.Type

/** The canonical zone record. */
export const Zone = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.optional(Schema.String),
  paused: Schema.optional(Schema.Boolean),
  type: Schema.optional(Schema.String),
  account: Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.String) }),
  name_servers: Schema.Array(Schema.String),
  vanity_name_servers: Schema.optional(Schema.Array(Schema.String)),
  original_registrar: Schema.optional(Schema.String),
  development_mode: Schema.optional(Schema.Number),
  /** `plan.legacy_id`: free, pro, business or enterprise. */
  plan: Schema.String,
  plan_name: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  activated_on: Schema.optional(Schema.String)
})
export type Zone = typeof Zone.Type

/** Wire → canonical: name servers sorted (their order means nothing). */
export const toRecord = (wire: ZoneWire): Zone =>
  compact({
    id: wire.id,
    name: wire.name,
    status: orUndefined(wire.status),
    paused: orUndefined(wire.paused),
    type: orUndefined(wire.type),
    account: { id: wire.account.id, name: orUndefined(wire.account.name) },
    name_servers: sorted(wire.name_servers) ?? [],
    vanity_name_servers: sorted(wire.vanity_name_servers),
    original_registrar: orUndefined(wire.original_registrar),
    development_mode: orUndefined(wire.development_mode),
    plan: wire.plan?.legacy_id ?? "unknown",
    plan_name: wire.plan?.name,
    created_on: orUndefined(wire.created_on),
    modified_on: orUndefined(wire.modified_on),
    activated_on: orUndefined(wire.activated_on)
  })

const NAME = "zones"

/** Streams the zones the token can read, in one account or (no account) everywhere. */
export const list = (
  accountId: string | undefined,
  scope?: Scope.Scope
): Stream.Stream<Zone, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.unwrap(
    Effect.map(CloudflareClient, (client) =>
      Stream.map(
        client.pages(
          "/zones",
          { params: { "account.id": accountId }, perPage: PER_PAGE, item: ZoneWire, key: (z) => z.id },
          callContext(NAME, scope)
        ),
        toRecord
      )
    )
  )

/** The zone scope of a zone record: plan and account as attributes. */
export const toScope = (zone: Zone): Scope.Scope =>
  new Scope.Scope({ kind: "zone", id: zone.id, name: zone.name, attributes: { plan: zone.plan, account: zone.account.id } })

/** The zones resource; produces `zone` scopes. */
export const resource = Resource.make({
  name: NAME,
  description: "Zones of the account: status, name servers, plan",
  scope: "account",
  schema: Zone,
  identity: (z: Zone) => z.id,
  permissions: [Permissions.forResource(NAME)],
  volatile: ["/modified_on", "/development_mode"],
  list: (scope) => list(scope.id, scope),
  produces: { scope: "zone", fromRecord: toScope }
})
