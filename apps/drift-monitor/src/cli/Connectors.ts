/**
 * The connectors the `plumbline` command can drive, by id — today only Cloudflare. Each entry says
 * where its token comes from (an environment variable, read with `Config.redacted`), its API's base
 * URL, how to take a snapshot, what drift ignores (the connector's volatile fields) and how to judge
 * posture. The CLI's counterpart of `Wiring.ts`: the one place the CLI names a provider.
 */
import type { HttpClient } from "@effect/platform"
import { Checks, CloudflareClient, CloudflareConnector, PostureReport, TokenFormat } from "@plumbline/cloudflare"
import type { Json, RequestBudget, Snapshot } from "@plumbline/core"
import { Connector, SnapshotRunner } from "@plumbline/core"
import { Effect, type Redacted } from "effect"

/** One connector as the CLI sees it. */
export interface CliConnector {
  readonly id: string
  /** The environment variable holding the API token. */
  readonly tokenVariable: string
  /** The environment variable that may override the base URL. */
  readonly baseUrlVariable: string
  readonly defaultBaseUrl: string
  /** The scope kind `--zone` filters on. */
  readonly zoneKind: string
  /** How many resources the connector reads in a scope of `kind` (for the progress bar's total). */
  readonly resourcesIn: (kind: string) => number
  /** Volatile fields per resource, which drift leaves out. */
  readonly volatile: ReadonlyMap<string, ReadonlyArray<string>>
  /** Checks the token's shape before any request: trimmed, or refused with the position of a character no token has. */
  readonly checkToken: typeof TokenFormat.check
  /** Takes a snapshot with `token` against `baseUrl`. Never fails: problems are statuses in it. */
  readonly snapshot: (
    credential: { readonly token: Redacted.Redacted<string>; readonly baseUrl: string },
    options: SnapshotRunner.RunOptions
  ) => Effect.Effect<Snapshot.Snapshot, never, HttpClient.HttpClient | RequestBudget.RequestBudget>
  /** The posture report of a snapshot. */
  readonly posture: (snapshot: Snapshot.Snapshot) => PostureReport.PostureReport
  /** The report as OCSF events. */
  readonly ocsf: (report: PostureReport.PostureReport) => ReadonlyArray<Json.Json>
}

const cloudflareConnector = CloudflareConnector.connector

/** Cloudflare, through `@plumbline/cloudflare`. */
export const cloudflare: CliConnector = {
  id: cloudflareConnector.id,
  tokenVariable: "CLOUDFLARE_API_TOKEN",
  baseUrlVariable: "CLOUDFLARE_BASE_URL",
  defaultBaseUrl: CloudflareClient.DEFAULT_BASE_URL,
  zoneKind: "zone",
  resourcesIn: (kind) => Connector.resourcesIn(cloudflareConnector, kind).length,
  volatile: Connector.volatileFields(cloudflareConnector),
  checkToken: TokenFormat.check,
  snapshot: ({ baseUrl, token }, options) =>
    SnapshotRunner.run(cloudflareConnector, options).pipe(Effect.provide(CloudflareClient.layer({ token, baseUrl }))),
  posture: (snapshot) => PostureReport.make(snapshot, Checks.checks),
  ocsf: PostureReport.ocsf
}

/** Every connector, by id. */
export const all: ReadonlyMap<string, CliConnector> = new Map([[cloudflare.id, cloudflare]])

/** The ids `--connector` accepts. */
export const ids = ["cloudflare"] as const
