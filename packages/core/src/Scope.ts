/**
 * Where a resource lives. A connector defines its scope kinds (Cloudflare: connection, account,
 * zone); the root scope is the connection itself, and every other scope is produced by a parent
 * resource (the `zones` resource produces one `zone` scope per zone). Attributes carry what
 * availability rules need (a zone's plan), so a resource can be skipped without a request.
 */
import { Equivalence, Order, Schema } from "effect"

/** One scope: its kind, the provider's id, a human name and attributes used by availability rules. */
export class Scope extends Schema.Class<Scope>("@plumbline/core/Scope")({
  kind: Schema.String,
  id: Schema.String,
  name: Schema.optional(Schema.String),
  /** The key (`kind:id`) of the scope whose resource produced this one; set by the snapshot runner. */
  parent: Schema.optional(Schema.String),
  attributes: Schema.optionalWith(Schema.Record({ key: Schema.String, value: Schema.String }), {
    default: () => ({})
  })
}) {
  /** `kind:id`, the key a scope is known by in snapshots and drift. */
  get key(): string {
    return `${this.kind}:${this.id}`
  }
  /** A label for messages: the name when there is one. */
  get label(): string {
    return this.name === undefined ? this.key : `${this.kind} ${this.name}`
  }
}

/** The kind of the root scope every connection starts from. */
export const rootKind = "connection"

/** The root scope of a connection. */
export const root = (connectionId: string): Scope => new Scope({ kind: rootKind, id: connectionId })

/** Orders scopes by kind then id, for deterministic output. */
export const order: Order.Order<Scope> = Order.combine(
  Order.mapInput(Order.string, (s: Scope) => s.kind),
  Order.mapInput(Order.string, (s: Scope) => s.id)
)

/**
 * Two scopes are the same when every field agrees, attributes included (what `Schema.encode` would
 * write): a scope whose name, parent or attributes moved is not the scope a previous snapshot read.
 */
export const equivalence: Equivalence.Equivalence<Scope> = Equivalence.make((a, b) => {
  if (a.kind !== b.kind || a.id !== b.id || a.name !== b.name || a.parent !== b.parent) return false
  const keys = Object.keys(a.attributes)
  return keys.length === Object.keys(b.attributes).length && keys.every((key) => Object.hasOwn(b.attributes, key) && a.attributes[key] === b.attributes[key])
})
