import { ConnectorContract } from "@plumbline/testkit"
import * as Relay from "../examples/RelayConnector.js"
import * as RelayFake from "../examples/RelayFake.js"

// #region suite
ConnectorContract.suite({
  connector: Relay.connector,
  secret: RelayFake.SECRET,
  harness: RelayFake.harness,
  resources: {
    workspaces: {
      path: /^\/workspaces$/,
      paging: { style: "page-number", pageSize: Relay.perPage },
      requiredField: "name",
      seed: (h, count) => {
        h.data.workspaces = Array.from({ length: count }, (_, i) => ({
          id: `ws_${i + 1}`,
          name: `Workspace ${i + 1}`,
          plan: "pro",
          updated_at: "2026-01-01T00:00:00Z"
        }))
        return h.data.workspaces
      }
    },
    endpoints: {
      path: /^\/workspaces\/[^/]+\/endpoints$/,
      paging: { style: "cursor", pageSize: Relay.perPage },
      requiredField: "url",
      seed: (h, count) => {
        const endpoints = RelayFake.makeEndpoints(count)
        h.data.endpoints = new Map([["ws_1", endpoints]])
        return endpoints
      }
    },
    "audit-log": {
      path: /^\/workspaces\/[^/]+\/audit-log$/,
      paging: { style: "page-number", pageSize: Relay.perPage },
      requiredField: "action",
      seed: (h, count) => {
        const entries = Array.from({ length: count }, (_, i) => ({ id: `au_${i + 1}`, action: "endpoint.created", actor: "ada" }))
        h.data.audit = new Map([["ws_1", entries]])
        return entries
      },
      makeUnavailable: (h) => {
        for (const workspace of h.data.workspaces) workspace["plan"] = "free"
      }
    }
  }
})
// #endregion suite
