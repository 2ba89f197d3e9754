/**
 * @plumbline/testkit — what a connector's tests need: the connector contract suite, a fake provider
 * with fault injection, fake HttpClients driven by the TestClock, a scoped msw server and test layers.
 */
export * as ConnectorContract from "./ConnectorContract.js"
export * as FakeHttp from "./FakeHttp.js"
export * as FakeProvider from "./FakeProvider.js"
export * as MswServer from "./MswServer.js"
export * as Paging from "./Paging.js"
export * as TestLayers from "./TestLayers.js"
