/**
 * The HTTP pipeline a connector builds once per connection, on the app's `HttpClient`:
 *
 * - every request goes to the connection's base URL; the bearer token is attached only there, and
 *   a redirect to another host fails instead of being followed (redirects are followed here, by
 *   hand, so provide a client that does not follow them itself, such as `layerFetch`);
 * - a read-only guard refuses any method but GET and HEAD unless the connector declared the write;
 * - a per-request timeout; retries per `RetryPolicy`; a request budget per credential shared by
 *   every fibre (`RequestBudget`), which a 429 pauses for everyone;
 * - non-2xx answers become typed `ConnectorError`s carrying status, provider error codes and the
 *   request id; 2xx bodies are read and parsed as JSON inside the attempt, so a reset or a
 *   truncated body is retried like any transport failure.
 *
 * The provider's envelope stays the connector's business: the pipeline hands back parsed JSON.
 */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import type { Headers, HttpClientResponse } from "@effect/platform"
import { Clock, Data, Duration, Effect, Layer } from "effect"
import {
  type ConnectorError,
  CredentialInvalid,
  isConnectorError,
  PermissionMissing,
  type ProviderMessage,
  RateLimited,
  RequestRejected,
  UpstreamUnavailable
} from "./ConnectorError.js"
import * as AnnouncedQuota from "./AnnouncedQuota.js"
import * as Credential from "./Credential.js"
import * as Deadline from "./internal/deadline.js"
import * as FetchClient from "./internal/fetchClient.js"
import * as Progress from "./Progress.js"
import * as RequestBudget from "./RequestBudget.js"
import * as RetryPolicy from "./RetryPolicy.js"

/** A write the connector is allowed to make (the read-only guard refuses every other one). */
export interface DeclaredWrite {
  readonly method: "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: RegExp
}

/** What a failed response looked like, for a connector's own classification. */
export interface FailedResponse {
  readonly status: number
  readonly method: string
  readonly path: string
  readonly codes: ReadonlyArray<ProviderMessage>
  readonly requestId: string | undefined
  readonly body: unknown
}

/** Options of a pipeline. */
export interface Options {
  /** Base URL every path is relative to, e.g. `https://api.cloudflare.com/client/v4`. */
  readonly baseUrl: string
  readonly credential: Credential.Credential
  /** Per-attempt timeout (default 30 s). */
  readonly timeout?: Duration.DurationInput
  readonly retry?: Partial<RetryPolicy.RetryPolicy>
  /**
   * The provider's request limit for one credential, which the pipeline keeps to. Required: core
   * knows no provider, and a limit guessed wrong either wastes the provider's allowance or gets the
   * credential blocked, so each connector states its provider's documented one.
   */
  readonly budget: RequestBudget.Limits
  /** The response header that carries the provider's request id (e.g. `cf-ray`). */
  readonly requestIdHeader?: string
  /** Extracts the provider's error entries from a parsed error body. */
  readonly errorMessages?: (body: unknown) => ReadonlyArray<ProviderMessage>
  /** Maps a non-2xx answer to a specific error before the generic mapping; `undefined` to defer. */
  readonly classify?: (failure: FailedResponse) => ConnectorError | undefined
  readonly writes?: ReadonlyArray<DeclaredWrite>
  readonly maxRedirects?: number
  readonly userAgent?: string
  /**
   * The provider's announced quota, shared with the customer's own use: how to read it from an
   * answer's headers and the share of it we may spend (see `AnnouncedQuota`). Absent: not read.
   */
  readonly quota?: AnnouncedQuota.Options
  /**
   * A budget every pipeline of the process shares under `key`, whatever the credential: a provider's
   * per-client-IP limit. Absent: none.
   */
  readonly clientBudget?: { readonly key: string; readonly limits: RequestBudget.Limits }
}

/** A successful answer with its JSON body parsed (`undefined` for an empty body). */
export interface ProviderResponse {
  readonly status: number
  readonly headers: Headers.Headers
  readonly body: unknown
  readonly requestId: string | undefined
}

/** The pipeline of one connection. */
export interface ProviderHttp {
  readonly baseUrl: string
  /** Sends a request whose URL is a path relative to the base URL. */
  readonly execute: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<ProviderResponse, ConnectorError>
  /** GET `path` with query parameters. */
  readonly get: (
    path: string,
    urlParams?: Readonly<Record<string, string | number | ReadonlyArray<string> | undefined>>
  ) => Effect.Effect<ProviderResponse, ConnectorError>
}

/** A failed attempt that the retry schedule may try again; `final` is what surfaces when it stops. */
class Retryable extends Data.TaggedError("Retryable")<{
  readonly input: RetryPolicy.RetryInput
  readonly final: (attempts: number) => ConnectorError
}> {}

type AttemptError = Retryable | ConnectorError

const isRedirect = (status: number) => status === 301 || status === 302 || status === 303 || status === 307 || status === 308

const headerRecord = (headers: Headers.Headers): Record<string, string | undefined> => headers as Record<string, string>

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  if (text.trim() === "") return { ok: true, value: undefined }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

const describeBody = (text: string): string | undefined => {
  const title = /<title>([^<]{0,120})<\/title>/i.exec(text)
  if (title?.[1] !== undefined) return `HTML error page: ${title[1].trim()}`
  if (/^\s*</.test(text)) return "HTML error page"
  return undefined
}

/** Builds the pipeline of one connection. */
export const make = (
  options: Options
): Effect.Effect<ProviderHttp, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.gen(function* () {
    const base = new URL(options.baseUrl.endsWith("/") ? options.baseUrl.slice(0, -1) : options.baseUrl)
    const client = yield* HttpClient.HttpClient
    const budgets = yield* RequestBudget.RequestBudget
    const budget = yield* budgets.forKey(Credential.fingerprint(options.credential), options.budget)
    const clientBudget = options.clientBudget === undefined ? undefined : yield* budgets.forKey(options.clientBudget.key, options.clientBudget.limits)
    const quota = options.quota === undefined ? undefined : { read: options.quota.read, gate: yield* AnnouncedQuota.make(options.quota.share) }
    const policy = RetryPolicy.make(options.retry)
    const timeout = Duration.decode(options.timeout ?? Duration.seconds(30))
    const maxRedirects = options.maxRedirects ?? 5
    const requestIdHeader = (options.requestIdHeader ?? "x-request-id").toLowerCase()
    const errorMessages = options.errorMessages ?? (() => [])

    const resolve = (url: string): URL => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return new URL(url)
      const path = url.startsWith("/") ? url : `/${url}`
      return new URL(`${base.pathname.replace(/\/$/, "")}${path}`, base.origin)
    }

    const basePath = base.pathname.replace(/\/$/, "")
    /** Declared writes match the path relative to the base URL (`/zones/…`, not `/client/v4/zones/…`). */
    const isDeclaredWrite = (method: string, path: string) => {
      const relative = path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : path
      return (options.writes ?? []).some((w) => w.method === method && w.path.test(relative))
    }

    /** Reads the announced quota from an answer; a malformed announcement is logged and ignored. */
    const observeQuota = (headers: Headers.Headers): Effect.Effect<void> => {
      if (quota === undefined) return Effect.void
      const reading = quota.read(headerRecord(headers))
      switch (reading._tag) {
        case "Absent":
          return Effect.void
        case "Malformed":
          return Effect.logDebug(`ignored a malformed rate-limit announcement: ${reading.reason}`)
        case "Announced":
          return quota.gate.observe(reading.announcement)
      }
    }

    // Under a caller's deadline (`RequestBudget.withDeadline`), a budget that cannot grant in time
    // fails at once, as a rate limit the caller can report with its wait, and is not retried. The
    // announced quota's gate and the per-client-IP budget honour the same deadline.
    const overBudget = (e: RequestBudget.BudgetDeadlineExceeded) =>
      new RateLimited({ attempts: 0, retryAfterMillis: e.retryAfterMillis, budget: e.reason })
    /** Every budget a request takes, in order, then the request counted: built once, run per send. */
    const admit: Effect.Effect<void, RateLimited> = Effect.zipRight(
      Effect.mapError(
        [quota?.gate.acquire, RequestBudget.take(budget), clientBudget === undefined ? undefined : RequestBudget.take(clientBudget)]
          .filter((gate) => gate !== undefined)
          .reduce((before, gate) => Effect.zipRight(before, gate)),
        overBudget
      ),
      Progress.reportRequest
    )
    const onTimeout = () =>
      new Retryable({
        input: { reason: `timeout after ${Duration.format(timeout)}`, retryable: true },
        final: (attempts) => new UpstreamUnavailable({ reason: "timeout", attempts, detail: `no answer within ${Duration.format(timeout)}` })
      })

    /** One send to one URL: budget, count, authorise, time out, read and parse the body. */
    const send = (request: HttpClientRequest.HttpClientRequest, url: URL) =>
      Effect.zipRight(
        admit,
        Effect.suspend(() => {
          const authorised = request.pipe(
            HttpClientRequest.setUrl(url),
            HttpClientRequest.setUrlParams([]),
            HttpClientRequest.bearerToken(options.credential.secret),
            HttpClientRequest.acceptJson,
            options.userAgent === undefined ? (r) => r : HttpClientRequest.setHeader("user-agent", options.userAgent)
          )
          const exchange = Effect.flatMap(client.execute(authorised), (response: HttpClientResponse.HttpClientResponse) => {
            // `headers` converts the answer's headers on every access: once here.
            const headers = response.headers
            return Effect.zipRight(observeQuota(headers), Effect.map(response.text, (text) => ({ status: response.status, headers, text })))
          })
          return exchange.pipe(
            Deadline.failAfter(timeout, onTimeout),
            Effect.catchTag("RequestError", "ResponseError", (error) =>
              Effect.fail(
                new Retryable({
                  input: { reason: `transport failure (${error.reason})`, retryable: true },
                  final: (attempts) => new UpstreamUnavailable({ reason: "transport", attempts, detail: error.reason })
                })
              )
            )
          )
        })
      )

    /** One attempt: send, follow same-host redirects, map the answer. */
    const attempt = (request: HttpClientRequest.HttpClientRequest, path: string) =>
      Effect.suspend(() => {
        const url = resolve(request.url)
        for (const [key, value] of request.urlParams) url.searchParams.append(key, value)
        return hop(request, url, 0, path)
      })

    /** One hop of an attempt: the send to `url`, and the next hop when the answer is a redirect. */
    const hop = (
      current: HttpClientRequest.HttpClientRequest,
      url: URL,
      redirects: number,
      path: string
    ): Effect.Effect<ProviderResponse, AttemptError> => {
      if (url.origin !== base.origin) {
        return Effect.fail(
          new RequestRejected({
            reason: redirects === 0 ? "cross-host-request" : "cross-host-redirect",
            method: current.method,
            path,
            detail: `refused to send the credential to ${url.host}`
          })
        )
      }
      return Effect.flatMap(send(current, url), ({ headers, status, text }): Effect.Effect<ProviderResponse, AttemptError> => {
        const requestId = headerRecord(headers)[requestIdHeader]
        if (isRedirect(status)) {
          const location = headerRecord(headers)["location"]
          if (location === undefined) {
            return Effect.fail(new RequestRejected({ reason: "status", status, method: current.method, path, detail: "redirect without Location" }))
          }
          if (redirects >= maxRedirects) {
            return Effect.fail(new RequestRejected({ reason: "too-many-redirects", status, method: current.method, path }))
          }
          const next = new URL(location, url)
          return hop(status === 303 ? HttpClientRequest.get(next) : current, next, redirects + 1, path)
        }
        if (status >= 200 && status < 300) {
          const parsed = parseJson(text)
          if (!parsed.ok) {
            return Effect.fail(
              new Retryable({
                input: { reason: `a malformed body (HTTP ${status})`, retryable: true },
                final: (attempts) =>
                  new UpstreamUnavailable({
                    reason: "malformed-body",
                    status,
                    attempts,
                    detail: describeBody(text) ?? "the body is not valid JSON",
                    ...(requestId === undefined ? {} : { requestId })
                  })
              })
            )
          }
          return Effect.succeed({ status, headers, body: parsed.value, requestId } satisfies ProviderResponse)
        }
        return Effect.flatMap(failure(status, headers, text, current.method, path, requestId), Effect.fail)
      })
    }

    /** Maps a non-2xx answer to a typed error, or to a retryable failure. */
    const failure = (
      status: number,
      headers: Headers.Headers,
      text: string,
      method: string,
      path: string,
      requestId: string | undefined
    ) =>
      Effect.gen(function* () {
        const parsed = parseJson(text)
        const body = parsed.ok ? parsed.value : undefined
        const codes = parsed.ok ? errorMessages(body) : []
        const context = { status, codes: [...codes], ...(requestId === undefined ? {} : { requestId }) }
        const classified = options.classify?.({ status, method, path, codes, requestId, body })
        if (classified !== undefined) return classified as AttemptError
        if (status === 401) return new CredentialInvalid({ reason: "invalid", ...context })
        if (status === 403) return new PermissionMissing(context)
        if (!RetryPolicy.isRetryableStatus(status)) {
          return new RequestRejected({
            reason: "status",
            method,
            path,
            ...context,
            ...(parsed.ok ? {} : { detail: describeBody(text) ?? "unreadable error body" })
          })
        }
        const retryAfterMillis = RetryPolicy.retryAfterMillis(headerRecord(headers), yield* Clock.currentTimeMillis)
        // Everyone sharing the credential waits too, but never longer than the pipeline itself would:
        // a provider asking for a day must not stall the whole process for a day.
        if (status === 429) {
          yield* budget.pause(Math.min(retryAfterMillis ?? Duration.toMillis(policy.baseDelay), Duration.toMillis(policy.maxRetryAfter)))
        }
        const detail = parsed.ok ? undefined : describeBody(text)
        return new Retryable({
          input: { reason: `HTTP ${status}${detail === undefined ? "" : ` (${detail})`}`, retryable: true, retryAfterMillis },
          final: (attempts) =>
            status === 429
              ? new RateLimited({ attempts, ...context, ...(retryAfterMillis === undefined ? {} : { retryAfterMillis }) })
              : new UpstreamUnavailable({
                  reason: "status",
                  attempts,
                  ...context,
                  ...(detail === undefined ? {} : { detail }),
                  ...(retryAfterMillis === undefined ? {} : { retryAfterMillis })
                })
        })
      })

    const execute = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<ProviderResponse, ConnectorError> => {
      const path = resolve(request.url).pathname
      const label = `${request.method} ${path}`
      if (request.method !== "GET" && request.method !== "HEAD" && !isDeclaredWrite(request.method, path)) {
        return Effect.fail(
          new RequestRejected({
            reason: "write-not-declared",
            method: request.method,
            path,
            detail: "the connector is read-only and declared no such write"
          })
        )
      }
      return Effect.suspend(() => {
        let attempts = 1
        // The retry schedule starts only once the first attempt failed: most requests succeed at
        // once, and a schedule's driver costs a request about a tenth of the pipeline's own work.
        // It sees the same failures in the same order as if it had driven the first attempt too.
        const retried = (first: AttemptError) => {
          let replayed = false
          return Effect.suspend(() => {
            if (!replayed) {
              replayed = true
              return Effect.fail(first)
            }
            attempts++
            return attempt(request, path)
          }).pipe(
            Effect.retry(
              RetryPolicy.schedule<AttemptError>(
                policy,
                (error) => (isConnectorError(error) ? { reason: error._tag, retryable: false } : error.input),
                label
              )
            )
          )
        }
        return attempt(request, path).pipe(
          Effect.catchAll(retried),
          Effect.mapError((error) => (isConnectorError(error) ? error : error.final(attempts)))
        )
      }).pipe(
        Effect.withSpan("ProviderHttp.execute", { attributes: { method: request.method, path }, captureStackTrace: false })
      )
    }

    return {
      baseUrl: base.toString(),
      execute,
      get: (path, urlParams) => {
        const params: Array<[string, string]> = []
        for (const [key, value] of Object.entries(urlParams ?? {})) {
          if (value === undefined) continue
          if (Array.isArray(value)) for (const v of value) params.push([key, String(v)])
          else params.push([key, String(value)])
        }
        return execute(HttpClientRequest.get(path, { urlParams: params }))
      }
    } satisfies ProviderHttp
  })

/**
 * A fetch-based `HttpClient` that does not follow redirects itself, so the pipeline's host check
 * sees every hop. Provide it where the app has no other client. It honours `FetchHttpClient.Fetch`
 * and `FetchHttpClient.RequestInit` in context like the platform's fetch client, but records no
 * span of its own (the pipeline's `ProviderHttp.execute` span covers each request) and costs about
 * a third less CPU per request (see `internal/fetchClient.ts`).
 */
export const layerFetch: Layer.Layer<HttpClient.HttpClient> = Layer.succeed(HttpClient.HttpClient, FetchClient.client)
