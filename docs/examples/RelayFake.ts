/**
 * A fake of the Relay API for the example's tests: in-memory workspaces, endpoints and audit
 * entries served through the testkit's `FakeProvider`, both as a fake `HttpClient` (TestClock-driven)
 * and as msw handlers (wire-level).
 */
import { Credential, RequestBudget } from "@plumbline/core"
import { type ConnectorContract, FakeProvider, Paging } from "@plumbline/testkit"
import { Layer } from "effect"
import * as Relay from "./RelayConnector.js"

export const SECRET = "relay_pat_0123456789abcdef"
export const BASE_URL = "https://api.relay.test/v2"

// #region fake
/** What the fake Relay holds: plain objects in the provider's wire shape. */
export interface RelayData {
  workspaces: Array<Record<string, unknown>>
  endpoints: Map<string, Array<Record<string, unknown>>>
  audit: Map<string, Array<Record<string, unknown>>>
}

/** Answers like Relay: the same envelopes, page sizes and error bodies. */
export const fakeRelay = (data: RelayData): FakeProvider.FakeProvider =>
  FakeProvider.make({
    baseUrl: BASE_URL,
    routes: [
      FakeProvider.route("GET", "/tokens/self", () => FakeProvider.json(200, { id: "tok_1", status: "active" })),
      FakeProvider.route("GET", "/workspaces", ({ query }) => {
        const page = Paging.byPageNumber(data.workspaces, query, { defaultPerPage: 20, maxPerPage: 100 })
        return FakeProvider.json(200, { data: page.items, meta: { page: page.page, total_pages: page.totalPages } })
      }),
      FakeProvider.route("GET", "/workspaces/:workspace/endpoints", ({ params, query }) => {
        const page = Paging.byCursor(data.endpoints.get(params["workspace"] ?? "") ?? [], query, { defaultLimit: 20 })
        return FakeProvider.json(200, { data: page.items, next_cursor: page.next ?? null })
      }),
      FakeProvider.route("GET", "/workspaces/:workspace/audit-log", ({ params, query }) => {
        const workspace = data.workspaces.find((w) => w["id"] === params["workspace"])
        if (workspace?.["plan"] !== "pro") {
          return FakeProvider.json(403, { errors: [{ code: 4030, message: "The audit log is a Pro feature" }] })
        }
        const page = Paging.byPageNumber(data.audit.get(params["workspace"] ?? "") ?? [], query, { defaultPerPage: 20, maxPerPage: 100 })
        return FakeProvider.json(200, { data: page.items, meta: { page: page.page, total_pages: page.totalPages } })
      })
    ]
  })
// #endregion fake

/** `count` endpoints, half of them signed. */
export const makeEndpoints = (count: number): Array<Record<string, unknown>> =>
  Array.from({ length: count }, (_, i) => ({
    id: `ep_${i + 1}`,
    url: `https://hooks.example.test/${i + 1}`,
    events: ["push", "deploy"],
    signing: i % 2 === 0 ? { algorithm: "hmac-sha256" } : null,
    last_delivery_at: "2026-01-01T00:00:00Z"
  }))

/** A fresh baseline: one Pro and one Free workspace, a few endpoints and audit entries. */
export const baseline = (): RelayData => ({
  workspaces: [
    { id: "ws_1", name: "Production", plan: "pro", updated_at: "2026-01-01T00:00:00Z" },
    { id: "ws_2", name: "Sandbox", plan: "free", updated_at: "2026-01-01T00:00:00Z" }
  ],
  endpoints: new Map([["ws_1", makeEndpoints(2)]]),
  audit: new Map([["ws_1", [{ id: "au_1", action: "endpoint.created", actor: "ada" }]]])
})

// #region harness
/** The connector's services over a fresh fake Relay: what the contract suite runs against. */
export interface RelayHarness extends ConnectorContract.Harness<Relay.RelayHttp> {
  readonly data: RelayData
}

export const harness = (): RelayHarness => {
  const data = baseline()
  const provider = fakeRelay(data)
  const layer = Relay.layer({ credential: Credential.make("relay-api-token", SECRET), baseUrl: BASE_URL }).pipe(
    Layer.provide(Layer.merge(provider.layer, RequestBudget.layer))
  )
  return { data, provider, layer }
}
// #endregion harness
