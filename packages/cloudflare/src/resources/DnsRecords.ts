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
import { compact, orUndefined, sorted } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

/**
 * Records per page. The schema allows 1–5,000,000 (official schema, `GET /zones/{zone_id}/dns_records`,
 * parameter `per_page`; see API-NOTES.md "Page sizes").
 */
export const PER_PAGE = 5000

/** A DNS record as Cloudflare sends it. */
export const DnsRecordWire = Schema.Struct({
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
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String)
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
    created_on: orUndefined(w.created_on),
    modified_on: orUndefined(w.modified_on)
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
  volatile: ["/modified_on"],
  list: (scope) =>
    Read.pages(NAME, scope, `/zones/${scope.id}/dns_records`, { perPage: PER_PAGE, wire: DnsRecordWire, key: (r) => r.id }, toRecord)
})
