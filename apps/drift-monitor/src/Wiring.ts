/**
 * Which connector, checks and store the app uses — the one place that names them. The rest of the
 * app sees only the `Provider` service below and core's `Store` port.
 *
 * - Connector: `@plumbline/cloudflare`, one `CloudflareClient` per credential over the app's
 *   `HttpClient` and the process-wide `RequestBudget` (so every snapshot of one token shares its
 *   budget).
 * - Checks: the Cloudflare connector's posture checks (`Checks.checks`).
 * - Store: `@plumbline/store-sql` on the app's SQLite file, sharing the app's `SqlClient` (see `Db`),
 *   so the app's own tables (webhooks, deliveries, connection state) live in the same database and
 *   a snapshot commit and the events it produces are written in one transaction.
 */
import type { HttpClient } from "@effect/platform"
import type * as SqlClient from "@effect/sql/SqlClient"
import { Checks, CloudflareClient, CloudflareConnector, Verify, Zones } from "@plumbline/cloudflare"
import type { ChangeFeed, Check, ConnectorError, Credential, Drift, RequestBudget, SnapshotRunner } from "@plumbline/core"
import { Connector, ConnectorError as Errors, CredentialRouting, Snapshot, Store } from "@plumbline/core"
import { SnapshotRunner as Runner } from "@plumbline/core"
import { Keyring, SqlStore } from "@plumbline/store-sql"
import { Context, Effect, Either, Layer, Redacted, Schema } from "effect"

/** A zone (or other top-level scope) a token can see, for the connection wizard. */
export interface DiscoveredZone {
  readonly id: string
  readonly name: string
  readonly status: string
  readonly plan: string | undefined
  readonly account: string | undefined
}

/** What verifying a pasted token found. */
export interface Discovery {
  readonly verification: Credential.Verification
  readonly zones: ReadonlyArray<DiscoveredZone>
}

/** One of a connection's credentials, as a snapshot uses it (issue #13: several per connection). */
export interface SnapshotCredential {
  /** The store's id of the credential. */
  readonly id: string
  readonly credential: Credential.Credential
  /** `false`: expired — not used; the zones it could see are reported as unreadable, not gone. */
  readonly active: boolean
  /** The zones it was last seen to read, with the key of their parent scope when known. */
  readonly zones: ReadonlyArray<{ readonly id: string; readonly parent?: string | undefined }>
}

/** A snapshot and what it learnt about the connection's credentials. */
export interface SnapshotRun {
  readonly snapshot: Snapshot.Snapshot
  /** The credentials the provider refused during the run, by id (only some: the run went on). */
  readonly refused: ReadonlyMap<string, ConnectorError.CredentialInvalid>
  /** The zone ids each credential saw. */
  readonly zonesSeen: ReadonlyMap<string, ReadonlyArray<string>>
}

/**
 * A provider's change feed for one credential (issue #15): the connector's `ChangeFeed` with its
 * services provided. `SnapshotJob` calls `changes` before every run (see `ChangeDetection`).
 */
export interface FeedService {
  readonly modes: ReadonlyArray<ChangeFeed.FeedMode>
  readonly permissionFor: (mode: ChangeFeed.FeedMode) => string | undefined
  readonly changes: (
    credential: Credential.Credential,
    input: Parameters<ChangeFeed.ChangeFeed["changes"]>[0]
  ) => Effect.Effect<ChangeFeed.Changes, ChangeFeed.FeedUnavailable | ConnectorError.ConnectorError>
  /** Resources `mode` never marks: re-read on the connection's slower cadence. */
  readonly unmarked: (mode: ChangeFeed.FeedMode) => ReadonlyArray<string>
}

/** What the app needs of a provider: verify a token, take a snapshot, and the checks to run. */
export interface ProviderService {
  readonly connectorId: string
  readonly credentialKind: string
  /** The scope kind a connection's `zones` setting filters on. */
  readonly zoneKind: string
  /** Verifies a token (failing with `CredentialInvalid` unless it is active) and lists its zones. */
  readonly discover: (credential: Credential.Credential) => Effect.Effect<Discovery, ConnectorError.ConnectorError>
  /** A snapshot read through the connection's credentials, each zone through one that can see it. */
  readonly snapshot: (credentials: ReadonlyArray<SnapshotCredential>, options: SnapshotRunner.RunOptions) => Effect.Effect<SnapshotRun>
  /** The zones a snapshot saw (its zone-listing resource), monitored or not. */
  readonly zonesOf: (snapshot: Snapshot.Snapshot) => ReadonlyArray<DiscoveredZone>
  readonly diffOptions: Drift.DiffOptions
  readonly checks: ReadonlyArray<Check.Check>
  /** The connector's change feed; absent: every run reads everything (mode `full`). */
  readonly feed?: FeedService | undefined
  /**
   * One cheap request asking whether the provider still accepts a credential: fails with
   * `CredentialInvalid` when it does not. Incremental runs use it on credentials they read nothing
   * through; absent: such a credential is checked by the next full read only.
   */
  readonly verify?: ((credential: Credential.Credential) => Effect.Effect<void, ConnectorError.ConnectorError>) | undefined
}

/** The provider the app talks to. */
export class Provider extends Context.Tag("@plumbline/drift-monitor/Provider")<Provider, ProviderService>() {}

const decodeZone = Schema.decodeUnknownOption(Zones.Zone)
const zoneOf = (z: Zones.Zone): DiscoveredZone => ({
  id: z.id,
  name: z.name,
  status: z.status ?? "unknown",
  plan: z.plan_name ?? z.plan,
  account: z.account.name ?? z.account.id
})

/**
 * Cloudflare at `baseUrl` (the real API or the simulator). Needs the app's `HttpClient` and the
 * process-wide `RequestBudget`.
 */
export const cloudflare = (baseUrl: string, budget?: RequestBudget.Limits): Layer.Layer<Provider, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(
    Provider,
    Effect.gen(function* () {
      const context = yield* Effect.context<HttpClient.HttpClient | RequestBudget.RequestBudget>()
      const client = (credential: Credential.Credential) => CloudflareClient.layer({ token: credential.secret, baseUrl, budget })
      const connector = CloudflareConnector.connector
      return {
        connectorId: connector.id,
        credentialKind: connector.credentialKind,
        zoneKind: "zone",
        discover: (credential) =>
          Effect.gen(function* () {
            const service = yield* CloudflareConnector.CloudflareConnector
            const verification = yield* service.verify
            if (verification.status !== "active") {
              return yield* Effect.fail(new Errors.CredentialInvalid({ reason: verification.status }))
            }
            const zones = yield* service.listZones.pipe(Effect.catchTag("PermissionMissing", () => Effect.succeed([])))
            return { verification, zones: zones.map(zoneOf) }
          }).pipe(Effect.provide(CloudflareConnector.layer.pipe(Layer.provide(client(credential)))), Effect.provide(context)),
        snapshot: (credentials, options) =>
          Effect.gen(function* () {
            // One client per credential (each with its own request budget); the routing sends each
            // zone's reads through a credential that can see it.
            const routed = yield* Effect.forEach(credentials, (c) =>
              Effect.map(CloudflareClient.make({ token: c.credential.secret, baseUrl, budget }), (service) => ({
                id: c.id,
                active: c.active,
                context: Context.make(CloudflareClient.CloudflareClient, service),
                scopes: c.zones.map((z) => ({ key: `zone:${z.id}`, parent: z.parent }))
              }))
            )
            const routing = CredentialRouting.make(connector, routed)
            const snapshot = yield* Runner.run(routing.connector, options)
            const seen = yield* routing.seen
            const zonesSeen = new Map<string, ReadonlyArray<string>>()
            for (const c of credentials) {
              const keys = seen.get(c.id)
              if (keys !== undefined) zonesSeen.set(c.id, keys.filter((k) => k.startsWith("zone:")).map((k) => k.slice(5)))
            }
            // One credential is not routed: it saw every zone the snapshot lists.
            const [only] = credentials
            if (credentials.length === 1 && only !== undefined && snapshot.outcome === "complete") {
              zonesSeen.set(only.id, Snapshot.recordsOf(snapshot, "zones").map(({ record }) => record.key))
            }
            return { snapshot, refused: yield* routing.refused, zonesSeen } satisfies SnapshotRun
          }).pipe(Effect.provide(context)),
        zonesOf: (snapshot) =>
          Snapshot.recordsOf(snapshot, "zones").flatMap(({ record }) => {
            const zone = decodeZone(record.value)
            return zone._tag === "Some" ? [zoneOf(zone.value)] : []
          }),
        diffOptions: { volatile: Connector.volatileFields(connector) },
        checks: Checks.checks,
        // `GET /user/tokens/verify` (or the account's, for an account-owned token): one request.
        verify: (credential) =>
          Effect.gen(function* () {
            const token = yield* Verify.verifyToken(yield* CloudflareClient.CloudflareClient)
            if (token.status !== "active") {
              const reason = token.status === "expired" || token.status === "disabled" ? token.status : "revoked"
              return yield* Effect.fail(new Errors.CredentialInvalid({ reason }))
            }
          }).pipe(Effect.provide(client(credential)), Effect.provide(context)),
        // The connector's change feed, when it has one (issue #15), over the same client per credential.
        feed: feedOf(connector.changes, (credential) => client(credential).pipe(Layer.provide(Layer.succeedContext(context))))
      } satisfies ProviderService
    })
  )

/** Wraps a connector's `ChangeFeed` as the app's `FeedService`, providing its services per credential. */
export const feedOf = <R>(
  feed: ChangeFeed.ChangeFeed<R> | undefined,
  services: (credential: Credential.Credential) => Layer.Layer<R>
): FeedService | undefined =>
  feed === undefined
    ? undefined
    : {
        modes: feed.modes,
        permissionFor: feed.permissionFor,
        changes: (credential, input) => Effect.provide(feed.changes(input), services(credential)),
        unmarked: (mode) => feed.unmarked?.(mode) ?? []
      }

/** The keyring of the configured keys (`id:base64key[,…]`, the first active). */
export const keyring = (keys: Redacted.Redacted<string>): Effect.Effect<Keyring.Service, Store.StoreError> =>
  Either.match(Keyring.parse(Redacted.value(keys)), {
    onLeft: (detail) => Effect.fail(new Store.StoreError({ reason: "invalid", entity: "keyring", detail })),
    onRight: (parsed) => Effect.succeed(Keyring.make(parsed))
  })

/** The store on the app's database (the `SqlClient` from `Db`), sealing credentials with `keys`. */
export const store = (keys: Redacted.Redacted<string>): Layer.Layer<Store.Store, Store.StoreError, SqlClient.SqlClient> =>
  SqlStore.layer.pipe(Layer.provide(Layer.effect(Keyring.Keyring, keyring(keys))))
