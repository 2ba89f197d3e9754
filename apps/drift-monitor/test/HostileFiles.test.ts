/**
 * Issue #16, files: the data folder and everything in it are private to the app's user, even when
 * the folder was made beforehand with looser bits, and whatever the process umask.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import * as Config from "../src/Config.js"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8)

describe("HostileFiles", () => {
  it.scopedLive("makes a loose data folder 0700 and its database, WAL, SHM and key files 0600", () =>
    Effect.gen(function* () {
      const root = yield* Harness.tempDir
      const { sim, baseUrl } = yield* Harness.simulator
      const dir = join(root, "data")
      mkdirSync(dir)
      chmodSync(dir, 0o755)
      const db = join(dir, "drift-monitor.db")
      writeFileSync(db, "")
      chmodSync(db, 0o644)
      writeFileSync(join(dir, "api-key"), "dm_preexisting-key-0123456789\n")
      chmodSync(join(dir, "api-key"), 0o644)
      const previous = process.umask(0o022)
      const config = yield* Config.load.pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["DRIFT_MONITOR_DATA_DIR", dir],
              ["DRIFT_MONITOR_PORT", "0"],
              ["DRIFT_MONITOR_HOST", "127.0.0.1"],
              ["DRIFT_MONITOR_CLOUDFLARE_BASE_URL", baseUrl]
            ])
          )
        ),
        Effect.ensuring(Effect.sync(() => process.umask(previous)))
      )
      const started = yield* Main.start(config)
      // A write through the API, so SQLite has its WAL and SHM in use.
      const api = Harness.client(started.baseUrl, "dm_preexisting-key-0123456789")
      const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token: sim.tokens["scoped"] })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.strictEqual(mode(dir), "700")
      for (const file of ["drift-monitor.db", "drift-monitor.db-wal", "drift-monitor.db-shm", "api-key", "store-keys"]) {
        assert.strictEqual(mode(join(dir, file)), "600", file)
      }
    })
  )
})
