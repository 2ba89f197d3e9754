import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Scope } from "effect"
import { Api } from "../src/Api.js"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

/** The app on a temp folder against the simulator. */
const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { sim, baseUrl } = yield* Harness.simulator
  const started = yield* Main.start(Harness.config(dir, baseUrl))
  return { sim, started, api: Harness.client(started.baseUrl) }
})

const raw = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

describe("Api", () => {
  it.scopedLive("requires the API key as a bearer token or x-api-key, except for health", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const none = yield* raw(`${started.baseUrl}/api/connections`)
      assert.strictEqual(none.status, 401)
      assert.include(JSON.parse(none.text).message, "API key")
      const wrong = yield* raw(`${started.baseUrl}/api/connections`, { headers: { authorization: "Bearer nope" } })
      assert.strictEqual(wrong.status, 401)
      const header = yield* raw(`${started.baseUrl}/api/connections`, { headers: { "x-api-key": "test-api-key-0123456789" } })
      assert.strictEqual(header.status, 200)
      assert.strictEqual(header.text, "[]")
      const health = yield* raw(`${started.baseUrl}/api/health`)
      assert.strictEqual(health.status, 200)
    })
  )

  it.scopedLive("serves its OpenAPI description with every group and both security schemes", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const spec = yield* raw(`${started.baseUrl}/api/openapi.json`)
      assert.strictEqual(spec.status, 200)
      const doc = JSON.parse(spec.text) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } }
      for (const path of [
        "/api/connections",
        "/api/connections/verify",
        "/api/connections/{id}/credential",
        "/api/connections/{id}/recheck",
        "/api/connections/{id}/checklist",
        "/api/connections/{id}/snapshots/latest",
        "/api/drift-events",
        "/api/webhooks",
        "/api/webhooks/deliveries",
        "/api/events"
      ]) {
        assert.property(doc.paths, path)
      }
      assert.hasAllKeys(doc.components.securitySchemes, ["bearer", "apiKey"])
      assert.notInclude(spec.text, '"token":{"type":"string"')
    })
  )

  it.scopedLive("answers bad input with a 4xx and a clear message, without echoing a token", () =>
    Effect.gen(function* () {
      const { api, sim, started } = yield* app
      const missing = yield* api.call("POST", "/api/connections", { name: "x" })
      assert.strictEqual(missing.status, 400)
      assert.include(missing.body.message, "token")

      const spaced = `${sim.tokens["scoped"]} extra`
      const malformed = yield* api.call("POST", "/api/connections/verify", { token: spaced })
      assert.strictEqual(malformed.status, 400)
      assert.include(malformed.body.message, "token: expected a non-empty token without spaces")
      assert.notInclude(JSON.stringify(malformed.body), sim.tokens["scoped"] as string)

      // A token sent as the wrong type, or as a bare body, is not quoted back either.
      const asArray = yield* api.call("POST", "/api/connections/verify", { token: [sim.tokens["scoped"]] })
      assert.strictEqual(asArray.status, 400)
      assert.include(asArray.body.message, "token")
      const asText = yield* raw(`${started.baseUrl}/api/connections/verify`, {
        method: "POST",
        headers: { "x-api-key": "test-api-key-0123456789", "content-type": "text/plain" },
        body: sim.tokens["scoped"] as string
      })
      assert.strictEqual(asText.status, 400)
      for (const text of [JSON.stringify(asArray.body), asText.text]) assert.notInclude(text, sim.tokens["scoped"] as string)

      const unknownZone = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["scoped"], zones: ["nope"] })
      assert.strictEqual(unknownZone.status, 400)
      assert.strictEqual(unknownZone.body.message, "zones: the token cannot see nope")

      const interval = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["scoped"], intervalSeconds: 5 })
      assert.strictEqual(interval.status, 400)

      const revoked = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["revoked"] })
      assert.strictEqual(revoked.status, 422)
      assert.include(revoked.body.message, "credential")
      assert.notInclude(JSON.stringify(revoked.body), sim.tokens["revoked"] as string)

      const notFound = yield* api.call("GET", "/api/connections/does-not-exist")
      assert.strictEqual(notFound.status, 404)
      assert.strictEqual(notFound.body._tag, "NotFound")
      assert.include(notFound.body.message, "does-not-exist")

      const cursor = yield* api.call("GET", "/api/drift-events?cursor=garbage")
      assert.strictEqual(cursor.status, 400)
      const limit = yield* api.call("GET", "/api/drift-events?limit=0")
      assert.strictEqual(limit.status, 400)
      const url = yield* api.call("POST", "/api/webhooks", { url: "not a url" })
      assert.strictEqual(url.status, 400)
      assert.include(url.body.message, "url")
      const types = yield* api.call("POST", "/api/webhooks", { url: "https://x.example", eventTypes: ["nope"] })
      assert.strictEqual(types.status, 400)
    })
  )

  it.scopedLive("serves the dashboard at / and unknown API paths as JSON 404s", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const index = yield* raw(`${started.baseUrl}/`)
      assert.strictEqual(index.status, 200)
      assert.include(index.type, "text/html")
      assert.include(index.text, "drift monitor")
      const deep = yield* raw(`${started.baseUrl}/connections/123`)
      assert.include(deep.text, "drift monitor")
      const escape = yield* raw(`${started.baseUrl}/..%2f..%2fpackage.json`)
      assert.notInclude(escape.text, "@plumbline/drift-monitor")
      const api = yield* raw(`${started.baseUrl}/api/nope`, { headers: { "x-api-key": "test-api-key-0123456789" } })
      assert.strictEqual(api.status, 404)
    })
  )

  it.scopedLive("streams snapshot progress and status changes as Server-Sent Events", () =>
    Effect.gen(function* () {
      const { started, api, sim } = yield* app
      const controller = new AbortController()
      yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
      const unauthorized = yield* raw(`${started.baseUrl}/api/stream`)
      assert.strictEqual(unauthorized.status, 401)
      const response = yield* Effect.promise(() =>
        fetch(`${started.baseUrl}/api/stream?access_token=test-api-key-0123456789`, { signal: controller.signal })
      )
      assert.strictEqual(response.headers.get("content-type"), "text/event-stream")
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token: sim.tokens["scoped"] })
      assert.strictEqual(created.status, 201)
      const text = yield* Effect.promise(async () => {
        let text = ""
        const decoder = new TextDecoder()
        while (!text.includes("event: snapshot.finished")) {
          const { done, value } = await reader.read()
          if (done) break
          text += decoder.decode(value)
        }
        return text
      })
      assert.include(text, "event: snapshot.started")
      assert.include(text, "event: progress")
      assert.include(text, '"_tag":"ResourceFinished"')
      assert.include(text, '"outcome":"committed"')
      assert.notInclude(text, sim.tokens["scoped"] as string)
    })
  )

  it.scopedLive("is usable as a typed HttpApiClient (what the CLI builds on)", () =>
    Effect.gen(function* () {
      const { started, sim } = yield* app
      const client = yield* HttpApiClient.make(Api, {
        baseUrl: started.baseUrl,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken("test-api-key-0123456789"))
      })
      const verification = yield* client.connections.verify({ payload: { token: sim.tokens["scoped"] as string } })
      assert.deepStrictEqual(verification.zones.map((z) => z.name), ["redpine.io"])
      const connection = yield* client.connections.create({ payload: { name: "Redpine", token: sim.tokens["scoped"] as string } })
      assert.strictEqual(connection.status, "active")
      const missing = yield* Effect.flip(client.connections.get({ path: { id: "nope" } }))
      assert.strictEqual(missing._tag, "NotFound")
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.live("shuts down at once even with an event stream open", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const { started } = yield* app.pipe(Scope.extend(scope))
      const response = yield* Effect.promise(() => fetch(`${started.baseUrl}/api/stream?access_token=test-api-key-0123456789`))
      assert.strictEqual(response.status, 200)
      const closed = yield* Scope.close(scope, Exit.void).pipe(Effect.disconnect, Effect.timeout(Duration.seconds(5)), Effect.either)
      assert.isTrue(closed._tag === "Right", "the server closed without waiting for the stream's client")
    })
  )
})
