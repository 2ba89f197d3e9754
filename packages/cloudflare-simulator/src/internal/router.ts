/**
 * Route table types and path-template matching.
 */
import type { ApiToken, State } from "../State.js"
import type { Ok } from "./http.js"
import type { Prng } from "./prng.js"

/** Options routes consult. */
export interface RouteOptions {
  /** How the retired legacy rate-limits endpoint answers: 410 Gone (as today) or the stored data. */
  readonly legacyRateLimits: "gone" | "serve"
}

/** What a route handler receives. */
export interface RouteContext {
  readonly state: State
  readonly token: ApiToken
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  readonly body: unknown
  /** The request path below `/client/v4`, for 404 messages. */
  readonly path: string
  readonly now: () => number
  /** Ids for objects created by write calls. */
  readonly rng: Prng
  readonly options: RouteOptions
}

/** A route: method, template with `:params`, handler. */
export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly template: string
  readonly handler: (ctx: RouteContext) => Ok
}

/** Matches a path against a template; returns the params or undefined. */
export const matchTemplate = (template: string, path: string): Record<string, string> | undefined => {
  const t = template.split("/").filter((s) => s !== "")
  const p = path.split("/").filter((s) => s !== "")
  if (t.length !== p.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < t.length; i++) {
    const ts = t[i] as string
    const ps = p[i] as string
    if (ts.startsWith(":")) params[ts.slice(1)] = decodeURIComponent(ps)
    else if (ts !== ps) return undefined
  }
  return params
}

/** Finds the route for a method and path; `methodMismatch` when only the method is wrong. */
export const findRoute = (
  routes: ReadonlyArray<Route>,
  method: string,
  path: string
): { route: Route; params: Record<string, string> } | { methodMismatch: boolean } => {
  let mismatch = false
  for (const route of routes) {
    const params = matchTemplate(route.template, path)
    if (params === undefined) continue
    if (route.method === method) return { route, params }
    mismatch = true
  }
  return { methodMismatch: mismatch }
}
