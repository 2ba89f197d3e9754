/**
 * The previous rate-limiting product (`GET /zones/{id}/rate_limits`, up to 1,000 per page). Cloudflare
 * retired it: the endpoint now answers 410 Gone, which the client reports as `NotAvailable`
 * (feature), so the resource is `skipped`, not failed. Where it still answers, its rules are read.
 */
import { Json, Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/** 1–1000 per page, 1 or a multiple of 5 (official schema, `GET /zones/{zone_id}/rate_limits`, parameter `per_page`). */
export const PER_PAGE = 1000

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/**
 * A legacy rate limit as Cloudflare sends it; members it does not name are kept (`extra`).
 * `login_protect` and `correlate` (`{ by: "nat" }`) come from the previous product's API object
 * (cloudflare-go `RateLimit.Correlate`; Terraform `cloudflare_rate_limit.correlate`); issue #14 §3.
 */
export const LegacyRateLimitWire = openStruct({
  id: Schema.String,
  disabled: opt(Schema.Boolean),
  description: opt(Schema.String),
  match: opt(Json.Json),
  threshold: opt(Schema.Number),
  period: opt(Schema.Number),
  action: opt(Json.Json),
  bypass: opt(Json.Json),
  login_protect: opt(Json.Json),
  correlate: opt(Json.Json)
})

/** The canonical legacy rate limit. */
export const LegacyRateLimit = Schema.Struct({
  id: Schema.String,
  disabled: Schema.optional(Schema.Boolean),
  description: Schema.optional(Schema.String),
  match: Schema.optional(Json.Json),
  threshold: Schema.optional(Schema.Number),
  period: Schema.optional(Schema.Number),
  action: Schema.optional(Json.Json),
  bypass: Schema.optional(Json.Json),
  login_protect: Schema.optional(Json.Json),
  correlate: Schema.optional(Json.Json),
  extra: Extra
})
export type LegacyRateLimit = typeof LegacyRateLimit.Type

const NAME = "legacy_rate_limits"

/** The legacy rate limits resource. */
export const resource = Resource.make({
  name: NAME,
  description: "Legacy rate limits (the product before rate limiting rules; retired, 410 Gone)",
  scope: "zone",
  schema: LegacyRateLimit,
  identity: (r: LegacyRateLimit) => r.id,
  permissions: [Permissions.forResource(NAME)],
  read: (scope) =>
    Read.pages(NAME, scope, `/zones/${scope.id}/rate_limits`, { perPage: PER_PAGE, wire: LegacyRateLimitWire, key: (r) => r.id }, (w): LegacyRateLimit =>
      compact({
        id: w.id,
        disabled: orUndefined(w.disabled),
        description: orUndefined(w.description),
        match: orUndefined(w.match),
        threshold: orUndefined(w.threshold),
        period: orUndefined(w.period),
        action: orUndefined(w.action),
        bypass: orUndefined(w.bypass),
        login_protect: orUndefined(w.login_protect),
        correlate: orUndefined(w.correlate),
        extra: extraOf(w, LegacyRateLimitWire.fields)
      })
    )
})
