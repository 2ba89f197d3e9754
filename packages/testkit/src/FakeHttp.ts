/**
 * A fake `HttpClient` for connector tests. A handler answers each request synchronously: bodies are
 * served without touching the event loop, so under `it.effect` the TestClock alone drives retries,
 * `Retry-After` waits and timeouts, deterministically and without real sleeps. Every request is
 * recorded with its method, URL, headers, body and the (test) clock time it was sent at.
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

/** Makes a fake client answering with `handler` (`index` is the request's position in the log). */
export const make = (handler: (request: Recorded, index: number) => Answer): FakeHttp => {
  const requests: Array<Recorded> = []
  const client = HttpClient.make((request: HttpClientRequest.HttpClientRequest, url: URL) =>
    Effect.flatMap(Clock.currentTimeMillis, (at) =>
      Effect.suspend(() => {
        const recorded: Recorded = { method: request.method, url, headers: { ...request.headers }, body: bodyText(request), at }
        requests.push(recorded)
        const answer = handler(recorded, requests.length - 1)
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
    )
  )
  return { client, requests, layer: Layer.succeed(HttpClient.HttpClient, client) }
}
