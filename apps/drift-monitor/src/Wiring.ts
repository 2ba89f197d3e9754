/**
 * Which connector, checks and store the app uses — the one place that names them. The rest of the
 * app sees only the `Provider` service below and core's `Store` port, so swapping the interim
 * Cloudflare connector and checks for `@plumbline/cloudflare` and its checks is a change here only.
 *
 * Store: `@plumbline/store-sql` on the app's SQLite file, sharing the app's `SqlClient` (see `Db`),
 * so the app's own tables (webhooks, deliveries, connection state) live in the same database and a
 * snapshot commit and the events it produces are written in one transaction.
 */
import type { HttpClient } from "@effect/platform"
import type * as SqlClient from "@effect/sql/SqlClient"
import type { Check, ConnectorError, Credential, Drift, HttpPipeline, RequestBudget, Snapshot, SnapshotRunner } from "@plumbline/core"
import { Connector, Snapshot as SnapshotModule, SnapshotRunner as Runner, Store } from "@plumbline/core"
import { Keyring, SqlStore } from "@plumbline/store-sql"
import { Context, Effect, Either, Layer, Redacted, Schema } from "effect"
import * as InterimChecks from "./Interim/Checks.js"
import * as Interim from "./Interim/CloudflareConnector.js"

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

/** What the app needs of a provider: verify a token, take a snapshot, and the checks to run. */
export interface ProviderService {
  readonly connectorId: string
  readonly credentialKind: string
  /** The scope kind a connection's `zones` setting filters on. */
  readonly zoneKind: string
  readonly discover: (credential: Credential.Credential) => Effect.Effect<Discovery, ConnectorError.ConnectorError>
  readonly snapshot: (credential: Credential.Credential, options: SnapshotRunner.RunOptions) => Effect.Effect<Snapshot.Snapshot>
  /** The zones a snapshot saw (its zone-listing resource), monitored or not. */
  readonly zonesOf: (snapshot: Snapshot.Snapshot) => ReadonlyArray<DiscoveredZone>
  readonly diffOptions: Drift.DiffOptions
  readonly checks: ReadonlyArray<Check.Check>
}

const decodeZone = Schema.decodeUnknownOption(Interim.Zone)
const zoneOf = (z: Interim.Zone): DiscoveredZone => ({
  id: z.id,
  name: z.name,
  status: z.status,
  plan: z.plan?.name ?? z.plan?.legacy_id,
  account: z.account?.name ?? z.account?.id
})

/** The provider the app talks to. */
export class Provider extends Context.Tag("@plumbline/drift-monitor/Provider")<Provider, ProviderService>() {}

/**
 * Cloudflare at `baseUrl` (the real API or the simulator), through the interim connector and
 * checks. Needs the app's `HttpClient` and the process-wide `RequestBudget` (per-token budgets).
 */
export const cloudflare = (baseUrl: string): Layer.Layer<Provider, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(
    Provider,
    Effect.gen(function* () {
      const context = yield* Effect.context<HttpClient.HttpClient | RequestBudget.RequestBudget>()
      const connectorFor = (credential: Credential.Credential) =>
        Effect.map(Interim.pipeline(baseUrl, credential), (http) => connector(http))
      const connector = (http: HttpPipeline.ProviderHttp) =>
        Interim.connector(http, Effect.map(Interim.verify(http), (v) => v.verification))
      // The connector's shape (its resources and their volatile fields) does not depend on a credential.
      const volatile = Connector.volatileFields(connector({ baseUrl, execute: () => Effect.die("unused"), get: () => Effect.die("unused") }))
      return {
        connectorId: "cloudflare",
        credentialKind: Interim.CREDENTIAL_KIND,
        zoneKind: "zone",
        discover: (credential) =>
          Interim.pipeline(baseUrl, credential).pipe(
            Effect.flatMap(Interim.verify),
            Effect.map(({ verification, zones }) => ({ verification, zones: zones.map(zoneOf) })),
            Effect.provide(context)
          ),
        snapshot: (credential, options) =>
          connectorFor(credential).pipe(
            Effect.flatMap((c) => Runner.run(c, options)),
            Effect.provide(context)
          ),
        zonesOf: (snapshot) =>
          SnapshotModule.recordsOf(snapshot, "zones").flatMap(({ record }) => {
            const zone = decodeZone(record.value)
            return zone._tag === "Some" ? [zoneOf(zone.value)] : []
          }),
        diffOptions: { volatile },
        checks: InterimChecks.all
      } satisfies ProviderService
    })
  )

/** The store on the app's database (the `SqlClient` from `Db`), sealing credentials with `keys`. */
export const store = (keys: Redacted.Redacted<string>): Layer.Layer<Store.Store, Store.StoreError, SqlClient.SqlClient> => {
  const parsed = Keyring.parse(Redacted.value(keys))
  if (Either.isLeft(parsed)) {
    return Layer.fail(new Store.StoreError({ reason: "invalid", entity: "keyring", detail: parsed.left }))
  }
  return SqlStore.layer.pipe(Layer.provide(Keyring.layer(parsed.right)))
}
