/**
 * The resource contract: everything the runtime needs to read one kind of provider object
 * (DNS records, WAF rules, …) for one scope, turn it into canonical records and compare them
 * over time. A connector is a list of these.
 */
import type { Schema, Stream } from "effect"
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
 * - `list` streams every record of one scope; it fails with a `ConnectorError`.
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

/** Declares a resource; fills the optional parts with their defaults. */
export const make = <A, I, R>(
  options: Omit<Resource<A, I, R>, "availability" | "volatile"> & {
    readonly availability?: (scope: Scope) => Availability
    readonly volatile?: ReadonlyArray<string>
  }
): Resource<A, I, R> => ({
  ...options,
  availability: options.availability ?? (() => available),
  volatile: options.volatile ?? []
})
