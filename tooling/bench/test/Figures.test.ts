import { assert, describe, it } from "@effect/vitest"
import { distribution, extrapolateLoop, figure, markdownTable, maximum, median, meets, minimum, percentile, rateLimitFloorMillis } from "../src/Figures.js"

const cloudflareScaled = { limit: 1200, windowMs: 2500, latencyMs: 20 }

describe("Figures", () => {
  describe("rateLimitFloorMillis", () => {
    it("is one latency while everything fits in the first window", () => {
      assert.strictEqual(rateLimitFloorMillis(1, cloudflareScaled), 20)
      assert.strictEqual(rateLimitFloorMillis(1200, cloudflareScaled), 20)
    })

    it("adds a window for each further block of `limit` requests", () => {
      assert.strictEqual(rateLimitFloorMillis(1201, cloudflareScaled), 2520)
      assert.strictEqual(rateLimitFloorMillis(2400, cloudflareScaled), 2520)
      assert.strictEqual(rateLimitFloorMillis(2401, cloudflareScaled), 5020)
    })

    it("gives 25,020 ms for the large scenario's 12,995 requests", () => {
      assert.strictEqual(rateLimitFloorMillis(12_995, cloudflareScaled), 25_020)
    })

    it("is zero for no requests", () => {
      assert.strictEqual(rateLimitFloorMillis(0, cloudflareScaled), 0)
    })
  })

  describe("median and percentile", () => {
    it("takes the middle value, or the mean of the two middle values", () => {
      assert.strictEqual(median([5, 1, 3]), 3)
      assert.strictEqual(median([4, 1, 3, 2]), 2.5)
      assert.isNaN(median([]))
    })

    it("uses the nearest rank, whatever the input order", () => {
      const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5]
      assert.strictEqual(percentile(xs, 50), 5)
      assert.strictEqual(percentile(xs, 90), 9)
      assert.strictEqual(percentile(xs, 99), 10)
      assert.strictEqual(percentile(xs, 100), 10)
      assert.strictEqual(percentile(xs, 0), 1)
      assert.isNaN(percentile([], 50))
    })

    it("summarises a million values without overflowing the stack", () => {
      // A shuffled 1..1,000,000: every figure is known exactly.
      const n = 1_000_000
      const xs = Array.from({ length: n }, (_, i) => ((i * 7_919) % n) + 1)
      assert.strictEqual(maximum(xs), n)
      assert.strictEqual(minimum(xs), 1)
      assert.deepStrictEqual(distribution(xs), { count: n, min: 1, p50: 500_000, p90: 900_000, p99: 990_000, max: n })
      assert.strictEqual(percentile(xs, 99), 990_000)
      assert.strictEqual(median(xs), 500_000.5)
    }, 60_000) // sorting a million values four times takes seconds on a loaded machine

    it("gives the stated value for an empty sample", () => {
      assert.strictEqual(maximum([], 0), 0)
      assert.isNaN(minimum([]))
      assert.isNaN(distribution([]).p99)
    })
  })

  describe("extrapolateLoop", () => {
    it("keeps the time outside the sample and scales the sampled iterations to the whole loop", () => {
      // 10 s in all, of which 3 sampled iterations took 1, 2 and 3 s: 4 s outside them, 2 s each.
      assert.strictEqual(extrapolateLoop({ elapsedMs: 10_000, sampledMs: [1000, 2000, 3000], total: 100 }), 4000 + 2000 * 100)
    })

    it("is the elapsed time when the whole loop was run", () => {
      assert.strictEqual(extrapolateLoop({ elapsedMs: 7000, sampledMs: [3000, 4000], total: 2 }), 7000)
    })
  })

  describe("targets", () => {
    it("compares with each operator", () => {
      assert.isTrue(meets({ op: "<=", value: 10, text: "" }, 10))
      assert.isFalse(meets({ op: "<", value: 10, text: "" }, 10))
      assert.isTrue(meets({ op: ">=", value: 5, text: "" }, 5))
      assert.isTrue(meets({ op: "==", value: 0, text: "" }, 0))
      assert.isFalse(meets({ op: "==", value: 0, text: "" }, 1))
    })

    it("fills in `met` only for figures with a target", () => {
      assert.isTrue(figure({ benchmark: "B2", name: "t", value: 100, unit: "ms", target: { op: "<", value: 250, text: "< 250 ms" } }).met)
      assert.isUndefined(figure({ benchmark: "B2", name: "t", value: 100, unit: "ms" }).met)
    })
  })

  describe("markdownTable", () => {
    it("writes one row per figure with its value, target and whether it was met", () => {
      const table = markdownTable([
        figure({ benchmark: "B3", name: "evaluations", value: 1_234_567, unit: "evaluations/s", target: { op: ">=", value: 1_000_000, text: "≥ 1,000,000/s" } }),
        figure({ benchmark: "B1", name: "a | b", value: 1.234, unit: "ratio", note: "n" })
      ])
      assert.strictEqual(
        table,
        [
          "| benchmark | figure | value | target | met |",
          "|---|---|---|---|---|",
          "| B3 | evaluations | 1,234,567 evaluations/s | ≥ 1,000,000/s | yes |",
          "| B1 | a \\| b (n) | 1.23 | – | – |"
        ].join("\n")
      )
    })
  })
})
