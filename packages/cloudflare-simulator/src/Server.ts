/**
 * The simulator as a standalone `node:http` server on 127.0.0.1, for the official SDK, demos and
 * browser tests.
 */
import { createServer } from "node:http"
import type { IncomingMessage, ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import type { Simulator } from "./Simulator.js"

/** Where to listen. Port 0 picks a free port. */
export interface ServeOptions {
  readonly port?: number
  readonly host?: string
  /**
   * Answer CORS preflights and allow any origin, so a page in a browser test can call the
   * simulator. Off by default: Cloudflare's API sends no CORS headers.
   */
  readonly cors?: boolean
}

const CORS_HEADERS: Readonly<Record<string, string>> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "access-control-allow-headers": "authorization, content-type",
  "access-control-expose-headers": "retry-after, ratelimit, ratelimit-policy, cf-ray"
}

/** A listening server. */
export interface RunningServer {
  /** `http://127.0.0.1:<port>/client/v4` */
  readonly baseUrl: string
  readonly port: number
  readonly close: () => Promise<void>
}

const readBody = (req: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

const toRequest = async (req: IncomingMessage, res: ServerResponse, host: string): Promise<Request> => {
  const controller = new AbortController()
  res.on("close", () => {
    if (!res.writableFinished) controller.abort()
  })
  const headers = new Headers()
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue
    for (const value of Array.isArray(v) ? v : [v]) headers.append(k, value)
  }
  const method = req.method ?? "GET"
  const body = method === "GET" || method === "HEAD" ? null : new Uint8Array(await readBody(req))
  return new Request(`http://${host}${req.url ?? "/"}`, { method, headers, body, signal: controller.signal })
}

/** Starts serving the simulator. */
export const serve = (sim: Simulator, options: ServeOptions = {}): Promise<RunningServer> => {
  const host = options.host ?? "127.0.0.1"
  const cors = options.cors === true ? CORS_HEADERS : {}
  const server = createServer((req, res) => {
    void (async () => {
      try {
        if (options.cors === true && req.method === "OPTIONS") {
          res.writeHead(204, { ...cors, "content-length": "0" })
          res.end()
          return
        }
        const request = await toRequest(req, res, req.headers.host ?? host)
        const response = await sim.handle(request)
        if (response.type === "error") {
          // A connection reset: drop the socket without an answer.
          req.socket.destroy()
          return
        }
        const body = Buffer.from(await response.arrayBuffer())
        const headers: Record<string, string> = { ...cors }
        response.headers.forEach((value, key) => {
          headers[key] = value
        })
        headers["content-length"] = String(body.length)
        res.writeHead(response.status, headers)
        res.end(body)
      } catch (e) {
        res.writeHead(500, { "content-type": "text/plain" })
        res.end(String(e))
      }
    })()
  })
  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, host, () => {
      const port = (server.address() as AddressInfo).port
      resolve({
        baseUrl: `http://${host}:${port}/client/v4`,
        port,
        close: () =>
          new Promise<void>((done) => {
            sim.releaseHangs()
            server.closeAllConnections()
            server.close(() => done())
          })
      })
    })
  })
}
