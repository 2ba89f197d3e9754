/**
 * A fake of the __Title__ API for tests: in-memory data served through the testkit's
 * `FakeProvider`, and the connector's services over it.
 */
import { Credential, RequestBudget } from "@plumbline/core"
import { type ConnectorContract, FakeProvider, Paging } from "@plumbline/testkit"
import { Layer } from "effect"
import * as __Name__Connector from "../src/__Name__Connector.js"

export const SECRET = "__name__-test-token-0123456789"
export const BASE_URL = "https://api.__name__.test/v1"

/** What the fake provider holds. */
export interface Data {
  items: Array<Record<string, unknown>>
}

/** The fake provider, its data and the connector's services over it. */
export interface Harness extends ConnectorContract.Harness<__Name__Connector.__Name__Http> {
  readonly data: Data
}

/** `count` distinct provider items. */
export const makeItems = (count: number): Array<Record<string, unknown>> =>
  Array.from({ length: count }, (_, i) => ({
    id: `item-${i + 1}`,
    name: `Item ${i + 1}`,
    enabled: i % 2 === 0,
    updated_at: "2026-01-01T00:00:00Z"
  }))

/** A fresh fake with a baseline data set. */
export const harness = (): Harness => {
  const data: Data = { items: makeItems(2) }
  const provider = FakeProvider.make({
    baseUrl: BASE_URL,
    routes: [
      FakeProvider.route("GET", "/token", () => FakeProvider.json(200, { id: "tok_1" })),
      FakeProvider.route("GET", "/items", ({ query }) => {
        const page = Paging.byPageNumber(data.items, query, { defaultPerPage: 20, maxPerPage: 100 })
        return FakeProvider.json(200, { data: page.items, meta: { total_pages: page.totalPages } })
      })
    ]
  })
  const layer = __Name__Connector.layer({ credential: Credential.make("__name__-token", SECRET), baseUrl: BASE_URL }).pipe(
    Layer.provide(Layer.merge(provider.layer, RequestBudget.layer))
  )
  return { data, provider, layer }
}
