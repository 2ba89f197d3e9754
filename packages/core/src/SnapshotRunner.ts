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
 *
 * An incremental run (`RunOptions.incremental`, issue #15) takes the previous snapshot and what a
 * change feed announced since, re-reads only the marked scopes and resources, and carries every
 * other result as it was: the outcome is an ordinary, complete `Snapshot` (same `contentHash` as a
 * full read of the same data) whose `provenance` says what was read and what carried.
 */
import { Array as Arr, DateTime, Duration, Effect, Either, Option, Order, Request, Schema, Stream } from "effect"
import type * as ChangeFeed from "./ChangeFeed.js"
import type { CredentialInvalid } from "./ConnectorError.js"
import { type ConnectorError, DecodeFailure, decodeFailureFrom } from "./ConnectorError.js"
import * as Connector from "./Connector.js"
import * as ItemProblem from "./ItemProblem.js"
import * as Permits from "./internal/permits.js"
import * as Json from "./Json.js"
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
  /** Compose the snapshot from a previous one and the changes since, instead of reading everything. */
  readonly incremental?: Incremental
}

/**
 * What an incremental run starts from. The run falls back to a full read (and the snapshot has no
 * provenance) when nothing can be carried: the previous snapshot is incomplete, of another
 * connector version or schema, or a mark names the root scope without resources.
 */
export interface Incremental {
  /** The snapshot the changes are relative to (usually the latest stored one). */
  readonly previous: Snapshot.Snapshot
  /** The store id of `previous`, recorded in the provenance of what is carried from it. */
  readonly previousId?: string | undefined
  /** What the feed announced since `previous`. */
  readonly changes: ChangeFeed.Changes
  /**
   * The slower cadence of resources no mark can cover (in probes mode, those without a change
   * marker): each listed resource is re-read in every scope once its oldest read is `maxAge` old.
   */
  readonly cadence?: {
    readonly resources: ReadonlyArray<string>
    readonly maxAge: Duration.DurationInput
  } | undefined
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

const encodeScope = Schema.encodeSync(Scope.Scope)
/** A scope's whole encoded form: a child whose name or attributes changed is read again in full. */
const scopeJson = (scope: Scope.Scope): string => Json.stringify(encodeScope(scope))

/** What an incremental run re-reads, decided from the previous snapshot and the marks. */
interface Plan {
  readonly previous: Snapshot.Snapshot
  readonly previousId: string | undefined
  readonly position: ChangeFeed.Position
  /** The previous results by key. */
  readonly results: ReadonlyMap<string, Snapshot.ResourceResult>
  /** The previous snapshot's scopes, by key, as encoded JSON. */
  readonly scopes: ReadonlyMap<string, string>
  /** Scopes re-read whole, with every scope under them. */
  readonly whole: ReadonlySet<string>
  /** Per scope key, the resources re-read there. */
  readonly marked: ReadonlyMap<string, ReadonlySet<string>>
  /** Resources re-read in every scope (the slower cadence; producers when a mark names an unknown scope). */
  readonly everywhere: ReadonlySet<string>
}

/** The plan of an incremental run, or none when the run must read everything. */
const planOf = <R>(
  connector: Connector.Connector<R>,
  connectionId: string,
  incremental: Incremental,
  now: DateTime.Utc
): Plan | undefined => {
  const { changes, previous } = incremental
  const rootKey = Scope.root(connectionId).key
  if (
    previous.outcome !== "complete" ||
    previous.connectionId !== connectionId ||
    previous.connector.id !== connector.id ||
    previous.connector.version !== connector.version ||
    previous.schemaVersion !== connector.schemaVersion ||
    // The root key without resources marks the whole connection; with resources, only those.
    changes.marks.some((mark) => mark.scope === rootKey && mark.resources === undefined)
  ) {
    return undefined
  }
  const results = new Map(previous.results.map((r) => [r.key, r]))
  const scopes = new Map(previous.results.map((r) => [r.scope.key, scopeJson(r.scope)]))
  const whole = new Set<string>()
  const marked = new Map<string, Set<string>>()
  const everywhere = new Set<string>()
  for (const mark of changes.marks) {
    const known = mark.resources?.every((name) => Connector.findResource(connector, name) !== undefined) ?? false
    if (!known) whole.add(mark.scope)
    else {
      const set = marked.get(mark.scope) ?? new Set<string>()
      for (const name of mark.resources ?? []) set.add(name)
      marked.set(mark.scope, set)
    }
    // A scope the previous snapshot never saw is new: only its producers can find it, so every
    // producing resource is read again (conservative, and cheap: listings of accounts and zones).
    if (!scopes.has(mark.scope)) {
      for (const resource of connector.resources) if (resource.produces !== undefined) everywhere.add(resource.name)
    }
  }
  if (incremental.cadence !== undefined) {
    const maxAge = Duration.decode(incremental.cadence.maxAge)
    for (const name of incremental.cadence.resources) {
      const oldest = Snapshot.oldestReadOf(previous, name)
      if (DateTime.lessThanOrEqualTo(DateTime.addDuration(oldest, maxAge), now)) everywhere.add(name)
    }
  }
  return { previous, previousId: incremental.previousId, position: changes.position, results, scopes, whole, marked, everywhere }
}

/** The provenance block of an incremental snapshot: what was read, and when each resource was oldest read. */
const provenanceOf = (
  plan: Plan,
  results: ReadonlyArray<Snapshot.ResourceResult>,
  carried: ReadonlySet<string>,
  startedAt: DateTime.Utc
): Snapshot.Provenance => {
  const oldestRead: Record<string, DateTime.Utc> = {}
  for (const result of results) {
    const at = carried.has(result.key) ? Snapshot.oldestReadOf(plan.previous, result.resource) : startedAt
    const known = oldestRead[result.resource]
    oldestRead[result.resource] = known === undefined ? at : DateTime.min(known, at)
  }
  return new Snapshot.Provenance({
    from: { ...(plan.previousId === undefined ? {} : { id: plan.previousId }), startedAt: plan.previous.startedAt },
    position: plan.position,
    read: results.filter((r) => !carried.has(r.key)).map((r) => r.key),
    oldestRead
  })
}

/** Runs a snapshot of one connection. Never fails: every problem is a status in the snapshot. */
export const run = <R>(connector: Connector.Connector<R>, options: RunOptions): Effect.Effect<Snapshot.Snapshot, never, R> =>
  Effect.gen(function* () {
    const startedAt = yield* DateTime.now
    const emit = options.onProgress ?? (() => Effect.void)
    const include = options.include ?? (() => true)
    const selected = selectResources(connector, options.resources)
    const permits = yield* Permits.make(Math.max(1, options.concurrency ?? 4))
    const plan = options.incremental === undefined ? undefined : planOf(connector, options.connectionId, options.incremental, startedAt)
    const results: Array<Snapshot.ResourceResult> = []
    /** Keys of the results carried from the previous snapshot (incremental runs only). */
    const carried = new Set<string>()
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

    /** The child scopes a carried producer's records stand for, or none when a record no longer decodes. */
    const childrenOf = (resource: Resource.Any<R>, scope: Scope.Scope, status: Snapshot.ResourceStatus) => {
      const produces = resource.produces
      if (produces === undefined) return Option.some<ReadonlyArray<Scope.Scope>>([])
      const decode = Schema.decodeUnknownOption(resource.schema)
      const children: Array<Scope.Scope> = []
      for (const record of Snapshot.recordsOfStatus(status)) {
        const item = decode(record.value)
        if (Option.isNone(item)) return Option.none()
        children.push(new Scope.Scope({ ...produces.fromRecord(item.value), parent: scope.key }))
      }
      return Option.some(Arr.sort(children.filter(include), Scope.order))
    }

    /** Whether the result of `resource` in `scope` must be read again in an incremental run. */
    const mustRead = (p: Plan, resource: Resource.Any<R>, scope: Scope.Scope, previous: Snapshot.ResourceResult | undefined) =>
      previous === undefined ||
      // A failed read is retried: carrying it would keep a transient error forever.
      previous.status._tag === "failed" ||
      p.everywhere.has(resource.name) ||
      (p.marked.get(scope.key)?.has(resource.name) ?? false)

    /**
     * Visits a scope. `whole`: read every resource (a full run, a marked or new scope, or one under
     * them); otherwise re-read what the plan marks and carry the rest.
     */
    const visit = (scope: Scope.Scope, whole: boolean): Effect.Effect<void, CredentialInvalid, R> => {
      const p = plan
      const readWhole = p === undefined || whole || p.whole.has(scope.key)
      /** A child is visited whole unless the previous snapshot had it, unchanged. */
      const descend = (children: ReadonlyArray<Scope.Scope>) =>
        Effect.forEach(children, (child) => visit(child, readWhole || p?.scopes.get(child.key) !== scopeJson(child)), {
          concurrency: "unbounded",
          discard: true
        })
      const one = (resource: Resource.Any<R>): Effect.Effect<void, CredentialInvalid, R> => {
        if (p !== undefined && !readWhole) {
          const previous = p.results.get(`${resource.name}@${scope.key}`)
          if (previous !== undefined && !mustRead(p, resource, scope, previous)) {
            const children = childrenOf(resource, scope, previous.status)
            if (Option.isSome(children)) {
              carried.add(previous.key)
              return Effect.zipRight(finish(resource, scope, previous.status), descend(children.value))
            }
          }
        }
        return Effect.flatMap(read(resource, scope), descend)
      }
      return Effect.zipRight(
        emit({ _tag: "ScopeStarted", scope }),
        Effect.forEach(Connector.resourcesIn(connector, scope.kind).filter((r) => selected.has(r.name)), one, {
          concurrency: "unbounded",
          discard: true
        })
      )
    }

    // Reads shared by several resources (Cloudflare's ruleset listing per zone) are made as Effect
    // requests; one cache per run means each is sent once per snapshot and never reused by the next.
    const sharedReads = yield* Request.makeCache({ capacity: 1 << 16, timeToLive: Duration.infinity })
    const stopped = yield* visit(Scope.root(options.connectionId), false).pipe(
      Effect.withRequestCache(sharedReads),
      Effect.withRequestCaching(true),
      Effect.either
    )
    const finishedAt = yield* DateTime.now
    const sorted = Arr.sort(results, resultOrder)
    const provenance = plan === undefined || carried.size === 0 ? undefined : provenanceOf(plan, sorted, carried, startedAt)
    return new Snapshot.Snapshot({
      connectionId: options.connectionId,
      connector: { id: connector.id, version: connector.version },
      schemaVersion: connector.schemaVersion,
      startedAt,
      finishedAt,
      // What the change feed's read cost belongs to this snapshot too: it is how the snapshot knew what to skip.
      requestCount: requests + (options.incremental?.changes.requestCount ?? 0),
      outcome: Either.isLeft(stopped) ? "credential-invalid" : "complete",
      ...(Either.isLeft(stopped) ? { credentialError: stopped.left } : {}),
      results: sorted,
      ...(provenance === undefined ? {} : { provenance })
    })
  }).pipe(Effect.withSpan("SnapshotRunner.run", { attributes: { connector: connector.id, connection: options.connectionId } }))
