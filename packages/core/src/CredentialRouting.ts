/**
 * Snapshots of a connection that holds several credentials (issue #13: a customer with many zones
 * may paste one token per zone). Each resource of the connector is wrapped so that every read goes
 * through a credential that can see its scope:
 *
 * - a resource that produces scopes (accounts, zones) is read with every credential that can see
 *   its own scope, and the union of the records is kept, remembering which credentials returned
 *   each produced scope;
 * - any other resource is read with the first of its scope's credentials that works: a refused or
 *   forbidden one hands over to the next (so an account-level read uses any credential that can
 *   read the account).
 *
 * A credential the provider refuses is left out for the rest of the run and reported (`refused`).
 * The scopes only it — or an expired credential — could see are not produced; each is reported as an
 * unreadable item of the listing that would have held it (so drift takes the listing as partial and
 * never reports them as deleted), and a read that has no credential left fails with a
 * `CredentialInvalid` naming the refused one, which the runner records as `failed` and goes on. Only
 * when every credential is refused does the refusal stop the run, exactly as with one credential.
 * With a single active credential and nothing expired, the connector is used as it is.
 */
import type { Context } from "effect"
import { Effect, Either } from "effect"
import * as Connector from "./Connector.js"
import { type ConnectorError, CredentialInvalid } from "./ConnectorError.js"
import * as ItemProblem from "./ItemProblem.js"
import * as Resource from "./Resource.js"
import type * as Scope from "./Scope.js"

/** A scope a credential was last seen to read: its key and, when known, the key of its parent. */
export interface KnownScope {
  readonly key: string
  readonly parent?: string | undefined
}

/** One credential of the connection, with the services its reads need (its HTTP client). */
export interface RoutedCredential<R> {
  /** The store's id of the credential; refusals name it. */
  readonly id: string
  readonly context: Context.Context<R>
  /** `false`: expired — not used, but the scopes it could see are reported as unreadable. */
  readonly active: boolean
  /** The scopes it was last seen to read. */
  readonly scopes?: ReadonlyArray<KnownScope> | undefined
}

/** A routed connector and what the run learnt about its credentials. */
export interface Routing {
  readonly connector: Connector.Connector<never>
  /** Credentials refused during the run, by id, with the provider's refusal. */
  readonly refused: Effect.Effect<ReadonlyMap<string, CredentialInvalid>>
  /** The scope keys each credential produced during the run (the zones it can see now). */
  readonly seen: Effect.Effect<ReadonlyMap<string, ReadonlyArray<string>>>
}

/** Routes the connector's reads over `credentials` (in order of preference). */
export const make = <R>(
  connector: Connector.Connector<R>,
  credentials: ReadonlyArray<RoutedCredential<R>>
): Routing => {
  const refused = new Map<string, CredentialInvalid>()
  const owners = new Map<string, Array<string>>()
  const seen = new Map<string, Set<string>>()
  const byId = new Map(credentials.map((c) => [c.id, c]))
  const report = {
    refused: Effect.sync((): ReadonlyMap<string, CredentialInvalid> => new Map(refused)),
    seen: Effect.sync((): ReadonlyMap<string, ReadonlyArray<string>> => new Map([...seen].map(([id, keys]) => [id, [...keys].sort()])))
  }

  // The feed reads through one credential; a routed run reads everything, so it has none.
  const { changes: _feed, ...contract } = connector
  const [only] = credentials
  if (credentials.length === 1 && only !== undefined && only.active) {
    // One credential: the connector as it is; its refusal stops the run as it always did.
    return {
      connector: Connector.make({
        ...contract,
        verify: Effect.provide(connector.verify, only.context),
        resources: connector.resources.map(({ list: _list, read, ...r }) =>
          Resource.make({ ...r, read: (scope: Scope.Scope) => Effect.provide(read(scope), only.context) })
        )
      }),
      ...report
    }
  }

  const usable = (c: RoutedCredential<R>) => c.active && !refused.has(c.id)
  /** The credentials that can see `scope`: those that produced it (or its parent), else all. */
  const candidates = (scope: Scope.Scope): ReadonlyArray<RoutedCredential<R>> => {
    const owned = owners.get(scope.key) ?? (scope.parent === undefined ? undefined : owners.get(scope.parent))
    const ids = owned ?? credentials.map((c) => c.id)
    return ids.flatMap((id) => {
      const c = byId.get(id)
      return c !== undefined && usable(c) ? [c] : []
    })
  }
  /** Why nothing could read `scope`: the refusal of one of its credentials, total once none is left. */
  const refusalFor = (scope: Scope.Scope): CredentialInvalid => {
    const owned = owners.get(scope.key) ?? (scope.parent === undefined ? undefined : owners.get(scope.parent)) ?? credentials.map((c) => c.id)
    const id = owned.find((o) => refused.has(o)) ?? [...refused.keys()][0]
    const error = id === undefined ? undefined : refused.get(id)
    const base = error ?? new CredentialInvalid({ reason: "invalid" })
    if (!credentials.some(usable)) return new CredentialInvalid({ ...base, credential: undefined })
    return new CredentialInvalid({ ...base, credential: id ?? "none" })
  }
  const readWith = <A>(c: RoutedCredential<R>, reading: Effect.Effect<ReadonlyArray<A>, ConnectorError, R>) =>
    Effect.either(Effect.provide(reading, c.context))

  const wrap = ({ list: _list, read: readIn, ...resource }: Resource.Any<R>): Resource.Any<never> => {
    const produces = resource.produces
    if (produces !== undefined) {
      const read = (scope: Scope.Scope) =>
        Effect.gen(function* () {
          const items: Array<unknown> = []
          const keys = new Set<string>()
          let failure: ConnectorError | undefined
          let readOne = false
          for (const c of candidates(scope)) {
            const outcome = yield* readWith(c, readIn(scope))
            if (Either.isLeft(outcome)) {
              if (outcome.left._tag === "CredentialInvalid") refused.set(c.id, outcome.left)
              else failure ??= outcome.left
              continue
            }
            readOne = true
            for (const item of outcome.right) {
              const child = `${produces.scope}:${produces.fromRecord(item).id}`
              const list = owners.get(child) ?? []
              if (!list.includes(c.id)) owners.set(child, [...list, c.id])
              seen.set(c.id, (seen.get(c.id) ?? new Set()).add(child))
              const key = resource.identity(item)
              if (!keys.has(key)) {
                keys.add(key)
                items.push(item)
              }
            }
          }
          if (!readOne) return yield* Effect.fail(failure ?? refusalFor(scope))
          // Scopes only a refused or expired credential could see: unreadable now, not gone.
          const missing = new Set<string>()
          for (const c of credentials) {
            if (usable(c)) continue
            for (const known of c.scopes ?? []) {
              const underThis = known.parent === undefined || known.parent === scope.key
              if (underThis && known.key.startsWith(`${produces.scope}:`) && !owners.has(known.key)) missing.add(known.key)
            }
          }
          for (const key of [...missing].sort()) {
            yield* ItemProblem.report(
              new ItemProblem.ItemProblem({
                index: -1,
                id: key.slice(produces.scope.length + 1),
                path: "",
                message: "not read: only a refused or expired credential can see it"
              })
            )
          }
          return items
        })
      return Resource.make({ ...resource, read })
    }
    const read = (scope: Scope.Scope) =>
      Effect.gen(function* () {
        const available = candidates(scope)
        let failure: ConnectorError | undefined
        for (const [index, c] of available.entries()) {
          const outcome = yield* readWith(c, readIn(scope))
          if (Either.isRight(outcome)) return outcome.right
          const error = outcome.left
          if (error._tag === "CredentialInvalid") {
            refused.set(c.id, error)
            continue
          }
          // Forbidden with this credential: another that can see the scope may be allowed.
          if (error._tag === "PermissionMissing" && index < available.length - 1) {
            failure ??= error
            continue
          }
          return yield* Effect.fail(error)
        }
        return yield* Effect.fail(failure ?? refusalFor(scope))
      })
    return Resource.make({ ...resource, read })
  }

  return {
    connector: Connector.make({
      ...contract,
      verify: Effect.flatMap(
        Effect.sync(() => credentials.find(usable)),
        (c) => (c === undefined ? Effect.fail(new CredentialInvalid({ reason: "invalid" })) : Effect.provide(connector.verify, c.context))
      ),
      resources: connector.resources.map(wrap)
    }),
    ...report
  }
}
