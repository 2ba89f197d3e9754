/**
 * IP access rules, at zone level (`GET /zones/{id}/firewall/access_rules/rules`, which also returns
 * the rules inherited from the account; `scope_type` tells them apart) and at account level
 * (`GET /accounts/{id}/firewall/access_rules/rules`). 1,000 per page: the 2024 schema gives no bound,
 * the simulator enforces 1–1000 (cloudflare-go uses 100).
 */
import { Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/**
 * Rules per page. The schema gives no bound for `per_page` on the access-rules lists; cloudflare-go uses 100
 * and the 1000 asked here is not confirmed against live Cloudflare (see API-NOTES.md "Page sizes").
 */
export const PER_PAGE = 1000

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/**
 * An access rule as Cloudflare sends it; members it does not name are kept (`extra`). `scope.email`
 * is in cloudflare-go's fixtures and the TypeScript SDK (shared API-NOTES §5.7).
 */
export const AccessRuleWire = openStruct({
  id: Schema.String,
  mode: Schema.String,
  allowed_modes: opt(Schema.Array(Schema.String)),
  notes: opt(Schema.String),
  configuration: Schema.Struct({ target: Schema.String, value: Schema.String }),
  scope: opt(Schema.Struct({ id: opt(Schema.String), type: opt(Schema.String), email: opt(Schema.String) })),
  created_on: opt(Schema.String),
  modified_on: opt(Schema.String)
})
export type AccessRuleWire = typeof AccessRuleWire.Type

/** The canonical access rule. */
export const AccessRule = Schema.Struct({
  id: Schema.String,
  mode: Schema.String,
  allowed_modes: Schema.optional(Schema.Array(Schema.String)),
  notes: Schema.optional(Schema.String),
  configuration: Schema.Struct({ target: Schema.String, value: Schema.String }),
  /** Where the rule is defined: `zone`, `account`, `user` or `organization`. */
  scope_type: Schema.optional(Schema.String),
  scope_id: Schema.optional(Schema.String),
  scope_email: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type AccessRule = typeof AccessRule.Type

/** Wire → canonical: allowed modes sorted. */
export const toRecord = (w: AccessRuleWire): AccessRule =>
  compact({
    id: w.id,
    mode: w.mode,
    allowed_modes: sorted(w.allowed_modes),
    notes: orUndefined(w.notes),
    configuration: { target: w.configuration.target, value: w.configuration.value },
    scope_type: orUndefined(w.scope?.type),
    scope_id: orUndefined(w.scope?.id),
    scope_email: orUndefined(w.scope?.email),
    created_on: orUndefined(w.created_on),
    modified_on: orUndefined(w.modified_on),
    extra: extraOf(w, AccessRuleWire.fields)
  })

const ZONE = "ip_access_rules"
const ACCOUNT = "account_ip_access_rules"

/** Zone IP access rules (with the inherited ones). */
export const zone = Resource.make({
  name: ZONE,
  description: "IP access rules of the zone, including those inherited from the account",
  scope: "zone",
  schema: AccessRule,
  identity: (r: AccessRule) => r.id,
  permissions: [Permissions.forResource(ZONE)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Read.pages(ZONE, scope, `/zones/${scope.id}/firewall/access_rules/rules`, { perPage: PER_PAGE, wire: AccessRuleWire, key: (r) => r.id }, toRecord)
})

/** Account IP access rules. */
export const account = Resource.make({
  name: ACCOUNT,
  description: "IP access rules of the account (they apply to every zone)",
  scope: "account",
  schema: AccessRule,
  identity: (r: AccessRule) => r.id,
  permissions: [Permissions.forResource(ACCOUNT)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Read.pages(ACCOUNT, scope, `/accounts/${scope.id}/firewall/access_rules/rules`, { perPage: PER_PAGE, wire: AccessRuleWire, key: (r) => r.id }, toRecord)
})
