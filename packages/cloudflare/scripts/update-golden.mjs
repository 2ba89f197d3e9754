// Regenerates test/golden/redpine.snapshot.json on purpose (review the diff by eye before committing).
import { spawnSync } from "node:child_process"
import process from "node:process"

const result = spawnSync("npx", ["vitest", "run", "test/Snapshot.test.ts", "-t", "golden"], {
  stdio: "inherit",
  env: { ...process.env, PLUMBLINE_UPDATE_GOLDEN: "1" }
})
process.exit(result.status ?? 1)
