/**
 * The figures a benchmark reports and the pure arithmetic behind them: medians and percentiles,
 * the rate-limit floor of B1, target checks, and the Markdown table `main.ts` writes. Nothing here
 * measures anything, so all of it is tested directly (`test/Figures.test.ts`).
 */

/** A target a figure is held to. `op` compares the measured value with `value`. */
export interface Target {
  readonly op: "<=" | "<" | ">=" | "=="
  readonly value: number
  /** How the target reads in the table, e.g. "≤ 1.1 × floor (27,522 ms)". */
  readonly text: string
}

/** One measured figure. */
export interface Figure {
  readonly benchmark: string
  readonly name: string
  readonly value: number
  readonly unit: string
  readonly target?: Target | undefined
  /** Whether the target was met; absent for figures without a target. */
  readonly met?: boolean | undefined
  /** What the figure means or how it was obtained, when the name alone does not say. */
  readonly note?: string | undefined
}

/** What one benchmark hands back: its figures and the raw details behind them. */
export interface BenchmarkResult {
  readonly id: string
  readonly title: string
  readonly figures: ReadonlyArray<Figure>
  readonly details: Record<string, unknown>
}

/** Does `value` meet `target`? */
export const meets = (target: Target, value: number): boolean => {
  switch (target.op) {
    case "<=":
      return value <= target.value
    case "<":
      return value < target.value
    case ">=":
      return value >= target.value
    case "==":
      return value === target.value
  }
}

/** A figure, with `met` filled in from its target. */
export const figure = (input: Omit<Figure, "met">): Figure =>
  input.target === undefined ? input : { ...input, met: meets(input.target, input.value) }

const sorted = (xs: ReadonlyArray<number>): Array<number> => [...xs].sort((a, b) => a - b)

/** The nearest-rank percentile (`p` in 0–100) of a non-empty sample; NaN when empty. */
export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  if (xs.length === 0) return Number.NaN
  const s = sorted(xs)
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * s.length)
  return s[Math.max(0, rank - 1)]!
}

/** The median: the mean of the two middle values for an even count; NaN when empty. */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return Number.NaN
  const s = sorted(xs)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * The largest value; `empty` when there is none. A loop, not `Math.max(...xs)`: spreading a large
 * sample into arguments overflows the stack (B4 died of it at about 120,000 lags).
 */
export const maximum = (xs: ReadonlyArray<number>, empty = Number.NaN): number => {
  if (xs.length === 0) return empty
  let max = -Infinity
  for (const x of xs) if (x > max) max = x
  return max
}

/** The smallest value; `empty` when there is none. A loop, like `maximum`. */
export const minimum = (xs: ReadonlyArray<number>, empty = Number.NaN): number => {
  if (xs.length === 0) return empty
  let min = Infinity
  for (const x of xs) if (x < min) min = x
  return min
}

/** A sample's size and nearest-rank percentiles, from one sort of a typed copy. */
export interface Distribution {
  readonly count: number
  readonly min: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

/** Summarises a sample in one sort (NaN figures when it is empty). */
export const distribution = (xs: ReadonlyArray<number>): Distribution => {
  const s = Float64Array.from(xs).sort()
  const at = (p: number) => (s.length === 0 ? Number.NaN : s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!)
  return {
    count: s.length,
    min: s.length === 0 ? Number.NaN : s[0]!,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    max: s.length === 0 ? Number.NaN : s[s.length - 1]!
  }
}

/** Rounds to `digits` decimals. */
export const round = (x: number, digits = 1): number => {
  const f = 10 ** digits
  return Math.round(x * f) / f
}

/** A provider's fixed-window rate limit and the latency of one request. */
export interface RateLimit {
  /** Requests allowed per window. */
  readonly limit: number
  readonly windowMs: number
  /** Time from sending a request to having its answer. */
  readonly latencyMs: number
}

/**
 * The rate-limit floor: the least wall time `requests` requests can take against a fixed window
 * of `limit` per `windowMs` that opens at the first request (Cloudflare's behaviour, and the
 * simulator's; over the limit, the rest of the window is refused).
 *
 * Window k (k = 0, 1, …) opens no earlier than k · windowMs after the first request, and at most
 * `limit` requests are answered in each, so the last request cannot be sent before
 * ⌊(requests − 1) / limit⌋ · windowMs, and its answer comes `latencyMs` later:
 *
 *   floor = ⌊(requests − 1) / limit⌋ · windowMs + latencyMs
 *
 * Any number of requests in flight is allowed: the floor is what the limit and the latency alone
 * impose, not what a given client's concurrency achieves. Zero requests take no time.
 */
export const rateLimitFloorMillis = (requests: number, rate: RateLimit): number =>
  requests <= 0 ? 0 : Math.floor((requests - 1) / rate.limit) * rate.windowMs + rate.latencyMs

/**
 * A sequential loop's total time from a sample of its iterations: the time outside the sampled
 * iterations (run once, as in the full loop) plus the mean sampled iteration times `total` of them.
 */
export const extrapolateLoop = (input: {
  readonly elapsedMs: number
  readonly sampledMs: ReadonlyArray<number>
  readonly total: number
}): number => {
  if (input.sampledMs.length === 0) return input.elapsedMs
  const inSample = input.sampledMs.reduce((a, b) => a + b, 0)
  return input.elapsedMs - inSample + (inSample / input.sampledMs.length) * input.total
}

/** A number for the table: grouped thousands, at most `digits` decimals. */
export const formatNumber = (x: number, digits = 1): string =>
  Number.isFinite(x) ? x.toLocaleString("en-US", { maximumFractionDigits: digits }) : String(x)

const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\n/g, " ")

/** The Markdown table of every figure: benchmark, figure, value, target, met. */
export const markdownTable = (figures: ReadonlyArray<Figure>): string => {
  const rows = figures.map((f) => {
    const value = `${formatNumber(f.value, f.unit === "ratio" || f.unit === "×" ? 2 : 1)}${f.unit === "" || f.unit === "ratio" ? "" : ` ${f.unit}`}`
    const met = f.met === undefined ? "–" : f.met ? "yes" : "no"
    const name = f.note === undefined ? f.name : `${f.name} (${f.note})`
    return `| ${cell(f.benchmark)} | ${cell(name)} | ${cell(value)} | ${cell(f.target?.text ?? "–")} | ${met} |`
  })
  return ["| benchmark | figure | value | target | met |", "|---|---|---|---|---|", ...rows].join("\n")
}
