/**
 * The app's layers, wired once: the services (`Services`, from the `Configuration`), the
 * connections domain on them (`Connections`), and the HTTP server. `start` builds them in a Scope
 * and reports where the server listens; closing the Scope shuts everything down gracefully (server
 * first, then the scheduler lets running snapshots finish, then the dispatcher and the database).
 */
import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Layer } from "effect"
import { type AppConfig, layerConfiguration } from "./Config.js"
import { Connections } from "./Connections.js"
import { ConnectSessions } from "./ConnectSessions.js"
import * as Http from "./Http.js"
import * as Services from "./Services.js"

/**
 * Everything but the HTTP server. `Services.layer` is one constant, so the instance `Connections`
 * declares as its dependency and the one the server's other routes use are the same.
 */
export const layerServices = (config: AppConfig) =>
  Layer.mergeAll(Services.layer, Connections.Default, ConnectSessions.Default).pipe(Layer.provide(layerConfiguration(config)))

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
