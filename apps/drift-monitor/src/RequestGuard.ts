/**
 * The checks every request passes before a route sees it, and the headers every response gets.
 * A body larger than the limit is refused from its `content-length` before a byte is read, and a
 * chunked body is capped by the platform's `MaxBodySize` while it streams, so a huge upload never
 * reaches the heap; at the limit its bytes stop being kept, and it gets the same 413 JSON with
 * `Connection: close` (the rest is discarded as it arrives, so the client reads the answer instead of
 * a reset socket). Security headers are added to every response, errors and the stream included;
 * the dashboard (everything outside `/api/`) also gets a strict CSP and is never framed.
 */
import type { IncomingMessage } from "node:http"
import { HttpApp, HttpIncomingMessage, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServerRequest } from "@effect/platform-node"
import { Effect, Option } from "effect"

/** The default body limit: 1 MiB. */
export const defaultMaxBodyBytes = 1_048_576

/** The deepest JSON nesting a request body may have. */
export const maxJsonDepth = 64

/** The dashboard's Content-Security-Policy: its own scripts and styles only, never framed. */
export const dashboardCsp =
  "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

const apiHeaders = { "x-content-type-options": "nosniff", "referrer-policy": "no-referrer" } as const
const dashboardHeaders = { ...apiHeaders, "content-security-policy": dashboardCsp, "x-frame-options": "DENY" } as const

/** The headers a response to `url` gets. */
export const securityHeaders = (url: string): Readonly<Record<string, string>> =>
  url.startsWith("/api/") || url === "/api" ? apiHeaders : isConnectPage(url) ? apiHeaders : dashboardHeaders

/**
 * Whether `url` is the hosted connect page, which sets its own CSP: its `frame-ancestors` depends on
 * the session in its query (see `Http.connectCsp`), so the dashboard's fixed one must not replace it.
 */
const isConnectPage = (url: string): boolean => (url.split("?")[0] ?? "") === "/connect"

/**
 * The nesting depth of a JSON text, by counting brackets outside strings — cheap, and done before
 * `JSON.parse`, whose recursion a deep body would otherwise exhaust. Stops counting past `limit`.
 */
export const jsonDepth = (text: string, limit = Number.MAX_SAFE_INTEGER): number => {
  let depth = 0
  let max = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character
      else if (c === 34) inString = false
    } else if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth > max) {
        max = depth
        if (max > limit) return max
      }
    } else if (c === 93 || c === 125) depth--
  }
  return max
}

const refusal = (status: number, tag: string, message: string) => HttpServerResponse.unsafeJson({ _tag: tag, message }, { status })

/** A 413 for a body over `maxBodyBytes`. */
export const tooLarge = (maxBodyBytes: number) =>
  refusal(413, "PayloadTooLarge", `the request body is larger than ${maxBodyBytes} bytes`)

/** Whether a body read failed on the platform's `MaxBodySize` (Node's reader says "maxBytes exceeded"). */
const isTooLarge = (error: { readonly cause?: unknown }): boolean =>
  error.cause instanceof Error && error.cause.message.includes("maxBytes")

const tags: Record<number, string> = { 400: "BadRequest", 401: "Unauthorized", 404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 500: "InternalError" }

/** An error response without a body (the platform's own 404s and 500s) gets a JSON one. */
const withBody = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (response.status < 400 || response.body._tag !== "Empty") return response
  const tag = tags[response.status] ?? (response.status >= 500 ? "InternalError" : "BadRequest")
  const message = response.status === 404 ? "no such route or resource" : response.status >= 500 ? "internal error" : "request refused"
  return HttpServerResponse.setHeaders(refusal(response.status, tag, message), response.headers)
}

/**
 * The platform's body reader destroys a request it stops reading at the limit, which resets the
 * socket before the 413 is written. Instead, the unread rest is discarded as it arrives (nothing is
 * kept), so the answer reaches the client, which stops sending when it reads it.
 */
const discardInsteadOfDestroy = (incoming: IncomingMessage): void => {
  const destroy = incoming.destroy.bind(incoming)
  incoming.destroy = (error?: Error) => {
    if (incoming.complete || incoming.socket === null || incoming.socket.destroyed) return destroy(error)
    incoming.removeAllListeners("data")
    incoming.on("data", () => {})
    incoming.resume()
    return incoming
  }
}

/** Wraps an app with the body limit, the JSON depth limit and the security headers. */
export const guard = (options: {
  readonly maxBodyBytes: number
  /** Whether a request may go on to its route: API routes other than health and the description need the key first. */
  readonly authenticated: (request: HttpServerRequest.HttpServerRequest) => boolean
}) => <E, R>(app: HttpApp.Default<E, R>): HttpApp.Default<E, R> =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const headers = securityHeaders(request.url)
    yield* HttpApp.appendPreResponseHandler((_request, response) => Effect.succeed(HttpServerResponse.setHeaders(withBody(response), headers)))
    // Early refusals skip the pre-response handlers, so they get the headers here.
    const refuse = (response: HttpServerResponse.HttpServerResponse) => HttpServerResponse.setHeaders(response, headers)
    const maxBodyBytes = options.maxBodyBytes
    // Authenticate before anything else looks at the path or the body: a long id is a 401, not a 404.
    const path = request.url.split("?")[0] ?? ""
    if (path.startsWith("/api/") && path !== "/api/health" && path !== "/api/openapi.json" && !options.authenticated(request)) {
      return refuse(refusal(401, "Unauthorized", "missing or wrong API key (Authorization: Bearer <key>, x-api-key, or ?access_token=)"))
    }
    const length = request.headers["content-length"]
    if (length !== undefined && Number(length) > maxBodyBytes) return refuse(tooLarge(maxBodyBytes))
    if (request.method !== "GET" && request.method !== "HEAD" && (request.headers["content-type"] ?? "").includes("json")) {
      if (length === undefined) discardInsteadOfDestroy(NodeHttpServerRequest.toIncomingMessage(request))
      const text = yield* Effect.either(request.text)
      if (text._tag === "Left") {
        // The connection is not reused: the client may still be sending the rest of its body.
        if (isTooLarge(text.left)) return refuse(HttpServerResponse.setHeader(tooLarge(maxBodyBytes), "connection", "close"))
        return refuse(refusal(400, "BadRequest", "the request body could not be read"))
      }
      if (jsonDepth(text.right, maxJsonDepth) > maxJsonDepth) {
        return refuse(refusal(400, "BadRequest", `the JSON body is nested deeper than ${maxJsonDepth} levels`))
      }
      if (text.right.trim() !== "") {
        try {
          JSON.parse(text.right)
        } catch {
          return refuse(refusal(400, "BadRequest", "the request body is not valid JSON"))
        }
      }
    }
    return yield* app
  }).pipe(HttpIncomingMessage.withMaxBodySize(Option.some(options.maxBodyBytes)))
