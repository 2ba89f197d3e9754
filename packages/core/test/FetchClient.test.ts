import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import * as HttpPipeline from "../src/HttpPipeline.js"

/** A `fetch` that records what it was given and answers with `answer`. */
const recording = (answer: (signal: AbortSignal) => Promise<Response>) => {
  const calls: Array<{ readonly url: string; readonly init: RequestInit }> = []
  const fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    calls.push({ url: String(input), init: init ?? {} })
    return answer(init!.signal!)
  }) as typeof globalThis.fetch
  return { calls, layer: Layer.merge(HttpPipeline.layerFetch, Layer.succeed(FetchHttpClient.Fetch, fetch)) }
}

/** A promise that settles only when `signal` aborts (then rejects, as fetch does). */
const untilAborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))))

describe("HttpPipeline.layerFetch", () => {
  it.effect("sends through the fetch in context, with the request's method, headers and body, and does not follow redirects", () =>
    Effect.gen(function* () {
      const fake = recording(() => Promise.resolve(new Response('{"ok":true}', { status: 200 })))
      const text = yield* Effect.flatMap(HttpClient.HttpClient, (client) =>
        Effect.flatMap(
          client.execute(
            HttpClientRequest.post("https://api.example.test/v1/things", { urlParams: { page: 2 } }).pipe(
              HttpClientRequest.setHeader("x-probe", "yes"),
              HttpClientRequest.bodyText('{"a":1}', "application/json")
            )
          ),
          (response) => response.text
        )
      ).pipe(Effect.provide(fake.layer))
      assert.strictEqual(text, '{"ok":true}')
      const [call] = fake.calls
      assert.strictEqual(call?.url, "https://api.example.test/v1/things?page=2")
      assert.strictEqual(call?.init.method, "POST")
      assert.strictEqual(call?.init.redirect, "manual")
      assert.strictEqual((call?.init.headers as Record<string, string>)["x-probe"], "yes")
      assert.strictEqual(new TextDecoder().decode(call?.init.body as Uint8Array), '{"a":1}')
    }))

  it.effect("turns a rejected fetch into a transport RequestError", () =>
    Effect.gen(function* () {
      const fake = recording(() => Promise.reject(new TypeError("fetch failed")))
      const error = yield* Effect.flip(
        Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.get("https://api.example.test/"))).pipe(
          Effect.provide(fake.layer)
        )
      )
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(error._tag === "RequestError" && error.reason, "Transport")
    }))

  it.live("aborts the request when the send is interrupted", () =>
    Effect.gen(function* () {
      const sent = yield* Deferred.make<AbortSignal>()
      const fake = recording((signal) => {
        Deferred.unsafeDone(sent, Effect.succeed(signal))
        return untilAborted(signal)
      })
      const fiber = yield* Effect.fork(
        Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(HttpClientRequest.get("https://api.example.test/"))).pipe(
          Effect.provide(fake.layer)
        )
      )
      const signal = yield* Deferred.await(sent)
      yield* Fiber.interrupt(fiber)
      assert.isTrue(signal.aborted)
    }))

  it.live("aborts the request when reading its body is interrupted", () =>
    Effect.gen(function* () {
      const sent = yield* Deferred.make<AbortSignal>()
      const reading = yield* Deferred.make<void>()
      // Headers arrive; the body never ends (until the request is aborted). With no high-water mark,
      // the stream is pulled only once someone reads it.
      const fake = recording((signal) => {
        Deferred.unsafeDone(sent, Effect.succeed(signal))
        const body = new ReadableStream(
          {
            start: (controller) => signal.addEventListener("abort", () => controller.error(new DOMException("aborted", "AbortError"))),
            pull: () => {
              Deferred.unsafeDone(reading, Effect.void)
              return new Promise<void>(() => {})
            }
          },
          { highWaterMark: 0 }
        )
        return Promise.resolve(new Response(body, { status: 200 }))
      })
      const reader = yield* Effect.fork(
        Effect.flatMap(HttpClient.HttpClient, (client) =>
          Effect.flatMap(client.execute(HttpClientRequest.get("https://api.example.test/")), (response) => response.text)
        ).pipe(Effect.provide(fake.layer))
      )
      const signal = yield* Deferred.await(sent)
      yield* Deferred.await(reading)
      assert.isFalse(signal.aborted)
      yield* Fiber.interrupt(reader)
      assert.isTrue(signal.aborted)
    }))
})
