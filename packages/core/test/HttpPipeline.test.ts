import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Fiber, Layer, Logger, TestClock } from "effect"
import type { ConnectorError } from "../src/ConnectorError.js"
import * as Credential from "../src/Credential.js"
import * as HttpPipeline from "../src/HttpPipeline.js"
import * as RequestBudget from "../src/RequestBudget.js"
import * as FakeHttp from "../src/testing/FakeHttp.js"

const TOKEN = "cfut_secret-token-value-0123456789"
const BASE = "https://api.example.test/client/v4"

/** A budget these tests never exhaust, unless one sets its own. */
const BUDGET: RequestBudget.Limits = { limit: 1000, window: Duration.minutes(1) }

const pipeline = (fake: ReturnType<typeof FakeHttp.make>, options: Partial<HttpPipeline.Options> = {}) =>
  HttpPipeline.make({
    baseUrl: BASE,
    credential: Credential.make("test-token", TOKEN),
    budget: BUDGET,
    requestIdHeader: "cf-ray",
    errorMessages: (body) =>
      typeof body === "object" && body !== null && Array.isArray((body as { errors?: unknown }).errors)
        ? (body as { errors: Array<{ code: number; message: string }> }).errors
        : [],
    ...options
  }).pipe(Effect.provide(Layer.merge(fake.layer, RequestBudget.layer)))

const ok = FakeHttp.json(200, { success: true, result: [] })

/** Captures log lines (message and annotations) while `effect` runs. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>, lines: Array<string>) =>
  effect.pipe(
    Effect.provide(
      Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ annotations, message }) => {
          lines.push(`${String(message)} ${JSON.stringify(Object.fromEntries(annotations))}`)
        })
      )
    )
  )

const failureOf = <A>(exit: Exit.Exit<A, ConnectorError>): ConnectorError => {
  if (Exit.isSuccess(exit)) throw new Error("expected a failure")
  const failure = exit.cause._tag === "Fail" ? exit.cause.error : undefined
  if (failure === undefined) throw new Error(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
  return failure
}

describe("HttpPipeline", () => {
  it.effect("sends the bearer token to the base URL and returns the parsed body", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => ok)
      const http = yield* pipeline(fake)
      const response = yield* http.get("/zones", { page: 2, per_page: 50, "account.id": undefined })
      assert.deepStrictEqual(response.body, { success: true, result: [] })
      assert.strictEqual(fake.requests.length, 1)
      const [request] = fake.requests
      assert.strictEqual(request?.url.toString(), `${BASE}/zones?page=2&per_page=50`)
      assert.strictEqual(request?.headers["authorization"], `Bearer ${TOKEN}`)
    }))

  it.effect("honours Retry-After in seconds exactly", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((_, i) => (i === 0 ? FakeHttp.json(429, {}, { "retry-after": "7" }) : ok))
      const http = yield* pipeline(fake)
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.millis(6_999))
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("honours Retry-After as an HTTP date exactly", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-11-28T12:00:00Z"))
      const fake = FakeHttp.make((_, i) =>
        i === 0 ? FakeHttp.json(503, {}, { "retry-after": "Sat, 28 Nov 2026 12:00:12 GMT" }) : ok
      )
      const http = yield* pipeline(fake)
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.millis(11_999))
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("honours retry-after-ms before Retry-After", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((_, i) =>
        i === 0 ? FakeHttp.json(429, {}, { "retry-after-ms": "1500", "retry-after": "60" }) : ok
      )
      const http = yield* pipeline(fake)
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.millis(1_499))
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("gives up at once when Retry-After exceeds the cap, reporting the wait", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => FakeHttp.json(429, { errors: [{ code: 10000, message: "rate limited" }] }, { "retry-after": "3600" }))
      const http = yield* pipeline(fake, { retry: { maxRetryAfter: Duration.minutes(2) } })
      const error = failureOf(yield* Effect.exit(http.get("/zones")))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(fake.requests.length, 1)
      if (error._tag === "RateLimited") {
        assert.strictEqual(error.retryAfterMillis, 3_600_000)
        assert.strictEqual(error.attempts, 1)
        assert.deepStrictEqual(error.codes.map((c) => c.code), [10000])
      }
    }))

  it.effect("backs off exponentially within the cap and reports status, codes and request id", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() =>
        FakeHttp.json(502, { errors: [{ code: 1015, message: "bad gateway" }] }, { "cf-ray": "8f00aa-LHR" })
      )
      const http = yield* pipeline(fake, {
        retry: { maxRetries: 4, baseDelay: Duration.seconds(1), maxDelay: Duration.seconds(3) }
      })
      const fiber = yield* Effect.fork(http.get("/zones"))
      // Full jitter keeps every wait below min(cap, base·2^n): 1 + 2 + 3 + 3 seconds at most.
      yield* TestClock.adjust(Duration.seconds(9))
      const error = failureOf(yield* Fiber.await(fiber))
      assert.strictEqual(fake.requests.length, 5)
      assert.strictEqual(error._tag, "UpstreamUnavailable")
      if (error._tag === "UpstreamUnavailable") {
        assert.strictEqual(error.status, 502)
        assert.strictEqual(error.attempts, 5)
        assert.strictEqual(error.requestId, "8f00aa-LHR")
        assert.deepStrictEqual(error.codes.map((c) => c.code), [1015])
      }
    }))

  for (const status of [400, 401, 403, 404]) {
    it.effect(`never retries HTTP ${status}`, () =>
      Effect.gen(function* () {
        const fake = FakeHttp.make(() => FakeHttp.json(status, { errors: [{ code: 9000 + status, message: "no" }] }))
        const http = yield* pipeline(fake)
        const error = failureOf(yield* Effect.exit(http.get("/zones/abc")))
        assert.strictEqual(fake.requests.length, 1)
        const expected = status === 401 ? "CredentialInvalid" : status === 403 ? "PermissionMissing" : "RequestRejected"
        assert.strictEqual(error._tag, expected)
        assert.include(JSON.stringify(error), String(9000 + status))
      }))
  }

  it.effect("retries 408 and 409 and transport failures, then succeeds", () =>
    Effect.gen(function* () {
      const answers: Array<FakeHttp.Answer> = [FakeHttp.json(408, {}), FakeHttp.json(409, {}), { transport: true }, ok]
      const fake = FakeHttp.make((_, i) => answers[i] ?? ok)
      const http = yield* pipeline(fake)
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.requests.length, 4)
    }))

  it.effect("times out a hanging request and retries it", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((_, i) => (i === 0 ? { hang: true } : ok))
      const http = yield* pipeline(fake, { timeout: Duration.seconds(10) })
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.seconds(9))
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* Fiber.join(fiber)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.live("times out a hanging request on the live clock too, and retries it", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((_, i) => (i === 0 ? { hang: true } : ok))
      const http = yield* pipeline(fake, { timeout: Duration.millis(50), retry: { baseDelay: Duration.millis(1) } })
      const answer = yield* http.get("/zones")
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("retries a malformed body and names it when retries run out", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => ({ status: 200, text: '{"success":true,"result":[{"id":' }))
      const http = yield* pipeline(fake, { retry: { maxRetries: 2 } })
      const fiber = yield* Effect.fork(http.get("/zones"))
      yield* TestClock.adjust(Duration.minutes(5))
      const error = failureOf(yield* Fiber.await(fiber))
      assert.strictEqual(fake.requests.length, 3)
      assert.strictEqual(error._tag, "UpstreamUnavailable")
      assert.strictEqual(error._tag === "UpstreamUnavailable" && error.reason, "malformed-body")
    }))

  it.effect("describes an HTML error page from the edge", () =>
    Effect.gen(function* () {
      const html = "<!DOCTYPE html><html><head><title>502 Bad Gateway | example</title></head><body>oops</body></html>"
      const fake = FakeHttp.make(() => ({ status: 502, text: html, headers: { "content-type": "text/html" } }))
      const http = yield* pipeline(fake, { retry: { maxRetries: 0 } })
      const error = failureOf(yield* Effect.exit(http.get("/zones")))
      assert.include(error.message, "HTML error page: 502 Bad Gateway")
    }))

  it.effect("logs every retry with its reason", () =>
    Effect.gen(function* () {
      const lines: Array<string> = []
      const answers: Array<FakeHttp.Answer> = [FakeHttp.json(503, {}), FakeHttp.json(429, {}, { "retry-after": "2" }), ok]
      const fake = FakeHttp.make((_, i) => answers[i] ?? ok)
      const http = yield* pipeline(fake)
      const fiber = yield* Effect.fork(captureLogs(http.get("/zones"), lines))
      yield* TestClock.adjust(Duration.minutes(1))
      yield* Fiber.join(fiber)
      assert.strictEqual(lines.length, 2)
      assert.include(lines[0], "Retrying GET /client/v4/zones after HTTP 503")
      assert.include(lines[1], "after HTTP 429")
      assert.include(lines[1], '"waitMillis":2000')
      for (const line of lines) assert.notInclude(line, TOKEN)
    }))

  it.effect("does not carry the token to another host on a redirect", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((request) =>
        request.url.host === "api.example.test"
          ? { status: 302, headers: { location: "https://collector.attacker.test/steal" } }
          : ok
      )
      const http = yield* pipeline(fake)
      const error = failureOf(yield* Effect.exit(http.get("/zones")))
      assert.strictEqual(error._tag, "RequestRejected")
      assert.strictEqual(error._tag === "RequestRejected" && error.reason, "cross-host-redirect")
      assert.deepStrictEqual(
        fake.requests.map((r) => r.url.host),
        ["api.example.test"]
      )
      assert.notInclude(JSON.stringify(error), TOKEN)
      assert.notInclude(error.message, TOKEN)
    }))

  it.effect("follows a redirect on the same host with the token", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((request) =>
        request.url.pathname.endsWith("/old") ? { status: 301, headers: { location: "/client/v4/new" } } : ok
      )
      const http = yield* pipeline(fake)
      yield* http.get("/old")
      assert.deepStrictEqual(
        fake.requests.map((r) => [r.url.pathname, r.headers["authorization"]]),
        [
          ["/client/v4/old", `Bearer ${TOKEN}`],
          ["/client/v4/new", `Bearer ${TOKEN}`]
        ]
      )
    }))

  it.effect("refuses an absolute URL on another host without sending anything", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => ok)
      const http = yield* pipeline(fake)
      const error = failureOf(yield* Effect.exit(http.execute(HttpClientRequest.get("https://elsewhere.test/zones"))))
      assert.strictEqual(error._tag === "RequestRejected" && error.reason, "cross-host-request")
      assert.strictEqual(fake.requests.length, 0)
    }))

  it.effect("the read-only guard refuses undeclared writes and lets declared ones through", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => ok)
      const http = yield* pipeline(fake, { writes: [{ method: "POST", path: /^\/graphql$/ }] })
      for (const method of ["POST", "PUT", "PATCH", "DELETE"] as const) {
        const error = failureOf(yield* Effect.exit(http.execute(HttpClientRequest.make(method)("/zones"))))
        assert.strictEqual(error._tag === "RequestRejected" && error.reason, "write-not-declared")
      }
      assert.strictEqual(fake.requests.length, 0)
      yield* http.execute(HttpClientRequest.post("/graphql"))
      yield* http.execute(HttpClientRequest.head("/zones"))
      assert.deepStrictEqual(fake.requests.map((r) => r.method), ["POST", "HEAD"])
    }))

  it.effect("a 429 pauses every fibre that shares the credential", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((request, i) =>
        i === 0 && request.url.pathname.endsWith("/first") ? FakeHttp.json(429, {}, { "retry-after": "30" }) : ok
      )
      const http = yield* pipeline(fake)
      const first = yield* Effect.fork(http.get("/first"))
      yield* TestClock.adjust(Duration.millis(10))
      const second = yield* Effect.fork(http.get("/second"))
      yield* TestClock.adjust(Duration.seconds(29))
      assert.deepStrictEqual(fake.requests.map((r) => r.url.pathname), ["/client/v4/first"])
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      assert.strictEqual(fake.requests.length, 3)
    }))

  it.effect("keeps to the budget the connector declares: a third request waits out the window", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => ok)
      const http = yield* pipeline(fake, { budget: { limit: 2, window: Duration.minutes(1) } })
      const sent = yield* Effect.fork(Effect.all([http.get("/a"), http.get("/b"), http.get("/c")], { concurrency: "unbounded" }))
      yield* TestClock.adjust(Duration.seconds(59))
      assert.strictEqual(fake.requests.length, 2)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(sent)
      assert.deepStrictEqual(fake.requests.map((r) => r.at), [0, 0, 60_000])
    }))

  it("has no default budget: a connector must state its provider's limits", () => {
    const options = { baseUrl: BASE, credential: Credential.make("test-token", TOKEN) }
    // @ts-expect-error `budget` is required; core knows no provider and so no default limits.
    const withoutBudget: HttpPipeline.Options = options
    assert.isUndefined(withoutBudget.budget)
  })

  it.effect("never puts the token in an error", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => FakeHttp.json(401, { errors: [{ code: 9109, message: "Invalid access token" }] }))
      const http = yield* pipeline(fake)
      const error = failureOf(yield* Effect.exit(http.get("/user/tokens/verify")))
      assert.strictEqual(error._tag, "CredentialInvalid")
      assert.notInclude(JSON.stringify(error), TOKEN)
      assert.notInclude(error.message, TOKEN)
      assert.notInclude(String(error), TOKEN)
    }))

  it.effect("a Retry-After beyond the cap pauses the credential only up to the cap", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make((request) =>
        request.url.pathname.endsWith("/first") ? FakeHttp.json(429, {}, { "retry-after": "86400" }) : ok
      )
      const http = yield* pipeline(fake, { retry: { maxRetryAfter: Duration.minutes(2) } })
      const error = failureOf(yield* Effect.exit(http.get("/first")))
      assert.strictEqual(error._tag === "RateLimited" && error.retryAfterMillis, 86_400_000)
      const next = yield* Effect.fork(http.get("/second"))
      yield* TestClock.adjust(Duration.millis(119_999))
      assert.strictEqual(fake.requests.length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      yield* Fiber.join(next)
      assert.strictEqual(fake.requests.length, 2)
    }))

  it.effect("a 5xx asking for a wait beyond the cap fails at once, carrying the wait", () =>
    Effect.gen(function* () {
      const fake = FakeHttp.make(() => FakeHttp.json(503, {}, { "retry-after": "3600" }))
      const http = yield* pipeline(fake)
      const error = failureOf(yield* Effect.exit(http.get("/zones")))
      assert.strictEqual(fake.requests.length, 1)
      assert.strictEqual(error._tag === "UpstreamUnavailable" && error.retryAfterMillis, 3_600_000)
    }))

  it.effect("counts attempts afresh each time the same request is run", () =>
    Effect.gen(function* () {
      const flaky = FakeHttp.make(() => FakeHttp.json(502, {}))
      const again = (yield* pipeline(flaky, { retry: { maxRetries: 1 } })).get("/x")
      for (let run = 0; run < 2; run++) {
        const f = yield* Effect.fork(Effect.exit(again))
        yield* TestClock.adjust(Duration.minutes(1))
        const error = failureOf(yield* Fiber.join(f))
        assert.strictEqual(error._tag === "UpstreamUnavailable" && error.attempts, 2)
      }
    }))
})
