/**
 * A posture check over the Relay example: every webhook endpoint signs its deliveries.
 */
import { Check, type Snapshot } from "@plumbline/core"
import { Schema } from "effect"
import { Endpoint } from "./RelayConnector.js"

// #region check
const decodeEndpoint = Schema.decodeUnknownSync(Endpoint)

/** Every endpoint of a workspace signs its deliveries. */
export const endpointsSigned: Check.Check = {
  id: "relay.endpoints-signed",
  title: "Webhook endpoints sign their deliveries",
  description: "Unsigned deliveries let anyone who learns an endpoint URL forge events.",
  severity: "high",
  scope: "workspace",
  resources: ["endpoints"],
  permissions: ["endpoints:read"],
  evaluate: ({ records }) => {
    const unsigned = records("endpoints")
      .map((record: Snapshot.SnapshotRecord) => decodeEndpoint(record.value))
      .filter((endpoint) => !endpoint.signed)
      .map((endpoint) => endpoint.url)
    return unsigned.length === 0
      ? new Check.Pass({ evidence: { endpoints: records("endpoints").length } })
      : new Check.Fail({
          evidence: { unsigned },
          remediation: new Check.Remediation({ summary: `Turn on signing for ${unsigned.join(", ")}` })
        })
  }
}
// #endregion check
