/**
 * B4 — the drift monitor's scheduler with 10,000 connections in one process: heap and scheduling
 * lag.
 *
 * The app's own `Scheduler.layer` and `SnapshotJob` run over the app's SQLite database and store
 * (`Db`, `Wiring.store`, `Webhooks`, `Events`); only the provider is fake, answering at once with a
 * three-record snapshot, so what is measured is the scheduler and the job's bookkeeping, not a
 * provider. Only the scheduler's public service is used (`add`, `schedule`).
 *
 * The scheduler starts on an empty schedule; then the connections are stored (set-up, not measured:
 * storing 10,000 sealed credentials takes seconds), which does not schedule them. Then they are
 * handed to the scheduler one by one, evenly over the first interval (as customers add them), each
 * with a short interval, so that after the ramp the load is steady: `connections / interval` runs
 * per second. Then the scheduler runs on for the rest of `seconds`.
 *
 * - Lag of a run: when the provider is asked for the snapshot minus when the run was due (the
 *   connection's `nextRunAt`, read through `schedule` at that moment; for the first run, the
 *   moment it was added).
 * - Backlog at the end: connections whose due time has passed without a run starting — lag that
 *   the per-run figures cannot show, because those runs have not started.
 * - Heap: `heapUsed` sampled every 100 ms; the peak is reported (and the process's peak RSS).
 * - CPU per run: the process's user + system CPU time while the scheduler ran, over the runs.
 */
import { Config, Events, Scheduler, Webhooks, WebhookTransport, Wiring } from "@plumbline/drift-monitor"
import * as Db from "@plumbline/drift-monitor/Db"
import { Credential, type Json, Scope as CoreScope, Snapshot, Store } from "@plumbline/core"
import { Context, DateTime, Duration, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import type { BenchmarkResult } from "./Figures.js"
import { distribution, figure, round } from "./Figures.js"

/** Options of B4. */
export interface Options {
  readonly connections: number
  /** Each connection's interval; connections are added evenly over the first one. */
  readonly intervalSeconds: number
  /** How long the scheduler runs, ramp included. */
  readonly seconds: number
}

/** B4's defaults: 10,000 connections every 30 s (333 runs/s once all are added), 70 s in all. */
export const defaults: Options = { connections: 10_000, intervalSeconds: 30, seconds: 70 }

const credential = Credential.make("fake-token", "fake-secret-0123456789")

/** What the fake provider saw. */
interface Seen {
  readonly lags: Array<number>
  runs: number
}

/** A provider that answers at once with three records, and notes each run's lag. */
const fakeProvider = (seen: Seen, scheduler: () => Scheduler.Service | undefined): Wiring.ProviderService => ({
  connectorId: "fake",
  credentialKind: "fake-token",
  zoneKind: "zone",
  discover: () => Effect.succeed({ verification: new Credential.Verification({ subject: "fake", status: "active", grants: [] }), zones: [] }),
  snapshot: (_credential, options) =>
    Effect.gen(function* () {
      const startedMs = Date.now()
      seen.runs++
      const service = scheduler()
      if (service !== undefined) {
        // The bench cannot go on without its schedule: a database failure here is a defect.
        const schedule = yield* Effect.orDie(service.schedule(options.connectionId))
        if (Option.isSome(schedule) && schedule.value.nextRunAt !== null) {
          seen.lags.push(startedMs - schedule.value.nextRunAt)
        }
      }
      const root = CoreScope.root(options.connectionId)
      const records = ["a", "b", "c"].map((key) => new Snapshot.SnapshotRecord({ key, value: { key, value: 1 } as Json.Json }, true))
      const now = yield* DateTime.now
      const snapshot = new Snapshot.Snapshot(
        {
          connectionId: options.connectionId,
          connector: { id: "fake", version: "1" },
          schemaVersion: 1,
          startedAt: now,
          finishedAt: now,
          requestCount: 1,
          outcome: "complete",
          results: [new Snapshot.ResourceResult({ resource: "items", scope: root, status: new Snapshot.Ok({ records }, true) }, true)]
        },
        true
      )
      return { snapshot, refused: new Map(), zonesSeen: new Map() } satisfies Wiring.SnapshotRun
    }),
  zonesOf: () => [],
  diffOptions: {},
  checks: []
})

/** Webhook endpoints are never registered here; any delivery would be answered 204. */
const noWebhooks = WebhookTransport.layerFake(() => Effect.succeed(204))

/** Runs B4. */
export const run = (options: Options = defaults) =>
  Effect.gen(function* () {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "plumbline-bench-b4-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const seen: Seen = { lags: [], runs: 0 }
    let scheduler: Scheduler.Service | undefined
    const keys = `bench:${randomBytes(32).toString("base64")}`
    const sql = Db.layer({ _tag: "sqlite", filename: join(dir, "bench.db") })
    const services = Layer.mergeAll(
      sql,
      Wiring.store(Redacted.make(keys)).pipe(Layer.provide(sql)),
      Layer.succeed(Wiring.Provider, fakeProvider(seen, () => scheduler)),
      Webhooks.layerManual(Config.defaultWebhooks).pipe(Layer.provide(Layer.merge(sql, noWebhooks))),
      Events.layerBus
    ).pipe(Layer.orDie)
    const settings: Config.SchedulerSettings = {
      ...Config.defaultScheduler,
      interval: Duration.seconds(options.intervalSeconds),
      instance: "bench"
    }

    return yield* Effect.gen(function* () {
      const store = yield* Store.Store
      const memory = { peakHeap: 0, peakRss: 0, samples: 0 }
      const sample = () => {
        const m = process.memoryUsage()
        memory.peakHeap = Math.max(memory.peakHeap, m.heapUsed)
        memory.peakRss = Math.max(memory.peakRss, m.rss)
        memory.samples++
      }
      const sampler = setInterval(sample, 100)
      const loopDelay = monitorEventLoopDelay({ resolution: 10 })
      loopDelay.enable()
      const loadBefore = loadavg()
      const heapAtStart = process.memoryUsage().heapUsed

      // The scheduler starts on an empty schedule: a connection stored before it started would get a
      // schedule row due at once (the scheduler's start-up adopts stored connections), and all
      // `connections` would run in one burst before the ramp — a load the ramp is there to avoid.
      const schedulerScope = yield* Scope.make()
      const built = yield* Effect.orDie(Layer.buildWithScope(Scheduler.layer(settings), schedulerScope))
      scheduler = Context.get(built, Scheduler.Scheduler)

      // Set-up: store every connection (not measured). Without a schedule row, none is run until
      // the ramp hands it to the scheduler.
      const setupStarted = Date.now()
      const ids: Array<string> = []
      for (let i = 0; i < options.connections; i++) {
        const connection = yield* store.createConnection({
          connectorId: "fake",
          name: `bench-${i}`,
          credential,
          settings: { intervalSeconds: options.intervalSeconds }
        }).pipe(Effect.orDie)
        ids.push(connection.id)
      }
      const setupMs = Date.now() - setupStarted

      const cpuBefore = process.cpuUsage()
      const started = Date.now()

      // Ramp: hand the connections to the scheduler evenly over the first interval.
      const rampMs = options.intervalSeconds * 1000
      const addedAt = new Map<string, number>()
      for (let i = 0; i < ids.length; i++) {
        const dueAt = started + (i * rampMs) / ids.length
        const wait = dueAt - Date.now()
        if (wait > 1) yield* Effect.sleep(Duration.millis(wait))
        addedAt.set(ids[i]!, Date.now())
        yield* Effect.orDie(scheduler.add(ids[i]!))
      }
      const rampDoneMs = Date.now() - started

      const remaining = started + options.seconds * 1000 - Date.now()
      if (remaining > 0) yield* Effect.sleep(Duration.millis(remaining))
      const endedAt = Date.now()

      // Backlog: due and not started. Read before the scheduler stops.
      let backlog = 0
      let maxOverdue = 0
      for (const id of addedAt.keys()) {
        const schedule = yield* Effect.orDie(scheduler.schedule(id))
        if (Option.isNone(schedule) || schedule.value.running || schedule.value.nextRunAt === null) continue
        const overdue = endedAt - schedule.value.nextRunAt
        if (overdue > 0) {
          backlog++
          maxOverdue = Math.max(maxOverdue, overdue)
        }
      }
      const runs = seen.runs
      const cpu = process.cpuUsage(cpuBefore)
      yield* Scope.close(schedulerScope, Exit.void)
      scheduler = undefined
      clearInterval(sampler)
      sample()
      loopDelay.disable()
      const loadAfter = loadavg()

      const elapsedS = (endedAt - started) / 1000
      const mb = (bytes: number) => round(bytes / 1024 / 1024, 1)
      const lags = distribution(seen.lags)
      const cpuMsPerRun = runs === 0 ? Number.NaN : (cpu.user + cpu.system) / 1000 / runs
      const result: BenchmarkResult = {
        id: "B4",
        title: `Scheduler: ${options.connections.toLocaleString("en-US")} connections in one process`,
        figures: [
          figure({
            benchmark: "B4",
            name: "peak heap used",
            value: mb(memory.peakHeap),
            unit: "MB",
            target: { op: "<", value: 1024, text: "< 1 GB (1,024 MB)" },
            note: `sampled every 100 ms over ${round(elapsedS, 0)} s`
          }),
          figure({ benchmark: "B4", name: "scheduling lag p50", value: round(lags.p50, 1), unit: "ms", note: `${lags.count.toLocaleString("en-US")} runs` }),
          figure({ benchmark: "B4", name: "scheduling lag p99", value: round(lags.p99, 1), unit: "ms", target: { op: "<=", value: 1000, text: "≤ 1 s (1,000 ms)" } }),
          figure({ benchmark: "B4", name: "scheduling lag max", value: round(lags.max, 1), unit: "ms" }),
          figure({
            benchmark: "B4",
            name: "connections overdue at the end",
            value: backlog,
            unit: "",
            target: { op: "==", value: 0, text: "0" },
            note: backlog > 0 ? `oldest ${round(maxOverdue / 1000, 1)} s overdue` : undefined
          }),
          figure({ benchmark: "B4", name: "CPU per run", value: round(cpuMsPerRun, 2), unit: "ms", note: "user + system CPU of the process while the scheduler ran, over the runs" }),
          figure({ benchmark: "B4", name: "runs per second", value: round(runs / elapsedS, 1), unit: "runs/s", note: `offered load after the ramp: ${round(options.connections / options.intervalSeconds, 0)}/s` }),
          figure({ benchmark: "B4", name: "process peak RSS", value: round(process.resourceUsage().maxRSS / 1024, 0), unit: "MB" })
        ],
        details: {
          ...options,
          concurrency: settings.concurrency,
          jitter: settings.jitter,
          setupMs,
          rampMs: rampDoneMs,
          cpuMs: { user: round(cpu.user / 1000, 0), system: round(cpu.system / 1000, 0), perRun: round(cpuMsPerRun, 3) },
          runs,
          heapMb: { atStart: mb(heapAtStart), peak: mb(memory.peakHeap) },
          peakRssMb: mb(memory.peakRss),
          lagMs: { p50: round(lags.p50, 1), p90: round(lags.p90, 1), p99: round(lags.p99, 1), max: round(lags.max, 1) },
          eventLoopDelayMs: {
            p50: round(loopDelay.percentile(50) / 1e6, 1),
            p99: round(loopDelay.percentile(99) / 1e6, 1),
            max: round(loopDelay.max / 1e6, 1)
          },
          backlog: { connections: backlog, maxOverdueMs: maxOverdue },
          loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: loadAfter.map((x) => round(x, 2)) }
        }
      }
      return result
    }).pipe(Effect.provide(services), Logger.withMinimumLogLevel(LogLevel.Error))
  }).pipe(Effect.scoped)
