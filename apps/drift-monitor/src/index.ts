/**
 * @plumbline/drift-monitor — the app: scheduler, snapshot jobs, webhooks and the product API.
 * The modules are exported for the CLI and the dashboard's tests (`Api` gives a typed
 * `HttpApiClient`); the app itself starts from `bin/main.ts` or `bin/demo.ts`.
 */
export * as Api from "./Api.js"
export * as Config from "./Config.js"
export * as ConnectSessions from "./ConnectSessions.js"
export * as Events from "./Events.js"
export * as Main from "./Main.js"
export * as Scheduler from "./Scheduler.js"
export * as SnapshotJob from "./SnapshotJob.js"
export * as Webhooks from "./Webhooks.js"
export * as WebhookTransport from "./WebhookTransport.js"
export * as Wiring from "./Wiring.js"
