/**
 * The Cloudflare connector: its resources in scope order (connection → account → zone), the
 * connection set-up (`verify`), the zone listing for a set-up wizard, and snapshots through core's
 * runner. `connector` is the plain contract (for the runtime); `CloudflareConnector` is the service
 * an Effect app uses, with `layer` (over a `CloudflareClient`), `layerClient(options)` and
 * `layerConfig()` (reading `CLOUDFLARE_API_TOKEN`).
 */
import type { HttpClient } from "@effect/platform"
import type { ConnectorError, Credential, RequestBudget, Snapshot } from "@plumbline/core"
import { Connector, SnapshotRunner } from "@plumbline/core"
import { type ConfigError, Context, Effect, Layer } from "effect"
import * as ChangeFeed from "./ChangeFeed.js"
import * as CloudflareClient from "./CloudflareClient.js"
import * as Accounts from "./resources/Accounts.js"
import * as Dnssec from "./resources/Dnssec.js"
import * as DnsRecords from "./resources/DnsRecords.js"
import * as AccountRules from "./resources/AccountRules.js"
import * as IpAccessRules from "./resources/IpAccessRules.js"
import * as IpLists from "./resources/IpLists.js"
import * as LegacyFirewallRules from "./resources/LegacyFirewallRules.js"
import * as LegacyRateLimits from "./resources/LegacyRateLimits.js"
import * as PageRules from "./resources/PageRules.js"
import * as ManagedRulesets from "./resources/ManagedRulesets.js"
import * as RateLimitRules from "./resources/RateLimitRules.js"
import * as RedirectRules from "./resources/RedirectRules.js"
import * as SensitiveDataRules from "./resources/SensitiveDataRules.js"
import * as TransformRules from "./resources/TransformRules.js"
import * as WafCustomRules from "./resources/WafCustomRules.js"
import * as Workers from "./resources/Workers.js"
import * as Zones from "./resources/Zones.js"
import * as ZoneSettings from "./resources/ZoneSettings.js"
import * as Verify from "./Verify.js"

/** The connector package's version, recorded in snapshots. */
export const VERSION = "0.1.0"

/**
 * Version of the canonical records' shape. 2 (issue #14 §3): every documented field is kept and
 * unknown members go under `extra`, so records gain members; core's drift does not report a member
 * that appears or disappears across a version change, only values both shapes have.
 */
export const SCHEMA_VERSION = 2

/** Every resource, in scope order. */
export const resources = [
  Accounts.resource,
  Zones.resource,
  IpAccessRules.account,
  IpLists.lists,
  IpLists.items,
  Workers.scripts,
  ZoneSettings.resource,
  Dnssec.resource,
  DnsRecords.resource,
  WafCustomRules.resource,
  ManagedRulesets.resource,
  RateLimitRules.resource,
  TransformRules.resource,
  RedirectRules.resource,
  SensitiveDataRules.resource,
  AccountRules.resource,
  LegacyFirewallRules.rules,
  LegacyFirewallRules.filters,
  LegacyRateLimits.resource,
  IpAccessRules.zone,
  Workers.routes,
  Workers.customDomains,
  PageRules.resource
] as const

/** The connector contract. */
export const connector: Connector.Connector<CloudflareClient.CloudflareClient> = Connector.make({
  id: "cloudflare",
  version: VERSION,
  schemaVersion: SCHEMA_VERSION,
  credentialKind: CloudflareClient.CREDENTIAL_KIND,
  scopes: ["connection", "account", "zone"],
  resources,
  verify: Verify.verify,
  // What changed since the last snapshot: the audit log, else probes (ChangeFeed.ts).
  changes: ChangeFeed.feed
})

/** Options of a snapshot. */
export interface SnapshotOptions {
  /** Only these zones (by name or id); every zone the token can read when absent. */
  readonly zones?: ReadonlyArray<string> | undefined
  /** Only these resources (plus the accounts and zones they live under). */
  readonly resources?: ReadonlyArray<string> | undefined
  /** The id recorded in the snapshot (default `cloudflare`). */
  readonly connectionId?: string | undefined
  /** Resource reads in flight at once (default 4); the per-token request budget applies underneath. */
  readonly concurrency?: number | undefined
}

/** Every zone the token can read, across accounts, for a set-up wizard (50 per page). */
export const listZones: Effect.Effect<ReadonlyArray<Zones.Zone>, ConnectorError.ConnectorError, CloudflareClient.CloudflareClient> = Effect.map(
  Zones.read(undefined),
  (zones) => [...zones].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
)

/** Runs a snapshot. Never fails: every problem is a status in the snapshot. */
export const snapshot = (
  options: SnapshotOptions = {}
): Effect.Effect<Snapshot.Snapshot, never, CloudflareClient.CloudflareClient> => {
  const zones = options.zones === undefined ? undefined : new Set(options.zones)
  return SnapshotRunner.run(connector, {
    connectionId: options.connectionId ?? "cloudflare",
    ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
    ...(options.resources === undefined ? {} : { resources: options.resources }),
    ...(zones === undefined
      ? {}
      : { include: (scope) => scope.kind !== "zone" || zones.has(scope.id) || (scope.name !== undefined && zones.has(scope.name)) })
  })
}

/** The connector service of one connection. */
export interface Service {
  readonly connector: Connector.Connector<CloudflareClient.CloudflareClient>
  /** Verifies the token and discovers, per resource, whether it may be read. */
  readonly verify: Effect.Effect<Credential.Verification, ConnectorError.ConnectorError>
  /** Every zone the token can read. */
  readonly listZones: Effect.Effect<ReadonlyArray<Zones.Zone>, ConnectorError.ConnectorError>
  /** A snapshot of the connection. */
  readonly snapshot: (options?: SnapshotOptions) => Effect.Effect<Snapshot.Snapshot>
}

/** The Cloudflare connector of one connection. */
export class CloudflareConnector extends Context.Tag("@plumbline/cloudflare/CloudflareConnector")<CloudflareConnector, Service>() {}

/** Builds the service over the connection's client. */
export const make: Effect.Effect<Service, never, CloudflareClient.CloudflareClient> = Effect.map(
  CloudflareClient.CloudflareClient,
  (client) => ({
    connector,
    verify: Effect.provideService(Verify.verify, CloudflareClient.CloudflareClient, client),
    listZones: Effect.provideService(listZones, CloudflareClient.CloudflareClient, client),
    snapshot: (options) => Effect.provideService(snapshot(options), CloudflareClient.CloudflareClient, client)
  })
)

/** The service over a `CloudflareClient` the app provides. */
export const layer: Layer.Layer<CloudflareConnector, never, CloudflareClient.CloudflareClient> = Layer.effect(CloudflareConnector, make)

/** The service and its client, for a token the app holds. */
export const layerClient = (
  options: CloudflareClient.Options
): Layer.Layer<CloudflareConnector, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  layer.pipe(Layer.provide(CloudflareClient.layer(options)))

/** The service and its client from configuration (`CLOUDFLARE_API_TOKEN`, optional `CLOUDFLARE_BASE_URL`, `CLOUDFLARE_ACCOUNT_ID`). */
export const layerConfig = (
  config?: Parameters<typeof CloudflareClient.layerConfig>[0]
): Layer.Layer<CloudflareConnector, ConfigError.ConfigError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  layer.pipe(Layer.provide(CloudflareClient.layerConfig(config)))
