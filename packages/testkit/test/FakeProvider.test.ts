import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, TestClock } from "effect"
import { FakeHttp, FakeProvider, MswServer, Paging } from "../src/index.js"

const items = Array.from({ length: 5 }, (_, i) => ({ id: `i${i + 1}` }))

const provider = () =>
  FakeProvider.make({
    baseUrl: "https://api.example.test/v2",
    routes: [
      FakeProvider.route("GET", "/things", ({ query }) => {
        const page = Paging.byPageNumber(items, query, { defaultPerPage: 2 })
        return FakeProvider.json(200, { result: page.items, total_pages: page.totalPages })
      }),
      FakeProvider.route("GET", "/things/:id", ({ params }) => FakeProvider.json(200, { id: params["id"] }))
    ]
  })

const getJson = (url: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    Effect.flatMap(client.execute(HttpClientRequest.get(url)), (response) =>
      Effect.map(response.text, (text) => ({ status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) }))
    )
  )

describe("FakeProvider", () => {
  it.effect("routes by method and pattern, with params and query, relative to the base URL", () => {
    const fake = provider()
    return Effect.gen(function* () {
      const page2 = yield* getJson("https://api.example.test/v2/things?page=2")
      const one = yield* getJson("https://api.example.test/v2/things/i3")
      const missing = yield* getJson("https://api.example.test/v2/nothing")
      assert.deepStrictEqual(page2, { status: 200, body: { result: [{ id: "i3" }, { id: "i4" }], total_pages: 3 } })
      assert.deepStrictEqual(one.body, { id: "i3" })
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(fake.requestsTo({ path: /^\/things/ }).map((r) => r.url.search), ["?page=2", ""])
    }).pipe(Effect.provide(fake.layer))
  })

  it.effect("injects faults for some requests, later faults first, and repeats the first page on demand", () =>
    Effect.gen(function* () {
      const fake = provider()
      fake.inject({ match: { path: /^\/things$/ }, repeatFirst: true })
      fake.inject({ match: { path: /^\/things$/ }, answer: FakeProvider.json(503, {}, { "retry-after": "2" }), times: 1 })
      const run = Effect.provide(
        Effect.all([getJson("https://api.example.test/v2/things"), getJson("https://api.example.test/v2/things?page=1"), getJson("https://api.example.test/v2/things?page=2")]),
        fake.layer
      )
      const [unavailable, first, repeated] = yield* run
      assert.strictEqual(unavailable.status, 503)
      assert.deepStrictEqual(first.body, repeated.body)
      fake.clearFaults()
      const page2 = yield* Effect.provide(getJson("https://api.example.test/v2/things?page=2"), fake.layer)
      assert.notDeepEqual(page2.body, first.body)
    }))

  it.effect("stamps each request with the test clock time and records method and headers", () =>
    Effect.gen(function* () {
      const fake = provider()
      const send = Effect.flatMap(HttpClient.HttpClient, (client) =>
        client.execute(HttpClientRequest.post("https://api.example.test/v2/things").pipe(HttpClientRequest.setHeader("X-Trace", "t1"), HttpClientRequest.bodyText("hello")))
      ).pipe(Effect.provide(fake.layer))
      yield* send
      const fiber = yield* Effect.fork(Effect.zipRight(Effect.sleep(Duration.seconds(3)), send))
      yield* TestClock.adjust(Duration.seconds(3))
      yield* Fiber.join(fiber)
      const [a, b] = fake.requests
      assert.deepStrictEqual([a?.method, a?.headers["x-trace"], a?.body], ["POST", "t1", "hello"])
      assert.strictEqual((b?.at ?? 0) - (a?.at ?? 0), 3000)
    }))

  it.effect("stops a runaway connector after maxRequests", () =>
    Effect.gen(function* () {
      const fake = FakeProvider.make({ baseUrl: "https://api.example.test", routes: [], maxRequests: 2 })
      const statuses = yield* Effect.provide(
        Effect.forEach([1, 2, 3], () => Effect.map(getJson("https://api.example.test/x"), (r) => r.status)),
        fake.layer
      )
      assert.deepStrictEqual(statuses, [404, 404, 418])
    }))
})

describe("FakeHttp", () => {
  it.effect("answers transport failures as RequestError", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => FakeHttp.transportFailure)
      const error = yield* Effect.flip(Effect.provide(getJson("https://x.test/"), fake.layer))
      assert.strictEqual(error._tag, "RequestError")
      assert.strictEqual(fake.requests.length, 1)
    }))
})

describe("MswServer", () => {
  const fake = provider()
  it.scoped("serves a fake provider over real fetch for the Layer's lifetime, and resets runtime handlers", () =>
    Effect.gen(function* () {
      const msw = yield* MswServer.MswServer
      const first = yield* getJson("https://api.example.test/v2/things/i1")
      assert.deepStrictEqual(first, { status: 200, body: { id: "i1" } })
      fake.inject({ match: { path: /^\/things\/i1$/ }, answer: FakeProvider.json(500, { error: "boom" }), times: 1 })
      const failed = yield* getJson("https://api.example.test/v2/things/i1")
      assert.strictEqual(failed.status, 500)
      yield* msw.reset
      assert.strictEqual(fake.requests.length, 2)
    }).pipe(Effect.provide(Layer.merge(MswServer.layer(...fake.handlers), FetchHttpClient.layer))))
})
