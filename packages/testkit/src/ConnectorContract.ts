/**
 * The connector contract suite: what every Plumbline connector must honour, checked against a fake
 * of its provider. A connector's test file calls `ConnectorContract.suite(options)` once; the suite
 * registers one `@effect/vitest` test per check and resource. Each check is also exported on its
 * own (`checks.*`), an Effect that fails with a `ContractViolation`, so the testkit can prove every
 * check fails for a connector that breaks it.
 *
 * What the connector author supplies (`Options`): the connector, the secret its harness uses, a
 * fresh `Harness` per test (the connector's services over a `FakeProvider` with a baseline data set
 * in which every scope kind exists), and per resource how to seed N records, how the provider
 * pages, which requests read it, a required field, and optionally how to make it unavailable.
 * The suite injects every fault itself through the `FakeProvider` (statuses, `Retry-After`,
 * repeated pages) and drives retries with the TestClock.
 */
import { describe, it } from "@effect/vitest"
import { Connector, Drift, Json, type Progress, Snapshot, SnapshotRunner } from "@plumbline/core"
import { Cause, Data, Duration, Effect, Exit, type Layer, Schema, TestClock } from "effect"
import type * as FakeProvider from "./FakeProvider.js"
import * as TestLayers from "./TestLayers.js"

/** A check found the connector breaking the contract. */
export class ContractViolation extends Data.TaggedError("ContractViolation")<{
  readonly check: string
  readonly detail: string
}> {
  override get message(): string {
    return `${this.check}: ${this.detail}`
  }
}

/** The connector's services over a fake provider, fresh for each test. */
export interface Harness<R> {
  readonly layer: Layer.Layer<R>
  readonly provider: FakeProvider.FakeProvider
}

/** How the provider pages a resource's listing. */
export type Paging =
  | { readonly style: "page-number" | "cursor"; readonly pageSize: number }
  /** The provider answers the whole listing in one response. */
  | { readonly style: "none" }

/** What the suite needs to know about one resource. */
export interface ResourceFixture<H> {
  /** The requests that read this resource: a pattern over the path relative to the provider's base URL. */
  readonly path: RegExp
  /** How the provider pages it, with the page size the connector asks for. */
  readonly paging: Paging
  /**
   * Replaces this resource's provider records with `count` new, distinct ones, in scopes the
   * baseline data set has, and returns them as live objects (the suite edits them to inject bad data).
   */
  readonly seed: (harness: H, count: number) => ReadonlyArray<Record<string, unknown>>
  /**
   * A top-level field of a provider item that the connector's schema requires: the suite deletes it
   * to make a bad record. When no field is required, name `mistypedField` instead.
   */
  readonly requiredField?: string
  /** A top-level field the suite sets to an object, a value of the wrong type, to make a bad record. */
  readonly mistypedField?: string
  /** Makes the resource unavailable (plan or feature) in at least one scope; omit when it has no gate. */
  readonly makeUnavailable?: (harness: H) => void
  /**
   * The record counts the listing check seeds, when the provider cannot hold any number of them
   * (one DNSSEC object per zone, a fixed set of settings). Default: by `paging` (0, 1, a page, a page + 1).
   */
  readonly counts?: ReadonlyArray<number>
}

/** Options of the suite. */
export interface Options<R, H extends Harness<R> = Harness<R>> {
  readonly connector: Connector.Connector<R>
  /** The credential secret the harness's pipeline holds: it must appear nowhere but in request headers. */
  readonly secret: string
  readonly harness: () => H
  readonly resources: { readonly [name: string]: ResourceFixture<H> }
  /** The provider's error body for an injected status (default `{ errors: [{ code: status, message }] }`). */
  readonly errorBody?: (status: number) => unknown
  /** Retries the connector may make at most per request (default 10). */
  readonly maxRetries?: number
  readonly connectionId?: string
}

// -------------------------------------------------------------------------------------------------
// Running snapshots against the harness

/** What one run observed. */
interface Observed {
  readonly snapshot: Snapshot.Snapshot
  readonly progress: ReadonlyArray<Progress.ProgressEvent>
  readonly logs: TestLayers.LogCapture
}

const connectionIdOf = (options: Options<never, Harness<never>>) => options.connectionId ?? "contract-connection"

type AnyOptions = Options<never, Harness<never>>

// Options are contravariant in R and H; the checks only pass them through, so widen once here.
const widen = <R, H extends Harness<R>>(options: Options<R, H>): AnyOptions => options as unknown as AnyOptions

const runSnapshot = (
  options: AnyOptions,
  harness: Harness<never>,
  run: Partial<SnapshotRunner.RunOptions> = {}
): Effect.Effect<Observed> => {
  const progress: Array<Progress.ProgressEvent> = []
  return TestLayers.captureLogs(
    TestLayers.runOnTestClock(
      SnapshotRunner.run(options.connector, {
        connectionId: connectionIdOf(options),
        onProgress: (event) => Effect.sync(() => progress.push(event)),
        ...run
      }).pipe(Effect.provide(harness.layer))
    )
  ).pipe(Effect.map(([snapshot, logs]) => ({ snapshot, progress, logs })))
}

const violation = (check: string, detail: string) => Effect.fail(new ContractViolation({ check, detail }))

const fixtureOf = (options: AnyOptions, check: string, name: string) =>
  Effect.suspend(() => {
    const fixture = options.resources[name]
    const resource = Connector.findResource(options.connector, name)
    if (fixture === undefined || resource === undefined) return violation(check, `resource "${name}" has no fixture or is not declared`)
    return Effect.succeed({ fixture, resource })
  })

const resultsOf = (snapshot: Snapshot.Snapshot, name: string) => snapshot.results.filter((r) => r.resource === name)

const describeStatus = (result: Snapshot.ResourceResult): string => {
  const status = result.status
  return status._tag === "failed" ? `failed (${status.error.message})` : status._tag
}

const statuses = (snapshot: Snapshot.Snapshot, name: string) =>
  resultsOf(snapshot, name)
    .map((r) => `${r.scope.key}: ${describeStatus(r)}`)
    .join("; ") || "no result at all (does the baseline data set have a scope it lives in?)"

const defaultErrorBody = (status: number) => ({ errors: [{ code: status, message: `injected HTTP ${status}` }] })

const errorAnswer = (options: AnyOptions, status: number, headers: Record<string, string> = {}): FakeProvider.Answer => ({
  status,
  body: (options.errorBody ?? defaultErrorBody)(status),
  headers: { "content-type": "application/json", ...headers }
})

/** Makes `record` bad the way the fixture says; returns the field it broke. */
const corrupt = (fixture: Pick<ResourceFixture<never>, "requiredField" | "mistypedField">, record: Record<string, unknown>): string | undefined => {
  if (fixture.requiredField !== undefined) {
    delete record[fixture.requiredField]
    return fixture.requiredField
  }
  if (fixture.mistypedField !== undefined) {
    record[fixture.mistypedField] = { "not-a": "valid value" }
    return fixture.mistypedField
  }
  return undefined
}

/** The page counts the listing check runs: empty, one, a full page, a full page plus one. */
export const pageCounts = (paging: Paging): ReadonlyArray<number> =>
  paging.style === "none" ? [0, 1, 3] : [0, 1, paging.pageSize, paging.pageSize + 1]

/** The counts the listing check runs for a fixture: its own, or those of its paging. */
export const countsOf = (fixture: { readonly paging: Paging; readonly counts?: ReadonlyArray<number> }): ReadonlyArray<number> =>
  fixture.counts ?? pageCounts(fixture.paging)

/** The largest count of a fixture: more than a page when the provider pages. */
const most = (fixture: { readonly paging: Paging; readonly counts?: ReadonlyArray<number> }): number => Math.max(...countsOf(fixture))

// -------------------------------------------------------------------------------------------------
// The checks

const requireOk = (check: string, snapshot: Snapshot.Snapshot, name: string) => {
  const results = resultsOf(snapshot, name)
  if (snapshot.outcome !== "complete") return violation(check, `the snapshot stopped: ${snapshot.credentialError?.message ?? snapshot.outcome}`)
  // A plan or feature gate may skip some scopes; every other scope must be read.
  if (!results.some((r) => r.status._tag === "ok") || results.some((r) => r.status._tag !== "ok" && r.status._tag !== "skipped")) {
    return violation(check, `expected ${name} to be read in every scope it is available in, got ${statuses(snapshot, name)}`)
  }
  return Effect.void
}

/** Every record of `name` is listed when the provider holds `count` of them, whatever the page boundaries. */
export const listsExhaustively = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string,
  count: number
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `lists ${count} ${name} record(s) exhaustively`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    const seeded = fixture.seed(harness, count)
    if (seeded.length !== count) return yield* violation(check, `the fixture seeded ${seeded.length} records, not ${count}`)
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    yield* requireOk(check, snapshot, name)
    const listed = Snapshot.recordsOf(snapshot, name).length
    if (listed !== count) return yield* violation(check, `the provider holds ${count} record(s), the snapshot has ${listed}`)
    const paging = fixture.paging
    if (paging.style !== "none") {
      const requests = harness.provider.requestsTo({ path: fixture.path }).length
      const pages = Math.max(1, Math.ceil(count / paging.pageSize))
      // One extra request is allowed: a connector may learn that a full page was the last one by asking again.
      if (requests > pages + 1) return yield* violation(check, `${requests} requests for ${pages} page(s) of ${name}`)
    }
  })

/** A provider serving the same page again fails the resource (`repeated-page`) instead of looping or duplicating. */
export const detectsRepeatedPage = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `fails ${name} on a repeating page`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    if (fixture.paging.style === "none") return
    const harness = o.harness()
    fixture.seed(harness, fixture.paging.pageSize * 3)
    harness.provider.inject({ match: { path: fixture.path }, repeatFirst: true })
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    const failed = resultsOf(snapshot, name).filter((r) => r.status._tag === "failed")
    const repeated = failed.some((r) => r.status._tag === "failed" && r.status.error._tag === "RequestRejected" && r.status.error.reason === "repeated-page")
    if (!repeated) {
      return yield* violation(check, `expected a failed result with RequestRejected(repeated-page), got ${statuses(snapshot, name)}`)
    }
    const requests = harness.provider.requestsTo({ path: fixture.path }).length
    if (requests > 5) return yield* violation(check, `${requests} requests before the repetition was noticed`)
  })

/** Identity keys are unique, non-empty and the same across two runs over the same data. */
export const identityIsUniqueAndStable = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `${name} identity keys are unique and stable`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    const count = most(fixture)
    fixture.seed(harness, count)
    const first = yield* runSnapshot(o, harness, { resources: [name] })
    yield* requireOk(check, first.snapshot, name)
    yield* TestClock.adjust(Duration.minutes(1))
    const second = yield* runSnapshot(o, harness, { resources: [name] })
    yield* requireOk(check, second.snapshot, name)
    const keys = (s: Snapshot.Snapshot) =>
      Snapshot.recordsOf(s, name).map(({ scope, record }) => `${scope.key}/${record.key}`)
    const before = keys(first.snapshot)
    const after = keys(second.snapshot)
    if (before.length !== count) return yield* violation(check, `expected ${count} records, got ${before.length}`)
    if (Snapshot.recordsOf(first.snapshot, name).some(({ record }) => record.key.trim() === "")) {
      return yield* violation(check, "a record has an empty identity key")
    }
    if (new Set(before).size !== before.length) return yield* violation(check, "two records share an identity key")
    if (Json.stringify([...before].sort()) !== Json.stringify([...after].sort())) {
      return yield* violation(check, `identity keys changed between two runs over the same data: ${before.join(",")} then ${after.join(",")}`)
    }
  })

/**
 * Seeds every resource: more than a page of records for each leaf resource, and two of each
 * scope-producing one (a page of those would multiply every child resource's requests).
 */
const seedAll = (options: AnyOptions, harness: Harness<never>, size: "pages" | "small" = "pages") => {
  for (const resource of options.connector.resources) {
    const fixture = options.resources[resource.name]
    if (fixture === undefined) continue
    // Two records, or the smallest count the provider can hold when the fixture fixes them.
    const small = fixture.counts === undefined ? 2 : Math.min(...fixture.counts.filter((n) => n >= 1))
    fixture.seed(harness, resource.produces === undefined && size === "pages" ? most(fixture) : small)
  }
}

/** Two sequential snapshots of unchanged data are byte-identical, and drift between them (even an hour apart) is empty. */
export const snapshotsAreDeterministic = <R, H extends Harness<R>>(options: Options<R, H>): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = "two snapshots of unchanged data are byte-identical and drift is empty"
    const o = widen(options)
    const harness = o.harness()
    seedAll(o, harness)
    const first = yield* runSnapshot(o, harness)
    const second = yield* runSnapshot(o, harness)
    if (first.snapshot.outcome !== "complete") return yield* violation(check, `the snapshot stopped: ${first.snapshot.credentialError?.message}`)
    const failed = first.snapshot.results.filter((r) => r.status._tag === "failed")
    if (failed.length > 0) return yield* violation(check, `resources failed on clean data: ${failed.map((r) => `${r.key}: ${describeStatus(r)}`).join("; ")}`)
    const a = Snapshot.toJson(first.snapshot)
    const b = Snapshot.toJson(second.snapshot)
    if (a !== b) return yield* violation(check, `two sequential snapshots differ:\n${firstDifference(a, b)}`)
    yield* TestClock.adjust(Duration.hours(1))
    const later = yield* runSnapshot(o, harness)
    for (const [label, other] of [["sequential", second.snapshot], ["an hour later", later.snapshot]] as const) {
      const report = Drift.diff(first.snapshot, other, { volatile: Connector.volatileFields(o.connector) })
      if (!report.isEmpty) {
        const changes = report.changes.map((c) => (c._tag === "changed" ? `${c.resource}/${c.key} ${c.fields.map((f) => f.path).join(",")}` : `${c._tag} ${c.resource}/${c.key}`))
        return yield* violation(check, `drift between ${label} snapshots of unchanged data is not empty: ${[...changes, ...report.coverage.map((c) => `${c.resource}@${c.scope.key} ${c.before}→${c.after}`)].join("; ")} (declare volatile fields?)`)
      }
    }
  })

const firstDifference = (a: string, b: string): string => {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `…${a.slice(Math.max(0, i - 60), i + 60)}…\n…${b.slice(Math.max(0, i - 60), i + 60)}…`
}

/** A 401 on `name` stops the whole snapshot as credential-invalid, without retrying or sending anything more. */
export const credentialInvalidStops = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `a 401 on ${name} stops the snapshot as credential-invalid`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    seedAll(o, harness, "small")
    harness.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, 401) })
    const { snapshot } = yield* runSnapshot(o, harness, { concurrency: 1 })
    if (snapshot.outcome !== "credential-invalid" || snapshot.credentialError?._tag !== "CredentialInvalid") {
      return yield* violation(check, `expected outcome credential-invalid, got ${snapshot.outcome}; ${name}: ${statuses(snapshot, name)}`)
    }
    const requests = harness.provider.requests
    const first = requests.findIndex((r) => fixture.path.test(relativePath(harness, r.url)))
    const refused = requests[first]?.url.toString()
    const after = first < 0 ? [] : requests.slice(first + 1)
    // Requests already in flight (a resource's own concurrent reads, the runner's next read) may
    // still land; a connector that goes on reading makes many more, and one that retries repeats the URL.
    const listed = after.map((r) => `${r.method} ${r.url.pathname}${r.url.search}`)
    if (after.some((r) => r.url.toString() === refused)) return yield* violation(check, `the refused request was retried: ${refused}`)
    if (after.length > maxInFlight) {
      return yield* violation(check, `${listed.length} request(s) after the 401: ${listed.slice(0, 3).join(", ")}…`)
    }
  })

/** Requests a stopped snapshot may still send after a 401: those already in flight. */
const maxInFlight = 5

const relativePath = (harness: Harness<never>, url: URL): string => {
  const base = new URL(harness.provider.baseUrl)
  return url.pathname.startsWith(base.pathname) ? url.pathname.slice(base.pathname.replace(/\/$/, "").length) || "/" : url.pathname
}

/**
 * Results of `name` that a fault on `path` should have changed: every result but the skipped ones,
 * and but `ok` results of scopes no faulted request was sent for (a connector may know, from a shared
 * listing, that a scope has nothing to read there).
 */
const hitBy = (harness: Harness<never>, snapshot: Snapshot.Snapshot, name: string, path: RegExp) => {
  const faulted = harness.provider.requestsTo({ path })
  return resultsOf(snapshot, name).filter(
    (r) =>
      r.status._tag !== "skipped" &&
      (r.status._tag !== "ok" || r.scope.kind === "connection" || faulted.some((request) => request.url.pathname.includes(r.scope.id)))
  )
}

/** A 403 on `name` makes it `forbidden` wherever it was asked for, naming the permission to grant; nothing else stops, nothing is retried. */
export const forbiddenNamesPermission = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `a 403 on ${name} makes it forbidden, naming the permission`
    const o = widen(options)
    const { fixture, resource } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    fixture.seed(harness, 1)
    harness.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, 403) })
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    if (snapshot.outcome !== "complete") return yield* violation(check, `a 403 stopped the snapshot (${snapshot.credentialError?.message})`)
    const results = hitBy(harness, snapshot, name, fixture.path)
    if (results.length === 0 || results.some((r) => r.status._tag !== "forbidden")) {
      return yield* violation(check, `expected forbidden, got ${statuses(snapshot, name)}`)
    }
    for (const result of results) {
      const permissions = result.status._tag === "forbidden" ? result.status.permissions : []
      if (permissions.length === 0 || permissions.some((p) => p.trim() === "")) {
        return yield* violation(check, `${result.key} is forbidden without naming a permission`)
      }
    }
    if (resource.permissions.length === 0) return yield* violation(check, `${name} declares no permissions`)
    const urls = harness.provider.requestsTo({ path: fixture.path }).map((r) => r.url.toString())
    if (new Set(urls).size !== urls.length) return yield* violation(check, "a 403 was retried")
  })

/** A resource made unavailable (plan or feature) is `skipped` with a reason, never failed. */
export const unavailableIsSkipped = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `${name} unavailable becomes skipped`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    if (fixture.makeUnavailable === undefined) return yield* violation(check, `the fixture of ${name} cannot make it unavailable`)
    const harness = o.harness()
    fixture.seed(harness, 1)
    fixture.makeUnavailable(harness)
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    const results = resultsOf(snapshot, name)
    const skipped = results.filter((r) => r.status._tag === "skipped")
    if (skipped.length === 0 || results.some((r) => r.status._tag === "failed" || r.status._tag === "forbidden")) {
      return yield* violation(check, `expected skipped in at least one scope and no failure, got ${statuses(snapshot, name)}`)
    }
    if (skipped.some((r) => r.status._tag === "skipped" && r.status.detail.trim() === "")) {
      return yield* violation(check, "skipped without saying why")
    }
  })

/** 429s are retried after exactly the `Retry-After` the provider asked for; every attempt is counted. */
export const honoursRetryAfter = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `${name} retries 429 after Retry-After`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    const seeded = fixture.seed(harness, countsOf(fixture).find((n) => n >= 1) ?? 1).length
    const waitSeconds = 7
    harness.provider.inject({
      match: { path: fixture.path },
      answer: errorAnswer(o, 429, { "retry-after": String(waitSeconds) }),
      times: 2
    })
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    yield* requireOk(check, snapshot, name)
    const listed = Snapshot.recordsOf(snapshot, name).length
    if (listed !== seeded) return yield* violation(check, `${seeded} record(s) seeded, ${listed} listed after the retries`)
    const attempts = harness.provider.requestsTo({ path: fixture.path })
    // The first two requests got the 429s; each must be tried again after exactly the wait asked for.
    for (const limited of attempts.slice(0, 2)) {
      const retry = attempts.find((r) => r.at >= limited.at && r !== limited && r.url.toString() === limited.url.toString() && attempts.indexOf(r) > attempts.indexOf(limited))
      if (retry === undefined) return yield* violation(check, `${limited.url.pathname}${limited.url.search} was not tried again after a 429`)
      const waited = retry.at - limited.at
      if (waited < waitSeconds * 1000 || waited > waitSeconds * 1000 + 1_000) {
        return yield* violation(check, `${limited.url.pathname} was tried again ${waited} ms after a 429 asking for ${waitSeconds} s`)
      }
    }
    yield* everyRequestCounted(check, snapshot, harness)
  })

const everyRequestCounted = (check: string, snapshot: Snapshot.Snapshot, harness: Harness<never>) =>
  snapshot.requestCount === harness.provider.requests.length
    ? Effect.void
    : violation(
        check,
        `the snapshot counted ${snapshot.requestCount} request(s) but the provider received ${harness.provider.requests.length}: every request, retries included, must go through the HTTP pipeline and its budget`
      )

/** 5xx answers are retried until one succeeds, and a provider that keeps failing fails the resource after a bounded number of attempts. */
export const retriesServerErrors = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `${name} retries 5xx within its budget`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const transient = o.harness()
    fixture.seed(transient, 1)
    transient.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, 503), times: 2 })
    const recovered = yield* runSnapshot(o, transient, { resources: [name] })
    yield* requireOk(check, recovered.snapshot, name)
    yield* everyRequestCounted(check, recovered.snapshot, transient)

    const down = o.harness()
    fixture.seed(down, 1)
    down.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, 500) })
    const failed = yield* runSnapshot(o, down, { resources: [name] })
    const results = hitBy(down, failed.snapshot, name, fixture.path)
    if (results.length === 0 || results.some((r) => r.status._tag !== "failed" || r.status.error._tag !== "UpstreamUnavailable")) {
      return yield* violation(check, `a provider answering 500 forever should fail ${name} with UpstreamUnavailable, got ${statuses(failed.snapshot, name)}`)
    }
    const maxRetries = o.maxRetries ?? 10
    const perUrl = new Map<string, number>()
    for (const r of down.provider.requestsTo({ path: fixture.path })) perUrl.set(r.url.toString(), (perUrl.get(r.url.toString()) ?? 0) + 1)
    for (const [url, attempts] of perUrl) {
      if (attempts > maxRetries + 1) return yield* violation(check, `${attempts} attempts at ${url}, more than ${maxRetries} retries`)
    }
    yield* everyRequestCounted(check, failed.snapshot, down)
  })

/** An item missing a required field fails the resource with a `DecodeFailure` naming the resource and the field. */
export const decodeFailureNamesField = <R, H extends Harness<R>>(
  options: Options<R, H>,
  name: string
): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = `a bad ${name} item fails (or is reported as a problem) naming resource and field`
    const o = widen(options)
    const { fixture } = yield* fixtureOf(o, check, name)
    const harness = o.harness()
    const [first] = fixture.seed(harness, fixture.counts === undefined ? 2 : Math.max(1, Math.min(...fixture.counts)))
    if (first === undefined) return yield* violation(check, "the fixture seeded nothing")
    const field = corrupt(fixture, first)
    if (field === undefined) return yield* violation(check, "the fixture names neither a required nor a mistyped field")
    const { snapshot } = yield* runSnapshot(o, harness, { resources: [name] })
    // A connector that decodes item by item reports the bad item as a problem of a `partial` result
    // (its path is relative to the item) instead of failing the resource: both name the field.
    const problems = resultsOf(snapshot, name).flatMap((r) => (r.status._tag === "partial" ? r.status.problems : []))
    if (problems.length > 0) {
      for (const problem of problems) {
        if (!problem.path.split("/").includes(field)) {
          return yield* violation(check, `the item problem's path ${problem.path} does not name the field "${field}"`)
        }
      }
      return
    }
    const failures = resultsOf(snapshot, name).flatMap((r) =>
      r.status._tag === "failed" && r.status.error._tag === "DecodeFailure" ? [r.status.error] : []
    )
    if (failures.length === 0) return yield* violation(check, `expected a DecodeFailure, got ${statuses(snapshot, name)} (a partial result naming the field would do too)`)
    for (const failure of failures) {
      if (failure.resource !== name) return yield* violation(check, `the DecodeFailure names resource "${failure.resource}", not "${name}"`)
      if (!failure.path.split("/").includes(field)) {
        return yield* violation(check, `the DecodeFailure's path ${failure.path} does not name the field "${field}"`)
      }
    }
  })

/** Nothing but GET and HEAD reaches the provider, except writes a resource declares. */
export const readOnly = <R, H extends Harness<R>>(options: Options<R, H>): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = "sends nothing but GET/HEAD unless declared"
    const o = widen(options)
    const harness = o.harness()
    seedAll(o, harness, "small")
    yield* runSnapshot(o, harness)
    yield* Effect.exit(TestLayers.runOnTestClock(Effect.provide(o.connector.verify, harness.layer)))
    const declared = o.connector.resources.flatMap((r) => r.writes ?? [])
    const undeclared = harness.provider.requests.filter(
      (r) => r.method !== "GET" && r.method !== "HEAD" && !declared.some((w) => w.method === r.method && w.path.test(r.url.pathname))
    )
    if (undeclared.length > 0) {
      return yield* violation(check, `undeclared writes: ${undeclared.map((r) => `${r.method} ${r.url.pathname}`).join(", ")}`)
    }
  })

/**
 * The credential's secret appears nowhere but in request headers: not in logs (every level), errors
 * and their messages, snapshots, drift, progress events, the verification, request URLs or bodies —
 * on a clean run and on runs with a 401, a 403, a failing provider and a bad record on each resource.
 */
export const credentialNeverLeaks = <R, H extends Harness<R>>(options: Options<R, H>): Effect.Effect<void, ContractViolation> =>
  Effect.gen(function* () {
    const check = "never reveals the credential"
    const o = widen(options)
    if (o.secret.length < 8) return yield* violation(check, "use a secret of 8 characters or more, so that a search for it means something")
    const needles = [o.secret, encodeURIComponent(o.secret), Buffer.from(o.secret).toString("base64")]
    const fixtures = Object.values(o.resources)
    const everywhere = (status: number) => (h: Harness<never>) => {
      for (const fixture of fixtures) h.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, status) })
    }
    // Each fault hits every resource at once, so every resource's error path is exercised in a few runs.
    const scenarios: Array<{ readonly label: string; readonly setup: (h: Harness<never>) => void }> = [
      { label: "a clean run", setup: () => {} },
      { label: "a 403 on every resource", setup: everywhere(403) },
      { label: "a failing provider on every resource", setup: everywhere(502) },
      {
        label: "a bad record in every resource",
        setup: (h) => {
          for (const fixture of fixtures) {
            const [first] = fixture.seed(h, Math.max(1, Math.min(2, most(fixture))))
            if (first !== undefined) corrupt(fixture, first)
          }
        }
      },
      ...Object.entries(o.resources).map(([name, fixture]) => ({
        label: `a 401 on ${name}`,
        setup: (h: Harness<never>) => h.provider.inject({ match: { path: fixture.path }, answer: errorAnswer(o, 401) })
      }))
    ]
    let previous: Snapshot.Snapshot | undefined
    for (const scenario of scenarios) {
      const harness = o.harness()
      seedAll(o, harness, "small")
      scenario.setup(harness)
      const observed = yield* runSnapshot(o, harness)
      const verified = yield* TestLayers.captureLogs(Effect.exit(TestLayers.runOnTestClock(Effect.provide(o.connector.verify, harness.layer))))
      const snapshot = observed.snapshot
      const outputs: Array<readonly [string, string]> = [
        ["the snapshot", Snapshot.toJson(snapshot)],
        ["the logs", observed.logs.text()],
        ["the progress events", observed.progress.map((event) => Json.stringify(event)).join("\n")],
        [
          "error messages",
          [
            snapshot.credentialError?.message ?? "",
            ...snapshot.results.map((r) => (r.status._tag === "failed" ? `${r.status.error.message} ${String(r.status.error)}` : ""))
          ].join("\n")
        ],
        ["the verification", Exit.match(verified[0], { onFailure: (cause) => Cause.pretty(cause), onSuccess: (v) => Json.stringify(v) })],
        ["the verification logs", verified[1].text()],
        ["request URLs and bodies", harness.provider.requests.map((r) => `${r.url.toString()} ${r.body ?? ""}`).join("\n")],
        [
          "request headers other than Authorization",
          harness.provider.requests
            .map((r) => Json.stringify(Object.entries(r.headers).filter(([k]) => k !== "authorization")))
            .join("\n")
        ]
      ]
      if (previous !== undefined) {
        const report = Drift.diff(previous, snapshot, { volatile: Connector.volatileFields(o.connector) })
        outputs.push(["the drift report", Json.stringify(Schema.encodeSync(Drift.DriftReport)(report))])
      }
      previous = snapshot
      for (const [where, text] of outputs) {
        if (needles.some((needle) => text.includes(needle))) {
          return yield* violation(check, `the secret appears in ${where} after ${scenario.label}`)
        }
      }
    }
  })

/** Every resource of the connector has a fixture, so no resource escapes the suite. */
export const coversEveryResource = <R, H extends Harness<R>>(options: Options<R, H>): Effect.Effect<void, ContractViolation> => {
  const missing = options.connector.resources.map((r) => r.name).filter((name) => options.resources[name] === undefined)
  const unknown = Object.keys(options.resources).filter((name) => Connector.findResource(options.connector, name) === undefined)
  if (missing.length > 0) return violation("covers every resource", `no fixture for ${missing.join(", ")}`)
  if (unknown.length > 0) return violation("covers every resource", `fixtures for undeclared resources ${unknown.join(", ")}`)
  return Effect.void
}

/** Every check, for the testkit's own tests and for connectors that want to run one alone. */
export const checks = {
  coversEveryResource,
  listsExhaustively,
  detectsRepeatedPage,
  identityIsUniqueAndStable,
  snapshotsAreDeterministic,
  credentialInvalidStops,
  forbiddenNamesPermission,
  unavailableIsSkipped,
  honoursRetryAfter,
  retriesServerErrors,
  decodeFailureNamesField,
  readOnly,
  credentialNeverLeaks
} as const

/**
 * Registers the whole contract as vitest tests (call it at the top level of a test file).
 * One test per check and resource, named after what it proves.
 */
export const suite = <R, H extends Harness<R>>(options: Options<R, H>): void => {
  describe(`${options.connector.id} connector contract`, () => {
    it.effect("has a fixture for every resource", () => coversEveryResource(options))
    for (const [name, fixture] of Object.entries(options.resources)) {
      describe(`resource ${name}`, () => {
        for (const count of countsOf(fixture)) {
          it.effect(`lists ${count} record(s) exhaustively`, () => listsExhaustively(options, name, count))
        }
        if (fixture.paging.style !== "none") {
          it.effect("fails on a repeating page instead of looping", () => detectsRepeatedPage(options, name))
        }
        it.effect("has unique and stable identity keys", () => identityIsUniqueAndStable(options, name))
        it.effect("stops the snapshot as credential-invalid on a 401", () => credentialInvalidStops(options, name))
        it.effect("becomes forbidden, naming the permission, on a 403", () => forbiddenNamesPermission(options, name))
        if (fixture.makeUnavailable !== undefined) {
          it.effect("becomes skipped when unavailable", () => unavailableIsSkipped(options, name))
        }
        it.effect("retries a 429 after exactly Retry-After", () => honoursRetryAfter(options, name))
        it.effect("retries 5xx, a bounded number of times", () => retriesServerErrors(options, name))
        it.effect("names the resource and field of a decode failure", () => decodeFailureNamesField(options, name))
      })
    }
    it.effect("two snapshots of unchanged data are byte-identical and their drift is empty", () => snapshotsAreDeterministic(options))
    it.effect("sends nothing but GET/HEAD unless a write is declared", () => readOnly(options))
    it.effect("never reveals the credential in output, logs or errors", () => credentialNeverLeaks(options))
  })
}
