import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Credential, HttpPipeline, type RequestBudget } from "@plumbline/core"
import { Clock, Duration, Effect, Layer } from "effect"
import { FakeHttp, FakeProvider, TestLayers } from "../src/index.js"

/** The limits the connector under test declares; `TestLayers.budget` replaces them. */
const CONNECTOR_BUDGET: RequestBudget.Limits = { limit: 1000, window: Duration.minutes(1) }

const pipeline = (provider: FakeProvider.FakeProvider, budget: Layer.Layer<RequestBudget.RequestBudget>) =>
  HttpPipeline.make({ baseUrl: provider.baseUrl, credential: Credential.make("t", "secret-value-123"), budget: CONNECTOR_BUDGET }).pipe(
    Effect.provide(Layer.merge(provider.layer, budget))
  )

describe("TestLayers", () => {
  it.effect("budget: every credential gets the test limits, so a third request waits out the window", () =>
    Effect.gen(function* () {
      const provider = FakeProvider.make({ baseUrl: "https://api.example.test", routes: [FakeProvider.route("GET", "/x", () => FakeProvider.json(200, {}))] })
      const http = yield* pipeline(provider, TestLayers.budget({ limit: 2, window: Duration.minutes(1) }))
      yield* TestLayers.runOnTestClock(Effect.forEach([1, 2, 3], () => http.get("/x")))
      assert.deepStrictEqual(provider.requests.map((r) => r.at), [0, 0, 60_000])
    }))

  it.effect("runOnTestClock honours Retry-After exactly, also when a simulator answers asynchronously", () =>
    Effect.gen(function* () {
      let calls = 0
      const provider = FakeProvider.make({
        baseUrl: "https://api.example.test",
        routes: [],
        fallback: async (request) => {
          await new Promise((resolve) => setTimeout(resolve, 5))
          calls++
          return FakeHttp.fromResponse(
            calls === 1
              ? new Response("{}", { status: 429, headers: { "retry-after": "3" } })
              : new Response(JSON.stringify({ path: request.url.pathname }), { status: 200 })
          )
        }
      })
      const http = yield* pipeline(provider, TestLayers.defaultBudget)
      const start = yield* Clock.currentTimeMillis
      const response = yield* TestLayers.runOnTestClock(http.execute(HttpClientRequest.get("/y")))
      assert.deepStrictEqual(response.body, { path: "/y" })
      assert.deepStrictEqual(provider.requests.map((r) => r.at - start), [0, 3000])
    }))

  it.effect("captureLogs records every level with annotations", () =>
    Effect.gen(function* () {
      const [, logs] = yield* TestLayers.captureLogs(Effect.logDebug("hello").pipe(Effect.annotateLogs({ who: "world" })))
      assert.match(logs.text(), /\[DEBUG\] hello who=world/)
    }))

  it.effect("runOnTestClock gives up on an effect that never finishes", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(TestLayers.runOnTestClock(Effect.sleep(Duration.days(2)), { limit: Duration.hours(1) }))
      assert.isTrue(exit._tag === "Failure")
    }))
})
