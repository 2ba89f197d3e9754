/**
 * The pure parts of B5 (change-driven monitoring): which zones change in which cycle and how
 * (spread over resource kinds), matching each change to the first drift event that shows it,
 * converting the bench's 120× scaled time back to real time, and the share of the customer's
 * quota left unused. Nothing here measures anything, so it is tested directly
 * (`test/B5Plan.test.ts`).
 */

/**
 * The kinds of change B5 writes, in rotation. The simulator has write routes for these; page rules,
 * Workers routes and IP access rules have none (its README's endpoint table), so B5 cannot change
 * them through the API and the audit log.
 */
export const KINDS = ["dns_record", "zone_setting", "waf_custom_rule", "rate_limit_rule", "dnssec", "account_rule"] as const
export type Kind = (typeof KINDS)[number]

/** One planned change: the zone it touches (by index in the zone listing) and its kind. */
export interface PlannedChange {
  readonly cycle: number
  readonly zoneIndex: number
  readonly kind: Kind
}

/**
 * The changes of `cycle`: `perCycle` distinct zones, never a zone of an earlier cycle (as long as
 * `cycles × perCycle ≤ zones`), spread over the listing by a stride, with the kinds in rotation so
 * that every kind appears once `perCycle ≥ KINDS.length`, and the rotation shifts between cycles.
 */
export const changeScript = (input: { readonly zones: number; readonly cycle: number; readonly perCycle: number; readonly cycles: number }): ReadonlyArray<PlannedChange> => {
  const { zones, cycle, perCycle, cycles } = input
  const total = Math.max(1, cycles * perCycle)
  const stride = Math.max(1, Math.floor(zones / total))
  const changes: Array<PlannedChange> = []
  for (let i = 0; i < perCycle; i++) {
    const n = i * cycles + cycle
    changes.push({ cycle, zoneIndex: (n * stride) % zones, kind: KINDS[(i + cycle) % KINDS.length]! })
  }
  return changes
}

/** A change made, at `at` (ms, any clock shared with the events), in the scope keyed `scope`. */
export interface MadeChange {
  readonly id: number
  readonly scope: string
  readonly at: number
}

/**
 * A drift event: a scope that drifted, seen at `at`, by a poll whose own CPU work (feed,
 * incremental run, diff) was `processingMs` of the time before it.
 */
export interface DriftEvent {
  readonly scope: string
  readonly at: number
  readonly processingMs?: number
}

/**
 * Each change's detection latency: the time from the change to the first drift event in its scope
 * at or after it. One event detects every change made in its scope before it (one poll re-reads an
 * account's rules once, whatever number of changes it carries). A change without such an event is
 * left out of `latencies` and listed in `undetected`. `processing` gives, per detected change, the
 * part of its latency that was the detecting poll's own work (at most the latency itself: a change
 * made while the poll was running waited for nothing else).
 */
export const matchLatencies = (
  changes: ReadonlyArray<MadeChange>,
  events: ReadonlyArray<DriftEvent>
): { readonly latencies: ReadonlyMap<number, number>; readonly processing: ReadonlyMap<number, number>; readonly undetected: ReadonlyArray<number> } => {
  const byScope = new Map<string, Array<MadeChange>>()
  for (const c of [...changes].sort((a, b) => a.at - b.at)) {
    const list = byScope.get(c.scope) ?? []
    list.push(c)
    byScope.set(c.scope, list)
  }
  const latencies = new Map<number, number>()
  const processing = new Map<number, number>()
  for (const e of [...events].sort((a, b) => a.at - b.at)) {
    const pending = byScope.get(e.scope)
    if (pending === undefined) continue
    // Sorted by time: the changes at or before the event are a prefix.
    let n = 0
    while (n < pending.length && pending[n]!.at <= e.at) n++
    for (const change of pending.splice(0, n)) {
      latencies.set(change.id, e.at - change.at)
      processing.set(change.id, Math.min(e.at - change.at, e.processingMs ?? 0))
    }
  }
  const undetected = [...byScope.values()].flat().map((c) => c.id)
  return { latencies, processing, undetected }
}

/** Scaled milliseconds as real seconds: the bench runs time `scale` times faster. */
export const realSeconds = (scaledMs: number, scale: number): number => (scaledMs * scale) / 1000

/**
 * A detection latency in real seconds, each part converted as it runs: the waits (the poll
 * interval, the audit log's delay, the rate-limit budget's pauses, and the requests' latency) are
 * in scaled time and count `scale` times, while the detecting poll's CPU (`processingMs`) runs at
 * the machine's real speed and counts once. `realSeconds` of the whole is the upper bound that
 * treats the CPU as if it were 120 times slower too.
 */
export const realLatencySeconds = (scaledMs: number, processingMs: number, scale: number): number => {
  const work = Math.min(Math.max(0, processingMs), scaledMs)
  return ((scaledMs - work) * scale + work) / 1000
}

/**
 * The share (0–1) of the customer's quota left unused: `requests` made over `elapsedMs`, spread to
 * one rate-limit window of `windowMs`, against the window's `limit`. Never below 0.
 */
export const quotaLeft = (input: { readonly requests: number; readonly elapsedMs: number; readonly windowMs: number; readonly limit: number }): number => {
  if (input.elapsedMs <= 0) return input.requests === 0 ? 1 : 0
  const perWindow = (input.requests * input.windowMs) / input.elapsedMs
  return Math.max(0, 1 - perWindow / input.limit)
}
