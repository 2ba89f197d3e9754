/**
 * Zones of an account (`GET /zones?account.id=…`, 50 per page, the API's maximum). Each zone
 * becomes a `zone` scope whose attributes carry its plan (`plan.legacy_id`) and account, so
 * plan-gated resources are skipped without a request.
 */
import { type ConnectorError, Json, Resource, Scope } from "@plumbline/core"
import { Effect, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { CloudflareClient } from "../CloudflareClient.js"
import { callContext } from "../internal/context.js"
import { compact, Extra, extraOf, openStruct, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** `/zones` allows 5–50 per page (official schema, `GET /zones` operation `zones-get`, parameter `per_page`). */
export const PER_PAGE = 50

/**
 * A zone as Cloudflare sends it; members it does not name are kept (`extra`). Sources: official
 * schema `zones_zone` (`meta`, `owner`, `original_name_servers`, `original_dnshost`), lenient patch
 * P10 and the TypeScript SDK `Zone` (`verification_key`, `cname_suffix`, `permissions`, `tenant`,
 * `tenant_unit`); shared API-NOTES §5.3.
 */
export const ZoneWire = openStruct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.optional(Schema.NullOr(Schema.String)),
  paused: Schema.optional(Schema.NullOr(Schema.Boolean)),
  type: Schema.optional(Schema.NullOr(Schema.String)),
  account: Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.NullOr(Schema.String)) }),
  // Absent on zones still pending or partial-setup (CNAME) zones; the official schema does not require it.
  name_servers: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  vanity_name_servers: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  original_name_servers: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  original_registrar: Schema.optional(Schema.NullOr(Schema.String)),
  original_dnshost: Schema.optional(Schema.NullOr(Schema.String)),
  development_mode: Schema.optional(Schema.NullOr(Schema.Number)),
  plan: Schema.optional(
    Schema.NullOr(
      openStruct({ id: Schema.optional(Schema.String), name: Schema.optional(Schema.String), legacy_id: Schema.optional(Schema.String) })
    )
  ),
  meta: Schema.optional(Schema.NullOr(Json.Json)),
  owner: Schema.optional(Schema.NullOr(Json.Json)),
  tenant: Schema.optional(Schema.NullOr(Json.Json)),
  tenant_unit: Schema.optional(Schema.NullOr(Json.Json)),
  permissions: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  cname_suffix: Schema.optional(Schema.NullOr(Schema.String)),
  verification_key: Schema.optional(Schema.NullOr(Schema.String)),
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
  original_name_servers: Schema.optional(Schema.Array(Schema.String)),
  original_registrar: Schema.optional(Schema.String),
  original_dnshost: Schema.optional(Schema.String),
  development_mode: Schema.optional(Schema.Number),
  /** `plan.legacy_id`: free, pro, business or enterprise. */
  plan: Schema.String,
  plan_name: Schema.optional(Schema.String),
  /** The rest of the `plan` object (id, price, currency, frequency, subscription flags), as sent. */
  plan_detail: Schema.optional(Json.Json),
  /** Zone metadata (`step`, quotas, `cdn_only`, `dns_only`, `foundation_dns`, `phishing_detected`), as sent. */
  meta: Schema.optional(Json.Json),
  /** The zone's owner (`id`, `name`, `type`), as sent. */
  owner: Schema.optional(Json.Json),
  tenant: Schema.optional(Json.Json),
  tenant_unit: Schema.optional(Json.Json),
  /** Deprecated by Cloudflare, still sent; sorted. */
  permissions: Schema.optional(Schema.Array(Schema.String)),
  cname_suffix: Schema.optional(Schema.String),
  /**
   * `sha256:<hex>` of the partial-setup verification key, never the key itself (see
   * `verificationKeyFingerprint`): drift still sees it change.
   */
  verification_key_sha256: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  activated_on: Schema.optional(Schema.String),
  extra: Extra
})
export type Zone = typeof Zone.Type

/**
 * The fingerprint kept instead of a zone's `verification_key`. The key is the value a partial
 * (CNAME) setup publishes as the `cloudflare-verify` TXT record to prove the domain belongs to this
 * Cloudflare zone: an ownership proof, like the `*-verify=` TXT values other providers hand out,
 * which a third party could replay while it is still accepted. Snapshots travel further than the
 * customer's DNS (store, drift reports, webhooks, dashboards), and a drift monitor needs only to
 * know whether the key changed, so the record keeps a one-way SHA-256 of it. The key is random and
 * long, so the hash cannot be reversed by guessing. Source: Cloudflare Terraform provider
 * `cloudflare_zone.verification_key` ("TXT record value to validate domain ownership", partial
 * zones only; terraform-provider-cloudflare#3252); official schema lenient patch P10.
 */
export const verificationKeyFingerprint = (key: string): string => `sha256:${createHash("sha256").update(key).digest("hex")}`

/** `plan` without the members the record already has under their own names. */
const planDetail = (plan: NonNullable<ZoneWire["plan"]>): Json.Json | undefined => {
  const entries: Array<[string, Json.Json]> = []
  for (const [key, value] of Object.entries(plan)) if (key !== "legacy_id" && key !== "name" && value !== undefined) entries.push([key, value])
  return entries.length === 0 ? undefined : Object.fromEntries(entries)
}

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
    original_name_servers: sorted(wire.original_name_servers),
    original_registrar: orUndefined(wire.original_registrar),
    original_dnshost: orUndefined(wire.original_dnshost),
    development_mode: orUndefined(wire.development_mode),
    plan: wire.plan?.legacy_id ?? "unknown",
    plan_name: wire.plan?.name,
    plan_detail: wire.plan === null || wire.plan === undefined ? undefined : planDetail(wire.plan),
    meta: orUndefined(wire.meta),
    owner: orUndefined(wire.owner),
    tenant: orUndefined(wire.tenant),
    tenant_unit: orUndefined(wire.tenant_unit),
    permissions: sorted(wire.permissions),
    cname_suffix: orUndefined(wire.cname_suffix),
    verification_key_sha256:
      wire.verification_key === null || wire.verification_key === undefined ? undefined : verificationKeyFingerprint(wire.verification_key),
    created_on: orUndefined(wire.created_on),
    modified_on: orUndefined(wire.modified_on),
    activated_on: orUndefined(wire.activated_on),
    extra: extraOf(wire, ZoneWire.fields)
  })

const NAME = "zones"

const listing = (accountId: string | undefined) =>
  ({ params: { "account.id": accountId }, perPage: PER_PAGE, item: ZoneWire, key: (z: ZoneWire) => z.id }) as const

/** Streams the zones the token can read, in one account or (no account) everywhere. */
export const list = (
  accountId: string | undefined,
  scope?: Scope.Scope
): Stream.Stream<Zone, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.unwrap(
    Effect.map(CloudflareClient, (client) => Stream.map(client.pages("/zones", listing(accountId), callContext(NAME, scope)), toRecord))
  )

/** The zones the token can read, in one account or (no account) everywhere, read whole. */
export const read = (
  accountId: string | undefined,
  scope?: Scope.Scope
): Effect.Effect<ReadonlyArray<Zone>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.flatMap(CloudflareClient, (client) =>
    Effect.map(client.readPages("/zones", listing(accountId), callContext(NAME, scope)), (zones) => zones.map(toRecord))
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
  read: (scope) => read(scope.id, scope),
  produces: { scope: "zone", fromRecord: toScope }
})
