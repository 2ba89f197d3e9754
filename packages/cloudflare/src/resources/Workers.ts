/**
 * Workers: the account's scripts (metadata only, `GET /accounts/{id}/workers/scripts`) and the
 * zone's routes (`GET /zones/{id}/workers/routes`). Neither is paginated.
 */
import { Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/** A script as Cloudflare sends it. */
export const ScriptWire = Schema.Struct({
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
  tags: opt(Schema.Array(Schema.String))
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
  tags: Schema.optional(Schema.Array(Schema.String))
})
export type Script = typeof Script.Type

/** A route as Cloudflare sends it; without `script` it turns Workers off for the pattern. */
export const RouteWire = Schema.Struct({ id: Schema.String, pattern: Schema.String, script: opt(Schema.String) })

/** The canonical route. */
export const Route = Schema.Struct({ id: Schema.String, pattern: Schema.String, script: Schema.optional(Schema.String) })
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
        tags: sorted(w.tags)
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
      compact({ id: w.id, pattern: w.pattern, script: orUndefined(w.script) })
    )
})
