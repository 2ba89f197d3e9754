// Sums the vitest JSON reports of every workspace package into one closing line,
// "N passed, N failed, N skipped", and fails when no test ran at all.
import { readdirSync, readFileSync, existsSync } from "node:fs"
import { join } from "node:path"

const roots = ["packages", "apps", "tooling"]
let passed = 0
let failed = 0
let skipped = 0
for (const root of roots) {
  if (!existsSync(root)) continue
  for (const name of readdirSync(root)) {
    const report = join(root, name, "test-results", "vitest.json")
    if (!existsSync(report)) continue
    const json = JSON.parse(readFileSync(report, "utf8"))
    passed += json.numPassedTests
    failed += json.numFailedTests
    skipped += json.numPendingTests + json.numTodoTests
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
if (failed > 0 || passed === 0) process.exit(1)
