/**
 * A Promise facade for backends that do not use Effect:
 *
 * ```ts
 * const cf = createCloudflareConnector({ token })
 * await cf.verify()
 * await cf.zones.list()
 * const snapshot = await cf.snapshot({ zones: ["redpine.io"] })
 * await cf.close()
 * ```
 *
 * Failures reject with the tagged error objects themselves (`CredentialInvalid`,
 * `PermissionMissing`, `RateLimited`, …, all `Error`s): narrow with `isConnectorError(e)` and
 * `e._tag`. A snapshot never rejects for a resource: each one's status is inside it.
 */
import { FetchHttpClient } from "@effect/platform"
import { type ConnectorError, type Credential, HttpPipeline, RequestBudget, type Snapshot } from "@plumbline/core"
import { Cause, Effect, Exit, Layer, ManagedRuntime, type Redacted } from "effect"
import type * as CloudflareClient from "./CloudflareClient.js"
import { CloudflareConnector, layerClient, type SnapshotOptions } from "./CloudflareConnector.js"
import type { Zone } from "./resources/Zones.js"

/** Options of the facade. */
export interface FacadeOptions {
  readonly token: string | Redacted.Redacted<string>
  /** Default `https://api.cloudflare.com/client/v4`; the simulator's URL in tests. */
  readonly baseUrl?: string | undefined
  /** The account of an account-owned (`cfat_`) token, when known. */
  readonly accountId?: string | undefined
  /** A `fetch` to use instead of the global one. */
  readonly fetch?: typeof globalThis.fetch | undefined
  readonly retry?: CloudflareClient.Options["retry"]
}

/** The facade. */
export interface CloudflareConnectorFacade {
  /** Verifies the token and reports, per resource, whether it may be read. */
  readonly verify: () => Promise<Credential.Verification>
  readonly zones: {
    /** Every zone the token can read. */
    readonly list: () => Promise<ReadonlyArray<Zone>>
  }
  /** A snapshot (optionally of some zones or resources). */
  readonly snapshot: (options?: SnapshotOptions) => Promise<Snapshot.Snapshot>
  /** Releases the runtime. */
  readonly close: () => Promise<void>
}

/** Creates the facade for one token. */
export const createCloudflareConnector = (options: FacadeOptions): CloudflareConnectorFacade => {
  // The fetch client looks `Fetch` up in the running fiber's context, so it joins the runtime's layer.
  const fetchLayer = options.fetch === undefined ? Layer.empty : Layer.succeed(FetchHttpClient.Fetch, options.fetch)
  const runtime = ManagedRuntime.make(
    Layer.merge(
      layerClient({
        token: options.token,
        baseUrl: options.baseUrl,
        accountId: options.accountId,
        retry: options.retry
      }).pipe(Layer.provide(Layer.merge(HttpPipeline.layerFetch, RequestBudget.layer))),
      fetchLayer
    )
  )
  const run = async <A>(effect: Effect.Effect<A, ConnectorError.ConnectorError, CloudflareConnector>): Promise<A> => {
    const exit = await runtime.runPromiseExit(effect)
    if (Exit.isSuccess(exit)) return exit.value
    // Reject with the typed error itself (not a wrapper), so callers can narrow on `_tag`.
    throw Cause.squash(exit.cause)
  }
  return {
    verify: () => run(Effect.flatMap(CloudflareConnector, (c) => c.verify)),
    zones: { list: () => run(Effect.flatMap(CloudflareConnector, (c) => c.listZones)) },
    snapshot: (snapshotOptions) => run(Effect.flatMap(CloudflareConnector, (c) => c.snapshot(snapshotOptions))),
    close: () => runtime.dispose()
  }
}
