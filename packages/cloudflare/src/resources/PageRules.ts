/**
 * Page rules of a zone (`GET /zones/{id}/pagerules`, not paginated; no `status` filter is sent, so
 * active and disabled rules both come back).
 */
import { Json, Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** A page rule as Cloudflare sends it; members it does not name are kept (`extra`). */
export const PageRuleWire = openStruct({
  id: Schema.String,
  priority: Schema.Number,
  status: Schema.String,
  targets: Schema.Array(Json.Json),
  // The official schema's action branches (`pagerules_actions`) do not all require `id`.
  actions: Schema.Array(Schema.Struct({ id: Schema.optional(Schema.NullOr(Schema.String)), value: Schema.optional(Schema.NullOr(Json.Json)) })),
  created_on: Schema.optional(Schema.NullOr(Schema.String)),
  modified_on: Schema.optional(Schema.NullOr(Schema.String))
})

/** The canonical page rule: actions sorted by id (their order carries no meaning). */
export const PageRule = Schema.Struct({
  id: Schema.String,
  priority: Schema.Number,
  status: Schema.String,
  targets: Schema.Array(Json.Json),
  actions: Schema.Array(Schema.Struct({ id: Schema.optional(Schema.String), value: Schema.optional(Json.Json) })),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type PageRule = typeof PageRule.Type

/** Actions by id; actions without one (the schema allows it) by their value's canonical JSON, so the order is deterministic. */
type Action = { readonly id?: string | undefined; readonly value?: Json.Json | undefined }
const actionOrder = (a: Action, b: Action) => {
  const ka = `${a.id ?? ""}\u0000${Json.stringify(a.value ?? null)}`
  const kb = `${b.id ?? ""}\u0000${Json.stringify(b.value ?? null)}`
  return ka < kb ? -1 : ka > kb ? 1 : 0
}

const NAME = "page_rules"

/** The page rules resource. */
export const resource = Resource.make({
  name: NAME,
  description: "Page rules of the zone",
  scope: "zone",
  schema: PageRule,
  identity: (r: PageRule) => r.id,
  permissions: [Permissions.forResource(NAME)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Read.all(
      NAME,
      scope,
      `/zones/${scope.id}/pagerules`,
      PageRuleWire,
      (w): PageRule =>
        compact({
          id: w.id,
          priority: w.priority,
          status: w.status,
          targets: w.targets,
          actions: [...w.actions]
            .map((a) => compact({ id: orUndefined(a.id), value: orUndefined(a.value) }))
            .sort((a, b) => actionOrder(a, b)),
          created_on: orUndefined(w.created_on),
          modified_on: orUndefined(w.modified_on),
          extra: extraOf(w, PageRuleWire.fields)
        })
    )
})
