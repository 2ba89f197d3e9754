import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Schema } from "effect"
import * as Drift from "../src/Drift.js"
import * as Json from "../src/Json.js"
import { Scope } from "../src/Scope.js"
import * as Store from "../src/Store.js"

const zone = new Scope({ kind: "zone", id: "z1", name: "redpine.io" })
const snapshotId = Store.SnapshotId.make("snap-1")

const report = new Drift.DriftReport({
  connectionId: "conn-1",
  from: DateTime.unsafeMake(1_000),
  to: DateTime.unsafeMake(2_000),
  changes: [
    new Drift.Added({ resource: "dns_records", scope: zone, key: "a", after: { ttl: 1 } }),
    new Drift.Removed({ resource: "dns_records", scope: zone, key: "b", before: { ttl: 2 } }),
    new Drift.Changed({
      resource: "dns_records",
      scope: zone,
      key: "c",
      fields: [new Drift.FieldChange({ path: "/ttl", before: 1, after: 2 })]
    })
  ],
  coverage: [new Drift.CoverageChange({ resource: "waf", scope: zone, before: "ok", after: "forbidden" })]
})

describe("Store", () => {
  it("gives every change of a report a distinct id that is the same on every retry", () => {
    const first = Store.driftEventsOf(snapshotId, report).map((e) => e.id)
    const again = Store.driftEventsOf(snapshotId, report).map((e) => e.id)
    assert.deepStrictEqual(first, again)
    assert.strictEqual(new Set(first).size, 4)
    for (const id of first) assert.match(id, /^[0-9a-f]{32}$/)
  })

  it("gives the same change in another snapshot or connection another id", () => {
    const change = report.changes[0]!
    const id = Store.driftEventId("conn-1", "snap-1", change)
    assert.notStrictEqual(id, Store.driftEventId("conn-1", "snap-2", change))
    assert.notStrictEqual(id, Store.driftEventId("conn-2", "snap-1", change))
  })

  it("turns a report into events with kind, location and detection time", () => {
    const events = Store.driftEventsOf(snapshotId, report)
    assert.deepStrictEqual(
      events.map((e) => [e.kind, e.resource, e.scope.key, e.key ?? null]),
      [
        ["added", "dns_records", "zone:z1", "a"],
        ["removed", "dns_records", "zone:z1", "b"],
        ["changed", "dns_records", "zone:z1", "c"],
        ["coverage", "waf", "zone:z1", null]
      ]
    )
    for (const e of events) assert.strictEqual(DateTime.toEpochMillis(e.detectedAt), 2_000)
  })

  it("encodes and decodes drift events of every kind", () => {
    const events = Store.driftEventsOf(snapshotId, report)
    const encode = Schema.encodeSync(Store.DriftEvent)
    const decode = Schema.decodeUnknownSync(Store.DriftEvent)
    for (const event of events) {
      const json = Json.stringify(encode(event))
      const back = decode(JSON.parse(json))
      assert.strictEqual(Json.stringify(encode(back)), json)
      assert.strictEqual(back.change.constructor, event.change.constructor)
    }
  })

  it("round-trips cursors and refuses foreign ones", () => {
    const cursor = Store.encodeCursor([1_700_000_000_000, "abc"])
    assert.deepStrictEqual(Either.getOrThrow(Store.decodeCursor(cursor, 2)), [1_700_000_000_000, "abc"])
    for (const bad of ["", "not-base64!", Store.encodeCursor([1]), Buffer.from("{}").toString("base64url")]) {
      const result = Store.decodeCursor(bad, 2)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "invalid")
    }
  })

  it("names what failed in a store error and is recognised by its guard", () => {
    const error = new Store.StoreError({ reason: "not-found", entity: "connection", id: "conn-9" })
    assert.strictEqual(error.message, "Store not-found (connection conn-9)")
    assert.isTrue(Store.isStoreError(error))
    assert.isFalse(Store.isStoreError(new Error("x")))
  })
})
