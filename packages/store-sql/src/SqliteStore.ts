/**
 * The store on SQLite, the embedded default: one file (path from Config), write-ahead logging so
 * readers never block the writer and a killed process never leaves a half-written snapshot,
 * foreign keys enforced, and a busy timeout so a second process waits for the lock instead of
 * failing at once. `synchronous = NORMAL` keeps every commit atomic and durable across a crashed
 * process; only a power loss may roll back the last commits (never tear one).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import type { Store } from "@plumbline/core"
import type { ConfigError } from "effect"
import { Config, Duration, Effect, Layer } from "effect"
import * as Keyring from "./Keyring.js"
import * as SqlStore from "./SqlStore.js"

/** Where the database lives and how long a writer waits for another process's lock. */
export interface Options {
  readonly filename: string
  readonly busyTimeout?: Duration.DurationInput | undefined
}

/** The connection settings the store relies on, applied before the migrations run. */
const configure = (busyTimeout: Duration.DurationInput) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe("pragma foreign_keys = on")
    yield* sql.unsafe(`pragma busy_timeout = ${Math.round(Duration.toMillis(busyTimeout))}`)
    yield* sql.unsafe("pragma synchronous = normal")
  }).pipe(Effect.orDie)

/** The store on the SQLite file `options.filename`, with the `Keyring` from context. */
export const layer = (options: Options): Layer.Layer<Store.Store, Store.StoreError | ConfigError.ConfigError, Keyring.Keyring> =>
  Layer.effect(
    SqlStore.Tag,
    Effect.zipRight(configure(options.busyTimeout ?? Duration.seconds(5)), SqlStore.make)
  ).pipe(Layer.provide(SqliteClient.layer({ filename: options.filename })))

/**
 * The store from Config: the file from `PLUMBLINE_STORE_SQLITE_PATH` (default `plumbline.db`) and
 * the keys from `PLUMBLINE_STORE_KEYS`.
 */
export const layerConfig = (
  filename: Config.Config<string> = Config.string("PLUMBLINE_STORE_SQLITE_PATH").pipe(Config.withDefault("plumbline.db")),
  keys: Layer.Layer<Keyring.Keyring, ConfigError.ConfigError> = Keyring.layerConfig()
): Layer.Layer<Store.Store, Store.StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(filename, (path) => layer({ filename: path }))).pipe(Layer.provide(keys))
