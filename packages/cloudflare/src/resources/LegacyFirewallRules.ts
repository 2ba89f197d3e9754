/**
 * The legacy firewall: firewall rules (`GET /zones/{id}/firewall/rules`) with the filter each one
 * uses, and the filters themselves (`GET /zones/{id}/filters`), 100 per page (the API's maximum).
 * Deprecated by Cloudflare and migrated to WAF custom rules, but still read: older zones use them.
 */
import { Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** `/firewall/rules` and `/filters` allow 5–100 per page (official schema, `GET /zones/{zone_id}/firewall/rules` and `/filters`, parameter `per_page`). */
export const PER_PAGE = 100

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/** A filter as Cloudflare sends it (inside a rule it may be `{ id, deleted: true }`). */
export const FilterWire = openStruct({
  id: Schema.String,
  expression: opt(Schema.String),
  paused: opt(Schema.Boolean),
  description: opt(Schema.String),
  ref: opt(Schema.String),
  deleted: opt(Schema.Boolean)
})
export type FilterWire = typeof FilterWire.Type

/** A firewall rule as Cloudflare sends it; members it does not name are kept (`extra`). */
export const FirewallRuleWire = openStruct({
  id: Schema.String,
  paused: Schema.Boolean,
  action: Schema.String,
  description: opt(Schema.String),
  priority: opt(Schema.Number),
  products: opt(Schema.Array(Schema.String)),
  ref: opt(Schema.String),
  filter: FilterWire,
  created_on: opt(Schema.String),
  modified_on: opt(Schema.String)
})
export type FirewallRuleWire = typeof FirewallRuleWire.Type

/** The canonical filter. */
export const Filter = Schema.Struct({
  id: Schema.String,
  expression: Schema.optional(Schema.String),
  paused: Schema.optional(Schema.Boolean),
  description: Schema.optional(Schema.String),
  ref: Schema.optional(Schema.String),
  deleted: Schema.optional(Schema.Boolean),
  extra: Extra
})
export type Filter = typeof Filter.Type

/** The canonical firewall rule. */
export const FirewallRule = Schema.Struct({
  id: Schema.String,
  paused: Schema.Boolean,
  action: Schema.String,
  description: Schema.optional(Schema.String),
  priority: Schema.optional(Schema.Number),
  products: Schema.optional(Schema.Array(Schema.String)),
  ref: Schema.optional(Schema.String),
  filter: Filter,
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type FirewallRule = typeof FirewallRule.Type

const filterRecord = (w: FilterWire): Filter =>
  compact({
    id: w.id,
    expression: orUndefined(w.expression),
    paused: orUndefined(w.paused),
    description: orUndefined(w.description),
    ref: orUndefined(w.ref),
    deleted: orUndefined(w.deleted),
    extra: extraOf(w, FilterWire.fields)
  })

const RULES = "legacy_firewall_rules"
const FILTERS = "legacy_filters"

/** Legacy firewall rules. */
export const rules = Resource.make({
  name: RULES,
  description: "Legacy firewall rules, each with its filter expression",
  scope: "zone",
  schema: FirewallRule,
  identity: (r: FirewallRule) => r.id,
  permissions: [Permissions.forResource(RULES)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Read.pages(RULES, scope, `/zones/${scope.id}/firewall/rules`, { perPage: PER_PAGE, wire: FirewallRuleWire, key: (r) => r.id }, (w): FirewallRule =>
      compact({
        id: w.id,
        paused: w.paused,
        action: w.action,
        description: orUndefined(w.description),
        priority: orUndefined(w.priority),
        products: sorted(w.products),
        ref: orUndefined(w.ref),
        filter: filterRecord(w.filter),
        created_on: orUndefined(w.created_on),
        modified_on: orUndefined(w.modified_on),
        extra: extraOf(w, FirewallRuleWire.fields)
      })
    )
})

/** Legacy filters (including those no rule uses). */
export const filters = Resource.make({
  name: FILTERS,
  description: "Legacy firewall filters",
  scope: "zone",
  schema: Filter,
  identity: (f: Filter) => f.id,
  permissions: [Permissions.forResource(FILTERS)],
  read: (scope) =>
    Read.pages(FILTERS, scope, `/zones/${scope.id}/filters`, { perPage: PER_PAGE, wire: FilterWire, key: (f) => f.id }, filterRecord)
})
