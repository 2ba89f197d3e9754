// Shared vitest settings: tests live in test/, run in Node, and a JSON report is written
// that .ci/run sums into one "N passed, N failed" line.
import { defineConfig } from "vitest/config"

/** @param {import("vitest/config").UserConfig["test"]} [overrides] */
export const makeConfig = (overrides = {}) =>
  defineConfig({
    test: {
      include: ["test/**/*.test.ts"],
      environment: "node",
      testTimeout: 30_000,
      hookTimeout: 60_000,
      reporters: ["default", "json"],
      outputFile: { json: "test-results/vitest.json" },
      ...overrides
    }
  })

export default makeConfig()
