/**
 * @plumbline/core — the connector runtime: the connector and resource contracts, credentials and
 * typed errors, the provider HTTP pipeline (retry, request budget, pagination), the snapshot runner
 * and the drift engine.
 */
export * as AnnouncedQuota from "./AnnouncedQuota.js"
export * as ChangeFeed from "./ChangeFeed.js"
export * as Check from "./Check.js"
export * as Connector from "./Connector.js"
export * as ConnectorError from "./ConnectorError.js"
export * as Credential from "./Credential.js"
export * as CredentialRouting from "./CredentialRouting.js"
export * as Drift from "./Drift.js"
export * as HttpPipeline from "./HttpPipeline.js"
export * as ItemProblem from "./ItemProblem.js"
export * as Json from "./Json.js"
export * as Pagination from "./Pagination.js"
export * as Progress from "./Progress.js"
export * as RequestBudget from "./RequestBudget.js"
export * as Resource from "./Resource.js"
export * as RetryPolicy from "./RetryPolicy.js"
export * as Scope from "./Scope.js"
export * as Snapshot from "./Snapshot.js"
export * as SnapshotRunner from "./SnapshotRunner.js"
export * as Store from "./Store.js"
