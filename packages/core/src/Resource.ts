/**
 * The resource contract: everything the runtime needs to read one kind of provider object
 * (DNS records, WAF rules, …) for one scope, turn it into canonical records and compare them
 * over time. A connector is a list of these.
 */
import { Chunk, Effect, type Schema, Stream } from "effect"
import type { ConnectorError } from "./ConnectorError.js"
import type { Scope } from "./Scope.js"

/** Whether a resource can be read in a scope without asking the provider (a plan or feature gate). */
export type Availability =
  | { readonly _tag: "Available" }
  | { readonly _tag: "Unavailable"; readonly reason: "plan" | "feature"; readonly detail: string }

/** The resource is available. */
export const available: Availability = { _tag: "Available" }

/** The resource is not available on this scope, and why. */
export const unavailable = (reason: "plan" | "feature", detail: string): Availability => ({
  _tag: "Unavailable",
  reason,
  detail
})

/**
 * One resource of a connector.
 *
 * - `schema` describes the canonical record; its encoded form is what snapshots hold.
 * - `identity` gives the key drift matches records by; it must be unique within a scope and
 *   stable across snapshots.
 * - `volatile` lists JSON Pointers (relative to a record, `*` matches any one segment) that change
 *   without meaning anything (`/modified_on`), so drift ignores them.
 * - `read` reads every record of one scope at once, `list` streams them; both fail with a
 *   `ConnectorError`. The runner uses `read`: a listing read whole as one Effect costs a fraction of
 *   the same listing collected from a Stream, and a snapshot makes thousands of them. `make` derives
 *   whichever of the two a resource does not give from the other.
 * - `produces`, when set, turns each record into a child scope (zones → zone scopes).
 */
export interface Resource<A = unknown, I = unknown, R = never> {
  readonly name: string
  readonly description: string
  readonly scope: string
  readonly schema: Schema.Schema<A, I>
  readonly identity: (record: A) => string
  readonly permissions: ReadonlyArray<string>
  readonly availability: (scope: Scope) => Availability
  readonly volatile: ReadonlyArray<string>
  readonly read: (scope: Scope) => Effect.Effect<ReadonlyArray<A>, ConnectorError, R>
  readonly list: (scope: Scope) => Stream.Stream<A, ConnectorError, R>
  readonly produces?: {
    readonly scope: string
    readonly fromRecord: (record: A) => Scope
  }
  /**
   * Non-GET requests the resource is allowed to make (e.g. a POST that is really a search), with
   * paths relative to the base URL. Hand them to the pipeline with `Connector.declaredWrites`;
   * its read-only guard rejects every other write.
   */
  readonly writes?: ReadonlyArray<{ readonly method: "POST" | "PUT" | "PATCH" | "DELETE"; readonly path: RegExp }>
}

/** A resource whose record type has been forgotten, as connectors hold them in a list. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Any<R = never> = Resource<any, any, R>

/** How a resource reads its records: at once (`read`), as a Stream (`list`), or both. */
export type Reads<A, R> =
  | {
      readonly read: (scope: Scope) => Effect.Effect<ReadonlyArray<A>, ConnectorError, R>
      readonly list?: ((scope: Scope) => Stream.Stream<A, ConnectorError, R>) | undefined
    }
  | {
      readonly read?: ((scope: Scope) => Effect.Effect<ReadonlyArray<A>, ConnectorError, R>) | undefined
      readonly list: (scope: Scope) => Stream.Stream<A, ConnectorError, R>
    }

/**
 * Declares a resource; fills the optional parts with their defaults, and derives `read` from `list`
 * (or `list` from `read`) when only one is given.
 */
export const make = <A, I, R>(
  options: Omit<Resource<A, I, R>, "availability" | "volatile" | "read" | "list"> &
    Reads<A, R> & {
      readonly availability?: (scope: Scope) => Availability
      readonly volatile?: ReadonlyArray<string>
    }
): Resource<A, I, R> => {
  const { list, read, ...rest } = options
  const base = { ...rest, availability: options.availability ?? (() => available), volatile: options.volatile ?? [] }
  if (read !== undefined) return { ...base, read, list: list ?? ((scope) => Stream.fromIterableEffect(read(scope))) }
  if (list !== undefined) {
    return { ...base, list, read: (scope) => Effect.map(Stream.runCollect(list(scope)), Chunk.toReadonlyArray) }
  }
  // Only a caller without the types can get here.
  throw new TypeError(`resource ${options.name} gives neither read nor list`)
}
