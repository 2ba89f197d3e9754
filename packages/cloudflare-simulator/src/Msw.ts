/**
 * The simulator as msw request handlers, for vitest: `setupServer(...mswHandlers(sim))`.
 */
import type { RequestHandler } from "msw"
import { http } from "msw"
import type { Simulator } from "./Simulator.js"

/** Cloudflare's production base URL. */
export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

/**
 * msw handlers answering every request under `baseUrl` (and the admin routes at its origin) from
 * the simulator. A base URL with another path is mapped onto `/client/v4`.
 */
export const mswHandlers = (sim: Simulator, baseUrl: string = DEFAULT_BASE_URL): Array<RequestHandler> => {
  const base = new URL(baseUrl.replace(/\/+$/, ""))
  const prefix = base.pathname.replace(/\/+$/, "")
  const toSimulator = async (request: Request): Promise<Response> => {
    const url = new URL(request.url)
    if (prefix === "/client/v4" || !url.pathname.startsWith(prefix)) return sim.handle(request)
    url.pathname = `/client/v4${url.pathname.slice(prefix.length)}`
    const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer()
    return sim.handle(new Request(url, { method: request.method, headers: request.headers, body: body ?? null, signal: request.signal }))
  }
  return [
    http.all(`${base.origin}${prefix}/*`, ({ request }) => toSimulator(request)),
    http.all(`${base.origin}/__admin/*`, ({ request }) => sim.handle(request))
  ]
}
