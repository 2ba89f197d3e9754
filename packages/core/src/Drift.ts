/**
 * Drift: what changed between two snapshots of one connection.
 *
 * Records are matched by identity key within each resource and scope, and reported as added,
 * removed or changed; a change lists its fields as JSON Pointer paths with the values before and
 * after. Volatile fields (declared by the connector) and user ignore rules are left out everywhere,
 * so they never appear in a report. A resource whose coverage changed — it became forbidden, was
 * skipped, failed, or its scope disappeared — is reported as a coverage change, never as all of its
 * records removed. A `partial` result (some items could not be decoded) is compared on the records it
 * has, but a record it lacks is never reported as removed: it may be one of the items that failed to
 * decode, so its removal is suppressed until a complete read confirms it. Between snapshots of two
 * shapes (`schemaVersion` differs: the connector's mapping changed), a member that appears or
 * disappears inside a record is the new shape, not a change, so it is not reported; values both
 * shapes have, and records that come or go, still are. Output is sorted, so the same two snapshots always give the same report.
 */
import { Array as Arr, Order, Schema } from "effect"
import * as Json from "./Json.js"
import { Scope } from "./Scope.js"
import * as Snapshot from "./Snapshot.js"
import type { SnapshotRecord } from "./Snapshot.js"

/** Ignores `path` (a JSON Pointer relative to a record; `*` matches any one segment, a prefix ignores all below it) in `resource`. */
export class IgnoreRule extends Schema.Class<IgnoreRule>("@plumbline/core/IgnoreRule")({
  resource: Schema.String,
  path: Schema.String
}) {}

/** One field that changed. A missing `before` means the field was added; a missing `after`, removed. */
export class FieldChange extends Schema.Class<FieldChange>("@plumbline/core/FieldChange")({
  path: Schema.String,
  before: Schema.optional(Json.Json),
  after: Schema.optional(Json.Json)
}) {}

const located = { resource: Schema.String, scope: Scope, key: Schema.String }

/** A record that appeared. */
export class Added extends Schema.TaggedClass<Added>("@plumbline/core/Drift/Added")("added", {
  ...located,
  after: Json.Json
}) {}

/** A record that disappeared. */
export class Removed extends Schema.TaggedClass<Removed>("@plumbline/core/Drift/Removed")("removed", {
  ...located,
  before: Json.Json
}) {}

/** A record whose fields changed. */
export class Changed extends Schema.TaggedClass<Changed>("@plumbline/core/Drift/Changed")("changed", {
  ...located,
  fields: Schema.NonEmptyArray(FieldChange)
}) {}

/** A change to one record. */
export const RecordChange = Schema.Union(Added, Removed, Changed)
export type RecordChange = typeof RecordChange.Type

/** What a resource's status was: its tag, or `absent` when the snapshot has no result for it. */
export const Coverage = Schema.Literal("ok", "partial", "skipped", "forbidden", "failed", "absent")
export type Coverage = typeof Coverage.Type

/** A resource in a scope whose coverage changed (it became forbidden, skipped, failed, absent, or readable again). */
export class CoverageChange extends Schema.Class<CoverageChange>("@plumbline/core/CoverageChange")({
  resource: Schema.String,
  scope: Scope,
  before: Coverage,
  after: Coverage
}) {}

/** The drift between two snapshots. */
export class DriftReport extends Schema.Class<DriftReport>("@plumbline/core/DriftReport")({
  connectionId: Schema.String,
  from: Schema.DateTimeUtc,
  to: Schema.DateTimeUtc,
  changes: Schema.Array(RecordChange),
  coverage: Schema.Array(CoverageChange)
}) {
  /** True when nothing changed. */
  get isEmpty(): boolean {
    return this.changes.length === 0 && this.coverage.length === 0
  }
}

/** Options of a diff. */
export interface DiffOptions {
  /** Volatile fields per resource (see `Connector.volatileFields`). */
  readonly volatile?: ReadonlyMap<string, ReadonlyArray<string>>
  readonly ignore?: ReadonlyArray<IgnoreRule>
}

// ---------------------------------------------------------------------------------------------
// JSON Pointer paths and ignore patterns

const escape = (segment: string) => segment.replace(/~/g, "~0").replace(/\//g, "~1")
const unescape = (segment: string) => segment.replace(/~1/g, "/").replace(/~0/g, "~")

/** Splits a JSON Pointer (RFC 6901) into its segments: "" is the whole value, "/" its member named "". */
export const parsePointer = (pointer: string): ReadonlyArray<string> =>
  pointer === "" ? [] : pointer.slice(1).split("/").map(unescape)

const child = (path: string, segment: string | number) => `${path}/${escape(String(segment))}`

/** A compiled set of ignore patterns for one resource: does a path fall under one of them? */
type Ignorer = (segments: ReadonlyArray<string>) => boolean

const compileIgnorer = (patterns: ReadonlyArray<string>): Ignorer => {
  const parsed = patterns.map((p) => p.replace(/^\//, "").split("/"))
  if (parsed.length === 0) return () => false
  return (segments) =>
    parsed.some(
      (pattern) =>
        pattern.length <= segments.length &&
        pattern.every((p, i) => p === "*" || p === escape(segments[i] ?? "\u0000"))
    )
}

// ---------------------------------------------------------------------------------------------
// Values

/** A value with every ignored member removed. */
const strip = (value: Json.Json, segments: Array<string>, ignored: Ignorer): Json.Json => {
  if (Array.isArray(value)) {
    return value.map((item: Json.Json, i: number) => {
      segments.push(String(i))
      const out = strip(item, segments, ignored)
      segments.pop()
      return out
    })
  }
  if (Json.isObject(value)) {
    // Built from entries so that a key such as "__proto__" stays an own member.
    const entries: Array<[string, Json.Json]> = []
    for (const key of Object.keys(value)) {
      segments.push(key)
      if (!ignored(segments)) entries.push([key, strip(value[key] as Json.Json, segments, ignored)])
      segments.pop()
    }
    return Object.fromEntries(entries)
  }
  return value
}

/** Field-level differences of two values, in a deterministic order (keys sorted, indexes ascending). */
const diffValues = (
  before: Json.Json,
  after: Json.Json,
  path: string,
  segments: Array<string>,
  ignored: Ignorer,
  out: Array<FieldChange>
): void => {
  if (Json.equals(before, after)) return
  if (Json.isObject(before) && Json.isObject(after)) {
    const keys = Array.from(new Set([...Object.keys(before), ...Object.keys(after)])).sort()
    for (const key of keys) {
      segments.push(key)
      if (!ignored(segments)) {
        const at = child(path, key)
        const inBefore = Object.hasOwn(before, key)
        const inAfter = Object.hasOwn(after, key)
        if (!inAfter) out.push(new FieldChange({ path: at, before: strip(before[key] as Json.Json, segments, ignored) }))
        else if (!inBefore) out.push(new FieldChange({ path: at, after: strip(after[key] as Json.Json, segments, ignored) }))
        else diffValues(before[key] as Json.Json, after[key] as Json.Json, at, segments, ignored, out)
      }
      segments.pop()
    }
    return
  }
  if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
    for (let i = 0; i < before.length; i++) {
      segments.push(String(i))
      if (!ignored(segments)) diffValues(before[i] as Json.Json, after[i] as Json.Json, child(path, i), segments, ignored, out)
      segments.pop()
    }
    return
  }
  // A scalar changed, the type changed, or an array changed length: report the whole value.
  const strippedBefore = strip(before, segments, ignored)
  const strippedAfter = strip(after, segments, ignored)
  if (!Json.equals(strippedBefore, strippedAfter)) {
    out.push(new FieldChange({ path, before: strippedBefore, after: strippedAfter }))
  }
}

/** The record-level changes between two sorted-or-not record lists of one resource in one scope. */
export const diffRecords = (
  resource: string,
  scope: Scope,
  before: ReadonlyArray<SnapshotRecord>,
  after: ReadonlyArray<SnapshotRecord>,
  ignorePaths: ReadonlyArray<string> = []
): Array<RecordChange> => {
  const ignored = compileIgnorer(ignorePaths)
  const byKey = new Map(before.map((r) => [r.key, r.value]))
  const afterKeys = new Set<string>()
  const changes: Array<RecordChange> = []
  for (const record of after) {
    afterKeys.add(record.key)
    const previous = byKey.get(record.key)
    if (previous === undefined) {
      changes.push(new Added({ resource, scope, key: record.key, after: strip(record.value, [], ignored) }))
      continue
    }
    const fields: Array<FieldChange> = []
    diffValues(previous, record.value, "", [], ignored, fields)
    if (Arr.isNonEmptyArray(fields)) changes.push(new Changed({ resource, scope, key: record.key, fields }))
  }
  for (const record of before) {
    if (!afterKeys.has(record.key)) {
      changes.push(new Removed({ resource, scope, key: record.key, before: strip(record.value, [], ignored) }))
    }
  }
  return Arr.sort(changes, changeOrder)
}

const scopeKeyOrder = Order.mapInput(Order.string, (s: Scope) => s.key)

const changeOrder: Order.Order<RecordChange> = Order.combine(
  Order.mapInput(Order.string, (c: RecordChange) => c.resource),
  Order.combine(
    Order.mapInput(scopeKeyOrder, (c: RecordChange) => c.scope),
    Order.mapInput(Order.string, (c: RecordChange) => c.key)
  )
)

const coverageOrder: Order.Order<CoverageChange> = Order.combine(
  Order.mapInput(Order.string, (c: CoverageChange) => c.resource),
  Order.mapInput(scopeKeyOrder, (c: CoverageChange) => c.scope)
)

/**
 * A change between records of two shapes: members that appeared or disappeared are the new shape
 * (a connector that starts keeping a field would otherwise report it on every record once), so only
 * the fields whose value changed remain; a record left with none is not reported.
 */
const acrossShapes = (change: RecordChange): Array<RecordChange> => {
  if (change._tag !== "changed") return [change]
  const fields = change.fields.filter((f) => f.before !== undefined && f.after !== undefined)
  return Arr.isNonEmptyArray(fields) ? [new Changed({ resource: change.resource, scope: change.scope, key: change.key, fields })] : []
}

/** Diffs two snapshots of the same connection. */
export const diff = (before: Snapshot.Snapshot, after: Snapshot.Snapshot, options: DiffOptions = {}): DriftReport => {
  const ignoreFor = (resource: string) => [
    ...(options.volatile?.get(resource) ?? []),
    ...(options.ignore ?? []).filter((rule) => rule.resource === resource || rule.resource === "*").map((rule) => rule.path)
  ]
  // A result an incremental snapshot carried is the previous snapshot's own object: nothing to
  // compare. Only the others are keyed, so a run that re-read a handful of 17,000 results diffs a handful.
  const shared = new Set(before.results)
  const kept = new Set<Snapshot.ResourceResult>()
  for (const r of after.results) if (shared.has(r)) kept.add(r)
  const previous = new Map<string, Snapshot.ResourceResult>()
  for (const r of before.results) if (!kept.has(r)) previous.set(r.key, r)
  const current = new Map<string, Snapshot.ResourceResult>()
  for (const r of after.results) if (!kept.has(r)) current.set(r.key, r)
  const changes: Array<RecordChange> = []
  const coverage: Array<CoverageChange> = []
  // Any order will do: changes and coverage are sorted below.
  const keys = [...current.keys()]
  for (const key of previous.keys()) if (!current.has(key)) keys.push(key)
  for (const key of keys) {
    const was = previous.get(key)
    const now = current.get(key)
    const result = (now ?? was)!
    const wasStatus: Coverage = was?.status._tag ?? "absent"
    const nowStatus: Coverage = now?.status._tag ?? "absent"
    const hasRecords = (s: Coverage) => s === "ok" || s === "partial"
    if (was !== undefined && now !== undefined && hasRecords(wasStatus) && hasRecords(nowStatus)) {
      const found = diffRecords(
        result.resource,
        result.scope,
        Snapshot.recordsOfStatus(was.status),
        Snapshot.recordsOfStatus(now.status),
        ignoreFor(result.resource)
      )
      // Records missing from a partial read may be the items that failed to decode: not deletions.
      // And a record that comes back after a partial read under the id of an item that failed to
      // decode was there all along: not an addition.
      const undecoded = new Set(was.status._tag === "partial" ? was.status.problems.flatMap((p) => (p.id === undefined ? [] : [p.id])) : [])
      changes.push(
        ...found
          .filter((c) => !(c._tag === "removed" && nowStatus === "partial") && !(c._tag === "added" && undecoded.has(c.key)))
          .flatMap((c) => (before.schemaVersion === after.schemaVersion ? [c] : acrossShapes(c)))
      )
    }
    if (wasStatus !== nowStatus) {
      coverage.push(new CoverageChange({ resource: result.resource, scope: result.scope, before: wasStatus, after: nowStatus }))
    }
  }
  // Built from the two snapshots' own (validated) parts and changes constructed above: validating
  // the report again would walk every changed record's value once more.
  return new DriftReport(
    {
      connectionId: after.connectionId,
      from: before.finishedAt,
      to: after.finishedAt,
      changes: Arr.sort(changes, changeOrder),
      coverage: Arr.sort(coverage, coverageOrder)
    },
    true
  )
}

// ---------------------------------------------------------------------------------------------
// Applying a report (used to check the diff, and by tools that replay history)

const setAt = (value: Json.Json, segments: ReadonlyArray<string>, next: Json.Json | undefined): Json.Json | undefined => {
  const [head, ...rest] = segments
  if (head === undefined) return next
  if (Array.isArray(value)) {
    const copy: Array<Json.Json> = [...value]
    const index = Number(head)
    const updated = setAt(copy[index] as Json.Json, rest, next)
    if (updated === undefined) copy.splice(index, 1)
    else copy[index] = updated
    return copy
  }
  const object: Record<string, Json.Json> = Json.isObject(value) ? { ...value } : {}
  const updated = setAt(Object.hasOwn(object, head) ? (object[head] as Json.Json) : null, rest, next)
  if (updated === undefined) delete object[head]
  else Object.defineProperty(object, head, { value: updated, enumerable: true, writable: true, configurable: true })
  return object
}

/** Applies the changes of one resource in one scope to its records (the inverse of `diffRecords`). */
export const applyRecords = (
  records: ReadonlyArray<SnapshotRecord>,
  changes: ReadonlyArray<RecordChange>
): Map<string, Json.Json> => {
  const out = new Map(records.map((r) => [r.key, r.value]))
  for (const change of changes) {
    switch (change._tag) {
      case "added":
        out.set(change.key, change.after)
        break
      case "removed":
        out.delete(change.key)
        break
      case "changed": {
        let value = out.get(change.key) ?? null
        for (const field of change.fields) value = setAt(value, parsePointer(field.path), field.after) ?? null
        out.set(change.key, value)
      }
    }
  }
  return out
}
