/**
 * Progress of a running snapshot, for CLIs and UIs: a scope started, a page fetched, a resource
 * finished. The runner installs a reporter in a FiberRef for each resource it reads, so the HTTP
 * pipeline and the pagination helpers can report requests and pages without being handed one.
 */
import { Effect, FiberRef } from "effect"
import type { Scope } from "./Scope.js"

/** One progress event. */
export type ProgressEvent =
  | { readonly _tag: "ScopeStarted"; readonly scope: Scope }
  | {
      readonly _tag: "PageFetched"
      readonly resource: string
      readonly scope: Scope
      readonly page: number
      readonly items: number
    }
  | {
      readonly _tag: "ResourceFinished"
      readonly resource: string
      readonly scope: Scope
      readonly status: "ok" | "partial" | "skipped" | "forbidden" | "failed"
      readonly records: number
    }

/** Receives what the HTTP pipeline and pagination observe while a resource is read. */
export interface Reporter {
  readonly request: () => void
  readonly page: (page: number, items: number) => Effect.Effect<void>
}

const silent: Reporter = { request: () => {}, page: () => Effect.void }

/** The reporter of the current fiber; silent outside a snapshot. */
export const currentReporter: FiberRef.FiberRef<Reporter> = FiberRef.unsafeMake(silent)

/** Counts one request against the current snapshot. */
export const reportRequest: Effect.Effect<void> = Effect.map(FiberRef.get(currentReporter), (r) => r.request())

/** Reports one fetched page (1-based) with its item count. */
export const reportPage = (page: number, items: number): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentReporter), (r) => r.page(page, items))
