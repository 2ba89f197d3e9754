// Sums the vitest JSON reports of every workspace package (the `packages:` entries of
// pnpm-workspace.yaml: `dir/*` globs and plain folders) into one closing line,
// "N passed, N failed, N skipped", and fails when no test ran at all.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"

const workspace = readFileSync("pnpm-workspace.yaml", "utf8")
const entries = []
let inPackages = false
for (const line of workspace.split("\n")) {
  if (/^packages:\s*$/.test(line)) inPackages = true
  else if (/^\S/.test(line)) inPackages = false
  else if (inPackages) {
    const m = /^\s*-\s*["']?([^"'\s]+)["']?\s*$/.exec(line)
    if (m) entries.push(m[1])
  }
}
const folders = entries.flatMap((entry) =>
  entry.endsWith("/*")
    ? existsSync(entry.slice(0, -2))
      ? readdirSync(entry.slice(0, -2)).map((name) => join(entry.slice(0, -2), name)).filter((dir) => statSync(dir).isDirectory())
      : []
    : [entry]
)
let passed = 0
let failed = 0
let skipped = 0
for (const folder of folders) {
  const report = join(folder, "test-results", "vitest.json")
  if (!existsSync(report)) continue
  const json = JSON.parse(readFileSync(report, "utf8"))
  passed += json.numPassedTests
  failed += json.numFailedTests
  skipped += json.numPendingTests + json.numTodoTests
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`)
if (failed > 0 || passed === 0) process.exit(1)
