import { assert, describe, it } from "@effect/vitest"
import { Duration } from "effect"
import * as RetryPolicy from "../src/RetryPolicy.js"

const now = Date.parse("2026-11-28T12:00:00Z")

describe("RetryPolicy", () => {
  it("retries 408, 409, 429 and 5xx, never 400, 401, 403 or 404", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504, 520, 599]) assert.isTrue(RetryPolicy.isRetryableStatus(status), `${status}`)
    for (const status of [200, 301, 400, 401, 403, 404, 405, 422]) assert.isFalse(RetryPolicy.isRetryableStatus(status), `${status}`)
  })

  it("reads Retry-After in seconds, including fractions", () => {
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "120" }, now), 120_000)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": " 0 " }, now), 0)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "1.5" }, now), 1_500)
  })

  it("reads Retry-After as an HTTP date relative to now, never negative", () => {
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "Sat, 28 Nov 2026 12:00:30 GMT" }, now), 30_000)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "Sat, 28 Nov 2026 11:00:00 GMT" }, now), 0)
  })

  it("prefers retry-after-ms and ignores values it cannot read", () => {
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after-ms": "250.2", "retry-after": "9" }, now), 251)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after-ms": "soon", "retry-after": "9" }, now), 9_000)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "tomorrow-ish" }, now), undefined)
    assert.strictEqual(RetryPolicy.retryAfterMillis({ "retry-after": "-5" }, now), undefined)
    assert.strictEqual(RetryPolicy.retryAfterMillis({}, now), undefined)
  })

  it("backs off exponentially under the cap", () => {
    const policy = RetryPolicy.make({ baseDelay: Duration.millis(100), maxDelay: Duration.seconds(1) })
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 0, 0.999), 99)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 3, 0.5), 400)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 10, 0.999), 999)
    assert.strictEqual(RetryPolicy.backoffMillis(policy, 10, 0), 0)
  })

  it("stops when retries run out, the failure is final, or the wait asked for exceeds the cap", () => {
    const policy = RetryPolicy.make({ maxRetries: 2, maxRetryAfter: Duration.seconds(60) })
    const transient = { reason: "HTTP 503", retryable: true }
    assert.isTrue(RetryPolicy.shouldRetry(policy, transient, 1))
    assert.isFalse(RetryPolicy.shouldRetry(policy, transient, 2))
    assert.isFalse(RetryPolicy.shouldRetry(policy, { reason: "HTTP 404", retryable: false }, 0))
    assert.isTrue(RetryPolicy.shouldRetry(policy, { ...transient, retryAfterMillis: 60_000 }, 0))
    assert.isFalse(RetryPolicy.shouldRetry(policy, { ...transient, retryAfterMillis: 60_001 }, 0))
  })
})
