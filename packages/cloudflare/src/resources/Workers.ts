/**
 * Workers: the account's scripts (metadata only, `GET /accounts/{id}/workers/scripts`), the zone's
 * routes (`GET /zones/{id}/workers/routes`) and the zone's Custom Domains (from the account's
 * `GET /accounts/{id}/workers/domains`). None is paginated.
 */
import { type ConnectorError, Json, Resource, type Scope } from "@plumbline/core"
import { Effect, Schema } from "effect"
import { type CloudflareClient, decodeEach } from "../CloudflareClient.js"
import * as Read from "../internal/read.js"
import { accountWorkerDomains } from "../internal/shared.js"
import { compact, Extra, extraOf, openStruct, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/**
 * A script as Cloudflare sends it; members it does not name are kept (`extra`). The fields after
 * `tags` come from the TypeScript SDK `Script` (shared API-NOTES §5.8) and are kept as sent.
 */
export const ScriptWire = openStruct({
  id: Schema.String,
  etag: opt(Schema.String),
  created_on: opt(Schema.String),
  modified_on: opt(Schema.String),
  usage_model: opt(Schema.String),
  compatibility_date: opt(Schema.String),
  compatibility_flags: opt(Schema.Array(Schema.String)),
  handlers: opt(Schema.Array(Schema.String)),
  logpush: opt(Schema.Boolean),
  placement_mode: opt(Schema.String),
  tail_consumers: opt(Schema.Array(Schema.Struct({ service: Schema.String, environment: opt(Schema.String), namespace: opt(Schema.String) }))),
  tags: opt(Schema.Array(Schema.String)),
  has_assets: opt(Schema.Boolean),
  has_modules: opt(Schema.Boolean),
  last_deployed_from: opt(Schema.String),
  migration_tag: opt(Schema.String),
  named_handlers: opt(Json.Json),
  observability: opt(Json.Json),
  placement: opt(Json.Json)
})

/** The canonical script. */
export const Script = Schema.Struct({
  id: Schema.String,
  etag: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  usage_model: Schema.optional(Schema.String),
  compatibility_date: Schema.optional(Schema.String),
  compatibility_flags: Schema.optional(Schema.Array(Schema.String)),
  handlers: Schema.optional(Schema.Array(Schema.String)),
  logpush: Schema.optional(Schema.Boolean),
  placement_mode: Schema.optional(Schema.String),
  tail_consumers: Schema.optional(Schema.Array(Schema.String)),
  tags: Schema.optional(Schema.Array(Schema.String)),
  has_assets: Schema.optional(Schema.Boolean),
  has_modules: Schema.optional(Schema.Boolean),
  last_deployed_from: Schema.optional(Schema.String),
  migration_tag: Schema.optional(Schema.String),
  named_handlers: Schema.optional(Json.Json),
  observability: Schema.optional(Json.Json),
  placement: Schema.optional(Json.Json),
  extra: Extra
})
export type Script = typeof Script.Type

/**
 * A route as Cloudflare sends it; without `script` it turns Workers off for the pattern. Members it
 * does not name are kept (`extra`).
 */
export const RouteWire = openStruct({ id: Schema.String, pattern: Schema.String, script: opt(Schema.String) })

/** The canonical route. */
export const Route = Schema.Struct({ id: Schema.String, pattern: Schema.String, script: Schema.optional(Schema.String), extra: Extra })
export type Route = typeof Route.Type

const SCRIPTS = "workers_scripts"
const ROUTES = "workers_routes"

/** Workers scripts of the account. */
export const scripts = Resource.make({
  name: SCRIPTS,
  description: "Workers scripts of the account (metadata)",
  scope: "account",
  schema: Script,
  identity: (s: Script) => s.id,
  permissions: [Permissions.forResource(SCRIPTS)],
  volatile: ["/modified_on", "/etag"],
  read: (scope) =>
    Read.all(SCRIPTS, scope, `/accounts/${scope.id}/workers/scripts`, ScriptWire, (w): Script =>
      compact({
        id: w.id,
        etag: orUndefined(w.etag),
        created_on: orUndefined(w.created_on),
        modified_on: orUndefined(w.modified_on),
        usage_model: orUndefined(w.usage_model),
        compatibility_date: orUndefined(w.compatibility_date),
        compatibility_flags: sorted(w.compatibility_flags),
        handlers: sorted(w.handlers),
        logpush: orUndefined(w.logpush),
        placement_mode: orUndefined(w.placement_mode),
        tail_consumers: sorted(w.tail_consumers?.map((t) => t.service)),
        tags: sorted(w.tags),
        has_assets: orUndefined(w.has_assets),
        has_modules: orUndefined(w.has_modules),
        last_deployed_from: orUndefined(w.last_deployed_from),
        migration_tag: orUndefined(w.migration_tag),
        named_handlers: orUndefined(w.named_handlers),
        observability: orUndefined(w.observability),
        placement: orUndefined(w.placement),
        extra: extraOf(w, ScriptWire.fields)
      })
    )
})

/** Workers routes of the zone. */
export const routes = Resource.make({
  name: ROUTES,
  description: "Workers routes of the zone (a route without a script disables Workers for its pattern)",
  scope: "zone",
  schema: Route,
  identity: (r: Route) => r.id,
  permissions: [Permissions.forResource(ROUTES)],
  read: (scope) =>
    Read.all(ROUTES, scope, `/zones/${scope.id}/workers/routes`, RouteWire, (w): Route =>
      compact({ id: w.id, pattern: w.pattern, script: orUndefined(w.script), extra: extraOf(w, RouteWire.fields) })
    )
})

/**
 * A Workers Custom Domain as Cloudflare sends it (`GET /accounts/{id}/workers/domains`; every field
 * required in the SDK's `DomainListResponse`, cloudflare 7.3.0). Only `id` (identity) and `zone_id`
 * (the zone it is kept under) are required here; members it does not name are kept (`extra`).
 */
export const DomainWire = openStruct({
  id: Schema.String,
  zone_id: Schema.String,
  zone_name: opt(Schema.String),
  hostname: opt(Schema.String),
  service: opt(Schema.String),
  environment: opt(Schema.String),
  cert_id: opt(Schema.String)
})
export type DomainWire = typeof DomainWire.Type

/** The canonical custom domain, kept under its zone (so `zone_id`/`zone_name` are the scope's). */
export const CustomDomain = Schema.Struct({
  id: Schema.String,
  hostname: Schema.optional(Schema.String),
  /** The Worker that serves the whole hostname. */
  service: Schema.optional(Schema.String),
  /** Deprecated by Cloudflare (Workers environments), kept while it is sent. */
  environment: Schema.optional(Schema.String),
  cert_id: Schema.optional(Schema.String),
  extra: Extra
})
export type CustomDomain = typeof CustomDomain.Type

const DOMAINS = "workers_custom_domains"

/** Does a raw listing item belong to zone `zoneId`? One without a string `zone_id` may: decoding it reports it. */
const mayBelongTo = (raw: unknown, zoneId: string): boolean => {
  const zone = typeof raw === "object" && raw !== null ? (raw as { zone_id?: unknown }).zone_id : undefined
  return typeof zone !== "string" || zone === zoneId
}

/** The custom domains of one zone: the account's listing (read once per snapshot), this zone's items. */
const domainsOf = (scope: Scope.Scope): Effect.Effect<ReadonlyArray<CustomDomain>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.gen(function* () {
    const accountId = scope.attributes["account"]
    if (accountId === undefined) return []
    const raws = yield* accountWorkerDomains(DOMAINS, scope, accountId)
    // Each item decoded on its own, reported at its index in the account's listing.
    const decoded = yield* Effect.forEach(
      raws.flatMap((raw, index) => (mayBelongTo(raw, scope.id) ? [{ raw, index }] : [])),
      ({ index, raw }) => decodeEach([raw], DomainWire, index)
    )
    return decoded.flat().map(
      (w): CustomDomain =>
        compact({
          id: w.id,
          hostname: orUndefined(w.hostname),
          service: orUndefined(w.service),
          environment: orUndefined(w.environment),
          cert_id: orUndefined(w.cert_id),
          extra: extraOf(w, DomainWire.fields)
        })
    )
  })

/**
 * Workers Custom Domains of the zone: hostnames served whole by a Worker, with no route matching
 * (https://developers.cloudflare.com/workers/configuration/routing/custom-domains/). Cloudflare
 * lists them per account; each is kept under the zone its `zone_id` names.
 */
export const customDomains = Resource.make({
  name: DOMAINS,
  description: "Workers Custom Domains of the zone (a hostname served entirely by a Worker)",
  scope: "zone",
  schema: CustomDomain,
  identity: (d: CustomDomain) => d.id,
  permissions: [Permissions.forResource(DOMAINS)],
  read: domainsOf
})
