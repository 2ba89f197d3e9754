/**
 * DNSSEC of a zone (`GET /zones/{id}/dnssec`): one record, keyed `dnssec`, with its status and DS data.
 */
import { Resource } from "@plumbline/core"
import { Schema } from "effect"
import * as Read from "../internal/read.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import * as Permissions from "../Permissions.js"

const nullable = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/**
 * DNSSEC as Cloudflare sends it; members it does not name are kept (`extra`). `dnssec_use_nsec3`
 * comes from the TypeScript SDK (shared API-NOTES §5.4).
 */
export const DnssecWire = openStruct({
  status: nullable(Schema.String),
  algorithm: nullable(Schema.String),
  digest: nullable(Schema.String),
  digest_algorithm: nullable(Schema.String),
  digest_type: nullable(Schema.String),
  ds: nullable(Schema.String),
  flags: nullable(Schema.Number),
  key_tag: nullable(Schema.Number),
  key_type: nullable(Schema.String),
  public_key: nullable(Schema.String),
  modified_on: nullable(Schema.String),
  dnssec_multi_signer: nullable(Schema.Boolean),
  dnssec_presigned: nullable(Schema.Boolean),
  dnssec_use_nsec3: nullable(Schema.Boolean)
})

/** The canonical DNSSEC record. */
export const Dnssec = Schema.Struct({
  /** active, pending, disabled, pending-disabled or error (every field is nullable in the schema). */
  status: Schema.optional(Schema.String),
  algorithm: Schema.optional(Schema.String),
  digest: Schema.optional(Schema.String),
  digest_algorithm: Schema.optional(Schema.String),
  digest_type: Schema.optional(Schema.String),
  ds: Schema.optional(Schema.String),
  flags: Schema.optional(Schema.Number),
  key_tag: Schema.optional(Schema.Number),
  key_type: Schema.optional(Schema.String),
  public_key: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  dnssec_multi_signer: Schema.optional(Schema.Boolean),
  dnssec_presigned: Schema.optional(Schema.Boolean),
  dnssec_use_nsec3: Schema.optional(Schema.Boolean),
  extra: Extra
})
export type Dnssec = typeof Dnssec.Type

const NAME = "dnssec"

/** The DNSSEC resource. */
export const resource = Resource.make({
  name: NAME,
  description: "DNSSEC status and DS record of the zone",
  scope: "zone",
  schema: Dnssec,
  identity: () => "dnssec",
  permissions: [Permissions.forResource(NAME)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Read.one(NAME, scope, `/zones/${scope.id}/dnssec`, DnssecWire, (w): Dnssec =>
      compact({
        status: orUndefined(w.status),
        algorithm: orUndefined(w.algorithm),
        digest: orUndefined(w.digest),
        digest_algorithm: orUndefined(w.digest_algorithm),
        digest_type: orUndefined(w.digest_type),
        ds: orUndefined(w.ds),
        flags: orUndefined(w.flags),
        key_tag: orUndefined(w.key_tag),
        key_type: orUndefined(w.key_type),
        public_key: orUndefined(w.public_key),
        modified_on: orUndefined(w.modified_on),
        dnssec_multi_signer: orUndefined(w.dnssec_multi_signer),
        dnssec_presigned: orUndefined(w.dnssec_presigned),
        dnssec_use_nsec3: orUndefined(w.dnssec_use_nsec3),
        extra: extraOf(w, DnssecWire.fields)
      })
    )
})
