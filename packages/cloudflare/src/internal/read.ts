/**
 * The three read shapes resources use, on the one client: a whole collection in one answer, one
 * object, and a page-number listing. Each maps wire items to canonical records, read whole (a
 * resource's `read`; `Resource.make` derives its Stream).
 */
import type { ConnectorError, Scope } from "@plumbline/core"
import { Effect, type Schema } from "effect"
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
): Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.flatMap(CloudflareClient, (client) =>
    Effect.map(client.items(path, params, wire, callContext(resource, scope)), (items) => items.map(toRecord))
  )

/** A single object (DNSSEC). */
export const one = <W, WI, A>(
  resource: string,
  scope: Scope.Scope,
  path: string,
  wire: Schema.Schema<W, WI>,
  toRecord: (wire: W) => A
): Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.flatMap(CloudflareClient, (client) =>
    Effect.map(client.get(path, {}, wire, callContext(resource, scope)), (answer) => [toRecord(answer.result)])
  )

/** A page-number listing at `perPage` (the largest the endpoint allows). */
export const pages = <W, WI, A>(
  resource: string,
  scope: Scope.Scope,
  path: string,
  options: { readonly perPage: number; readonly wire: Schema.Schema<W, WI>; readonly key: (wire: W) => string; readonly params?: Params },
  toRecord: (wire: W) => A
): Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError, CloudflareClient> =>
  Effect.flatMap(CloudflareClient, (client) =>
    Effect.map(
      client.readPages(
        path,
        { perPage: options.perPage, item: options.wire, key: options.key, ...(options.params === undefined ? {} : { params: options.params }) },
        callContext(resource, scope)
      ),
      (items) => items.map(toRecord)
    )
  )
