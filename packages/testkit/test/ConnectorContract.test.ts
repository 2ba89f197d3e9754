import { ConnectorContract } from "../src/index.js"
import * as Acme from "./fixtures/AcmeConnector.js"

// The suite as a connector runs it: one call, against a connector that honours the contract.
const acme = Acme.make()

ConnectorContract.suite({
  connector: acme.connector,
  secret: Acme.SECRET,
  harness: acme.harness,
  resources: Acme.fixtures
})
