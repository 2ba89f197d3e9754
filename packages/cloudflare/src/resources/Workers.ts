/**
 * Workers: the account's scripts (metadata only, `GET /accounts/{id}/workers/scripts`) and the
 * zone's routes (`GET /zones/{id}/workers/routes`). Neither is paginated.
 */
import { Json, Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
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
  list: (scope) =>
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
  list: (scope) =>
    Read.all(ROUTES, scope, `/zones/${scope.id}/workers/routes`, RouteWire, (w): Route =>
      compact({ id: w.id, pattern: w.pattern, script: orUndefined(w.script), extra: extraOf(w, RouteWire.fields) })
    )
})
