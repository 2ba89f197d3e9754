/**
 * @plumbline/cloudflare — Plumbline's read-only Cloudflare connector: the HTTP client, the resources
 * (accounts, zones, settings, DNSSEC, DNS, rulesets, legacy security products, IP access rules,
 * lists, Workers, page rules), connection set-up, the Effect service and a Promise facade.
 */
export * as CloudflareClient from "./CloudflareClient.js"
export * as CloudflareConnector from "./CloudflareConnector.js"
export * as Permissions from "./Permissions.js"
export * as Plans from "./Plans.js"
export * as Verify from "./Verify.js"
export * as Accounts from "./resources/Accounts.js"
export * as Dnssec from "./resources/Dnssec.js"
export * as DnsRecords from "./resources/DnsRecords.js"
export * as IpAccessRules from "./resources/IpAccessRules.js"
export * as IpLists from "./resources/IpLists.js"
export * as LegacyFirewallRules from "./resources/LegacyFirewallRules.js"
export * as LegacyRateLimits from "./resources/LegacyRateLimits.js"
export * as PageRules from "./resources/PageRules.js"
export * as Rulesets from "./resources/Rulesets.js"
export * as Workers from "./resources/Workers.js"
export * as Zones from "./resources/Zones.js"
export * as ZoneSettings from "./resources/ZoneSettings.js"
export { createCloudflareConnector } from "./Facade.js"
export type { CloudflareConnectorFacade, FacadeOptions } from "./Facade.js"
export { isConnectorError } from "@plumbline/core/ConnectorError"
