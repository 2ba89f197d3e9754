/**
 * B1 — a full snapshot of the simulator's `large` scenario (4 accounts, 1,000 zones, 100,000 DNS
 * records) through the standalone simulator, with 20 ms of latency on every request and
 * Cloudflare's rate limit scaled 120× in time: 1,200 requests per 2.5 s per token (instead of per
 * 5 min), a fixed window that opens at the first request, and the rest of the window refused with
 * 429 once it is used up.
 *
 * Figures: requests made against the minimum the data allows (`MinimumRequests`), wall time
 * against the rate-limit floor (`Figures.rateLimitFloorMillis`), wall time against the official
 * SDK written as a user would (`SdkBaseline`) on the same simulator process in the same run, and
 * the 429s each side received.
 *
 * The connector is configured as an app would configure it for this limit: a `RequestBudget` of
 * 1,200 per 2.5 s plus a 100 ms margin (4 % of the window; the README says why), `concurrency`
 * resource reads in flight, the fetch `HttpClient` of `HttpPipeline.layerFetch`, default retries.
 * Both clients use the same token; the simulator's rate-limit windows are reset between them, so
 * each starts with a full budget.
 */
import { HttpClient } from "@effect/platform"
import { CloudflareConnector, RateLimit } from "@plumbline/cloudflare"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { HttpPipeline, RequestBudget } from "@plumbline/core"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { loadavg } from "node:os"
import type { BenchmarkResult } from "./Figures.js"
import { extrapolateLoop, figure, formatNumber, rateLimitFloorMillis, round } from "./Figures.js"
// The connector test's own count (test code, not exported: imported from its source).
import { minimumRequests } from "../../../packages/cloudflare/test/fixtures/MinimumRequests.js"
import * as SdkBaseline from "./SdkBaseline.js"
import * as SimulatorProcess from "./SimulatorProcess.js"

/** How much faster than real time B1 runs Cloudflare's rate-limit window. */
const TIME_SCALE = 120

/** Cloudflare's limit as the connector declares it (1,200 requests per 5 minutes), scaled 120× in time. */
export const RATE = {
  limit: RateLimit.budget.limit,
  windowMs: Duration.toMillis(RateLimit.budget.window) / TIME_SCALE,
  latencyMs: 20,
  /**
   * Cloudflare's 200 requests per second per client IP, scaled like the window: 24,000 a second. Left
   * at 200 a real second, it would cap a run whose every other limit is 120× faster at 200 requests
   * a second (13,675 requests: at least 68 s), a limit one token never meets at real speed.
   */
  ipPerSecond: RateLimit.clientIpBudget.limits.limit * TIME_SCALE
} as const

/** The connector's per-client-IP budget (`RateLimit.clientIpBudget`), scaled 120× in time like `RATE`. */
export const clientIpBudget: typeof RateLimit.clientIpBudget = {
  key: RateLimit.clientIpBudget.key,
  limits: {
    limit: RateLimit.clientIpBudget.limits.limit,
    window: Duration.millis(Duration.toMillis(RateLimit.clientIpBudget.limits.window) / TIME_SCALE),
    margin: Duration.millis(Duration.toMillis(RateLimit.clientIpBudget.limits.margin ?? Duration.zero) / TIME_SCALE)
  }
}


/** Options of B1. */
export interface Options {
  /** Resource reads the connector keeps in flight. */
  readonly concurrency: number
  /** Zones the SDK baseline reads (spread over the listing; the rest is extrapolated), or `"all"`. */
  readonly sdkZones: number | "all"
  /** The budget's margin over the window, for the time between taking a slot and the request arriving. */
  readonly marginMs: number
}

/** B1's defaults: 32 reads in flight; the SDK reads every 10th zone. */
export const defaults: Options = { concurrency: 32, sdkZones: 100, marginMs: 100 }

const TOKEN = "account"

/** The connector's snapshot over `baseUrl`, timing it and counting every response by status. */
const connectorRun = (baseUrl: string, token: string, concurrency: number, marginMs: number) =>
  Effect.gen(function* () {
    const statuses: Record<string, number> = {}
    const sentAt: Array<number> = []
    let started = 0
    const counting = Layer.effect(
      HttpClient.HttpClient,
      Effect.map(HttpClient.HttpClient, (client) =>
        client.pipe(
          HttpClient.tapRequest(() => Effect.sync(() => void sentAt.push(performance.now() - started))),
          HttpClient.tap((response) =>
            Effect.sync(() => {
              statuses[response.status] = (statuses[response.status] ?? 0) + 1
            })
          )
        )
      )
    ).pipe(Layer.provide(HttpPipeline.layerFetch))
    const connector = CloudflareConnector.layerClient({
      token,
      baseUrl,
      budget: { limit: RATE.limit, window: Duration.millis(RATE.windowMs), margin: Duration.millis(marginMs) },
      // The whole announced quota: B1 measures the connector against Cloudflare's limit itself. The
      // default share (0.5, `RateLimit.defaultShare`) leaves half of it to the customer by design and
      // doubles the floor; B5 runs with it.
      quotaShare: 1,
      clientIpBudget
    }).pipe(Layer.provide(Layer.merge(counting, RequestBudget.layer)))
    started = performance.now()
    const snapshot = yield* Effect.flatMap(CloudflareConnector.CloudflareConnector, (c) => c.snapshot({ concurrency })).pipe(
      Effect.provide(connector),
      // Retries are logged as warnings; a 429 storm would drown the output, and 429s are counted anyway.
      Logger.withMinimumLogLevel(LogLevel.Error)
    )
    const elapsedMs = performance.now() - started
    const records = snapshot.results.reduce((n, r) => n + (r.status._tag === "ok" ? r.status.records.length : 0), 0)
    return {
      elapsedMs,
      windows: windowsOf(sentAt, RATE.limit),
      statuses,
      requests: Object.values(statuses).reduce((a, b) => a + b, 0),
      requestCount: snapshot.requestCount,
      outcome: snapshot.outcome,
      results: snapshot.results.length,
      failed: snapshot.results.filter((r) => r.status._tag === "failed").length,
      records
    }
  })

/**
 * The requests in blocks of `limit`, in the order they were sent: when each block's first and last
 * request went out. A block that starts one window after the previous one and ends well before the
 * next was held by the budget; a block that takes the whole window was held by the client itself.
 */
const windowsOf = (sentAt: ReadonlyArray<number>, limit: number) => {
  const sorted = [...sentAt].sort((a, b) => a - b)
  const blocks: Array<{ readonly firstMs: number; readonly lastMs: number; readonly requests: number }> = []
  for (let i = 0; i < sorted.length; i += limit) {
    const block = sorted.slice(i, i + limit)
    blocks.push({ firstMs: round(block[0]!, 0), lastMs: round(block[block.length - 1]!, 0), requests: block.length })
  }
  return blocks
}

const diff = (after: Readonly<Record<string, number>>, before: Readonly<Record<string, number>>, key: string) =>
  (after[key] ?? 0) - (before[key] ?? 0)

/** Runs B1. */
export const run = (options: Options = defaults) =>
  Effect.scoped(
    Effect.gen(function* () {
      const loadBefore = loadavg()
      const sim = yield* SimulatorProcess.start({
        scenario: "large",
        rateLimit: `${RATE.limit}/${RATE.windowMs}`,
        ipRateLimit: RATE.ipPerSecond,
        faults: { rules: [{ effect: { kind: "latency", distribution: { type: "fixed", ms: RATE.latencyMs } } }] }
      })
      const token = sim.tokens[TOKEN]
      if (token === undefined) return yield* Effect.dieMessage(`the simulator has no "${TOKEN}" token`)

      yield* Effect.logInfo(`B1: connector snapshot (${options.concurrency} reads in flight)…`)
      const counts0 = yield* sim.requestCounts
      // CPU of this process only (user + system): the simulator runs in its own process.
      const connectorCpu0 = process.cpuUsage()
      const connector = yield* connectorRun(sim.baseUrl, token, options.concurrency, options.marginMs)
      const connectorCpu = process.cpuUsage(connectorCpu0)
      const counts1 = yield* sim.requestCounts
      const connectorMaxRssMb = process.resourceUsage().maxRSS / 1024

      yield* sim.resetRateLimits
      // The connector's garbage (its whole snapshot) is collected before the SDK's CPU is counted,
      // outside both measurements: otherwise the baseline pays for it. (`--expose-gc` is set on
      // every benchmark process.)
      const gc = (globalThis as { gc?: () => void }).gc
      if (gc !== undefined) {
        gc()
        gc()
      }
      const stride = options.sdkZones === "all" ? 1 : Math.max(1, Math.floor(1000 / options.sdkZones))
      yield* Effect.logInfo(`B1: SDK baseline (every ${stride === 1 ? "" : `${stride}th `}zone)…`)
      const sdkCpu0 = process.cpuUsage()
      const sdk = yield* Effect.promise(() => SdkBaseline.run({ baseUrl: sim.baseUrl, token, stride }))
      const sdkCpu = process.cpuUsage(sdkCpu0)
      const counts2 = yield* sim.requestCounts
      const loadAfter = loadavg()

      // The minimum comes from the same scenario built in this process (deterministic by seed).
      const minimum = minimumRequests(Simulator.make({ scenario: "large", rateLimit: false }).state)
      const floorMs = rateLimitFloorMillis(minimum.total, RATE)
      const sampled = sdk.zonesRead < sdk.zones
      const sdkMs = extrapolateLoop({ elapsedMs: sdk.elapsedMs, sampledMs: sdk.zoneMs, total: sdk.zones })
      const sdkRequests = sampled
        ? Math.round(sdk.requests - sdk.zoneRequests + (sdk.zoneRequests / Math.max(1, sdk.zonesRead)) * sdk.zones)
        : sdk.requests
      const speedup = sdkMs / connector.elapsedMs
      const connector429 = connector.statuses["429"] ?? 0
      const sdk429 = sdk.statuses["429"] ?? 0
      const sdkNote = sampled ? `extrapolated from ${sdk.zonesRead} of ${sdk.zones} zones read in ${formatNumber(sdk.elapsedMs, 0)} ms` : undefined

      const cpuPerRequest = (cpu: NodeJS.CpuUsage, requests: number) => (cpu.user + cpu.system) / 1000 / Math.max(1, requests)
      const sdkCpuMs = round(cpuPerRequest(sdkCpu, sdk.requests), 3)
      const figures = [
        figure({
          benchmark: "B1",
          name: "CPU per request (connector)",
          value: round(cpuPerRequest(connectorCpu, connector.requests), 3),
          unit: "ms",
          note: `user + system of the reading process over the read, ${formatNumber((connectorCpu.user + connectorCpu.system) / 1000, 0)} ms in all`,
          target: { op: "<=", value: sdkCpuMs, text: `≤ the SDK's (${formatNumber(sdkCpuMs, 3)} ms)` }
        }),
        figure({
          benchmark: "B1",
          name: "CPU per request (SDK baseline)",
          value: sdkCpuMs,
          unit: "ms",
          note: `over the ${formatNumber(sdk.requests, 0)} requests it made, ${formatNumber((sdkCpu.user + sdkCpu.system) / 1000, 0)} ms in all`
        }),
        figure({
          benchmark: "B1",
          name: "requests made (connector)",
          value: connector.requests,
          unit: "requests",
          target: { op: "==", value: minimum.total, text: `= minimum (${formatNumber(minimum.total, 0)})` }
        }),
        figure({ benchmark: "B1", name: "minimum the data allows", value: minimum.total, unit: "requests" }),
        figure({
          benchmark: "B1",
          name: "wall time (connector)",
          value: round(connector.elapsedMs, 0),
          unit: "ms",
          target: { op: "<=", value: 1.1 * floorMs, text: `≤ 1.1 × floor (${formatNumber(1.1 * floorMs, 0)} ms)` }
        }),
        figure({
          benchmark: "B1",
          name: "rate-limit floor",
          value: floorMs,
          unit: "ms",
          note: `⌊(${minimum.total} − 1) / ${RATE.limit}⌋ × ${RATE.windowMs} ms + ${RATE.latencyMs} ms`
        }),
        figure({ benchmark: "B1", name: "wall time / floor", value: round(connector.elapsedMs / floorMs, 3), unit: "ratio" }),
        figure({ benchmark: "B1", name: "wall time (SDK baseline)", value: round(sdkMs, 0), unit: "ms", note: sdkNote }),
        figure({
          benchmark: "B1",
          name: "speed-up over the SDK baseline",
          value: round(speedup, 2),
          unit: "×",
          target: { op: ">=", value: 5, text: "≥ 5×" }
        }),
        figure({ benchmark: "B1", name: "429s (connector)", value: connector429, unit: "", target: { op: "==", value: 0, text: "0" } }),
        figure({ benchmark: "B1", name: "requests made (SDK baseline)", value: sdkRequests, unit: "requests", note: sampled ? "extrapolated" : undefined }),
        figure({ benchmark: "B1", name: "429s (SDK baseline)", value: sdk429, unit: "", note: sampled ? `in the ${sdk.zonesRead} zones read` : undefined })
      ]

      return {
        id: "B1",
        title: "Full snapshot of the large scenario vs the rate-limit floor and the official SDK",
        figures,
        details: {
          rate: { ...RATE, marginMs: options.marginMs },
          concurrency: options.concurrency,
          minimum,
          floorMs,
          connector: {
            ...connector,
            serverCounted: diff(counts1, counts0, TOKEN),
            maxRssMb: round(connectorMaxRssMb, 0)
          },
          sdk: {
            sdkVersion: "7.3.0",
            elapsedMs: round(sdk.elapsedMs, 0),
            extrapolatedMs: round(sdkMs, 0),
            zones: sdk.zones,
            zonesRead: sdk.zonesRead,
            meanZoneMs: round(sdk.zoneMs.reduce((a, b) => a + b, 0) / Math.max(1, sdk.zoneMs.length), 1),
            statuses: sdk.statuses,
            requests: sdk.requests,
            requestsExtrapolated: sdkRequests,
            serverCounted: diff(counts2, counts1, TOKEN),
            records: sdk.records
          },
          loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: loadAfter.map((x) => round(x, 2)) }
        }
      } satisfies BenchmarkResult
    })
  )
