/**
 * A credential as a connector receives it: a kind (what the provider calls it) and a secret that
 * is `Redacted` from the moment it enters. Nothing in Plumbline unwraps the secret except the
 * HTTP pipeline when it sets the `Authorization` header.
 *
 * The fingerprint is what the rest of the system uses to talk about a credential (the request
 * budget, logs, stores): a one-way hash that cannot be turned back into the secret.
 */
import { createHash } from "node:crypto"
import { Redacted, Schema } from "effect"

/** A connector credential. `secret` is never logged, serialised or put into an error. */
export interface Credential {
  readonly kind: string
  readonly secret: Redacted.Redacted<string>
}

/** Wraps a plain secret at the boundary where it enters the system. */
export const make = (kind: string, secret: string | Redacted.Redacted<string>): Credential => ({
  kind,
  secret: Redacted.isRedacted(secret) ? secret : Redacted.make(secret)
})

/** A stable, one-way identifier of a credential: 16 hex characters of SHA-256 over kind and secret. */
export const fingerprint = (credential: Credential): string =>
  createHash("sha256")
    .update(credential.kind)
    .update("\u0000")
    .update(Redacted.value(credential.secret))
    .digest("hex")
    .slice(0, 16)

/**
 * Whether a resource can be read with the credential, and what to grant when it cannot.
 * `not_applicable`: the permission is missing, but what it opens does not exist for the customer
 * (for example a product their plan does not include), so there is nothing worth granting.
 */
export class Grant extends Schema.Class<Grant>("@plumbline/core/Grant")({
  resource: Schema.String,
  status: Schema.Literal("granted", "missing", "unknown", "not_applicable"),
  /** The provider's own name of the permission the resource needs. */
  permissions: Schema.Array(Schema.String)
}) {}

/** What a connector learnt when it verified a credential. */
export class Verification extends Schema.Class<Verification>("@plumbline/core/Verification")({
  /** Provider id of the credential (never the secret). */
  subject: Schema.String,
  status: Schema.Literal("active", "expired", "disabled", "revoked"),
  expiresAt: Schema.optional(Schema.String),
  /** Per-resource permission discovery; empty when the connector does not discover permissions. */
  grants: Schema.Array(Grant)
}) {}
