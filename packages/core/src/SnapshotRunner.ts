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
import { Array as Arr, DateTime, Duration, Effect, Either, Option, Order, Queue, Request, Schema } from "effect"
import type * as ChangeFeed from "./ChangeFeed.js"
import type { CredentialInvalid } from "./ConnectorError.js"
import { type ConnectorError, DecodeFailure, decodeFailureFrom } from "./ConnectorError.js"
import * as Connector from "./Connector.js"
import * as ItemProblem from "./ItemProblem.js"
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
   * marker): each listed resource is re-read in each scope once per `maxAge`, spread over it. A
   * scope has its own phase in the period (from a hash of its key), and a run re-reads the scopes
   * whose phase passed since the previous snapshot started: each run pays for the slice of scopes
   * whose turn came, not for all of them at once, and chained runs re-read every scope once per
   * period. A gap of `maxAge` or more re-reads every scope.
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
    const items = yield* resource.read(scope)
    // Synchronous, so a read of 100,000 DNS records runs no Effect per record. A resource Schema is
    // synchronous (no async transformation); one that is not fails here with its own message.
    const encode = Schema.encodeEither(resource.schema)
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
      const encoded = encode(item)
      if (Either.isLeft(encoded)) {
        return yield* Effect.fail(decodeFailureFrom(encoded.left, { resource: resource.name, scope: scope.key, input: item }))
      }
      const value = encoded.right
      // Not validated again: `value` is the resource Schema's own encoding, and the Json schema
      // (which walks every nested value) would cost more than reading the record did. Snapshots
      // are still checked as JSON when serialised (`Snapshot.toJson`, `contentJson`).
      records.push(new Snapshot.SnapshotRecord({ key, value: value as Json.Json }, true))
    }
    return { items, records: Arr.sort(records, recordOrder) }
  })

/** What an incremental run re-reads, decided from the previous snapshot and the marks. */
interface Plan {
  readonly previous: Snapshot.Snapshot
  readonly previousId: string | undefined
  readonly position: ChangeFeed.Position
  /** The previous results by key. */
  readonly results: ReadonlyMap<string, Snapshot.ResourceResult>
  /** The previous snapshot's scopes, by key: a child that differs in any field is read again in full. */
  readonly scopes: ReadonlyMap<string, Scope.Scope>
  /** Scopes re-read whole, with every scope under them. */
  readonly whole: ReadonlySet<string>
  /** Per scope key, the resources re-read there. */
  readonly marked: ReadonlyMap<string, ReadonlySet<string>>
  /** Resources re-read in every scope (producers when a mark names an unknown scope). */
  readonly everywhere: ReadonlySet<string>
  /** Resources on the slower cadence, and whether a scope's turn came in this run. */
  readonly cadence: ReadonlySet<string>
  readonly due: (scopeKey: string) => boolean
}

/**
 * Where in the slower cadence's period a scope's turn comes, in [0, 1): FNV-1a of its key, mixed
 * (MurmurHash3's finaliser) so that keys differing in one character land far apart.
 */
const phaseOf = (scopeKey: string): number => {
  let hash = 0x811c9dc5
  for (let i = 0; i < scopeKey.length; i++) hash = Math.imul(hash ^ scopeKey.charCodeAt(i), 0x01000193)
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b)
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35)
  return ((hash ^ (hash >>> 16)) >>> 0) / 0x1_0000_0000
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
  const results = new Map<string, Snapshot.ResourceResult>()
  const scopes = new Map<string, Scope.Scope>()
  for (const result of previous.results) {
    results.set(result.key, result)
    scopes.set(result.scope.key, result.scope)
  }
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
  const cadence = new Set(incremental.cadence?.resources ?? [])
  const period = incremental.cadence === undefined ? 0 : Math.max(1, Duration.toMillis(incremental.cadence.maxAge))
  const since = DateTime.toEpochMillis(previous.startedAt)
  const until = DateTime.toEpochMillis(now)
  const due = (scopeKey: string) => {
    const phase = phaseOf(scopeKey) * period
    return Math.floor((until - phase) / period) > Math.floor((since - phase) / period)
  }
  return { previous, previousId: incremental.previousId, position: changes.position, results, scopes, whole, marked, everywhere, cadence, due }
}

/** The provenance block of an incremental snapshot: what was read, and when each resource was oldest read. */
const provenanceOf = (
  plan: Plan,
  results: ReadonlyArray<Snapshot.ResourceResult>,
  carried: ReadonlySet<Snapshot.ResourceResult>,
  startedAt: DateTime.Utc
): Snapshot.Provenance => {
  const oldestRead: Record<string, DateTime.Utc> = {}
  const read: Array<string> = []
  // A carried result was read when its resource was oldest read in the previous snapshot: looked
  // up once per resource, not once per carried result.
  const previousOldest = new Map<string, DateTime.Utc>()
  for (const result of results) {
    let at = startedAt
    if (carried.has(result)) {
      at = previousOldest.get(result.resource) ?? Snapshot.oldestReadOf(plan.previous, result.resource)
      previousOldest.set(result.resource, at)
    } else read.push(result.key)
    const known = oldestRead[result.resource]
    if (known === undefined || DateTime.lessThan(at, known)) oldestRead[result.resource] = at
  }
  return new Snapshot.Provenance({
    from: { ...(plan.previousId === undefined ? {} : { id: plan.previousId }), startedAt: plan.previous.startedAt },
    position: plan.position,
    read,
    oldestRead
  })
}

/**
 * Sorts a run's results. Carried results are the previous snapshot's own objects, already in
 * order there: only what was read is sorted, then the two are merged (an incremental run carries
 * thousands of results and reads a handful).
 */
const sortResults = (
  results: ReadonlyArray<Snapshot.ResourceResult>,
  carried: ReadonlySet<Snapshot.ResourceResult>,
  previous: Snapshot.Snapshot | undefined
): Array<Snapshot.ResourceResult> => {
  if (previous === undefined || carried.size === 0) return Arr.sort(results, resultOrder)
  const kept = previous.results.filter((r) => carried.has(r))
  // A snapshot from elsewhere (built by hand, say) may not be in order: then sort everything.
  for (let k = 1; k < kept.length; k++) if (resultOrder(kept[k - 1]!, kept[k]!) > 0) return Arr.sort(results, resultOrder)
  const read = Arr.sort(results.filter((r) => !carried.has(r)), resultOrder)
  const out: Array<Snapshot.ResourceResult> = []
  let i = 0
  let j = 0
  while (i < kept.length && j < read.length) out.push(resultOrder(kept[i]!, read[j]!) <= 0 ? kept[i++]! : read[j++]!)
  while (i < kept.length) out.push(kept[i++]!)
  while (j < read.length) out.push(read[j++]!)
  return out
}

/**
 * The child scopes a producer's status stands for, by status object. A result carried from one
 * incremental snapshot to the next is the same object each time, so its records (a thousand zones)
 * are decoded once, not once per run.
 */
const producedBy = new WeakMap<
  Snapshot.ResourceStatus,
  { readonly produces: unknown; readonly parent: string; readonly children: ReadonlyArray<Scope.Scope> }
>()

/** Runs a snapshot of one connection. Never fails: every problem is a status in the snapshot. */
export const run = <R>(connector: Connector.Connector<R>, options: RunOptions): Effect.Effect<Snapshot.Snapshot, never, R> =>
  Effect.gen(function* () {
    const startedAt = yield* DateTime.now
    const emit = options.onProgress ?? (() => Effect.void)
    const progress = options.onProgress !== undefined
    const include = options.include ?? (() => true)
    const selected = selectResources(connector, options.resources)
    const concurrency = Math.max(1, options.concurrency ?? 4)
    // The reads to run, taken in order by `concurrency` workers: a read costs no fibre of its own
    // while it waits (a thousand zones are tens of thousands of reads, all known at once), and
    // `null` tells a worker that everything is done.
    const tasks = yield* Queue.unbounded<Effect.Effect<void, CredentialInvalid, R> | null>()
    /** Tasks queued or running; a task queues what it finds before it counts itself done. */
    let outstanding = 0
    const spawn = (task: Effect.Effect<void, CredentialInvalid, R>) =>
      Effect.suspend(() => {
        outstanding++
        return Queue.offer(tasks, task)
      })
    const done = Effect.suspend(() => {
      outstanding--
      return outstanding === 0 ? Queue.offerAll(tasks, Array.from({ length: concurrency }, () => null)) : Effect.void
    })
    const worker: Effect.Effect<void, CredentialInvalid, R> = Effect.flatMap(Queue.take(tasks), (task) =>
      task === null ? Effect.void : Effect.zipRight(Effect.zipRight(task, done), worker)
    )
    const plan = options.incremental === undefined ? undefined : planOf(connector, options.connectionId, options.incremental, startedAt)
    const results: Array<Snapshot.ResourceResult> = []
    /** The results carried from the previous snapshot, its own objects (incremental runs only). */
    const carried = new Set<Snapshot.ResourceResult>()
    let requests = 0
    /** Set by the first refused credential: reads still waiting for a permit then send nothing. */
    let refused: CredentialInvalid | undefined

    const finished = (resource: string, scope: Scope.Scope, status: Snapshot.ResourceStatus): Progress.ProgressEvent => ({
      _tag: "ResourceFinished",
      resource,
      scope,
      status: status._tag,
      records: Snapshot.recordsOfStatus(status).length
    })

    const finish = (resource: Resource.Any<R>, scope: Scope.Scope, status: Snapshot.ResourceStatus) =>
      Effect.suspend(() => {
        results.push(new Snapshot.ResourceResult({ resource: resource.name, scope, status }, true))
        return emit(finished(resource.name, scope, status))
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
      const known = producedBy.get(status)
      let all = known !== undefined && known.produces === produces && known.parent === scope.key ? known.children : undefined
      if (all === undefined) {
        const decode = Schema.decodeUnknownOption(resource.schema)
        const children: Array<Scope.Scope> = []
        for (const record of Snapshot.recordsOfStatus(status)) {
          const item = decode(record.value)
          if (Option.isNone(item)) return Option.none()
          children.push(new Scope.Scope({ ...produces.fromRecord(item.value), parent: scope.key }))
        }
        all = Arr.sort(children, Scope.order)
        producedBy.set(status, { produces, parent: scope.key, children: all })
      }
      return Option.some(options.include === undefined ? all : all.filter(include))
    }

    /** Whether the result of `resource` in `scope` must be read again in an incremental run. */
    const mustRead = (p: Plan, resource: Resource.Any<R>, scopeKey: string, due: boolean, previous: Snapshot.ResourceResult | undefined) =>
      previous === undefined ||
      // A failed read is retried: carrying it would keep a transient error forever.
      previous.status._tag === "failed" ||
      p.everywhere.has(resource.name) ||
      (due && p.cadence.has(resource.name)) ||
      (p.marked.get(scopeKey)?.has(resource.name) ?? false)

    /** The selected resources of each scope kind. */
    const resourcesOfKind = new Map<string, ReadonlyArray<Resource.Any<R>>>()
    const resourcesIn = (kind: string) => {
      let found = resourcesOfKind.get(kind)
      if (found === undefined) {
        found = Connector.resourcesIn(connector, kind).filter((r) => selected.has(r.name))
        resourcesOfKind.set(kind, found)
      }
      return found
    }

    /** Whether the previous snapshot had `child`, unchanged in every field. */
    const unchanged = (p: Plan, child: Scope.Scope) => {
      const before = p.scopes.get(child.key)
      return before !== undefined && Scope.equivalence(before, child)
    }

    /**
     * Visits a scope. `whole`: read every resource (a full run, a marked or new scope, or one under
     * them); otherwise re-read what the plan marks and carry the rest. Carrying is synchronous: a
     * carried result costs no fiber, and the scopes under a carried producer are walked in the same
     * pass, so only the reads become effects, queued for the workers.
     */
    const visit = (scope: Scope.Scope, whole: boolean): Effect.Effect<void, never, R> =>
      Effect.suspend(() => {
        const reads: Array<Effect.Effect<void, CredentialInvalid, R>> = []
        const events: Array<Progress.ProgressEvent> = []
        walk(scope, whole, reads, events)
        return Effect.zipRight(
          events.length === 0 ? Effect.void : Effect.forEach(events, emit, { discard: true }),
          Effect.forEach(reads, spawn, { discard: true })
        )
      })

    /** Carries what `scope` may carry, in place, and collects the reads it needs in `reads`. */
    const walk = (
      scope: Scope.Scope,
      whole: boolean,
      reads: Array<Effect.Effect<void, CredentialInvalid, R>>,
      events: Array<Progress.ProgressEvent>
    ): void => {
      const p = plan
      const scopeKey = scope.key
      const readWhole = p === undefined || whole || p.whole.has(scopeKey)
      const due = p !== undefined && !readWhole && p.cadence.size > 0 && p.due(scopeKey)
      /** A child is visited whole unless the previous snapshot had it, unchanged. */
      const descend = (children: ReadonlyArray<Scope.Scope>) =>
        Effect.forEach(children, (child) => visit(child, readWhole || p === undefined || !unchanged(p, child)), { discard: true })
      if (progress) events.push({ _tag: "ScopeStarted", scope })
      for (const resource of resourcesIn(scope.kind)) {
        if (p !== undefined && !readWhole) {
          const previous = p.results.get(`${resource.name}@${scopeKey}`)
          if (previous !== undefined && !mustRead(p, resource, scopeKey, due, previous)) {
            const children = childrenOf(resource, scope, previous.status)
            if (Option.isSome(children)) {
              carried.add(previous)
              results.push(previous)
              if (progress) events.push(finished(resource.name, scope, previous.status))
              for (const child of children.value) {
                if (unchanged(p, child)) walk(child, false, reads, events)
                else reads.push(visit(child, true))
              }
              continue
            }
          }
        }
        reads.push(Effect.flatMap(read(resource, scope), descend))
      }
    }

    // Reads shared by several resources (Cloudflare's ruleset listing per zone) are made as Effect
    // requests; one cache per run means each is sent once per snapshot and never reused by the next.
    const sharedReads = yield* Request.makeCache({ capacity: 1 << 16, timeToLive: Duration.infinity })
    const stopped = yield* Effect.zipRight(
      spawn(visit(Scope.root(options.connectionId), false)),
      Effect.all(Array.from({ length: concurrency }, () => worker), { concurrency: "unbounded", discard: true })
    ).pipe(
      Effect.withRequestCache(sharedReads),
      Effect.withRequestCaching(true),
      Effect.either
    )
    const finishedAt = yield* DateTime.now
    const sorted = sortResults(results, carried, plan?.previous)
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
      // Not validated again: every part was built here from validated values (the results are
      // `ResourceResult`s, the times `DateTime`s), and checking 17,000 results costs a run's worth.
    }, true)
  }).pipe(Effect.withSpan("SnapshotRunner.run", { attributes: { connector: connector.id, connection: options.connectionId } }))
