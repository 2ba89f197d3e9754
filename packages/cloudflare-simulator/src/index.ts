/**
 * A faithful, stateful simulator of the part of Cloudflare's v4 API that Plumbline reads: one
 * request handler over in-memory state, served as msw handlers or a standalone HTTP server.
 */
export * as AuditLog from "./AuditLog.js"
export * as Faults from "./Faults.js"
export * as Permissions from "./Permissions.js"
export * as Plans from "./Plans.js"
export * as Scenario from "./Scenario.js"
export * as Simulator from "./Simulator.js"
export * as State from "./State.js"
export { mswHandlers, DEFAULT_BASE_URL } from "./Msw.js"
export { serve } from "./Server.js"
export type { RunningServer, ServeOptions } from "./Server.js"
