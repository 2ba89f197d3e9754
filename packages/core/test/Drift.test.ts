import { assert, describe, it } from "@effect/vitest"
import { DateTime, FastCheck as fc, Schema } from "effect"
import * as Connector from "../src/Connector.js"
import * as Drift from "../src/Drift.js"
import { ItemProblem } from "../src/ItemProblem.js"
import * as Json from "../src/Json.js"
import { Scope } from "../src/Scope.js"
import * as Snapshot from "../src/Snapshot.js"
import * as Toy from "./fixtures/ToyConnector.js"

const zone = new Scope({ kind: "zone", id: "z1", name: "redpine.io" })
const otherZone = new Scope({ kind: "zone", id: "z2", name: "redpine.dev" })

type Entry = { readonly resource: string; readonly scope: Scope; readonly status: Snapshot.ResourceStatus }

const ok = (records: ReadonlyArray<{ key: string; value: Json.Json }>) =>
  new Snapshot.Ok({ records: records.map((r) => new Snapshot.SnapshotRecord(r)) })

const snapshot = (entries: ReadonlyArray<Entry>, at = 0) =>
  new Snapshot.Snapshot({
    connectionId: "conn-1",
    connector: { id: "toy", version: "1.0.0" },
    schemaVersion: 1,
    startedAt: DateTime.unsafeMake(at),
    finishedAt: DateTime.unsafeMake(at),
    requestCount: 0,
    outcome: "complete",
    results: entries.map((e) => new Snapshot.ResourceResult(e))
  })

const reportJson = (report: Drift.DriftReport) => Json.stringify(Schema.encodeSync(Drift.DriftReport)(report))

// ---------------------------------------------------------------------------------------------
// Generators: records with a few overlapping keys, values with awkward member names.

const memberName = fc.constantFrom("a", "b", "v", "x/y", "t~1", "")
// Schema-built records cannot hold a "__proto__" member (Schema drops it), so generated values do not either.
const value: fc.Arbitrary<Json.Json> = fc
  .dictionary(memberName, fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json.Json>, { maxKeys: 5 })
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'))
const records = fc.uniqueArray(fc.record({ key: fc.constantFrom("k1", "k2", "k3", "k4", "k5"), value }), {
  selector: (r) => r.key,
  maxLength: 5
})
/** A record set and a mutation of it (some values changed, some records added or removed). */
const pair = fc.tuple(records, records).chain(([a, extra]) =>
  fc.tuple(
    fc.constant(a),
    fc.subarray(a).chain((kept) =>
      fc.tuple(...kept.map((r) => fc.oneof(fc.constant(r), value.map((v) => ({ key: r.key, value: v })))))
    ).map((kept) => {
      const keys = new Set(kept.map((r) => r.key))
      return [...kept, ...extra.filter((r) => !keys.has(r.key))]
    })
  )
)
const shuffle = <A>(items: ReadonlyArray<A>, seed: number): Array<A> =>
  items
    .map((item, i) => ({ item, rank: Math.sin(seed * 9301 + i * 49297) }))
    .sort((x, y) => x.rank - y.rank)
    .map((x) => x.item)

const asMap = (list: ReadonlyArray<{ key: string; value: Json.Json }>) => new Map(list.map((r) => [r.key, r.value]))
const sameRecords = (a: Map<string, Json.Json>, b: Map<string, Json.Json>) =>
  a.size === b.size && [...a].every(([k, v]) => b.has(k) && Json.equals(v, b.get(k)))

/** Every JSON Pointer inside a value, for checking that ignored members are gone. */
const pointers = (value: Json.Json, prefix: Array<string> = []): Array<Array<string>> => {
  const out: Array<Array<string>> = [prefix]
  if (Array.isArray(value)) value.forEach((v: Json.Json, i: number) => out.push(...pointers(v, [...prefix, String(i)])))
  else if (Json.isObject(value)) for (const k of Object.keys(value)) out.push(...pointers(value[k] as Json.Json, [...prefix, k]))
  return out
}

describe("Drift", () => {
  it("diff(a, a) is empty", () =>
    fc.assert(
      fc.property(records, (a) => {
        const s = snapshot([{ resource: "records", scope: zone, status: ok(a) }])
        assert.isTrue(Drift.diff(s, s).isEmpty)
      })
    ))

  it("applying diff(a, b) to a gives b", () =>
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const report = Drift.diff(
          snapshot([{ resource: "records", scope: zone, status: ok(a) }]),
          snapshot([{ resource: "records", scope: zone, status: ok(b) }])
        )
        const applied = Drift.applyRecords(a.map((r) => new Snapshot.SnapshotRecord(r)), report.changes)
        assert.isTrue(sameRecords(applied, asMap(b)), `expected ${Json.stringify([...applied])} to equal ${Json.stringify(b)}`)
      }),
      { numRuns: 300 }
    ))

  it("input order does not matter", () =>
    fc.assert(
      fc.property(pair, pair, fc.integer(), ([a1, b1], [a2, b2], seed) => {
        const build = (x: typeof a1, y: typeof a2, mix: boolean) =>
          snapshot(
            (mix ? shuffle : <A>(l: ReadonlyArray<A>) => [...l])(
              [
                { resource: "records", scope: zone, status: ok(mix ? shuffle(x, seed) : x) },
                { resource: "records", scope: otherZone, status: ok(mix ? shuffle(y, seed + 1) : y) }
              ],
              seed
            )
          )
        const straight = Drift.diff(build(a1, a2, false), build(b1, b2, false))
        const shuffled = Drift.diff(build(a1, a2, true), build(b1, b2, true))
        assert.strictEqual(reportJson(shuffled), reportJson(straight))
      })
    ))

  it("ignored and volatile fields never appear", () =>
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const report = Drift.diff(
          snapshot([{ resource: "records", scope: zone, status: ok(a) }]),
          snapshot([{ resource: "records", scope: zone, status: ok(b) }]),
          { volatile: new Map([["records", ["/v"]]]), ignore: [new Drift.IgnoreRule({ resource: "records", path: "/*/b" })] }
        )
        const ignored = (segments: ReadonlyArray<string>) =>
          segments[0] === "v" || (segments.length >= 2 && segments[1] === "b")
        for (const change of report.changes) {
          const values =
            change._tag === "changed"
              ? change.fields.flatMap((f) => {
                  const at = Drift.parsePointer(f.path)
                  assert.isFalse(ignored(at), `field ${f.path} should be ignored`)
                  return [f.before, f.after].flatMap((v) => (v === undefined ? [] : pointers(v, [...at])))
                })
              : pointers(change._tag === "added" ? change.after : change.before)
          for (const p of values) assert.isFalse(ignored(p), `/${p.join("/")} should be ignored`)
        }
      }),
      { numRuns: 300 }
    ))

  it("reports field changes as JSON Pointers with before and after", () => {
    const before = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "r1", value: { content: "192.0.2.1", "a/b": 1, tags: ["x", "y"], ttl: 300 } }]) }
    ])
    const after = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "r1", value: { content: "192.0.2.9", "a/b": 2, tags: ["x", "z"], proxied: true } }]) }
    ])
    const [change] = Drift.diff(before, after).changes
    assert.strictEqual(change?._tag, "changed")
    if (change?._tag === "changed") {
      assert.deepStrictEqual(
        change.fields.map((f) => [f.path, f.before, f.after]),
        [
          ["/a~1b", 1, 2],
          ["/content", "192.0.2.1", "192.0.2.9"],
          ["/proxied", undefined, true],
          ["/tags/1", "y", "z"],
          ["/ttl", 300, undefined]
        ]
      )
    }
  })

  it("across a schemaVersion change, reports changed values and records that come or go, but not members the new shape adds or drops", () => {
    const before = snapshot([
      {
        resource: "records",
        scope: zone,
        status: ok([
          { key: "r1", value: { content: "192.0.2.1", ttl: 300 } },
          { key: "r2", value: { content: "192.0.2.2", old: true } },
          { key: "gone", value: { content: "192.0.2.3" } }
        ])
      }
    ])
    const next = snapshot([
      {
        resource: "records",
        scope: zone,
        status: ok([
          { key: "r1", value: { content: "192.0.2.9", ttl: 300, meta: { source: "primary" } } },
          { key: "r2", value: { content: "192.0.2.2", settings: {} } },
          { key: "new", value: { content: "192.0.2.4" } }
        ])
      }
    ])
    const after = new Snapshot.Snapshot({ ...next, schemaVersion: 2 })
    const summary = (report: Drift.DriftReport) =>
      report.changes.map((c) => [c._tag, c.key, c._tag === "changed" ? c.fields.map((f) => f.path) : []])
    assert.deepStrictEqual(summary(Drift.diff(before, after)), [
      ["removed", "gone", []],
      ["added", "new", []],
      ["changed", "r1", ["/content"]]
    ])
    // Within one shape, the same members are changes.
    assert.deepStrictEqual(summary(Drift.diff(before, next)), [
      ["removed", "gone", []],
      ["added", "new", []],
      ["changed", "r1", ["/content", "/meta"]],
      ["changed", "r2", ["/old", "/settings"]]
    ])
  })

  it("reports added and removed records, sorted by resource, scope and key", () => {
    const before = snapshot([
      { resource: "records", scope: otherZone, status: ok([{ key: "b", value: 1 }]) },
      { resource: "records", scope: zone, status: ok([{ key: "z", value: 1 }, { key: "a", value: 1 }]) }
    ])
    const after = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "m", value: 2 }]) },
      { resource: "records", scope: otherZone, status: ok([{ key: "b", value: 1 }, { key: "c", value: 3 }]) }
    ])
    const changes = Drift.diff(before, after).changes.map((c) => `${c._tag} ${c.scope.id}/${c.key}`)
    assert.deepStrictEqual(changes, ["removed z1/a", "added z1/m", "removed z1/z", "added z2/c"])
  })

  it("reports a resource that became forbidden as a coverage change, never as its records removed", () => {
    const before = snapshot([{ resource: "firewall", scope: zone, status: ok([{ key: "f1", value: { action: "block" } }]) }])
    const after = snapshot([
      { resource: "firewall", scope: zone, status: new Snapshot.Forbidden({ permissions: ["Firewall Services Read"] }) }
    ])
    const report = Drift.diff(before, after)
    assert.deepStrictEqual(report.changes, [])
    assert.deepStrictEqual(
      report.coverage.map((c) => [c.resource, c.scope.key, c.before, c.after]),
      [["firewall", "zone:z1", "ok", "forbidden"]]
    )
  })

  it("never reports a record missing from a partial read as removed, but still reports the changes it saw", () => {
    const before = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "a", value: 1 }, { key: "b", value: 1 }, { key: "c", value: 1 }]) }
    ])
    const partial = new Snapshot.Partial({
      records: [new Snapshot.SnapshotRecord({ key: "a", value: 2 }), new Snapshot.SnapshotRecord({ key: "d", value: 1 })],
      problems: [new ItemProblem({ index: 1, id: "b", path: "/name", message: "is missing" }), new ItemProblem({ index: 2, path: "/id", message: "is missing" })]
    })
    const after = snapshot([{ resource: "records", scope: zone, status: partial }])
    const report = Drift.diff(before, after)
    assert.deepStrictEqual(
      report.changes.map((c) => `${c._tag} ${c.key}`),
      ["changed a", "added d"]
    )
    assert.deepStrictEqual(report.coverage.map((c) => `${c.resource} ${c.before}->${c.after}`), ["records ok->partial"])
  })

  it("does not report an item that failed to decode as added when it decodes again", () => {
    const partial = new Snapshot.Partial({
      records: [new Snapshot.SnapshotRecord({ key: "a", value: 1 })],
      problems: [new ItemProblem({ index: 1, id: "b", path: "/name", message: "is missing" })]
    })
    const before = snapshot([{ resource: "records", scope: zone, status: partial }])
    const after = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "a", value: 1 }, { key: "b", value: 1 }, { key: "n", value: 1 }]) }
    ])
    const report = Drift.diff(before, after)
    assert.deepStrictEqual(report.changes.map((c) => `${c._tag} ${c.key}`), ["added n"])
    assert.deepStrictEqual(report.coverage.map((c) => `${c.resource} ${c.before}->${c.after}`), ["records partial->ok"])
  })

  it("reports a scope that disappeared, or a resource now skipped, as coverage", () => {
    const before = snapshot([
      { resource: "records", scope: zone, status: ok([{ key: "r1", value: 1 }]) },
      { resource: "analytics", scope: zone, status: ok([{ key: "d", value: 1 }]) }
    ])
    const after = snapshot([{ resource: "analytics", scope: zone, status: new Snapshot.Skipped({ reason: "plan", detail: "downgraded" }) }])
    const report = Drift.diff(before, after)
    assert.deepStrictEqual(report.changes, [])
    assert.deepStrictEqual(
      report.coverage.map((c) => `${c.resource} ${c.before}->${c.after}`),
      ["analytics ok->skipped", "records ok->absent"]
    )
  })

  it("leaves out the volatile fields a connector declares", () => {
    const zoneRecord = (modified: string, plan: string) => ({
      key: "z1",
      value: { id: "z1", name: "redpine.io", plan, modified_on: modified }
    })
    const scope = new Scope({ kind: "account", id: "acc1" })
    const before = snapshot([{ resource: "zones", scope, status: ok([zoneRecord("2026-01-01", "pro")]) }])
    const touched = snapshot([{ resource: "zones", scope, status: ok([zoneRecord("2026-02-02", "pro")]) }])
    const upgraded = snapshot([{ resource: "zones", scope, status: ok([zoneRecord("2026-03-03", "business")]) }])
    const options = { volatile: Connector.volatileFields(Toy.connector) }
    assert.isTrue(Drift.diff(before, touched, options).isEmpty)
    assert.isFalse(Drift.diff(before, touched).isEmpty)
    const [change] = Drift.diff(before, upgraded, options).changes
    assert.deepStrictEqual(change?._tag === "changed" && change.fields.map((f) => f.path), ["/plan"])
  })
})
