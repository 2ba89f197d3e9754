/**
 * The account's custom lists (`GET /accounts/{id}/rules/lists`: IP lists such as `bad_actors`, and
 * hostname, ASN and redirect lists) and their items (`GET …/lists/{list_id}/items`, cursor-paged
 * through `result_info.cursors.after`, 500 per page). The list listing is a shared read, so reading
 * both resources costs it once. Items are keyed `list_id/item_id` and carry the list's name.
 */
import { type ConnectorError, ItemProblem, Json, Resource, type Scope } from "@plumbline/core"
import { Effect, Schema } from "effect"
import { CloudflareClient } from "../CloudflareClient.js"
import { callContext } from "../internal/context.js"
import { compact, Extra, extraOf, openStruct, orUndefined } from "../internal/records.js"
import { accountLists, LIST_ITEMS_PER_PAGE, ListWire } from "../internal/shared.js"
import * as Permissions from "../Permissions.js"

/** The canonical list. */
export const List = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: Schema.optional(Schema.String),
  kind: Schema.String,
  num_items: Schema.optional(Schema.Number),
  num_referencing_filters: Schema.optional(Schema.Number),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type List = typeof List.Type

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/**
 * A list item as Cloudflare sends it: exactly one of `ip`, `hostname`, `asn`, `redirect`; members it
 * does not name are kept (`extra`).
 */
export const ItemWire = openStruct({
  id: Schema.String,
  ip: opt(Schema.String),
  hostname: opt(Json.Json),
  asn: opt(Schema.Number),
  redirect: opt(Json.Json),
  comment: opt(Schema.String),
  created_on: opt(Schema.String),
  modified_on: opt(Schema.String)
})

/** The canonical list item. */
export const Item = Schema.Struct({
  id: Schema.String,
  list_id: Schema.String,
  list_name: Schema.String,
  ip: Schema.optional(Schema.String),
  hostname: Schema.optional(Json.Json),
  asn: Schema.optional(Schema.Number),
  redirect: Schema.optional(Json.Json),
  comment: Schema.optional(Schema.String),
  created_on: Schema.optional(Schema.String),
  modified_on: Schema.optional(Schema.String),
  extra: Extra
})
export type Item = typeof Item.Type

const LISTS = "ip_lists"
const ITEMS = "ip_list_items"

/** The lists resource. */
export const lists = Resource.make({
  name: LISTS,
  description: "Custom lists of the account (IP, hostname, ASN, redirect)",
  scope: "account",
  schema: List,
  identity: (l: List) => l.id,
  permissions: [Permissions.forResource(LISTS)],
  volatile: ["/modified_on"],
  read: (scope) =>
    Effect.map(accountLists(LISTS, scope), (all) =>
      all.map(
        (w): List =>
            compact({
              id: w.id,
              name: w.name,
              description: orUndefined(w.description),
              kind: w.kind,
              num_items: orUndefined(w.num_items),
              num_referencing_filters: orUndefined(w.num_referencing_filters),
              created_on: orUndefined(w.created_on),
              modified_on: orUndefined(w.modified_on),
              extra: extraOf(w, ListWire.fields)
            })
      )
    )
})

/**
 * Keeps the first item of each id and reports every later one as a problem: real lists have been
 * seen to repeat an item id, and one repeat must not cost the whole resource (issue #14).
 */
const firstOfEachId = (items: ReadonlyArray<typeof ItemWire.Type>) =>
  Effect.suspend(() => {
    const seen = new Set<string>()
    const problems: Array<ItemProblem.ItemProblem> = []
    const kept = items.filter((w, at) => {
      if (!seen.has(w.id)) {
        seen.add(w.id)
        return true
      }
      problems.push(new ItemProblem.ItemProblem({ index: at, id: w.id, path: "/id", message: "duplicate id: the first item with this id is kept" }))
      return false
    })
    return Effect.as(Effect.forEach(problems, ItemProblem.report, { discard: true }), kept)
  })

const itemsOf = (scope: Scope.Scope, list: { readonly id: string; readonly name: string }) =>
  Effect.flatMap(CloudflareClient, (client) =>
    client
      .readCursor(
        `/accounts/${scope.id}/rules/lists/${list.id}/items`,
        { style: "cursors.after", perPage: LIST_ITEMS_PER_PAGE, item: ItemWire },
        callContext(ITEMS, scope)
      )
      .pipe(
        Effect.flatMap(firstOfEachId),
        Effect.map((wires) =>
          wires.map(
            (w): Item =>
              compact({
                id: w.id,
                list_id: list.id,
                list_name: list.name,
                ip: orUndefined(w.ip),
                hostname: orUndefined(w.hostname),
                asn: orUndefined(w.asn),
                redirect: orUndefined(w.redirect),
                comment: orUndefined(w.comment),
                created_on: orUndefined(w.created_on),
                modified_on: orUndefined(w.modified_on),
                extra: extraOf(w, ItemWire.fields)
              })
          )
        )
      )
  )

/** The items resource: every item of every list; empty lists cost no request. */
export const items = Resource.make({
  name: ITEMS,
  description: "Items of the account's custom lists",
  scope: "account",
  schema: Item,
  identity: (i: Item) => `${i.list_id}/${i.id}`,
  permissions: [Permissions.forResource(ITEMS)],
  volatile: ["/modified_on"],
  read: (scope): Effect.Effect<ReadonlyArray<Item>, ConnectorError.ConnectorError, CloudflareClient> =>
    Effect.flatMap(accountLists(ITEMS, scope), (all) =>
      Effect.map(
        Effect.forEach(
          all.filter((l) => l.num_items !== 0),
          (list) => itemsOf(scope, list),
          { concurrency: 2 }
        ),
        (perList) => perList.flat()
      )
    )
})
