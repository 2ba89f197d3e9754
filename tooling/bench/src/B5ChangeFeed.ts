/**
 * B5 — change-driven monitoring of the simulator's `large` scenario (issue #15 item 7): one full
 * snapshot, then poll cycles in which 1 % of the zones get one change each (writes through the
 * simulator's API as the `customer` token, so its audit log records them), each cycle reading only
 * what the connector's change feed announces (`SnapshotRunner.run({ incremental })`) and diffing the
 * result against the previous snapshot with core's `Drift.diff`, which is when a change counts as
 * detected. At the end, a full reconciliation snapshot diffed against the last incremental one
 * counts what the feed missed.
 *
 * Same simulator set-up as B1 (standalone child process, 1,200 requests per 2.5 s = Cloudflare's
 * per 5 min scaled 120× in time, 20 ms latency); a 60 s poll interval is 500 ms. The audit log's
 * delay is 15 s real (125 ms scaled): Cloudflare documents no figure (its Audit Logs v2 page says
 * only that actions are "streamed through Cloudflare's audit logging pipeline",
 * https://developers.cloudflare.com/fundamentals/account/account-security/audit-logs/), and entries
 * commonly appear within seconds to a minute.
 *
 * This drives the connector and core directly, not the app's scheduler and SnapshotJob: the app's
 * path adds the store and the event publication on a SQLite file, whose time the figures here do
 * not include (see the README).
 */
import { HttpClient } from "@effect/platform"
import { ChangeFeed as CfFeed, CloudflareClient, CloudflareConnector } from "@plumbline/cloudflare"
import type { ChangeFeed } from "@plumbline/core"
import { Connector, Drift, HttpPipeline, RequestBudget, Snapshot, SnapshotRunner } from "@plumbline/core"
import { Duration, Effect, Fiber, Layer, Logger, LogLevel, Option } from "effect"
import { loadavg } from "node:os"
import { clientIpBudget, RATE } from "./B1Snapshot.js"
import type { DriftEvent, Kind, MadeChange } from "./B5Plan.js"
import { changeScript, matchLatencies, quotaLeft, realLatencySeconds, realSeconds } from "./B5Plan.js"
import type { BenchmarkResult, Figure } from "./Figures.js"
import { distribution, figure, formatNumber, round } from "./Figures.js"
import * as SimulatorProcess from "./SimulatorProcess.js"

/** How much faster than real time B5 runs (as B1). */
export const TIME_SCALE = 120
/** A 60 s poll interval, scaled. */
export const POLL_MS = 60_000 / TIME_SCALE
/** The audit log's delay: 15 s real, scaled. */
export const AUDIT_DELAY_MS = 15_000 / TIME_SCALE
/** Polls after the last cycle (without writes) to let the last changes through the feed. */
const DRAIN_POLLS = 4
/**
 * The slower cadence of what probes cannot mark (DNS records, settings, DNSSEC, account rules…):
 * 4 h real, scaled. Each zone's unmarked resources are re-read once per period, at the zone's own
 * turn. A shorter period does not fit: re-reading ~9,000 unmarked requests per period beside
 * ~1,030 requests of probes per poll, at the half of the quota the client leaves the customer,
 * makes a 2 h period cost about 30 % of a full snapshot per cycle (see the README).
 */
export const PROBES_CADENCE_MS = (4 * 3600 * 1000) / TIME_SCALE

/** Which feed mode(s) B5 runs. */
export type ModeOption = "audit_log" | "probes" | "both"

/** Options of B5. */
export interface Options {
  readonly cycles: number
  readonly mode: ModeOption
}

/** B5's defaults: ten cycles, both modes. */
export const defaults: Options = { cycles: 10, mode: "both" }

const CONNECTION = "b5"
const TOKEN = "account"
const CONCURRENCY = 32

/** `/zones/<id>/dns_records` → `/zones/:id/dns_records`, for counting requests by path. */
const pathPattern = (url: string): string =>
  new URL(url).pathname.replace(/^\/client\/v4/, "").replace(/\/[0-9a-f]{32}(?=\/|$)/g, "/:id")

/** A write as the customer would make it, timed from just before it is sent. */
const customerCall = (baseUrl: string, token: string, method: string, path: string, body?: unknown) =>
  Effect.tryPromise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as { result?: unknown } }
  }).pipe(Effect.orDie)

/** Makes one change of `kind` in zone `zoneId` (or the enterprise account), returning its drift scope or the refusal. */
const makeChange = (baseUrl: string, token: string, kind: Kind, zoneId: string, accountId: string, n: number) =>
  Effect.gen(function* () {
    const zone = `/zones/${zoneId}`
    switch (kind) {
      case "dns_record": {
        const r = yield* customerCall(baseUrl, token, "POST", `${zone}/dns_records`, { type: "A", name: `b5-${n}`, content: `192.0.2.${n % 250}`, ttl: 1 })
        return { status: r.status, scope: `zone:${zoneId}` }
      }
      case "zone_setting": {
        const current = yield* customerCall(baseUrl, token, "GET", `${zone}/settings/security_level`)
        const value = (current.body.result as { value?: unknown } | undefined)?.value === "high" ? "medium" : "high"
        const r = yield* customerCall(baseUrl, token, "PATCH", `${zone}/settings/security_level`, { value })
        return { status: r.status, scope: `zone:${zoneId}` }
      }
      case "waf_custom_rule": {
        const r = yield* customerCall(baseUrl, token, "PUT", `${zone}/rulesets/phases/http_request_firewall_custom/entrypoint`, {
          rules: [{ action: "block", expression: `(ip.src eq 192.0.2.${n % 250})`, description: `b5 change ${n}` }]
        })
        return { status: r.status, scope: `zone:${zoneId}` }
      }
      case "rate_limit_rule": {
        const r = yield* customerCall(baseUrl, token, "PUT", `${zone}/rulesets/phases/http_ratelimit/entrypoint`, {
          rules: [
            {
              action: "block",
              expression: `(http.request.uri.path eq "/b5/${n}")`,
              description: `b5 change ${n}`,
              ratelimit: { characteristics: ["ip.src", "cf.colo.id"], period: 10, requests_per_period: 100, mitigation_timeout: 10 }
            }
          ]
        })
        return { status: r.status, scope: `zone:${zoneId}` }
      }
      case "dnssec": {
        const current = yield* customerCall(baseUrl, token, "GET", `${zone}/dnssec`)
        const status = (current.body.result as { status?: unknown } | undefined)?.status === "active" ? "disabled" : "active"
        const r = yield* customerCall(baseUrl, token, "PATCH", `${zone}/dnssec`, { status })
        return { status: r.status, scope: `zone:${zoneId}` }
      }
      case "account_rule": {
        // The account's WAF entry point: its first rule's description changes (the rule keeps its id).
        const path = `/accounts/${accountId}/rulesets/phases/http_request_firewall_custom/entrypoint`
        const current = yield* customerCall(baseUrl, token, "GET", path)
        const rules = ((current.body.result as { rules?: Array<Record<string, unknown>> } | undefined)?.rules ?? []).map((rule, i) => ({
          id: rule["id"],
          action: rule["action"],
          expression: rule["expression"],
          enabled: rule["enabled"],
          ...(rule["action_parameters"] === undefined ? {} : { action_parameters: rule["action_parameters"] }),
          description: i === 0 ? `b5 change ${n}` : rule["description"]
        }))
        const r = yield* customerCall(baseUrl, token, "PUT", path, { rules })
        return { status: r.status, scope: `account:${accountId}` }
      }
    }
  })

/** The drift events of a report: each drifted scope, and for account-level rules the account too. */
const eventsOf = (report: Drift.DriftReport, at: number, processingMs: number): Array<DriftEvent> => {
  const scopes = new Set<string>()
  for (const change of report.changes) {
    scopes.add(change.scope.key)
    if (change.resource === "account_rules" && change.scope.parent !== undefined) scopes.add(change.scope.parent)
  }
  return [...scopes].map((scope) => ({ scope, at, processingMs }))
}

/** One mode's run against a fresh simulator. */
const runMode = (mode: ChangeFeed.FeedMode, options: Options) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sim = yield* SimulatorProcess.start({
        scenario: "large",
        rateLimit: `${RATE.limit}/${RATE.windowMs}`,
        ipRateLimit: RATE.ipPerSecond,
        faults: { rules: [{ effect: { kind: "latency", distribution: { type: "fixed", ms: RATE.latencyMs } } }] }
      })
      const token = sim.tokens[TOKEN]
      const customer = sim.tokens["customer"]
      if (token === undefined || customer === undefined) return yield* Effect.dieMessage("the simulator lacks the account or customer token")
      yield* Effect.tryPromise(() =>
        fetch(new URL("/__admin/audit-log", sim.baseUrl), { method: "POST", body: JSON.stringify({ delayMs: AUDIT_DELAY_MS }) })
      ).pipe(Effect.orDie)

      let requests = 0
      const byPath = new Map<string, number>()
      const statuses: Record<string, number> = {}
      const counting = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, (client) =>
          client.pipe(
            HttpClient.tapRequest((request) =>
              Effect.sync(() => {
                requests++
                const p = pathPattern(request.url)
                byPath.set(p, (byPath.get(p) ?? 0) + 1)
              })
            ),
            HttpClient.tap((response) => Effect.sync(() => void (statuses[response.status] = (statuses[response.status] ?? 0) + 1)))
          )
        )
      ).pipe(Layer.provide(HttpPipeline.layerFetch))
      const client = CloudflareClient.layer({
        token,
        baseUrl: sim.baseUrl,
        budget: { limit: RATE.limit, window: Duration.millis(RATE.windowMs), margin: Duration.millis(100) },
        // The default share of the announced quota (half left to the customer); the per-IP limit scaled like the rest.
        clientIpBudget
      }).pipe(Layer.provide(Layer.merge(counting, RequestBudget.layer)))
      const connector = CloudflareConnector.connector
      const feed = CfFeed.feed
      const volatile = Connector.volatileFields(connector)
      const ctx = yield* Layer.build(client)
      const provide = <A, E>(effect: Effect.Effect<A, E, CloudflareClient.CloudflareClient>) =>
        // A feed or credential failure ends the bench: it is a failure to run, not a figure.
        effect.pipe(Effect.provide(ctx), Logger.withMinimumLogLevel(LogLevel.Error), Effect.orDie)

      // The full snapshot the feed starts from (not a cycle).
      yield* Effect.logInfo(`B5 (${mode}): full snapshot…`)
      const fullStarted = performance.now()
      const full = yield* provide(SnapshotRunner.run(connector, { connectionId: CONNECTION, concurrency: CONCURRENCY }))
      const fullMs = performance.now() - fullStarted
      const fullRequests = requests
      const started = yield* provide(feed.changes({ connectionId: CONNECTION, mode, position: Option.none(), previous: full }))
      let position = started.position

      const zoneIds = [...new Set(full.results.filter((r) => r.scope.kind === "zone").map((r) => r.scope.id))].sort()
      const enterprise = full.results
        .filter((r) => r.resource === "accounts" && r.status._tag === "ok")
        .flatMap((r) => (r.status._tag === "ok" ? r.status.records : []))
        .find((rec) => (rec.value as { type?: unknown }).type === "enterprise")
      const accountId = enterprise?.key ?? ""

      const made: Array<MadeChange & { readonly kind: Kind; readonly cycle: number }> = []
      const refused: Array<{ readonly kind: Kind; readonly status: number }> = []
      const events: Array<DriftEvent> = []
      const cycles: Array<{
        readonly requests: number
        readonly ms: number
        readonly feedMs: number
        readonly runMs: number
        readonly diffMs: number
        readonly marks: number
        readonly read: number
        readonly drift: number
      }> = []
      let previous: Snapshot.Snapshot = full
      // What no mark covers (probes mode) is re-read on the slower cadence, as the app does.
      const unmarked = feed.unmarked?.(mode) ?? []
      const cadence = unmarked.length === 0 ? undefined : { resources: unmarked, maxAge: Duration.millis(PROBES_CADENCE_MS) }
      const t0 = performance.now()
      const requestsBefore = requests
      let writers: Array<Fiber.RuntimeFiber<void>> = []
      let writesDone = Infinity
      // After the cycles, DRAIN_POLLS more polls; with a cadence, until one whole period has passed
      // since the last write, so that every change is due for its re-read before reconciliation.
      const draining = (k: number) =>
        k >= options.cycles + DRAIN_POLLS && (cadence === undefined || performance.now() - writesDone >= PROBES_CADENCE_MS + POLL_MS)
      let polls = 0
      for (let k = 0; !draining(k); k++) {
        polls++
        const cycleStart = t0 + k * POLL_MS
        if (k < options.cycles) {
          const script = changeScript({ zones: zoneIds.length, cycle: k, perCycle: Math.max(1, Math.round(zoneIds.length / 100)), cycles: options.cycles })
          const writer = yield* Effect.forkScoped(
            Effect.forEach(
              script,
              (planned, i) =>
                Effect.gen(function* () {
                  const due = cycleStart + ((i + 0.5) * POLL_MS) / script.length
                  const wait = due - performance.now()
                  if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
                  const at = performance.now()
                  const n = k * 1000 + i
                  const result = yield* makeChange(sim.baseUrl, customer, planned.kind, zoneIds[planned.zoneIndex]!, accountId, n)
                  if (result.status >= 200 && result.status < 300) made.push({ id: n, scope: result.scope, at, kind: planned.kind, cycle: k })
                  else refused.push({ kind: planned.kind, status: result.status })
                }),
              { discard: true }
            )
          )
          writers.push(writer)
        }
        const pollAt = cycleStart + POLL_MS
        const wait = pollAt - performance.now()
        if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
        const before = requests
        const pollStarted = performance.now()
        const cpuStarted = process.cpuUsage()
        const changes = yield* provide(feed.changes({ connectionId: CONNECTION, mode, position: Option.some(position), previous }))
        const fedAt = performance.now()
        const snapshot = yield* provide(
          SnapshotRunner.run(connector, { connectionId: CONNECTION, concurrency: CONCURRENCY, incremental: { previous, changes, cadence } })
        )
        const ranAt = performance.now()
        const report = Drift.diff(previous, snapshot, { volatile })
        const detectedAt = performance.now()
        // The poll's own work, which runs at the machine's real speed: its CPU (user + system). Its
        // requests' latency and the budget's waits stay scaled waits.
        const cpu = process.cpuUsage(cpuStarted)
        events.push(...eventsOf(report, detectedAt, Math.min(detectedAt - pollStarted, (cpu.user + cpu.system) / 1000)))
        const read = snapshot.provenance?.read.length ?? snapshot.results.length
        if (k < options.cycles) {
          cycles.push({
            requests: requests - before,
            ms: detectedAt - pollStarted,
            feedMs: fedAt - pollStarted,
            runMs: ranAt - fedAt,
            diffMs: detectedAt - ranAt,
            marks: changes.marks.length,
            read,
            drift: report.changes.length
          })
        }
        previous = snapshot
        position = changes.position
        if (k === options.cycles - 1) {
          yield* Effect.forEach(writers, Fiber.join, { discard: true })
          writers = []
          writesDone = performance.now()
        }
      }
      const elapsedMs = performance.now() - t0
      const cycleRequests = requests - requestsBefore

      // Reconciliation: a full snapshot, diffed against the last incremental one.
      yield* Effect.logInfo(`B5 (${mode}): reconciliation…`)
      yield* sim.resetRateLimits
      const reconciliation = yield* provide(SnapshotRunner.run(connector, { connectionId: CONNECTION, concurrency: CONCURRENCY }))
      const missed = Drift.diff(previous, reconciliation, { volatile })

      const { latencies, processing, undetected } = matchLatencies(made, events)
      // Real time: the waits ×120, the detecting poll's CPU as measured (B5Plan.realLatencySeconds).
      const real = new Map([...latencies].map(([id, ms]) => [id, realLatencySeconds(ms, processing.get(id) ?? 0, TIME_SCALE)]))
      const latency = distribution([...real.values()])
      // The upper bound: everything ×120, as if the CPU ran 120 times slower too.
      const scaledAll = distribution([...latencies.values()].map((ms) => realSeconds(ms, TIME_SCALE)))
      const perCycle = cycles.map((c) => c.requests)
      const meanPerCycle = perCycle.reduce((a, b) => a + b, 0) / Math.max(1, perCycle.length)
      const maxPerCycle = perCycle.reduce((a, b) => Math.max(a, b), 0)
      const share = mode === "audit_log" ? 0.02 : 0.25
      const left = quotaLeft({ requests: cycleRequests, elapsedMs, windowMs: RATE.windowMs, limit: RATE.limit })
      const label = (name: string) => `${name} (${mode})`
      const figures: Array<Figure> = [
        figure({ benchmark: "B5", name: label("full snapshot requests"), value: fullRequests, unit: "requests", note: `${formatNumber(fullMs, 0)} ms scaled` }),
        figure({
          benchmark: "B5",
          name: label("requests per cycle, mean"),
          value: round(meanPerCycle, 1),
          unit: "requests",
          target: { op: "<=", value: share * fullRequests, text: `≤ ${share * 100} % of a full snapshot (${formatNumber(share * fullRequests, 0)})` }
        }),
        figure({ benchmark: "B5", name: label("requests per cycle, max"), value: maxPerCycle, unit: "requests" }),
        figure({ benchmark: "B5", name: label("detection latency p50"), value: round(latency.p50, 1), unit: "s", note: "real time: waits ×120, the poll's CPU as measured" }),
        figure({
          benchmark: "B5",
          name: label("detection latency p99"),
          value: round(latency.p99, 1),
          unit: "s",
          note: "real time: waits ×120, the poll's CPU as measured; 60 s poll",
          target: mode === "audit_log" ? { op: "<=", value: 90, text: "≤ 90 s" } : undefined
        }),
        figure({ benchmark: "B5", name: label("detection latency max"), value: round(latency.max, 1), unit: "s", note: "real time: waits ×120, the poll's CPU as measured" }),
        figure({
          benchmark: "B5",
          name: label("detection latency p99, everything ×120"),
          value: round(scaledAll.p99, 1),
          unit: "s",
          note: `upper bound: the poll's CPU counted 120 times; p50 ${formatNumber(scaledAll.p50, 1)} s, max ${formatNumber(scaledAll.max, 1)} s`
        }),
        figure({
          benchmark: "B5",
          name: label("changes undetected by the feed"),
          value: undetected.length,
          unit: "",
          note: `of ${made.length} made`,
          target: { op: "==", value: 0, text: "0" }
        }),
        figure({
          benchmark: "B5",
          name: label("changes missed (reconciliation drift)"),
          value: missed.changes.length,
          unit: "",
          target: { op: "==", value: 0, text: "0" }
        }),
        figure({
          benchmark: "B5",
          name: label("quota left to the customer"),
          value: round(left * 100, 1),
          unit: "%",
          note: "requests per 5 min real vs 1,200",
          target: mode === "audit_log" ? { op: ">=", value: 50, text: "≥ 50 %" } : undefined
        })
      ]
      const topPaths = [...byPath.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15)
      return {
        figures,
        details: {
          mode,
          fullRequests,
          fullMs: round(fullMs, 0),
          cycles: cycles.map((c) => ({ ...c, ms: round(c.ms, 0), feedMs: round(c.feedMs, 0), runMs: round(c.runMs, 0), diffMs: round(c.diffMs, 0) })),
          drainPolls: polls - options.cycles,
          cadenceMs: cadence === undefined ? null : PROBES_CADENCE_MS,
          cycleRequests,
          elapsedMs: round(elapsedMs, 0),
          changesMade: made.length,
          byKind: Object.fromEntries(
            [...new Set(made.map((c) => c.kind))].map((kind) => {
              const ids = made.filter((c) => c.kind === kind).map((c) => c.id)
              const ls = ids.flatMap((id) => (real.has(id) ? [real.get(id)!] : []))
              return [kind, { made: ids.length, detected: ls.length, maxSeconds: round(ls.reduce((a, b) => Math.max(a, b), 0), 1) }]
            })
          ),
          refused,
          undetected,
          latencySeconds: latency,
          latencySecondsEverythingScaled: scaledAll,
          missed: missed.changes.slice(0, 10).map((c) => ({ resource: c.resource, scope: c.scope.key, key: c.key, tag: c._tag })),
          missedCoverage: missed.coverage.length,
          reconciliationRequests: reconciliation.requestCount,
          sameContentHash: Snapshot.contentHash(reconciliation) === Snapshot.contentHash(previous),
          statuses,
          topPaths
        }
      }
    })
  )

/** Runs B5. */
export const run = (options: Options = defaults) =>
  Effect.gen(function* () {
    const loadBefore = loadavg()
    const modes: ReadonlyArray<ChangeFeed.FeedMode> = options.mode === "both" ? ["audit_log", "probes"] : [options.mode]
    const runs = []
    for (const mode of modes) runs.push(yield* runMode(mode, options))
    const loadAfter = loadavg()
    return {
      id: "B5",
      title: "Change-driven monitoring of the large scenario (audit-log feed and probes)",
      figures: runs.flatMap((r) => r.figures),
      details: {
        timeScale: TIME_SCALE,
        pollMs: POLL_MS,
        auditDelayMs: AUDIT_DELAY_MS,
        cycles: options.cycles,
        rate: RATE,
        runs: runs.map((r) => r.details),
        loadAverage: { before: loadBefore.map((x) => round(x, 2)), after: loadAfter.map((x) => round(x, 2)) }
      }
    } satisfies BenchmarkResult
  })
