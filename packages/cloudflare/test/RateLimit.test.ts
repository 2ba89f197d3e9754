import { assert, describe, it } from "@effect/vitest"
import { RateLimit } from "../src/index.js"

describe("RateLimit.parseHeaders", () => {
  it("reads Cloudflare's documented Ratelimit and Ratelimit-Policy headers", () => {
    assert.deepStrictEqual(RateLimit.parseHeaders({ ratelimit: '"default";r=50;t=30', "ratelimit-policy": '"default";q=1200;w=300' }), {
      _tag: "Announced",
      announcement: { remaining: 50, resetSeconds: 30, quota: 1200, windowSeconds: 300 }
    })
  })

  it("reads Ratelimit alone, picks the default item of a list, and ignores parameter order", () => {
    assert.deepStrictEqual(RateLimit.parseHeaders({ ratelimit: '"burst";r=1;t=1, "default";t=12;r=7' }), {
      _tag: "Announced",
      announcement: { remaining: 7, resetSeconds: 12 }
    })
  })

  it("reports no announcement when the header is absent", () => {
    assert.deepStrictEqual(RateLimit.parseHeaders({ "x-ratelimit-remaining": "10" }), { _tag: "Absent" })
  })

  it("reports malformed headers instead of guessing", () => {
    const malformed = [
      { ratelimit: "default;r=50;t=30" },
      { ratelimit: '"default";r=-1;t=30' },
      { ratelimit: '"default";r=1.5;t=30' },
      { ratelimit: '"default";r=50' },
      { ratelimit: '"default";r=5;r=6;t=30' },
      { ratelimit: '"burst";r=50;t=30' },
      { ratelimit: '"default";r=50;t=30', "ratelimit-policy": '"default";q=1200' },
      { ratelimit: '"default";r=50;t=400', "ratelimit-policy": '"default";q=1200;w=300' },
      { ratelimit: "" }
    ]
    for (const headers of malformed) assert.strictEqual(RateLimit.parseHeaders(headers)._tag, "Malformed", JSON.stringify(headers))
  })
})
