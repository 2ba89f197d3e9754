/**
 * DNS records of a zone, every type (`GET /zones/{id}/dns_records`).
 *
 * Page size 5,000: the schema allows 1–5,000,000 per page (2024 and 2026), and 5,000 is above the
 * record quota of every self-serve plan (Free 1,000, paid 3,500), so all but Enterprise zones with
 * very large record sets take one request, while an answer stays a few MB at most. Older docs said
 * 100; API-NOTES §5.5 records that the schema says otherwise.
 */
import { Json, Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/**
 * Records per page. The schema allows 1–5,000,000 (official schema, `GET /zones/{zone_id}/dns_records`,
 * parameter `per_page`; see API-NOTES.md "Page sizes").
 */
export const PER_PAGE = 5000

/**
 * A DNS record as Cloudflare sends it; members it does not name are kept (`extra`). `meta` and
 * `settings` are kept whole as JSON: nothing reads them, and their keys grow (2026 adds glue and
 * shadowing keys to `meta`). Sources: official schema `dns-records_base` (`meta{auto_added,
 * source}`), TypeScript SDK `RecordResponse` (`settings{ipv4_only, ipv6_only, flatten_cname}`,
 * `comment_modified_on`, `tags_modified_on`); shared API-NOTES §5.5.
 */
export const DnsRecordWire = openStruct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  content: Schema.optional(Schema.NullOr(Schema.String)),
  proxiable: Schema.optional(Schema.NullOr(Schema.Boolean)),
  proxied: Schema.optional(Schema.NullOr(Schema.Boolean)),
  ttl: Schema.optional(Schema.NullOr(Schema.Number)),
  priority: Schema.optional(Schema.NullOr(Schema.Number)),
  data: Schema.optional(Schema.NullOr(Json.Json)),
  comment: Schema.optional(Schema.NullOr(Schema.String)),
  tags: Schema.optional(Schema.NullOr(Schema.Array(Schema.String))),
  meta: Schema.optional(Schema.NullOr(Json.Json)),
  settings: Schema.optional(Schema.NullOr(Json.Json)),
  comment_modified_on: Schema.optional(Schema.NullOr(Schema.String)),
  tags_modified_on: Schema.optional(Schema.NullOr(Schema.String)),
  created_on: Schema.optional(Schema.NullOr(Schema.String)),
  modified_on: Schema.optional(Schema.NullOr(Schema.String))
})
export type DnsRecordWire = typeof DnsRecordWire.Type

/** The canonical DNS record. */
export const DnsRecord = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  content: Schema.optional(Schema.String),
  proxiable: Schema.optional(Schema.Boolean),
  proxied: Schema.optional(Schema.Boolean),
  ttl: Schema.optional(Schema.Number),
  priority: Schema.optional(Schema.Number),
  data: Schema.optional(Json.Json),
  comment: Schema.optional(Schema.String),
  tags: Schema.optional(Schema.Array(Schema.String)),
  /** Cloudflare's own notes on the record (`auto_added`, `source`, …), as sent. */
  meta: Schema.optional(Json.Json),
  /** Per-record settings (`flatten_cname`, `ipv4_only`, `ipv6_only`), as sent. */
  settings: Schema.optional(Json.Json),
  /** When the comment last changed: volatile (the comment itself is compared). */
  comment_modified_on: Schema.optional(Schema.String),
  /** When the tags last changed: volatile (the tags themselves are compared). */
  tags_modified_on: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type DnsRecord = typeof DnsRecord.Type

/** Wire → canonical: tags sorted. */
export const toRecord = (w: DnsRecordWire): DnsRecord =>
  compact({
    id: w.id,
    type: w.type,
    name: w.name,
    content: orUndefined(w.content),
    proxiable: orUndefined(w.proxiable),
    proxied: orUndefined(w.proxied),
    ttl: orUndefined(w.ttl),
    priority: orUndefined(w.priority),
    data: orUndefined(w.data),
    comment: orUndefined(w.comment),
    tags: sorted(w.tags),
    meta: orUndefined(w.meta),
    settings: orUndefined(w.settings),
    comment_modified_on: orUndefined(w.comment_modified_on),
    tags_modified_on: orUndefined(w.tags_modified_on),
    created_on: orUndefined(w.created_on),
    modified_on: orUndefined(w.modified_on),
    extra: extraOf(w, DnsRecordWire.fields)
  })

const NAME = "dns_records"

/** The DNS records resource. */
export const resource = Resource.make({
  name: NAME,
  description: "DNS records of the zone (all types)",
  scope: "zone",
  schema: DnsRecord,
  identity: (r: DnsRecord) => r.id,
  permissions: [Permissions.forResource(NAME)],
  // The comment's and the tags' own timestamps move with them: the change shows on `/comment` or `/tags`.
  volatile: ["/modified_on", "/comment_modified_on", "/tags_modified_on"],
  read: (scope) =>
    Read.pages(NAME, scope, `/zones/${scope.id}/dns_records`, { perPage: PER_PAGE, wire: DnsRecordWire, key: (r) => r.id }, toRecord)
})
