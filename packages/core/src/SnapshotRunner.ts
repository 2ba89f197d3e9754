/**
 * Runs every resource of a connector for one connection and returns a `Snapshot`.
 *
 * Scopes are discovered from the root down: a resource that `produces` scopes (accounts, zones)
 * is read first, then the resources of each child scope. Reads run with bounded concurrency and
 * share the credential's request budget through the HTTP pipeline. One failing resource never fails
 * the snapshot — it gets a status — but a refused credential stops everything at once, and the
 * snapshot says so (`outcome: "credential-invalid"`), so a partial view is never taken for a whole.
 * The exception is a connection with several credentials (`CredentialRouting`): a refusal naming one
 * of them (`CredentialInvalid.credential`) fails only the reads it served, which are then `failed`.
 */
import { Array as Arr, DateTime, Duration, Effect, Either, Order, Request, Schema, Stream } from "effect"
import type { CredentialInvalid } from "./ConnectorError.js"
import { type ConnectorError, DecodeFailure, decodeFailureFrom } from "./ConnectorError.js"
import * as Connector from "./Connector.js"
import * as ItemProblem from "./ItemProblem.js"
import * as Permits from "./internal/permits.js"
import type * as Json from "./Json.js"
import * as Progress from "./Progress.js"
import type * as Resource from "./Resource.js"
import * as Scope from "./Scope.js"
import * as Snapshot from "./Snapshot.js"

/** Options of one run. */
export interface RunOptions {
  readonly connectionId: string
  /** Resource reads in flight at once (default 4); the request budget still applies underneath. */
  readonly concurrency?: number
  /** Keeps only the scopes this accepts (the root is always kept), e.g. some zones. */
  readonly include?: (scope: Scope.Scope) => boolean
  /** Reads only these resources, plus those that produce the scopes they live in. */
  readonly resources?: ReadonlyArray<string>
  /** Receives progress events. */
  readonly onProgress?: (event: Progress.ProgressEvent) => Effect.Effect<void>
}

const resultOrder: Order.Order<Snapshot.ResourceResult> = Order.combine(
  Order.mapInput(Order.string, (r: Snapshot.ResourceResult) => r.resource),
  Order.mapInput(Scope.order, (r: Snapshot.ResourceResult) => r.scope)
)

const recordOrder: Order.Order<Snapshot.SnapshotRecord> = Order.mapInput(Order.string, (r) => r.key)

/** The resources to read: those asked for, and every resource producing a scope they need. */
const selectResources = <R>(connector: Connector.Connector<R>, names: ReadonlyArray<string> | undefined) => {
  if (names === undefined) return new Set(connector.resources.map((r) => r.name))
  const selected = new Set<string>()
  const want = (name: string) => {
    const resource = Connector.findResource(connector, name)
    if (resource === undefined || selected.has(name)) return
    selected.add(name)
    for (const producer of connector.resources) if (producer.produces?.scope === resource.scope) want(producer.name)
  }
  for (const name of names) want(name)
  return selected
}

/** Reads a resource's records into canonical, sorted snapshot records. */
const collect = <R>(resource: Resource.Any<R>, scope: Scope.Scope) =>
  Effect.gen(function* () {
    const items = yield* Stream.runCollect(resource.list(scope))
    const encode = Schema.encode(resource.schema)
    const records: Array<Snapshot.SnapshotRecord> = []
    const seen = new Set<string>()
    for (const item of items) {
      const key = resource.identity(item)
      if (seen.has(key)) {
        return yield* Effect.fail(
          new DecodeFailure({
            resource: resource.name,
            scope: scope.key,
            path: "/",
            sample: key,
            detail: "two records share one identity key"
          })
        )
      }
      seen.add(key)
      const value = yield* Effect.mapError(encode(item), (error) =>
        decodeFailureFrom(error, { resource: resource.name, scope: scope.key, input: item })
      )
      // Not validated again: `value` is the resource Schema's own encoding, and the Json schema
      // (which walks every nested value) would cost more than reading the record did. Snapshots
      // are still checked as JSON when serialised (`Snapshot.toJson`, `contentJson`).
      records.push(new Snapshot.SnapshotRecord({ key, value: value as Json.Json }, true))
    }
    return { items: Arr.fromIterable(items), records: Arr.sort(records, recordOrder) }
  })

/** Runs a snapshot of one connection. Never fails: every problem is a status in the snapshot. */
export const run = <R>(connector: Connector.Connector<R>, options: RunOptions): Effect.Effect<Snapshot.Snapshot, never, R> =>
  Effect.gen(function* () {
    const startedAt = yield* DateTime.now
    const emit = options.onProgress ?? (() => Effect.void)
    const include = options.include ?? (() => true)
    const selected = selectResources(connector, options.resources)
    const permits = yield* Permits.make(Math.max(1, options.concurrency ?? 4))
    const results: Array<Snapshot.ResourceResult> = []
    let requests = 0
    /** Set by the first refused credential: reads still waiting for a permit then send nothing. */
    let refused: CredentialInvalid | undefined

    const finish = (resource: Resource.Any<R>, scope: Scope.Scope, status: Snapshot.ResourceStatus) =>
      Effect.suspend(() => {
        results.push(new Snapshot.ResourceResult({ resource: resource.name, scope, status }, true))
        return emit({
          _tag: "ResourceFinished",
          resource: resource.name,
          scope,
          status: status._tag,
          records: Snapshot.recordsOfStatus(status).length
        })
      })

    const statusOf = (resource: Resource.Any<R>, error: ConnectorError): Snapshot.ResourceStatus => {
      switch (error._tag) {
        case "NotAvailable":
          return new Snapshot.Skipped({ reason: error.reason, detail: error.detail })
        case "PermissionMissing":
          return new Snapshot.Forbidden({
            permissions: error.permission === undefined ? [...resource.permissions] : [error.permission]
          })
        default:
          return new Snapshot.Failed({ error })
      }
    }

    /** Reads one resource in one scope; returns the child scopes it produced. */
    const read = (resource: Resource.Any<R>, scope: Scope.Scope): Effect.Effect<ReadonlyArray<Scope.Scope>, CredentialInvalid, R> =>
      Effect.gen(function* () {
        const availability = resource.availability(scope)
        if (availability._tag === "Unavailable") {
          yield* finish(resource, scope, new Snapshot.Skipped({ reason: availability.reason, detail: availability.detail }))
          return []
        }
        const reporter: Progress.Reporter = {
          request: () => {
            requests++
          },
          page: (page, items) => emit({ _tag: "PageFetched", resource: resource.name, scope, page, items })
        }
        const problems = ItemProblem.makeCollector()
        const outcome = yield* Effect.suspend(() => (refused === undefined ? collect(resource, scope) : Effect.fail(refused))).pipe(
          Effect.locally(Progress.currentReporter, reporter),
          Effect.locally(ItemProblem.currentCollector, problems),
          permits.withPermit,
          Effect.either
        )
        if (Either.isLeft(outcome)) {
          const error = outcome.left
          // One of several credentials refused: its reads fail, the others' go on.
          if (error._tag === "CredentialInvalid" && error.credential === undefined) {
            refused ??= error
            return yield* Effect.fail(error)
          }
          yield* finish(resource, scope, statusOf(resource, error))
          return []
        }
        yield* finish(
          resource,
          scope,
          Arr.isNonEmptyReadonlyArray(problems.problems)
            ? new Snapshot.Partial({ records: outcome.right.records, problems: problems.problems }, true)
            : new Snapshot.Ok({ records: outcome.right.records }, true)
        )
        const produces = resource.produces
        if (produces === undefined) return []
        return Arr.sort(
          outcome.right.items
            .map((item) => {
              const child = produces.fromRecord(item)
              return new Scope.Scope({ ...child, parent: scope.key })
            })
            .filter(include),
          Scope.order
        )
      })

    const visit = (scope: Scope.Scope): Effect.Effect<void, CredentialInvalid, R> =>
      Effect.zipRight(
        emit({ _tag: "ScopeStarted", scope }),
        Effect.forEach(
          Connector.resourcesIn(connector, scope.kind).filter((r) => selected.has(r.name)),
          (resource) => Effect.flatMap(read(resource, scope), (children) => Effect.forEach(children, visit, { concurrency: "unbounded", discard: true })),
          { concurrency: "unbounded", discard: true }
        )
      )

    // Reads shared by several resources (Cloudflare's ruleset listing per zone) are made as Effect
    // requests; one cache per run means each is sent once per snapshot and never reused by the next.
    const sharedReads = yield* Request.makeCache({ capacity: 1 << 16, timeToLive: Duration.infinity })
    const stopped = yield* visit(Scope.root(options.connectionId)).pipe(
      Effect.withRequestCache(sharedReads),
      Effect.withRequestCaching(true),
      Effect.either
    )
    const finishedAt = yield* DateTime.now
    return new Snapshot.Snapshot({
      connectionId: options.connectionId,
      connector: { id: connector.id, version: connector.version },
      schemaVersion: connector.schemaVersion,
      startedAt,
      finishedAt,
      requestCount: requests,
      outcome: Either.isLeft(stopped) ? "credential-invalid" : "complete",
      ...(Either.isLeft(stopped) ? { credentialError: stopped.left } : {}),
      results: Arr.sort(results, resultOrder)
    })
  }).pipe(Effect.withSpan("SnapshotRunner.run", { attributes: { connector: connector.id, connection: options.connectionId } }))
