/**
 * A fake provider API for connector tests: routes (`GET /zones/:zone/dns_records`) answered by
 * synchronous handlers over in-memory data, fault injection (answer a status, a `Retry-After`, a
 * repeated page, a transport failure — for some requests or all), and a log of every request with
 * its method, headers and test-clock time. Serve it through a fake `HttpClient` (`layer`, so the
 * TestClock alone drives retries) or through msw (`handlers`, for wire-level tests).
 */
import type { HttpClient } from "@effect/platform"
import type { Layer } from "effect"
import { http, HttpResponse, type RequestHandler } from "msw"
import * as FakeHttp from "./FakeHttp.js"

export type { Answer, Recorded } from "./FakeHttp.js"
export { json, text, transportFailure, hang } from "./FakeHttp.js"

/** What a route handler receives. */
export interface RouteRequest {
  readonly request: FakeHttp.Recorded
  /** The request path relative to the base URL, e.g. `/zones/z1/dns_records`. */
  readonly path: string
  /** The `:name` segments of the route pattern. */
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
}

/** One route: a method, a pattern relative to the base URL with `:name` segments, and a handler. */
export interface Route {
  readonly method: string
  readonly pattern: string
  readonly handle: (request: RouteRequest) => FakeHttp.Answer
}

/** Declares a route. */
export const route = (method: string, pattern: string, handle: (request: RouteRequest) => FakeHttp.Answer): Route => ({
  method: method.toUpperCase(),
  pattern,
  handle
})

/** Which requests a fault applies to: a path pattern (relative to the base URL) and optionally a method. */
export interface Match {
  readonly path: RegExp
  readonly method?: string
}

/**
 * An injected fault.
 * - `answer`: answer matching requests with this instead of the route.
 * - `repeat-first`: answer every matching request after the first with the first one's answer
 *   (a provider serving the same page over and over).
 * `times` limits how many requests the fault takes (default: all of them).
 */
export type Fault =
  | { readonly match: Match; readonly answer: FakeHttp.Answer; readonly times?: number }
  | { readonly match: Match; readonly repeatFirst: true; readonly times?: number }

/** Options of a fake provider. */
export interface Options {
  /** The base URL the connector talks to, e.g. `https://api.acme.test/v1`. */
  readonly baseUrl: string
  readonly routes: ReadonlyArray<Route>
  /** The answer for a request no route matches (default: a JSON 404). */
  readonly notFound?: (request: RouteRequest) => FakeHttp.Answer
  /**
   * Answers every request no route matches, asynchronously: put a Fetch-API simulator behind the
   * provider's fault injection and request log (`request => FakeHttp.fromResponse(sim.handle(FakeHttp.toRequest(request)))`).
   */
  readonly fallback?: (request: FakeHttp.Recorded) => Promise<FakeHttp.Answer>
  /**
   * A guard against connectors that never stop: once this many requests arrived, every further
   * request gets a 418 answer naming the guard (not retryable, so the connector fails fast; default 500).
   */
  readonly maxRequests?: number
}

/** A fake provider. */
export interface FakeProvider {
  readonly baseUrl: string
  /** Every request received, in order. */
  readonly requests: ReadonlyArray<FakeHttp.Recorded>
  /** The requests whose path (relative to the base URL) matches. */
  readonly requestsTo: (match: Match) => ReadonlyArray<FakeHttp.Recorded>
  /** Injects a fault; later faults win over earlier ones. */
  readonly inject: (fault: Fault) => void
  /** Removes every fault. */
  readonly clearFaults: () => void
  /** Answers one request (what both the fake client and the msw handlers call). */
  readonly answer: (request: FakeHttp.Recorded) => FakeHttp.Answer | Promise<FakeHttp.Answer>
  /** A fake `HttpClient` serving this provider synchronously. */
  readonly layer: Layer.Layer<HttpClient.HttpClient>
  /** msw handlers serving this provider, for `MswServer` or `setupServer`. */
  readonly handlers: ReadonlyArray<RequestHandler>
}

interface CompiledRoute {
  readonly route: Route
  readonly regex: RegExp
  readonly names: ReadonlyArray<string>
}

const compile = (route: Route): CompiledRoute => {
  const names: Array<string> = []
  const source = route.pattern
    .replace(/\/+$/, "")
    .split("/")
    .map((segment) => {
      if (segment.startsWith(":")) {
        names.push(segment.slice(1))
        return "([^/]+)"
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    })
    .join("/")
  return { route, regex: new RegExp(`^${source}/?$`), names }
}

interface ActiveFault {
  readonly fault: Fault
  taken: number
  first: FakeHttp.Answer | Promise<FakeHttp.Answer> | undefined
}

/** Makes a fake provider. */
export const make = (options: Options): FakeProvider => {
  const base = new URL(options.baseUrl.replace(/\/+$/, ""))
  const prefix = base.pathname.replace(/\/+$/, "")
  const routes = options.routes.map(compile)
  const maxRequests = options.maxRequests ?? 500
  let faults: Array<ActiveFault> = []

  const relative = (url: URL): string =>
    url.origin === base.origin && url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) || "/" : url.pathname

  const matches = (match: Match, request: FakeHttp.Recorded) =>
    (match.method === undefined || match.method.toUpperCase() === request.method) && match.path.test(relative(request.url))

  const routed = (request: FakeHttp.Recorded): FakeHttp.Answer | Promise<FakeHttp.Answer> => {
    const path = relative(request.url)
    const context = (params: Record<string, string>): RouteRequest => ({
      request,
      path,
      params,
      query: request.url.searchParams
    })
    if (request.url.origin !== base.origin) return FakeHttp.json(421, { error: `unexpected host ${request.url.host}` })
    for (const { route, regex, names } of routes) {
      if (route.method !== request.method && !(route.method === "GET" && request.method === "HEAD")) continue
      const found = regex.exec(path)
      if (found === null) continue
      const params: Record<string, string> = {}
      names.forEach((name, i) => {
        params[name] = decodeURIComponent(found[i + 1] ?? "")
      })
      return route.handle(context(params))
    }
    if (options.fallback !== undefined) return options.fallback(request)
    return options.notFound?.(context({})) ?? FakeHttp.json(404, { error: `no route for ${request.method} ${path}` })
  }

  const requests: Array<FakeHttp.Recorded> = []
  const answer = (request: FakeHttp.Recorded): FakeHttp.Answer | Promise<FakeHttp.Answer> => {
    if (requests.length >= maxRequests) {
      return FakeHttp.json(418, { error: `fake provider: more than ${maxRequests} requests; is the connector looping?` })
    }
    requests.push(request)
    for (let i = faults.length - 1; i >= 0; i--) {
      const active = faults[i]!
      if (!matches(active.fault.match, request)) continue
      if (active.fault.times !== undefined && active.taken >= active.fault.times) continue
      if ("answer" in active.fault) {
        active.taken++
        return active.fault.answer
      }
      if (active.first === undefined) {
        active.first = routed(request)
        return active.first
      }
      active.taken++
      return active.first
    }
    return routed(request)
  }

  const fake = FakeHttp.make(answer)

  const handlers: ReadonlyArray<RequestHandler> = [
    http.all(`${base.origin}/*`, async ({ request }) => {
      const headers: Record<string, string> = {}
      request.headers.forEach((value, key) => {
        headers[key.toLowerCase()] = value
      })
      const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text()
      const result = await answer({ method: request.method, url: new URL(request.url), headers, body, at: Date.now() })
      if ("transport" in result) return HttpResponse.error()
      if ("hang" in result) return new Promise<never>(() => {})
      const text = result.text ?? (result.body === undefined ? "" : JSON.stringify(result.body))
      return new HttpResponse(text === "" ? null : text, { status: result.status, headers: result.headers ?? {} })
    })
  ]

  return {
    baseUrl: base.toString().replace(/\/+$/, ""),
    requests,
    requestsTo: (match) => requests.filter((request) => matches(match, request)),
    inject: (fault) => {
      faults.push({ fault, taken: 0, first: undefined })
    },
    clearFaults: () => {
      faults = []
    },
    answer,
    layer: fake.layer,
    handlers
  }
}
