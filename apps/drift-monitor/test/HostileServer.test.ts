import { request as httpRequest } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Main from "../src/Main.js"
import { dashboardCsp, jsonDepth, maxJsonDepth } from "../src/RequestGuard.js"
import * as Harness from "./fixtures/Harness.js"

const key = "test-api-key-0123456789"

/** The app on a temp folder against the simulator. */
const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { baseUrl } = yield* Harness.simulator
  const started = yield* Main.start(Harness.config(dir, baseUrl))
  return { started, api: Harness.client(started.baseUrl) }
})

const raw = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, headers: response.headers, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

const authed = { authorization: `Bearer ${key}`, "content-type": "application/json" }

/**
 * Streams up to `total` bytes as a chunked body (no content-length), and resolves with the status
 * and how many bytes were written before the server answered or closed the socket.
 */
const chunkedUpload = (baseUrl: string, total: number, onAnswered: () => void) =>
  Effect.async<{ status: number | undefined; written: number; text: string; connection: string | undefined }>((resume) => {
    const url = new URL(`${baseUrl}/api/connections`)
    let written = 0
    let status: number | undefined
    let text = ""
    let connection: string | undefined
    let finished = false
    const done = () => {
      if (finished) return
      finished = true
      resume(Effect.succeed({ status, written, text, connection }))
    }
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: "POST", headers: { ...authed, "transfer-encoding": "chunked" } })
    req.on("response", (res) => {
      status = res.statusCode
      connection = res.headers["connection"]
      onAnswered()
      res.setEncoding("utf8")
      res.on("data", (d: string) => (text += d))
      res.on("end", done)
      res.on("error", done)
    })
    req.on("error", done)
    const chunk = Buffer.alloc(64 * 1024, "[")
    const pump = () => {
      while (written < total && status === undefined && !req.destroyed) {
        written += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
      if (written >= total) req.end()
    }
    pump()
  })

describe("HostileServer", () => {
  it.scopedLive("answers 413 JSON to a body whose content-length is over the limit", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const big = yield* raw(`${started.baseUrl}/api/connections`, { method: "POST", headers: authed, body: "x".repeat(1_048_577) })
      assert.strictEqual(big.status, 413)
      assert.include(big.type, "application/json")
      assert.strictEqual(JSON.parse(big.text)._tag, "PayloadTooLarge")
    })
  )

  it.scopedLive(
    "stops reading a 200 MB chunked upload at the limit, and health answers meanwhile",
    () =>
      Effect.gen(function* () {
        const { started } = yield* app
        const events: Array<string> = []
        const upload = yield* Effect.fork(chunkedUpload(started.baseUrl, 200 * 1024 * 1024, () => events.push("refused")))
        const health = yield* raw(`${started.baseUrl}/api/health`)
        events.push("health")
        const result = yield* upload
        assert.strictEqual(health.status, 200)
        // The server stops keeping the body at the limit and answers: the client reads the 413 JSON
        // (not a closed socket), with Connection: close.
        assert.strictEqual(result.status, 413)
        assert.strictEqual(JSON.parse(result.text)._tag, "PayloadTooLarge")
        assert.strictEqual(result.connection, "close")
        // The server stopped at the limit: the client could push only a little past it, never 200 MB.
        assert.isBelow(result.written, 50 * 1024 * 1024)
        assert.include(events, "health")
      }),
    { timeout: 120_000 }
  )

  it("measures JSON depth outside strings only", () => {
    assert.strictEqual(jsonDepth("[[{}]]"), 3)
    assert.strictEqual(jsonDepth('{"a":"[[[[\\"[["}'), 1)
    assert.strictEqual(jsonDepth("1"), 0)
  })

  it.scopedLive("answers every hostile request with a JSON body, after authentication", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const base = started.baseUrl
      const deep = "[".repeat(5000) + "]".repeat(5000)
      const cases: ReadonlyArray<readonly [string, string, RequestInit, number]> = [
        ["malformed JSON", "/api/connections", { method: "POST", headers: authed, body: "{nope" }, 400],
        ["deep JSON (5,000 levels)", "/api/connections", { method: "POST", headers: authed, body: `{"name":${deep}}` }, 400],
        ["deep JSON on PATCH", "/api/connections/abc", { method: "PATCH", headers: authed, body: deep }, 400],
        ["long id, unauthenticated", `/api/connections/${"a".repeat(500)}`, {}, 401],
        ["long id, authenticated", `/api/connections/${"a".repeat(500)}`, { headers: authed }, 404],
        ["unknown API route", "/api/nothing-here", { headers: authed }, 404],
        ["wrong method", "/api/health", { method: "DELETE", headers: authed }, 405],
        ["decode error", "/api/connections", { method: "POST", headers: authed, body: "{}" }, 400]
      ]
      for (const [label, path, init, status] of cases) {
        const answer = yield* raw(`${base}${path}`, init)
        assert.strictEqual(answer.status, status, `${label}: ${answer.text}`)
        assert.include(answer.type, "application/json", label)
        const body = JSON.parse(answer.text) as { _tag: unknown; message: unknown }
        assert.isString(body._tag, label)
        assert.isString(body.message, label)
        assert.strictEqual(answer.headers.get("x-content-type-options"), "nosniff", label)
      }
      const deepAnswer = yield* raw(`${base}/api/connections`, { method: "POST", headers: authed, body: deep })
      assert.include(JSON.parse(deepAnswer.text).message, `${maxJsonDepth} levels`)
    })
  )

  it.scopedLive("refuses names with control characters, bidi overrides or over 200 characters", () =>
    Effect.gen(function* () {
      const { api } = yield* app
      for (const name of ["a\u0000b", "line\nbreak", "del\u007f", "c1\u0085", "evil\u202Etxt.exe", "iso\u2066x\u2069", "x".repeat(201)]) {
        const answer = yield* api.call("POST", "/api/connections", { name, token: "t".repeat(40) })
        assert.strictEqual(answer.status, 400, JSON.stringify(name))
        assert.include(JSON.stringify(answer.body), "name", JSON.stringify(name))
      }
    })
  )

  it.scopedLive("sends security headers on the dashboard, the API, its errors and the stream", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      for (const path of ["/", "/app.js", "/style.css", "/some/client/route"]) {
        const page = yield* raw(`${started.baseUrl}${path}`)
        assert.strictEqual(page.headers.get("content-security-policy"), dashboardCsp, path)
        assert.strictEqual(page.headers.get("x-content-type-options"), "nosniff", path)
        assert.strictEqual(page.headers.get("referrer-policy"), "no-referrer", path)
        assert.strictEqual(page.headers.get("x-frame-options"), "DENY", path)
      }
      for (const [path, headers] of [["/api/health", {}], ["/api/connections", {}], ["/api/connections", authed]] as const) {
        const answer = yield* raw(`${started.baseUrl}${path}`, { headers })
        assert.strictEqual(answer.headers.get("x-content-type-options"), "nosniff", path)
        assert.strictEqual(answer.headers.get("referrer-policy"), "no-referrer", path)
      }
      const stream = yield* Effect.promise(async () => {
        const controller = new AbortController()
        const response = await fetch(`${started.baseUrl}/api/stream`, { headers: authed, signal: controller.signal })
        const headers = response.headers
        controller.abort()
        return headers
      })
      assert.strictEqual(stream.get("x-content-type-options"), "nosniff")
      assert.strictEqual(stream.get("referrer-policy"), "no-referrer")
    })
  )

  it.scopedLive("answers a known route with the wrong method 405 with Allow and a JSON body", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const put = yield* raw(`${started.baseUrl}/api/connections`, { method: "PUT", headers: authed, body: "{}" })
      assert.strictEqual(put.status, 405)
      assert.strictEqual(put.headers.get("allow"), "GET, HEAD, POST")
      assert.include(put.type, "application/json")
      assert.strictEqual(JSON.parse(put.text)._tag, "MethodNotAllowed")
      const getVerify = yield* raw(`${started.baseUrl}/api/webhooks/deliveries/d1/retry`, { headers: authed })
      assert.strictEqual(getVerify.status, 405)
      assert.strictEqual(getVerify.headers.get("allow"), "POST")
      // An unknown path stays 404, and a known path with a known method but an unknown id too.
      assert.strictEqual((yield* raw(`${started.baseUrl}/api/nothing-here`, { method: "PUT", headers: authed })).status, 404)
      assert.strictEqual((yield* raw(`${started.baseUrl}/api/connections/nope`, { headers: authed })).status, 404)
      // Authentication still comes first.
      assert.strictEqual((yield* raw(`${started.baseUrl}/api/connections`, { method: "PUT" })).status, 401)
    })
  )
})
