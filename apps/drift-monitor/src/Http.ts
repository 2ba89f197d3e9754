/**
 * The HTTP server: the `Api` (with its OpenAPI description at `/api/openapi.json`), the live event
 * stream at `/api/stream` (Server-Sent Events), and the dashboard — the static `public/` folder —
 * at `/`. Requests are not logged with their query strings: the stream accepts the API key as an
 * `access_token` parameter (browsers' `EventSource` cannot set headers).
 */
import { existsSync, readFileSync, statSync } from "node:fs"
import { extname, join, normalize, resolve, sep } from "node:path"
import { HttpApiBuilder, HttpApp, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { Clock, Deferred, Effect, Layer, Option, Schedule, Schema, Stream } from "effect"
import * as Api from "./Api.js"
import * as ApiHandlers from "./ApiHandlers.js"
import type { AppConfig } from "./Config.js"
import * as ConnectHandlers from "./ConnectHandlers.js"
import { ConnectSessions, statusOf } from "./ConnectSessions.js"
import * as Events from "./Events.js"
import * as RequestGuard from "./RequestGuard.js"

const encoder = new TextEncoder()

/** One Server-Sent Event frame. */
export const sseFrame = (event: Events.LiveEvent): string => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`

/** The API key of a stream request: bearer header, `x-api-key` header, or `access_token` parameter. */
const streamKey = (request: HttpServerRequest.HttpServerRequest, url: URL): string | undefined => {
  const authorization = request.headers["authorization"]
  if (authorization !== undefined && /^bearer /i.test(authorization)) return authorization.slice(7).trim()
  return request.headers["x-api-key"] ?? url.searchParams.get("access_token") ?? undefined
}

const unauthorized = HttpServerResponse.unsafeJson(
  { _tag: "Unauthorized", message: "missing or wrong API key (Authorization: Bearer <key>, x-api-key, or ?access_token=)" },
  { status: 401 }
)

const contentTypes: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8"
}

/** The routes beside the API: the event stream and the static dashboard. */
export const layerRoutes = (config: AppConfig) =>
  HttpApiBuilder.Router.use((router) =>
    Effect.gen(function* () {
      const bus = yield* Events.Bus
      const root = resolve(config.publicDir)
      // Open streams end when the server shuts down; otherwise closing it would wait for every client.
      const closing = yield* Deferred.make<void>()
      yield* Effect.addFinalizer(() => Deferred.succeed(closing, undefined))

      yield* router.get(
        "/api/stream",
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const url = new URL(request.url, "http://localhost")
          const key = streamKey(request, url)
          if (key === undefined || !ApiHandlers.keyMatches(config.apiKey, key)) return unauthorized
          const only = url.searchParams.get("connectionId")
          const events = Stream.fromPubSub(bus).pipe(
            Stream.filter((e) => only === null || e.connectionId === only),
            Stream.map(sseFrame)
          )
          // A comment every 15 s keeps proxies from closing an idle stream.
          const heartbeat = Stream.repeatEffectWithSchedule(Effect.succeed(": heartbeat\n\n"), Schedule.spaced("15 seconds"))
          const body = Stream.make(": connected\n\n").pipe(
            Stream.concat(Stream.merge(events, heartbeat, { haltStrategy: "either" })),
            Stream.map((text) => encoder.encode(text)),
            Stream.interruptWhen(Deferred.await(closing))
          )
          return HttpServerResponse.stream(body, {
            contentType: "text/event-stream",
            headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
          })
        })
      )

      const serveStatic = Effect.gen(function* () {
        const request = yield* HttpServerRequest.HttpServerRequest
        const pathname = decodeURIComponent(new URL(request.url, "http://localhost").pathname)
        if (pathname.startsWith("/api/") || pathname.startsWith("/connect/api/")) {
          return HttpServerResponse.unsafeJson({ _tag: "NotFound", message: `no route ${request.method} ${pathname}` }, { status: 404 })
        }
        const relative = normalize(pathname).replace(/^([/\\])+/, "")
        let file = resolve(root, relative)
        if (file !== root && !file.startsWith(root + sep)) return HttpServerResponse.text("Not found", { status: 404 })
        if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html")
        if (!existsSync(file)) {
          // A single-page dashboard routes on the client: unknown paths get index.html.
          file = join(root, "index.html")
          if (!existsSync(file)) return HttpServerResponse.text("Not found", { status: 404 })
        }
        return yield* HttpServerResponse.file(file, {
          contentType: contentTypes[extname(file)] ?? "application/octet-stream",
          headers: { "cache-control": "no-cache" }
        }).pipe(Effect.orElseSucceed(() => HttpServerResponse.text("Not found", { status: 404 })))
      })
      // The hosted connect page: framed only by the origins of the session named in `?sid=`.
      const sessions = yield* ConnectSessions
      yield* router.get(
        "/connect",
        Effect.gen(function* () {
          const request = yield* HttpServerRequest.HttpServerRequest
          const sid = new URL(request.url, "http://localhost").searchParams.get("sid")
          const now = yield* Clock.currentTimeMillis
          // An unknown, expired or completed session (or a store failure) frames nowhere and posts nowhere.
          const session =
            sid === null || sid === ""
              ? undefined
              : yield* sessions.get(sid).pipe(
                  Effect.catchAll((e) =>
                    e._tag === "ConnectSessionError" && e.reason === "not-found"
                      ? Effect.succeed(undefined)
                      : Effect.as(Effect.logWarning(`connect page: session ${JSON.stringify(sid.slice(0, 100))} could not be read (${e._tag}); served framed by nobody`), undefined)
                  )
                )
          const live = session !== undefined && statusOf(session, now) === "pending" ? session : undefined
          return connectPage(root, live?.allowedOrigins ?? [], live?.returnUrl ?? null)
        })
      )
      yield* router.get("/", serveStatic)
      yield* router.get("/*", serveStatic)
    })
  )

/** Only exact `scheme://host[:port]` origins go into a CSP (the API validates them already; this is a second fence). */
const cspOrigin = /^https?:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?$/

/**
 * The connect page's Content-Security-Policy: its own script and styles only, no inline script, and
 * `frame-ancestors` the session's allowed origins — `'none'` without any.
 */
export const connectCsp = (allowedOrigins: ReadonlyArray<string>): string => {
  const ancestors = allowedOrigins.filter((o) => cspOrigin.test(o))
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors.length === 0 ? "'none'" : ancestors.join(" ")}`
  ].join("; ")
}

const escapeAttribute = (text: string): string =>
  text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;")

/**
 * `public/connect.html` with the session's allowed origins and return URL in `<meta>` tags (not
 * secrets: the page needs them to know where it may `postMessage` or redirect), and its headers.
 */
const connectPage = (root: string, allowedOrigins: ReadonlyArray<string>, returnUrl: string | null) => {
  const file = join(root, "connect.html")
  if (!existsSync(file)) return HttpServerResponse.text("Not found", { status: 404 })
  const html = readFileSync(file, "utf8")
    .replace("{{allowedOrigins}}", escapeAttribute(JSON.stringify(allowedOrigins)))
    .replace("{{returnUrl}}", escapeAttribute(returnUrl ?? ""))
  const headers: Record<string, string> = {
    "content-security-policy": connectCsp(allowedOrigins),
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store"
  }
  // Old browsers without frame-ancestors: never framed unless the session names origins.
  if (allowedOrigins.length === 0) headers["x-frame-options"] = "DENY"
  return HttpServerResponse.text(html, { contentType: "text/html; charset=utf-8", headers })
}

/**
 * Removes the values Schema quotes in decode failures (`…, actual "…"`), so a request that fails
 * validation is never echoed back — a token pasted into the wrong field or sent as the wrong type
 * included. The paths and the expected shapes stay.
 */
export const scrubActual = (message: string): string => message.replace(/,? actual [^\n]*/g, "")

/** The body of a decode failure, as HttpApi sends it; an issue's other fields (path, kind) are kept. */
const DecodeErrorBody = Schema.parseJson(
  Schema.Struct({
    _tag: Schema.Literal("HttpApiDecodeError"),
    message: Schema.String,
    issues: Schema.Array(Schema.Struct({ message: Schema.String }, Schema.Record({ key: Schema.String, value: Schema.Unknown })))
  })
)
const decodeErrorBody = Schema.decodeUnknownOption(DecodeErrorBody)

const scrubbed = (error: typeof DecodeErrorBody.Type) =>
  HttpServerResponse.unsafeJson(
    {
      _tag: error._tag,
      message: scrubActual(error.message),
      issues: error.issues.map((issue) => ({ ...issue, message: scrubActual(issue.message) }))
    },
    { status: 400 }
  )

/** A 400 that is a decode failure, scrubbed; any other response (or body) as it is. */
const scrubResponse = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (response.status !== 400 || response.body._tag !== "Uint8Array") return response
  return Option.match(decodeErrorBody(new TextDecoder().decode(response.body.body)), { onNone: () => response, onSome: (error) => HttpServerResponse.setHeaders(scrubbed(error), response.headers) })
}

/** The `retryAfterSeconds` of a budget refusal's body (issue #16 item 8). */
const RetryAfterBody = Schema.parseJson(
  Schema.Struct({ _tag: Schema.Literal("BudgetSpent", "BudgetUnavailable"), retryAfterSeconds: Schema.Number })
)
const retryAfterBody = Schema.decodeUnknownOption(RetryAfterBody)

/** A 429/503 budget refusal gets its `Retry-After` header (HttpApi errors carry no headers of their own). */
const withRetryAfter = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if ((response.status !== 429 && response.status !== 503) || response.body._tag !== "Uint8Array") return response
  return Option.match(retryAfterBody(new TextDecoder().decode(response.body.body)), {
    onNone: () => response,
    onSome: (body) => HttpServerResponse.setHeader(response, "retry-after", String(Math.max(1, Math.ceil(body.retryAfterSeconds))))
  })
}

/** One path segment as a pattern: a `:param` matches any segment, anything else itself. */
const segment = (part: string): string => (part.startsWith(":") ? "[^/]+" : part.replace(/[.*+?^$()|[\]\\{}]/g, "\\$&"))

/** Every route's method and path pattern: the API's endpoints, the stream and the OpenAPI description. */
const routes: ReadonlyArray<{ readonly method: string; readonly pattern: RegExp }> = [
  ...Object.values(Api.Api.groups).flatMap((group) =>
    Object.values(group.endpoints).map((endpoint) => ({ method: endpoint.method, path: endpoint.path }))
  ),
  { method: "GET", path: "/api/stream" },
  { method: "GET", path: "/api/openapi.json" }
].map(({ method, path }: { readonly method: string; readonly path: string }) => ({
  method,
  pattern: new RegExp(`^${path.split("/").map(segment).join("/")}$`)
}))

/** The methods `path` answers to (empty for an unknown path). */
export const allowedMethods = (path: string): ReadonlyArray<string> => {
  const methods = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))
  if (methods.has("GET")) methods.add("HEAD")
  return [...methods].sort()
}

/** A 404 for a path that exists with other methods is a 405 naming them in `Allow` (issue #16). */
const withMethodNotAllowed = (
  request: HttpServerRequest.HttpServerRequest,
  response: HttpServerResponse.HttpServerResponse
): HttpServerResponse.HttpServerResponse => {
  if (response.status !== 404) return response
  const path = request.url.split("?")[0] ?? ""
  if (!path.startsWith("/api/") && !path.startsWith("/connect/api/")) return response
  const allowed = allowedMethods(path)
  if (allowed.length === 0 || allowed.includes(request.method)) return response
  return HttpServerResponse.setHeaders(
    HttpServerResponse.unsafeJson(
      { _tag: "MethodNotAllowed", message: `${request.method} is not allowed on ${path}; use ${allowed.join(", ")}` },
      { status: 405 }
    ),
    { ...response.headers, allow: allowed.join(", ") }
  )
}

/** Rewrites decode failures just before they are sent (a serve middleware sees responses only after). */
const scrubDecodeErrors = <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.zipRight(
    HttpApp.appendPreResponseHandler((request, response) =>
      Effect.succeed(withMethodNotAllowed(request, withRetryAfter(scrubResponse(response))))
    ),
    app
  )

/** The API, the OpenAPI description, the stream and the dashboard, on the `HttpServer` from context. */
export const layer = (config: AppConfig) =>
  HttpApiBuilder.serve((app) =>
    RequestGuard.guard({
      maxBodyBytes: config.maxBodyBytes ?? RequestGuard.defaultMaxBodyBytes,
      authenticated: (request) => {
        const key = streamKey(request, new URL(request.url, "http://localhost"))
        return key !== undefined && ApiHandlers.keyMatches(config.apiKey, key)
      }
    })(scrubDecodeErrors(app))
  ).pipe(
    Layer.provide(HttpApiBuilder.middlewareOpenApi({ path: "/api/openapi.json" })),
    Layer.provide(layerRoutes(config)),
    Layer.provide(HttpApiBuilder.api(Api.Api)),
    Layer.provide(ApiHandlers.layer(config)),
    Layer.provide(ConnectHandlers.layer(config))
  )
