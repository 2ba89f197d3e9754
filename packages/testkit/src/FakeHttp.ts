/**
 * The fake `HttpClient` of `@plumbline/core/testing`, re-exported as part of the kit. One copy lives
 * in core because core's own tests need it and cannot depend on testkit (testkit depends on core).
 */
export * from "@plumbline/core/testing/FakeHttp"
