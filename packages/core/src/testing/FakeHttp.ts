/**
 * A fake `HttpClient` for connector tests. A handler answers each request synchronously: bodies are
 * served without touching the event loop, so under `it.effect` the TestClock alone drives retries,
 * `Retry-After` waits and timeouts, deterministically and without real sleeps. Every request is
 * recorded with its method, URL, headers, body and the (test) clock time it was sent at.
 *
 * It lives in core (`@plumbline/core/testing`) so that core's own tests use it without depending on
 * `@plumbline/testkit`, which depends on core; testkit re-exports it unchanged as `FakeHttp`.
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { Clock, Effect, Layer } from "effect"

/** What a handler answers: a response, a transport failure, or nothing ever (a hanging request). */
export type Answer =
  | {
      readonly status: number
      /** A JSON body (serialised with `JSON.stringify`). */
      readonly body?: unknown
      /** A raw body; wins over `body`. */
      readonly text?: string
      readonly headers?: Readonly<Record<string, string>>
    }
  | { readonly transport: true }
  | { readonly hang: true }

/** One request as the fake saw it. */
export interface Recorded {
  readonly method: string
  readonly url: URL
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>
  /** The body as text, when the request had one. */
  readonly body: string | undefined
  /** `Clock.currentTimeMillis` when the request arrived (the TestClock under `it.effect`). */
  readonly at: number
}

/** A JSON answer. */
export const json = (status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): Answer => ({
  status,
  body,
  headers: { "content-type": "application/json", ...headers }
})

/** A raw text answer (an HTML error page, a truncated body). */
export const text = (status: number, body: string, headers: Readonly<Record<string, string>> = {}): Answer => ({
  status,
  text: body,
  headers
})

/** A connection reset. */
export const transportFailure: Answer = { transport: true }

/** A request that never answers (to exercise timeouts). */
export const hang: Answer = { hang: true }

/** A fake client, its request log and the Layer providing it. */
export interface FakeHttp {
  readonly client: HttpClient.HttpClient
  readonly requests: ReadonlyArray<Recorded>
  readonly layer: Layer.Layer<HttpClient.HttpClient>
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string | undefined => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : String(body.body)
    case "FormData":
      return "[form data]"
    case "Stream":
      return "[stream]"
    case "Empty":
      return undefined
  }
}

let inFlight = 0

/**
 * Asynchronous answers (a simulator behind a Promise) still being computed, across every fake
 * client. `TestLayers.runOnTestClock` never moves the clock while one is pending, so a timeout
 * cannot fire just because real I/O took a moment.
 */
export const pendingAnswers = (): number => inFlight

const awaitAnswer = (answer: Promise<Answer>): Effect.Effect<Answer> =>
  Effect.suspend(() => {
    inFlight++
    return Effect.ensuring(
      Effect.promise(() => answer),
      Effect.sync(() => {
        inFlight--
      })
    )
  })

/**
 * Makes a fake client answering with `handler` (`index` is the request's position in the log).
 * A handler may answer with a Promise (to front a simulator), at the price of real I/O.
 */
export const make = (handler: (request: Recorded, index: number) => Answer | Promise<Answer>): FakeHttp => {
  const requests: Array<Recorded> = []
  const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url: URL) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) =>
      Effect.suspend(() => {
        const recorded: Recorded = { method: request.method, url, headers: { ...request.headers }, body: bodyText(request), at }
        requests.push(recorded)
        const answered = handler(recorded, requests.length - 1)
        return Effect.flatMap(answered instanceof Promise ? awaitAnswer(answered) : Effect.succeed(answered), (answer) => {
          if ("transport" in answer) {
            return Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: new Error("ECONNRESET") }))
          }
          if ("hang" in answer) return Effect.never
          const text = answer.text ?? (answer.body === undefined ? "" : JSON.stringify(answer.body))
          const web = new Response(null, { status: answer.status, headers: answer.headers ?? {} })
          const response = HttpClientResponse.fromWeb(request, web)
          // Serve the body synchronously: a web Response reads it through promises the TestClock cannot drive.
          return Effect.succeed(
            Object.create(response, {
              text: { value: Effect.succeed(text) },
              json: { value: Effect.try(() => JSON.parse(text) as unknown) }
            }) as HttpClientResponse.HttpClientResponse
          )
        })
      })
    )
  )
  return { client, requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}

/** Reads a web `Response` (a simulator's answer) into an `Answer`, body and headers included. */
export const fromResponse = async (response: Response): Promise<Answer> => {
  if (response.type === "error") return transportFailure
  const headers: Record<string, string> = {}
  response.headers.forEach((value, key) => {
    headers[key] = value
  })
  return { status: response.status, text: await response.text(), headers }
}

/** A web `Request` for a recorded one, to hand to a Fetch-API simulator. */
export const toRequest = (request: Recorded): Request =>
  new Request(request.url, {
    method: request.method,
    headers: request.headers,
    ...(request.body === undefined || request.method === "GET" || request.method === "HEAD" ? {} : { body: request.body })
  })
