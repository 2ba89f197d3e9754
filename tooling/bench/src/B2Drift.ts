/**
 * B2 — `Drift.diff` of two 100,000-record snapshots with 1 % of the records changed: its time and
 * the memory it needs.
 *
 * The records are the `large` scenario's 100,000 DNS records in Cloudflare's wire shape, one
 * `dns_records` result per zone (1,000 zones × 100), diffed with the options the app uses (the
 * connector's volatile fields). The second snapshot differs in 1,000 records (1 %): 800 changed
 * (TTL and content, and `modified_on`, which is volatile), 100 removed, 100 added.
 *
 * Time: 3 warm-up diffs, then the median (and min/max) of 15. Memory: the heap the diff needs above
 * the two snapshots, from V8's GC profiler (the heap in use just before each collection during one
 * diff, and at its end), and the heap the two snapshots hold. (The process's peak RSS is in the
 * details only: it is set by building the simulator's whole scenario, not by the diff.)
 */
import { CloudflareConnector } from "@plumbline/cloudflare"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Connector, Drift, type Json, Scope, Snapshot } from "@plumbline/core"
import { DateTime, Effect } from "effect"
import v8 from "node:v8"
import type { BenchmarkResult } from "./Figures.js"
import { figure, maximum, median, minimum, round } from "./Figures.js"

/** Measured diffs after the warm-up. */
export const ITERATIONS = 15
export const WARMUP = 3

const collect = (): void => {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc !== undefined) {
    gc()
    gc()
  }
}

/** What the second snapshot does to the record at `index` (1 % of them are touched). */
const touch = (index: number): "change" | "remove" | "add" | undefined => {
  if (index % 100 !== 0) return undefined
  const k = (index / 100) % 10
  return k === 8 ? "remove" : k === 9 ? "add" : "change"
}

/** Builds the two snapshots from the scenario's DNS records. */
export const buildSnapshots = () => {
  const state = Simulator.make({ scenario: "large", rateLimit: false }).state
  const at = (ms: number) => DateTime.unsafeMake(ms)
  const before: Array<Snapshot.ResourceResult> = []
  const after: Array<Snapshot.ResourceResult> = []
  let index = 0
  let total = 0
  for (const zone of state.zones) {
    const scope = new Scope.Scope({ kind: "zone", id: zone.id, name: zone.name, parent: `account:${zone.account.id}`, attributes: { plan: zone.plan.legacy_id } })
    const was: Array<Snapshot.SnapshotRecord> = []
    const now: Array<Snapshot.SnapshotRecord> = []
    for (const wire of state.dnsRecords.get(zone.id) ?? []) {
      const value = JSON.parse(JSON.stringify(wire)) as Record<string, Json.Json>
      const key = String(value["id"])
      // Built without re-validating: the values are plain JSON by construction.
      const record = new Snapshot.SnapshotRecord({ key, value }, true)
      was.push(record)
      total++
      switch (touch(index++)) {
        case undefined:
          now.push(record)
          break
        case "change":
          now.push(
            new Snapshot.SnapshotRecord(
              { key, value: { ...value, ttl: 120, content: `changed-${key}`, modified_on: "2026-01-01T00:00:00Z" } },
              true
            )
          )
          break
        case "remove":
          break
        case "add":
          now.push(record, new Snapshot.SnapshotRecord({ key: `${key}-new`, value: { ...value, id: `${key}-new`, name: `new.${String(value["name"])}` } }, true))
          break
      }
    }
    const byKey = (a: Snapshot.SnapshotRecord, b: Snapshot.SnapshotRecord) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
    before.push(new Snapshot.ResourceResult({ resource: "dns_records", scope, status: new Snapshot.Ok({ records: was.sort(byKey) }, true) }, true))
    after.push(new Snapshot.ResourceResult({ resource: "dns_records", scope, status: new Snapshot.Ok({ records: now.sort(byKey) }, true) }, true))
  }
  const snapshot = (results: Array<Snapshot.ResourceResult>, finishedAt: number) =>
    new Snapshot.Snapshot(
      {
        connectionId: "bench",
        connector: { id: "cloudflare", version: CloudflareConnector.VERSION },
        schemaVersion: CloudflareConnector.SCHEMA_VERSION,
        startedAt: at(finishedAt - 60_000),
        finishedAt: at(finishedAt),
        requestCount: 0,
        outcome: "complete",
        results
      },
      true
    )
  return { before: snapshot(before, 1_800_000_000_000), after: snapshot(after, 1_800_000_900_000), records: total }
}

/** Runs B2. */
export const run = Effect.gen(function* () {
  collect()
  const heapBefore = process.memoryUsage().heapUsed
  const { before, after, records } = buildSnapshots()
  const options: Drift.DiffOptions = { volatile: Connector.volatileFields(CloudflareConnector.connector) }
  collect()
  const heapWithSnapshots = process.memoryUsage().heapUsed

  // Memory: one diff under the GC profiler, from a collected heap.
  const profiler = new v8.GCProfiler()
  profiler.start()
  const report = Drift.diff(before, after, options)
  const heapAtEnd = process.memoryUsage().heapUsed
  const profile = profiler.stop()
  const beforeEachGc = profile.statistics.map((s) => s.beforeGC.heapStatistics.usedHeapSize)
  const peakHeap = Math.max(heapAtEnd, maximum(beforeEachGc, 0))

  const kinds = { added: 0, removed: 0, changed: 0 }
  for (const change of report.changes) kinds[change._tag]++
  if (kinds.added !== 100 || kinds.removed !== 100 || kinds.changed !== 800) {
    return yield* Effect.dieMessage(`B2: the diff found ${JSON.stringify(kinds)}, expected 100 added, 100 removed, 800 changed`)
  }
  const volatileReported = report.changes.some((c) => c._tag === "changed" && c.fields.some((f) => f.path === "/modified_on"))
  if (volatileReported) return yield* Effect.dieMessage("B2: a volatile field was reported")

  // Time: warm up, then the median of the measured runs.
  for (let i = 0; i < WARMUP; i++) Drift.diff(before, after, options)
  const times: Array<number> = []
  for (let i = 0; i < ITERATIONS; i++) {
    const started = performance.now()
    Drift.diff(before, after, options)
    times.push(performance.now() - started)
  }
  const mb = (bytes: number) => round(bytes / 1024 / 1024, 1)
  const medianMs = median(times)

  const result: BenchmarkResult = {
    id: "B2",
    title: "Drift diff of two 100,000-record snapshots, 1 % changed",
    figures: [
      figure({
        benchmark: "B2",
        name: "diff time (median)",
        value: round(medianMs, 1),
        unit: "ms",
        target: { op: "<", value: 250, text: "< 250 ms" },
        note: `of ${ITERATIONS} after ${WARMUP} warm-up; min ${round(minimum(times), 1)}, max ${round(maximum(times), 1)}`
      }),
      figure({ benchmark: "B2", name: "peak heap of one diff above the two snapshots", value: mb(peakHeap - heapWithSnapshots), unit: "MB" }),
      figure({ benchmark: "B2", name: "heap held by the two snapshots", value: mb(heapWithSnapshots - heapBefore), unit: "MB" })
    ],
    details: {
      records,
      changes: kinds,
      timesMs: times.map((t) => round(t, 2)),
      garbageCollectionsDuringOneDiff: profile.statistics.length,
      // Includes building the simulator's whole `large` scenario to take the records from.
      processPeakRssMb: round(process.resourceUsage().maxRSS / 1024, 0),
      heapMb: { before: mb(heapBefore), withSnapshots: mb(heapWithSnapshots), peakDuringDiff: mb(peakHeap), atEndOfDiff: mb(heapAtEnd) }
    }
  }
  return result
})
