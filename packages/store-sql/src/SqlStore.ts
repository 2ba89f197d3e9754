/**
 * The `Store` on any `@effect/sql` client: the dialect-neutral implementation that `SqliteStore`
 * and `PgStore` wrap. It runs the migrations, then serves every operation with portable SQL
 * (choosing per dialect only where PostgreSQL needs a table lock that SQLite's single writer makes
 * unnecessary).
 *
 * A commit is one transaction: the chunks of manifests not stored yet (content-addressed, inserted
 * in batches with `on conflict do nothing`), the manifests, the snapshot row, its result rows, its
 * drift events and its findings. Credentials are sealed with the `Keyring` before any SQL sees them.
 *
 * The operations live by area in `internal/`: `connections` (connections and credentials),
 * `snapshots` (commit and load), `history` (drift events and findings) and `retention`.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { Store } from "@plumbline/core"
import { Effect, Layer } from "effect"
import * as Connections from "./internal/connections.js"
import * as History from "./internal/history.js"
import * as Retention from "./internal/retention.js"
import { failure } from "./internal/shared.js"
import * as Snapshots from "./internal/snapshots.js"
import type { Keyring } from "./Keyring.js"
import * as Migrations from "./Migrations.js"

/** Builds the store on the `SqlClient` in context, after running the migrations. */
export const make: Effect.Effect<Store.Service, Store.StoreError, SqlClient.SqlClient | Keyring> = Effect.gen(function* () {
  yield* Migrations.run.pipe(
    Effect.mapError((e) =>
      failure("unavailable", "database", undefined, `migrations failed: ${e._tag === "SqlError" ? String(e.cause) : e.message}`.slice(0, 300))
    )
  )
  const connections = yield* Connections.make
  const snapshots = yield* Snapshots.make
  const history = yield* History.make
  const retention = yield* Retention.make
  return Store.Store.of({ ...connections, ...snapshots, ...history, ...retention })
})

/** The store's Tag, re-exported for layer wiring. */
export const Tag = Store.Store

/** The store as a layer over the `SqlClient` and `Keyring` in context. */
export const layer: Layer.Layer<Store.Store, Store.StoreError, SqlClient.SqlClient | Keyring> = Layer.effect(Store.Store, make)
