/**
 * The app's layers, wired once: the SQLite database and the store on it, the provider (Cloudflare,
 * see `Wiring`), webhooks with their dispatcher, the live bus, the scheduler, and the HTTP server.
 * `start` builds them in a Scope and reports where the server listens; closing the Scope shuts
 * everything down gracefully (server first, then the scheduler lets running snapshots finish, then
 * the dispatcher and the database).
 */
import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { HttpPipeline, RequestBudget } from "@plumbline/core"
import { Context, Effect, Layer } from "effect"
import { type AppConfig, database } from "./Config.js"
import * as Db from "./Db.js"
import * as Events from "./Events.js"
import * as Http from "./Http.js"
import * as Scheduler from "./Scheduler.js"
import * as SharedBudget from "./SharedBudget.js"
import * as Webhooks from "./Webhooks.js"
import * as Wiring from "./Wiring.js"

/** Everything but the HTTP server. */
export const layerServices = (config: AppConfig) => {
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
    ).pipe(Layer.provide(Layer.merge(sql, http))),
    Events.layerBus
  )
  return Layer.provideMerge(Scheduler.layer(config.scheduler), core)
}

/** The whole app on a Node HTTP server at `config.host:config.port`. */
export const layer = (config: AppConfig) =>
  Http.layer(config).pipe(
    Layer.provide(layerServices(config)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: config.port, host: config.host }))
  )

/** Where a started app listens. */
export interface Started {
  readonly baseUrl: string
  readonly port: number
}

/** Starts the app in the current Scope. */
export const start = (config: AppConfig) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(layer(config))
    const server = Context.get(context, HttpServer.HttpServer)
    const address = server.address
    const port = address._tag === "TcpAddress" ? address.port : config.port
    return { baseUrl: `http://${config.host}:${port}`, port } satisfies Started
  })
