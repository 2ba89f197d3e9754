import { assert, describe, it } from "@effect/vitest"
import { changeScript, KINDS, matchLatencies, quotaLeft, realLatencySeconds, realSeconds } from "../src/B5Plan.js"

describe("B5Plan", () => {
  describe("changeScript", () => {
    it("changes 1 % of 1,000 zones per cycle, each zone at most once over ten cycles", () => {
      const all = Array.from({ length: 10 }, (_, cycle) => changeScript({ zones: 1000, cycle, perCycle: 10, cycles: 10 }))
      for (const cycle of all) assert.strictEqual(cycle.length, 10)
      const zones = all.flat().map((c) => c.zoneIndex)
      assert.strictEqual(new Set(zones).size, 100)
      for (const z of zones) assert.isTrue(z >= 0 && z < 1000)
    })

    it("spreads every cycle over every kind, DNS records and account-level rules included", () => {
      for (let cycle = 0; cycle < 10; cycle++) {
        const kinds = new Set(changeScript({ zones: 1000, cycle, perCycle: 10, cycles: 10 }).map((c) => c.kind))
        assert.deepStrictEqual([...kinds].sort(), [...KINDS].sort())
      }
    })
  })

  describe("matchLatencies", () => {
    it("matches each change to the first later event in its scope", () => {
      const { latencies, undetected } = matchLatencies(
        [
          { id: 1, scope: "account:a", at: 100 },
          { id: 2, scope: "account:a", at: 600 },
          { id: 3, scope: "zone:z", at: 200 },
          { id: 4, scope: "zone:y", at: 300 }
        ],
        [
          { scope: "zone:other", at: 150 },
          { scope: "zone:z", at: 150 }, // before the change: not it
          { scope: "account:a", at: 500 },
          { scope: "zone:z", at: 700 },
          { scope: "account:a", at: 1000 }
        ]
      )
      assert.deepStrictEqual([...latencies.entries()].sort((a, b) => a[0] - b[0]), [
        [1, 400],
        [2, 400],
        [3, 500]
      ])
      assert.deepStrictEqual(undetected, [4])
    })

    it("lets one event detect every earlier change in its scope", () => {
      const { latencies, undetected } = matchLatencies(
        [
          { id: 1, scope: "account:a", at: 100 },
          { id: 2, scope: "account:a", at: 300 }
        ],
        [{ scope: "account:a", at: 500 }]
      )
      assert.deepStrictEqual([...latencies.entries()].sort((a, b) => a[0] - b[0]), [
        [1, 400],
        [2, 200]
      ])
      assert.deepStrictEqual(undetected, [])
    })
  })

  describe("real time and quota", () => {
    it("converts scaled milliseconds to real seconds at 120×", () => {
      assert.strictEqual(realSeconds(500, 120), 60)
      assert.strictEqual(realSeconds(750, 120), 90)
    })

    it("converts waits at 120× and the detecting poll's own work at its real speed", () => {
      // 600 ms scaled of which the poll's work was 100 ms: 500 ms of waiting (60 s) + 0.1 s.
      assert.strictEqual(realLatencySeconds(600, 100, 120), 60.1)
      // Work longer than the latency (a change made while the poll ran) is the whole latency.
      assert.strictEqual(realLatencySeconds(50, 100, 120), 0.05)
      assert.strictEqual(realLatencySeconds(600, 0, 120), realSeconds(600, 120))
    })

    it("keeps, per detected change, the detecting poll's work, never more than the latency", () => {
      const { processing } = matchLatencies(
        [
          { id: 1, scope: "zone:z", at: 100 },
          { id: 2, scope: "zone:z", at: 650 }
        ],
        [
          { scope: "zone:z", at: 700, processingMs: 120 },
          { scope: "zone:z", at: 900, processingMs: 80 }
        ]
      )
      assert.deepStrictEqual([...processing.entries()].sort((x, y) => x[0] - y[0]), [
        [1, 120],
        [2, 50]
      ])
    })

    it("spreads the requests to one window and leaves the rest of the limit", () => {
      // 60 requests per 500 ms cycle = 300 per 2.5 s window: a quarter of 1,200 used.
      assert.strictEqual(quotaLeft({ requests: 600, elapsedMs: 5000, windowMs: 2500, limit: 1200 }), 0.75)
      assert.strictEqual(quotaLeft({ requests: 10_000, elapsedMs: 2500, windowMs: 2500, limit: 1200 }), 0)
      assert.strictEqual(quotaLeft({ requests: 0, elapsedMs: 0, windowMs: 2500, limit: 1200 }), 1)
    })
  })
})
