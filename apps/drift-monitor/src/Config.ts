/**
 * The drift monitor's settings, read only through Effect `Config` (environment variables by
 * default, prefix `DRIFT_MONITOR_`). Everything has an embedded default so `pnpm demo` needs no
 * setup: the server listens on 127.0.0.1, data lives in `.data/drift-monitor`, and the API key and
 * the store's encryption keys are generated on first start and kept in the data folder (files with
 * 0600 permissions), so a restart keeps both.
 */
import { randomBytes } from "node:crypto"
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { RateLimit } from "@plumbline/cloudflare"
import type { RequestBudget } from "@plumbline/core"
import { Keyring } from "@plumbline/store-sql"
import { Config, ConfigError, Context, Duration, Effect, Either, Layer, Option, Redacted } from "effect"
import * as DataFolder from "./DataFolder.js"
import type { Database } from "./Db.js"
import * as WebhookTarget from "./WebhookTarget.js"

/** How the scheduler paces snapshots. */
export interface SchedulerSettings {
  /** Default time between two snapshots of a connection (a connection may set its own). */
  readonly interval: Duration.Duration
  /** Share of the interval (0–1) by which each wait is randomly lengthened or shortened. */
  readonly jitter: number
  /** Snapshots running at once, across connections. */
  readonly concurrency: number
  /** First wait after a failed run; doubled per consecutive failure up to `maxBackoff`. */
  readonly backoff: Duration.Duration
  readonly maxBackoff: Duration.Duration
  /** How long graceful shutdown waits for running snapshots before interrupting them. */
  readonly shutdownGrace: Duration.Duration
  /**
   * How long a claimed run stays this process's if it stops renewing (renewed every third of it):
   * a killed process's connections are taken over by another within this time.
   */
  readonly lease: Duration.Duration
  /** How often the scheduler looks at the shared schedule when nothing woke it. */
  readonly pollEvery: Duration.Duration
  /** This process's name on the leases it holds (unique per process). */
  readonly instance: string
  /**
   * Change detection (issue #15): a full snapshot at least this often, as the safety net of
   * incremental runs (reconciliation; default daily).
   */
  readonly reconcileInterval: Duration.Duration
  /** Default for resources no feed mark covers (probes mode): re-read when older than this (default 1 h). */
  readonly slowCadence: Duration.Duration
}

/** How webhook deliveries are retried. */
export interface WebhookSettings {
  /** Attempts before a delivery is given up (`failed`). */
  readonly maxAttempts: number
  /** Wait before the second attempt; doubled per attempt up to `maxBackoff`. */
  readonly backoff: Duration.Duration
  readonly maxBackoff: Duration.Duration
  /** Per-attempt timeout. */
  readonly timeout: Duration.Duration
  /** How often the dispatcher looks for due deliveries when nothing woke it. */
  readonly pollEvery: Duration.Duration
  /** `host:port` receivers exempt from the outbound address policy (self-hosted receivers). */
  readonly allowedHosts: ReadonlyArray<string>
  /** How long a rotated-out signing secret still signs deliveries, besides the new one. */
  readonly secretOverlap: Duration.Duration
}

/** Everything the app needs to start. */
export interface AppConfig {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  /** Cloudflare's API, or the simulator's `…/client/v4`. */
  readonly cloudflareBaseUrl: string
  readonly apiKey: Redacted.Redacted<string>
  /** The store's keyring: `id:base64key[,…]`, the first one active. */
  readonly storeKeys: Redacted.Redacted<string>
  readonly scheduler: SchedulerSettings
  readonly webhooks: WebhookSettings
  /** The static dashboard folder served at `/`. */
  readonly publicDir: string
  /** PostgreSQL shared by several processes; the SQLite file in `dataDir` when absent. */
  readonly databaseUrl?: Redacted.Redacted<string> | undefined
  /** The request budget of each token, across every process sharing the database. */
  readonly budget: RequestBudget.Limits
  /** The largest request body accepted, in bytes (1 MiB when absent); larger ones get 413. */
  readonly maxBodyBytes?: number | undefined
  /**
   * The origin end customers reach this server at (`https://plumbline.example`), for connect
   * sessions' `connectUrl`; when absent, the origin the product's request was sent to.
   */
  readonly publicUrl?: string | undefined
  /**
   * How long an API request a person waits on (create, verify, PATCH zones, credential replacement,
   * the connect flow) may wait for its token's request budget; past it the request answers 429 or
   * 503 with `Retry-After` (10 s when absent). Background snapshot runs wait as long as it takes.
   */
  readonly budgetDeadline?: Duration.Duration | undefined
}

/** The configuration the app was started with, for the services built from it (see `Services`). */
export class Configuration extends Context.Tag("@plumbline/drift-monitor/Configuration")<Configuration, AppConfig>() {}

/** Provides `config` as the `Configuration`. */
export const layerConfiguration = (config: AppConfig): Layer.Layer<Configuration> => Layer.succeed(Configuration, config)

/** The SQLite file inside the data folder. */
export const databaseFile = (config: AppConfig): string => join(config.dataDir, "drift-monitor.db")

/** The database the app uses: PostgreSQL when `databaseUrl` is set, else the SQLite file. */
export const database = (config: AppConfig): Database =>
  config.databaseUrl === undefined ? { _tag: "sqlite", filename: databaseFile(config) } : { _tag: "pg", url: config.databaseUrl }

/** A name for this process on the leases it holds. */
export const instanceName = (): string => `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`

/** Cloudflare's documented limit: 1,200 requests per 5 minutes per token, with the connector's margin. */
export const defaultBudget: RequestBudget.Limits = RateLimit.budget

/** How long an interactive request waits for its token's budget before answering 429/503 with `Retry-After`. */
export const defaultBudgetDeadline: Duration.Duration = Duration.seconds(10)

/** Scheduler defaults: every 15 minutes ±10 %, 4 at once, back off from 30 s to 30 min. */
export const defaultScheduler: SchedulerSettings = {
  interval: Duration.minutes(15),
  jitter: 0.1,
  concurrency: 4,
  backoff: Duration.seconds(30),
  maxBackoff: Duration.minutes(30),
  shutdownGrace: Duration.seconds(10),
  lease: Duration.seconds(30),
  pollEvery: Duration.seconds(2),
  instance: instanceName(),
  reconcileInterval: Duration.hours(24),
  slowCadence: Duration.hours(1)
}

/** Webhook defaults: 8 attempts, 5 s doubling to 1 h (about 2 h in all), 10 s per attempt. */
export const defaultWebhooks: WebhookSettings = {
  maxAttempts: 8,
  backoff: Duration.seconds(5),
  maxBackoff: Duration.hours(1),
  timeout: Duration.seconds(10),
  pollEvery: Duration.seconds(2),
  allowedHosts: [],
  secretOverlap: Duration.hours(24)
}

/**
 * Reads a secret from Config, or else from `file` in the data folder, or else generates it with
 * `generate` and writes it there with 0600 permissions. The value never reaches a log.
 */
const persistedSecret = (name: string, dataDir: string, file: string, generate: () => string) =>
  Effect.gen(function* () {
    const configured = yield* Config.option(Config.redacted(name))
    if (Option.isSome(configured)) return configured.value
    const path = join(dataDir, file)
    return yield* Effect.try({
      try: () => {
        DataFolder.secureFolder(dataDir)
        if (existsSync(path)) {
          DataFolder.secureFile(path)
          return Redacted.make(readFileSync(path, "utf8").trim())
        }
        const value = generate()
        writeFileSync(path, `${value}\n`, { mode: 0o600 })
        chmodSync(path, 0o600)
        return Redacted.make(value)
      },
      catch: (e) => ConfigError.InvalidData([name], `cannot read or create ${path}: ${e instanceof Error ? e.message : String(e)}`)
    })
  })

const seconds = (name: string, fallback: Duration.Duration) =>
  Config.number(name).pipe(
    Config.map((s) => Duration.seconds(s)),
    Config.withDefault(fallback)
  )

/** The webhook allowlist and secret overlap (see `WebhookTarget`). */
const webhookTargets = Effect.gen(function* () {
  const name = "DRIFT_MONITOR_WEBHOOK_ALLOWED_HOSTS"
  const text = yield* Config.string(name).pipe(Config.withDefault(""))
  const allowedHosts = WebhookTarget.parseAllowlist(text)
  if (Either.isLeft(allowedHosts)) return yield* Effect.fail(ConfigError.InvalidData([name], allowedHosts.left))
  const secretOverlap = yield* seconds("DRIFT_MONITOR_WEBHOOK_SECRET_OVERLAP_SECONDS", defaultWebhooks.secretOverlap)
  return { allowedHosts: allowedHosts.right, secretOverlap }
})

/** The configuration from Effect Config (see the README for every variable). */
export const load: Effect.Effect<AppConfig, ConfigError.ConfigError> = Effect.gen(function* () {
  const c = (name: string) => `DRIFT_MONITOR_${name}`
  const dataDir = yield* Config.string(c("DATA_DIR")).pipe(Config.withDefault(".data/drift-monitor"))
  const host = yield* Config.string(c("HOST")).pipe(Config.withDefault("127.0.0.1"))
  const port = yield* Config.integer(c("PORT")).pipe(Config.withDefault(8080))
  if (port < 0 || port > 65535) return yield* Effect.fail(ConfigError.InvalidData([c("PORT")], "must be a port number (0 for any free port)"))
  const cloudflareBaseUrl = yield* Config.url(c("CLOUDFLARE_BASE_URL")).pipe(
    Config.map((u) => u.toString().replace(/\/$/, "")),
    Config.withDefault("https://api.cloudflare.com/client/v4")
  )
  const publicDir = yield* Config.string(c("PUBLIC_DIR")).pipe(
    Config.withDefault(join(import.meta.dirname, "..", "public"))
  )
  const apiKey = yield* persistedSecret(c("API_KEY"), dataDir, "api-key", () => `dm_${randomBytes(24).toString("base64url")}`)
  const storeKeys = yield* persistedSecret(c("STORE_KEYS"), dataDir, "store-keys", () => Keyring.generate("k1"))
  const parsed = Keyring.parse(Redacted.value(storeKeys))
  if (Either.isLeft(parsed)) return yield* Effect.fail(ConfigError.InvalidData([c("STORE_KEYS")], parsed.left))
  const jitter = yield* Config.number(c("SCHEDULER_JITTER")).pipe(Config.withDefault(defaultScheduler.jitter))
  if (jitter < 0 || jitter > 1) return yield* Effect.fail(ConfigError.InvalidData([c("SCHEDULER_JITTER")], "must be between 0 and 1"))
  const concurrency = yield* Config.integer(c("SCHEDULER_CONCURRENCY")).pipe(Config.withDefault(defaultScheduler.concurrency))
  if (concurrency < 1) return yield* Effect.fail(ConfigError.InvalidData([c("SCHEDULER_CONCURRENCY")], "must be at least 1"))
  const scheduler: SchedulerSettings = {
    interval: yield* seconds(c("SCHEDULER_INTERVAL_SECONDS"), defaultScheduler.interval),
    jitter,
    concurrency,
    backoff: yield* seconds(c("SCHEDULER_BACKOFF_SECONDS"), defaultScheduler.backoff),
    maxBackoff: yield* seconds(c("SCHEDULER_MAX_BACKOFF_SECONDS"), defaultScheduler.maxBackoff),
    shutdownGrace: defaultScheduler.shutdownGrace,
    lease: yield* seconds(c("SCHEDULER_LEASE_SECONDS"), defaultScheduler.lease),
    pollEvery: yield* seconds(c("SCHEDULER_POLL_SECONDS"), defaultScheduler.pollEvery),
    instance: yield* Config.string(c("INSTANCE")).pipe(Config.withDefault(defaultScheduler.instance)),
    reconcileInterval: yield* seconds(c("RECONCILE_INTERVAL_SECONDS"), defaultScheduler.reconcileInterval),
    slowCadence: yield* seconds(c("SLOW_CADENCE_SECONDS"), defaultScheduler.slowCadence)
  }
  // Change detection (issue #15).
  if (Duration.toMillis(scheduler.reconcileInterval) < 60_000) {
    return yield* Effect.fail(ConfigError.InvalidData([c("RECONCILE_INTERVAL_SECONDS")], "must be at least 60"))
  }
  if (Duration.toMillis(scheduler.slowCadence) < 60_000) {
    return yield* Effect.fail(ConfigError.InvalidData([c("SLOW_CADENCE_SECONDS")], "must be at least 60"))
  }
  if (Duration.toMillis(scheduler.lease) < 300) {
    return yield* Effect.fail(ConfigError.InvalidData([c("SCHEDULER_LEASE_SECONDS")], "must be at least 0.3"))
  }
  const databaseUrl = yield* Config.option(Config.redacted(c("DATABASE_URL")))
  if (Option.isSome(databaseUrl) && !/^postgres(ql)?:\/\//.test(Redacted.value(databaseUrl.value))) {
    return yield* Effect.fail(ConfigError.InvalidData([c("DATABASE_URL")], "must be a postgres:// URL (leave it unset for the SQLite file in the data folder)"))
  }
  const budgetLimit = yield* Config.integer(c("BUDGET_LIMIT")).pipe(Config.withDefault(defaultBudget.limit))
  if (budgetLimit < 1) return yield* Effect.fail(ConfigError.InvalidData([c("BUDGET_LIMIT")], "must be at least 1"))
  const budget: RequestBudget.Limits = {
    limit: budgetLimit,
    window: yield* seconds(c("BUDGET_WINDOW_SECONDS"), defaultBudget.window),
    margin: yield* seconds(c("BUDGET_MARGIN_SECONDS"), defaultBudget.margin ?? Duration.zero)
  }
  const webhooks: WebhookSettings = {
    maxAttempts: yield* Config.integer(c("WEBHOOK_MAX_ATTEMPTS")).pipe(Config.withDefault(defaultWebhooks.maxAttempts)),
    backoff: yield* seconds(c("WEBHOOK_BACKOFF_SECONDS"), defaultWebhooks.backoff),
    maxBackoff: yield* seconds(c("WEBHOOK_MAX_BACKOFF_SECONDS"), defaultWebhooks.maxBackoff),
    timeout: defaultWebhooks.timeout,
    pollEvery: defaultWebhooks.pollEvery,
    ...(yield* webhookTargets)
  }
  const maxBodyBytes = yield* Config.integer(c("MAX_BODY_BYTES")).pipe(Config.withDefault(1_048_576))
  if (maxBodyBytes < 1) return yield* Effect.fail(ConfigError.InvalidData([c("MAX_BODY_BYTES")], "must be at least 1"))
  // Connect sessions' connectUrl (issue #13): an origin, without path.
  const publicUrl = yield* Config.option(Config.url(c("PUBLIC_URL")))
  if (Option.isSome(publicUrl) && (!["http:", "https:"].includes(publicUrl.value.protocol) || publicUrl.value.pathname !== "/")) {
    return yield* Effect.fail(ConfigError.InvalidData([c("PUBLIC_URL")], "must be an http(s) origin without a path, e.g. https://plumbline.example"))
  }
  // Issue #16 item 8: an interactive request's deadline on its token's budget.
  const budgetDeadline = yield* seconds(c("BUDGET_DEADLINE_SECONDS"), defaultBudgetDeadline)
  if (Duration.toMillis(budgetDeadline) < 0) {
    return yield* Effect.fail(ConfigError.InvalidData([c("BUDGET_DEADLINE_SECONDS")], "must be at least 0"))
  }
  return {
    budgetDeadline,
    ...(Option.isSome(publicUrl) ? { publicUrl: publicUrl.value.origin } : {}),
    maxBodyBytes,
    host,
    port,
    dataDir,
    cloudflareBaseUrl,
    apiKey,
    storeKeys,
    scheduler,
    webhooks,
    publicDir,
    databaseUrl: Option.getOrUndefined(databaseUrl),
    budget
  }
})
