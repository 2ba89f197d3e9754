/**
 * The app's services, wired once from the `Configuration`: the database (SQLite file or
 * PostgreSQL) and the store on it, the provider (Cloudflare, see `Wiring`), webhooks with their
 * dispatcher, the live bus, and the scheduler. One constant Layer, so every service that declares it
 * as a dependency (`Connections`) and the server share one instance of each — one scheduler, one
 * database pool — within a build.
 */
import type * as SqlClient from "@effect/sql/SqlClient"
import { HttpPipeline, RequestBudget, type Store } from "@plumbline/core"
import { Effect, Layer } from "effect"
import { type AppConfig, Configuration, database } from "./Config.js"
import * as Db from "./Db.js"
import * as Events from "./Events.js"
import * as Scheduler from "./Scheduler.js"
import * as SharedBudget from "./SharedBudget.js"
import * as Webhooks from "./Webhooks.js"
import * as WebhookTransport from "./WebhookTransport.js"
import * as Wiring from "./Wiring.js"

/** What the services provide. */
export type Services =
  | SqlClient.SqlClient
  | Store.Store
  | Wiring.Provider
  | Webhooks.Webhooks
  | Events.Bus
  | Scheduler.Scheduler
  | RequestBudget.RequestBudget

/** The services for `config`, built fresh (use `layer` to share them). */
export const make = (config: AppConfig) => {
  const db = database(config)
  const sql = Db.layer(db)
  const http = HttpPipeline.layerFetch
  // One budget per token: in this process (SQLite, one process), or in the shared database.
  const budget = Db.isShared(db) ? SharedBudget.layer.pipe(Layer.provide(sql)) : RequestBudget.layer
  const core = Layer.mergeAll(
    sql,
    Wiring.store(config.storeKeys).pipe(Layer.provide(sql)),
    Wiring.cloudflare(config.cloudflareBaseUrl, config.budget).pipe(Layer.provide(Layer.merge(http, budget))),
    Layer.unwrapEffect(
      Effect.map(Wiring.keyring(config.storeKeys), (keys) => Webhooks.layer(config.webhooks, Webhooks.sealWith(keys)))
    ).pipe(Layer.provide(Layer.merge(sql, WebhookTransport.layer(config.webhooks.allowedHosts)))),
    Events.layerBus,
    // The same budgets the provider uses (one layer value, built once), so a connection shows its token's state.
    budget
  )
  return Layer.provideMerge(Scheduler.layer(config.scheduler), core)
}

/** The services for the `Configuration` in context: one constant, shared wherever it is provided. */
export const layer = Layer.unwrapEffect(Effect.map(Configuration, make))
