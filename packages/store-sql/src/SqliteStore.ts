/**
 * The store on SQLite, the embedded default: one file (path from Config), write-ahead logging so
 * readers never block the writer and a killed process never leaves a half-written snapshot,
 * foreign keys enforced, and a busy timeout so a second process waits for the lock instead of
 * failing at once. `synchronous = NORMAL` keeps every commit atomic and durable across a crashed
 * process; only a power loss may roll back the last commits (never tear one).
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
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

/** How long a writer waits for another process's lock unless told otherwise. */
const DEFAULT_BUSY_TIMEOUT = Duration.seconds(5)

/**
 * Applies the connection settings the store relies on to the SQLite client in context:
 * `foreign_keys = on` (deleting a connection cascades to its rows), `busy_timeout` (a writer waits
 * up to `busyTimeout`, 5 s by default, for another process's lock instead of failing at once) and
 * `synchronous = normal` (with WAL, every commit stays atomic and durable across a crashed process).
 * The store runs it before its migrations; a program that opens the same file with its own client
 * (the drift monitor, for its tables) runs it too, so both connections behave alike.
 */
export const configureConnection = (
  options: Pick<Options, "busyTimeout"> = {}
): Effect.Effect<void, SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe("pragma foreign_keys = on")
    yield* sql.unsafe(`pragma busy_timeout = ${Math.round(Duration.toMillis(options.busyTimeout ?? DEFAULT_BUSY_TIMEOUT))}`)
    yield* sql.unsafe("pragma synchronous = normal")
  })

/** The store on the SQLite file `options.filename`, with the `Keyring` from context. */
export const layer = (options: Options): Layer.Layer<Store.Store, Store.StoreError | ConfigError.ConfigError, Keyring.Keyring> =>
  Layer.effect(
    SqlStore.Tag,
    Effect.zipRight(configureConnection({ busyTimeout: options.busyTimeout }).pipe(Effect.orDie), SqlStore.make)
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
