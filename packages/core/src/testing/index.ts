/**
 * @plumbline/core/testing — test doubles for code built on core, kept apart from the main entry
 * point so that an app never bundles them: a fake `HttpClient` driven by the TestClock. Connector
 * tests usually reach it through `@plumbline/testkit`, which re-exports it with the rest of its kit.
 */
export * as FakeHttp from "./FakeHttp.js"
