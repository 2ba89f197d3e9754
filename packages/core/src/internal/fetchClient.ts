/**
 * The `HttpClient` behind `HttpPipeline.layerFetch`: `fetch`, with nothing the pipeline does itself.
 *
 * `FetchHttpClient.layer` wraps every send in its own span (with a dozen attributes and trace
 * headers), merges the layer's context into the request's, and registers each response with a
 * `FinalizationRegistry`; measured on B1's read, that is about a third of a request's CPU beyond
 * `fetch` itself. The pipeline already records a span per request (`ProviderHttp.execute`) and
 * always reads the body, so this client only sends: redirects are not followed (`redirect:
 * "manual"`, so the pipeline's host check sees every hop), `FetchHttpClient.Fetch` and
 * `FetchHttpClient.RequestInit` in the running fibre's context are honoured as the platform's
 * client honours them, and an interrupted send or body read aborts the request.
 */
import { FetchHttpClient, HttpClient, HttpClientError, HttpClientResponse, type HttpClientRequest, UrlParams } from "@effect/platform"
import { Context, Effect, Either, FiberRef, Option, Stream } from "effect"

/** `response` whose body reads abort the request when they are interrupted (a timeout, say). */
const abortable = (
  response: HttpClientResponse.HttpClientResponse,
  controller: AbortController
): HttpClientResponse.HttpClientResponse => {
  const abortOnInterrupt = <A, E>(read: Effect.Effect<A, E>) => Effect.onInterrupt(read, () => Effect.sync(() => controller.abort()))
  // `json` and `urlParamsBody` read through `text`, so these three cover every body read but the
  // stream, which cancels the body itself when interrupted.
  return Object.create(response, {
    text: { get: () => abortOnInterrupt(response.text) },
    arrayBuffer: { get: () => abortOnInterrupt(response.arrayBuffer) },
    formData: { get: () => abortOnInterrupt(response.formData) }
  }) as HttpClientResponse.HttpClientResponse
}

const bodyOf = (request: HttpClientRequest.HttpClientRequest): Effect.Effect<BodyInit | undefined> => {
  switch (request.body._tag) {
    case "Empty":
      return Effect.succeed(undefined)
    case "Raw":
      return Effect.succeed(request.body.body as BodyInit)
    case "Uint8Array":
      return Effect.succeed(request.body.body as BodyInit)
    case "FormData":
      return Effect.succeed(request.body.formData)
    case "Stream":
      return Effect.orDie(Stream.toReadableStreamEffect(request.body.stream))
  }
}

/** One send: the fetch, failed as a `RequestError` when it rejects, aborted when interrupted. */
const send = (
  request: HttpClientRequest.HttpClientRequest,
  url: URL,
  context: Context.Context<never>
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError> => {
  const fetch = Option.getOrElse(Context.getOption(context, FetchHttpClient.Fetch), () => globalThis.fetch)
  const init = Option.getOrElse(Context.getOption(context, FetchHttpClient.RequestInit), () => ({}))
  const { "content-length": _length, ...headers } = request.headers
  return Effect.flatMap(bodyOf(request), (body) =>
    Effect.async<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((resume) => {
      const controller = new AbortController()
      fetch(url, {
        redirect: "manual",
        ...init,
        method: request.method,
        headers,
        body: body ?? null,
        signal: controller.signal,
        ...(request.body._tag === "Stream" ? { duplex: "half" } : {})
      }).then(
        (response) => resume(Effect.succeed(abortable(HttpClientResponse.fromWeb(request, response), controller))),
        (cause: unknown) => resume(Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause })))
      )
      return Effect.sync(() => controller.abort())
    })
  )
}

/** The client. */
export const client: HttpClient.HttpClient = HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
  (requests) =>
    Effect.flatMap(requests, (request) =>
      Effect.withFiberRuntime<HttpClientResponse.HttpClientResponse, HttpClientError.RequestError>((fiber) => {
        const url = UrlParams.makeUrl(request.url, request.urlParams, request.hash)
        if (Either.isLeft(url)) return Effect.fail(new HttpClientError.RequestError({ request, reason: "InvalidUrl", cause: url.left }))
        return send(request, url.right, fiber.getFiberRef(FiberRef.currentContext))
      })
    ),
  Effect.succeed
)
