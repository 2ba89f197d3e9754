/**
 * The three read shapes resources use, on the one client: a whole collection in one answer, one
 * object, and a page-number listing. Each maps wire items to canonical records.
 */
import type { ConnectorError, Scope } from "@plumbline/core"
import { Effect, type Schema, Stream } from "effect"
import { CloudflareClient } from "../CloudflareClient.js"
import { callContext } from "./context.js"

type Params = Readonly<Record<string, string | number | undefined>>

/** A collection returned whole (no paging): Workers scripts and routes, page rules, lists, settings; each item decoded on its own. */
export const all = <W, WI, A>(
  resource: string,
  scope: Scope.Scope,
  path: string,
  wire: Schema.Schema<W, WI>,
  toRecord: (wire: W) => A,
  params: Params = {}
): Stream.Stream<A, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const client = yield* CloudflareClient
      const items = yield* client.items(path, params, wire, callContext(resource, scope))
      return Stream.fromIterable(items.map(toRecord))
    })
  )

/** A single object (DNSSEC). */
export const one = <W, WI, A>(
  resource: string,
  scope: Scope.Scope,
  path: string,
  wire: Schema.Schema<W, WI>,
  toRecord: (wire: W) => A
): Stream.Stream<A, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const client = yield* CloudflareClient
      const answer = yield* client.get(path, {}, wire, callContext(resource, scope))
      return Stream.make(toRecord(answer.result))
    })
  )

/** A page-number listing at `perPage` (the largest the endpoint allows). */
export const pages = <W, WI, A>(
  resource: string,
  scope: Scope.Scope,
  path: string,
  options: { readonly perPage: number; readonly wire: Schema.Schema<W, WI>; readonly key: (wire: W) => string; readonly params?: Params },
  toRecord: (wire: W) => A
): Stream.Stream<A, ConnectorError.ConnectorError, CloudflareClient> =>
  Stream.unwrap(
    Effect.map(CloudflareClient, (client) =>
      Stream.map(
        client.pages(
          path,
          { perPage: options.perPage, item: options.wire, key: options.key, ...(options.params === undefined ? {} : { params: options.params }) },
          callContext(resource, scope)
        ),
        toRecord
      )
    )
  )
