import { assert, describe, it } from "@effect/vitest"
import * as codec from "../src/internal/codec.js"
import * as Snapshots from "./fixtures/Snapshots.js"

const records = (n: number, changedAt?: number) =>
  Array.from({ length: n }, (_, i) => Snapshots.dnsRecord(0, i, i === changedAt ? 1 : 0))

const hashes = (chunks: ReadonlyArray<codec.Chunk>) => chunks.map((c) => c.hash.toString("hex"))

describe("Chunks", () => {
  it("cuts records into chunks that keep every record, in order", () => {
    const input = records(5_000)
    const chunks = codec.chunk(input)
    assert.isTrue(chunks.length > 20 && chunks.length < 400)
    const back = chunks.flatMap((c) => codec.recordsFromChunk(c.body))
    assert.deepStrictEqual(
      back.map((r) => [r.key, r.value]),
      input.map((r) => [r.key, r.value])
    )
    assert.strictEqual(
      chunks.reduce((n, c) => n + c.recordCount, 0),
      5_000
    )
  })

  it("changes exactly one chunk when one record changes", () => {
    const before = hashes(codec.chunk(records(5_000)))
    const after = hashes(codec.chunk(records(5_000, 2_345)))
    assert.strictEqual(after.length, before.length)
    assert.strictEqual(after.filter((h) => !before.includes(h)).length, 1)
  })

  it("keeps the other chunks when a record is added or removed", () => {
    const base = records(5_000)
    const before = new Set(hashes(codec.chunk(base)))
    const added = [...base.slice(0, 1_000), Snapshots.dnsRecord(9, 1), ...base.slice(1_000)]
    const removed = [...base.slice(0, 3_000), ...base.slice(3_001)]
    for (const variant of [added, removed]) {
      const fresh = hashes(codec.chunk(variant)).filter((h) => !before.has(h))
      assert.isTrue(fresh.length >= 1 && fresh.length <= 2, `${fresh.length} chunks changed`)
    }
  })

  it("gives equal snapshots equal digests and ids, and different content different ones", () => {
    const a = Snapshots.make({ connectionId: "c1", records: 1_000, at: 1 })
    const b = Snapshots.make({ connectionId: "c1", records: 1_000, at: 1 })
    const c = Snapshots.make({ connectionId: "c1", records: 1_000, at: 1, changed: 1, revision: 1 })
    const [pa, pb, pc] = [a, b, c].map(codec.prepare)
    assert.strictEqual(pa!.digest, pb!.digest)
    assert.notStrictEqual(pa!.digest, pc!.digest)
    assert.strictEqual(codec.snapshotId(a, pa!.digest), codec.snapshotId(b, pb!.digest))
    assert.notStrictEqual(codec.snapshotId(a, pa!.digest), codec.snapshotId(c, pc!.digest))
    assert.strictEqual(pa!.recordCount, 1_000)
  })
})
