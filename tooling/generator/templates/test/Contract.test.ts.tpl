import { ConnectorContract } from "@plumbline/testkit"
import * as __Name__Connector from "../src/__Name__Connector.js"
import * as __Name__Fake from "./__Name__Fake.js"

ConnectorContract.suite({
  connector: __Name__Connector.connector,
  secret: __Name__Fake.SECRET,
  harness: __Name__Fake.harness,
  resources: {
    items: {
      path: /^\/items$/,
      paging: { style: "page-number", pageSize: __Name__Connector.perPage },
      requiredField: "name",
      seed: (harness, count) => {
        harness.data.items = __Name__Fake.makeItems(count)
        return harness.data.items
      }
    }
  }
})
