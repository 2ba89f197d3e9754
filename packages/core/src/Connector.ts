/**
 * The connector contract: an id, the credential kind it takes, the scope kinds it defines and its
 * resources, plus a verification step for a fresh credential. The runtime (snapshot runner, drift,
 * checks) needs nothing else to work with a provider.
 */
import type { Effect } from "effect"
import type { ChangeFeed } from "./ChangeFeed.js"
import type { ConnectorError } from "./ConnectorError.js"
import type { Verification } from "./Credential.js"
import type * as Resource from "./Resource.js"
import * as Scope from "./Scope.js"

/** A connector, with `R` the services its resources need (usually its HTTP client). */
export interface Connector<R = never> {
  readonly id: string
  /** The connector package's version, recorded in every snapshot. */
  readonly version: string
  /** Version of the canonical records' shape; bump it when a mapping changes meaning. */
  readonly schemaVersion: number
  readonly credentialKind: string
  /** Scope kinds, the root (`connection`) first, each produced by a resource of an earlier kind. */
  readonly scopes: ReadonlyArray<string>
  readonly resources: ReadonlyArray<Resource.Any<R>>
  /** Checks the credential and discovers what it may read. */
  readonly verify: Effect.Effect<Verification, ConnectorError, R>
  /** What may have changed since the last snapshot; without it every run reads everything. */
  readonly changes?: ChangeFeed<R>
}

/** A connector contract that does not hold together; a programming error, raised when declared. */
export class InvalidConnector extends Error {
  override readonly name = "InvalidConnector"
}

/**
 * Declares a connector and checks its contract: unique resource names, every scope kind produced
 * by some resource (the root excepted), every resource living in a declared scope.
 */
export const make = <R>(connector: Connector<R>): Connector<R> => {
  const problems: Array<string> = []
  if (connector.scopes[0] !== Scope.rootKind) problems.push(`the first scope kind must be "${Scope.rootKind}"`)
  const names = new Set<string>()
  for (const resource of connector.resources) {
    if (names.has(resource.name)) problems.push(`resource "${resource.name}" is declared twice`)
    names.add(resource.name)
    if (!connector.scopes.includes(resource.scope)) {
      problems.push(`resource "${resource.name}" lives in undeclared scope "${resource.scope}"`)
    }
    if (resource.produces !== undefined && !connector.scopes.includes(resource.produces.scope)) {
      problems.push(`resource "${resource.name}" produces undeclared scope "${resource.produces.scope}"`)
    }
  }
  for (const kind of connector.scopes.slice(1)) {
    if (!connector.resources.some((r) => r.produces?.scope === kind)) problems.push(`no resource produces scope "${kind}"`)
  }
  if (problems.length > 0) {
    throw new InvalidConnector(`Connector "${connector.id}" is invalid: ${problems.join("; ")}`)
  }
  return connector
}

/** The resources that live in scopes of `kind`, in declaration order. */
export const resourcesIn = <R>(connector: Connector<R>, kind: string): ReadonlyArray<Resource.Any<R>> =>
  connector.resources.filter((r) => r.scope === kind)

/** Each resource's volatile fields, by resource name, as drift takes them. */
export const volatileFields = <R>(connector: Connector<R>): ReadonlyMap<string, ReadonlyArray<string>> =>
  new Map(connector.resources.map((r) => [r.name, r.volatile]))

/** Looks a resource up by name. */
export const findResource = <R>(connector: Connector<R>, name: string): Resource.Any<R> | undefined =>
  connector.resources.find((r) => r.name === name)

/**
 * Every write the connector's resources declare, to pass to `HttpPipeline.make({ writes })`: the
 * pipeline's read-only guard refuses any other non-GET request.
 */
export const declaredWrites = <R>(connector: Connector<R>): ReadonlyArray<NonNullable<Resource.Any<R>["writes"]>[number]> =>
  connector.resources.flatMap((r) => r.writes ?? [])
