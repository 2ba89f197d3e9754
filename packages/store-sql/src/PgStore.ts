/**
 * The store on PostgreSQL, for deployments with more than one process. Same tables and queries as
 * SQLite; commits and retention coordinate through table locks (see `SqlStore`). Connection
 * settings come from Config — `PLUMBLINE_STORE_PG_URL`, or the usual `PGHOST`, `PGPORT`, `PGUSER`,
 * `PGPASSWORD` and `PGDATABASE`.
 */
import { SqlError } from "@effect/sql/SqlError"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Store } from "@plumbline/core"
import type { ConfigError } from "effect"
import { Config, Layer, Option } from "effect"
import * as Keyring from "./Keyring.js"
import * as SqlStore from "./SqlStore.js"

/** A server that cannot be reached (or refuses the login) as the store's `unavailable` error. */
const unreachable = (e: SqlError): Store.StoreError =>
  new Store.StoreError({
    reason: "unavailable",
    entity: "database",
    detail: String(e.cause ?? "cannot connect").slice(0, 300)
  })

/** The store on the PostgreSQL server `config` describes, with the `Keyring` from context. */
export const layer = (config: PgClient.PgClientConfig): Layer.Layer<Store.Store, Store.StoreError, Keyring.Keyring> =>
  SqlStore.layer.pipe(Layer.provide(PgClient.layer(config).pipe(Layer.mapError(unreachable))))

const optional = <A>(c: Config.Config<A>): Config.Config<A | undefined> => c.pipe(Config.option, Config.map(Option.getOrUndefined))

/** The PostgreSQL connection settings from Config: `PLUMBLINE_STORE_PG_URL` or the `PG*` variables. */
export const clientConfig: Config.Config.Wrap<PgClient.PgClientConfig> = {
  url: optional(Config.redacted("PLUMBLINE_STORE_PG_URL")),
  host: optional(Config.string("PGHOST")),
  port: optional(Config.integer("PGPORT")),
  username: optional(Config.string("PGUSER")),
  password: optional(Config.redacted("PGPASSWORD")),
  database: optional(Config.string("PGDATABASE"))
}

/** The store from Config: server from `clientConfig`, keys from `PLUMBLINE_STORE_KEYS`. */
export const layerConfig = (
  config: Config.Config.Wrap<PgClient.PgClientConfig> = clientConfig,
  keys: Layer.Layer<Keyring.Keyring, ConfigError.ConfigError> = Keyring.layerConfig()
): Layer.Layer<Store.Store, Store.StoreError | ConfigError.ConfigError> =>
  SqlStore.layer.pipe(
    Layer.provide(PgClient.layerConfig(config).pipe(Layer.mapError((e) => (e instanceof SqlError ? unreachable(e) : e)))),
    Layer.provide(keys)
  )
