import { statSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Redacted } from "effect"
import * as Config from "../src/Config.js"
import * as Harness from "./fixtures/Harness.js"

const load = (values: Record<string, string>) =>
  Config.load.pipe(Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(values)))))

describe("Config", () => {
  it.scoped("generates the API key and store keys once, keeps them 0600 in the data dir, and reuses them", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const first = yield* load({ DRIFT_MONITOR_DATA_DIR: dir })
      const second = yield* load({ DRIFT_MONITOR_DATA_DIR: dir })
      assert.match(Redacted.value(first.apiKey), /^dm_/)
      assert.strictEqual(Redacted.value(second.apiKey), Redacted.value(first.apiKey))
      assert.strictEqual(Redacted.value(second.storeKeys), Redacted.value(first.storeKeys))
      for (const file of ["api-key", "store-keys"]) assert.strictEqual(statSync(join(dir, file)).mode & 0o777, 0o600)
      assert.strictEqual(first.host, "127.0.0.1")
      assert.strictEqual(first.cloudflareBaseUrl, "https://api.cloudflare.com/client/v4")
      assert.strictEqual(Config.databaseFile(first), join(dir, "drift-monitor.db"))
      assert.deepStrictEqual(Config.database(first), { _tag: "sqlite", filename: join(dir, "drift-monitor.db") })
      assert.deepStrictEqual(first.budget, { limit: 1200, window: Duration.minutes(5), margin: Duration.seconds(1) })
      assert.notInclude(String(first.apiKey), Redacted.value(first.apiKey), "the key prints redacted")
    })
  )

  it.scoped("reads every setting from the environment", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const config = yield* load({
        DRIFT_MONITOR_DATA_DIR: dir,
        DRIFT_MONITOR_PORT: "0",
        DRIFT_MONITOR_API_KEY: "configured-key",
        DRIFT_MONITOR_CLOUDFLARE_BASE_URL: "http://127.0.0.1:9999/client/v4/",
        DRIFT_MONITOR_SCHEDULER_INTERVAL_SECONDS: "120",
        DRIFT_MONITOR_SCHEDULER_JITTER: "0",
        DRIFT_MONITOR_SCHEDULER_CONCURRENCY: "2",
        DRIFT_MONITOR_WEBHOOK_MAX_ATTEMPTS: "3",
        DRIFT_MONITOR_DATABASE_URL: "postgres://monitor:pw@db.internal:5432/drift",
        DRIFT_MONITOR_INSTANCE: "worker-7",
        DRIFT_MONITOR_SCHEDULER_LEASE_SECONDS: "12",
        DRIFT_MONITOR_SCHEDULER_POLL_SECONDS: "0.5",
        DRIFT_MONITOR_BUDGET_LIMIT: "600",
        DRIFT_MONITOR_BUDGET_WINDOW_SECONDS: "150",
        DRIFT_MONITOR_BUDGET_MARGIN_SECONDS: "0"
      })
      assert.strictEqual(config.port, 0)
      assert.strictEqual(Redacted.value(config.apiKey), "configured-key")
      assert.strictEqual(config.cloudflareBaseUrl, "http://127.0.0.1:9999/client/v4")
      assert.isTrue(Duration.equals(config.scheduler.interval, Duration.minutes(2)))
      assert.strictEqual(config.scheduler.jitter, 0)
      assert.strictEqual(config.scheduler.concurrency, 2)
      assert.strictEqual(config.webhooks.maxAttempts, 3)
      assert.deepStrictEqual(Config.database(config)._tag, "pg")
      assert.notInclude(String(config.databaseUrl), "pw", "the database URL prints redacted")
      assert.strictEqual(config.scheduler.instance, "worker-7")
      assert.isTrue(Duration.equals(config.scheduler.lease, Duration.seconds(12)))
      assert.isTrue(Duration.equals(config.scheduler.pollEvery, Duration.millis(500)))
      assert.strictEqual(config.budget.limit, 600)
      assert.isTrue(Duration.equals(config.budget.window, Duration.seconds(150)))
      assert.isTrue(Duration.equals(config.budget.margin ?? Duration.infinity, Duration.zero))
    })
  )

  it.scoped("refuses settings out of range with the variable's name", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      for (const [name, value] of [
        ["DRIFT_MONITOR_PORT", "70000"],
        ["DRIFT_MONITOR_SCHEDULER_JITTER", "1.5"],
        ["DRIFT_MONITOR_SCHEDULER_CONCURRENCY", "0"],
        ["DRIFT_MONITOR_STORE_KEYS", "k1:short"],
        ["DRIFT_MONITOR_DATABASE_URL", "mysql://db/drift"],
        ["DRIFT_MONITOR_SCHEDULER_LEASE_SECONDS", "0.1"],
        ["DRIFT_MONITOR_BUDGET_LIMIT", "0"]
      ] as const) {
        const error = yield* Effect.flip(load({ DRIFT_MONITOR_DATA_DIR: dir, [name]: value }))
        assert.include(String(error), name)
      }
    })
  )

  it.scoped("change detection: reconciliation daily and the slower cadence hourly by default, both settable, at least a minute", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const defaults = yield* load({ DRIFT_MONITOR_DATA_DIR: dir })
      assert.isTrue(Duration.equals(defaults.scheduler.reconcileInterval, Duration.hours(24)))
      assert.isTrue(Duration.equals(defaults.scheduler.slowCadence, Duration.hours(1)))
      const set = yield* load({
        DRIFT_MONITOR_DATA_DIR: dir,
        DRIFT_MONITOR_RECONCILE_INTERVAL_SECONDS: "7200",
        DRIFT_MONITOR_SLOW_CADENCE_SECONDS: "600"
      })
      assert.isTrue(Duration.equals(set.scheduler.reconcileInterval, Duration.hours(2)))
      assert.isTrue(Duration.equals(set.scheduler.slowCadence, Duration.minutes(10)))
      for (const name of ["DRIFT_MONITOR_RECONCILE_INTERVAL_SECONDS", "DRIFT_MONITOR_SLOW_CADENCE_SECONDS"]) {
        const error = yield* Effect.flip(load({ DRIFT_MONITOR_DATA_DIR: dir, [name]: "10" }))
        assert.include(String(error), name)
      }
    })
  )

  it.scoped("DRIFT_MONITOR_PUBLIC_URL is an http(s) origin without a path; absent, connect URLs use the request's origin", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      assert.isUndefined((yield* load({ DRIFT_MONITOR_DATA_DIR: dir })).publicUrl)
      const set = yield* load({ DRIFT_MONITOR_DATA_DIR: dir, DRIFT_MONITOR_PUBLIC_URL: "https://plumbline.example" })
      assert.strictEqual(set.publicUrl, "https://plumbline.example")
      for (const value of ["https://plumbline.example/app", "ftp://plumbline.example", "not a url"]) {
        const error = yield* Effect.flip(load({ DRIFT_MONITOR_DATA_DIR: dir, DRIFT_MONITOR_PUBLIC_URL: value }))
        assert.include(String(error), "DRIFT_MONITOR_PUBLIC_URL", value)
      }
    })
  )
})
