/**
 * The hosted connect page's headers (issue #13 item 3): a strict CSP without inline script, framed
 * only by the origins of the session named in `?sid=` — `'none'` without a session, for an unknown,
 * completed or expired one — never a referrer, and nosniff. The page's meta tags tell its script
 * where it may `postMessage` (the allowed origins) and redirect (the return URL), for that session only.
 */
import { assert, describe, it } from "@effect/vitest"
import { Keyring } from "@plumbline/store-sql"
import { Effect } from "effect"
import * as Http from "../src/Http.js"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { sim, baseUrl } = yield* Harness.simulator
  const started = yield* Main.start(Harness.config(dir, baseUrl, Keyring.generate("k1")))
  return { sim, started, api: Harness.client(started.baseUrl) }
})

const endUser = { id: "cus_7" }

/** The page at `path`: its status, headers and HTML. */
const page = (baseUrl: string, path: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`)
    return { status: response.status, headers: response.headers, html: await response.text() }
  })

const frameAncestors = (csp: string | null) => /frame-ancestors ([^;]*)/.exec(csp ?? "")?.[1]

describe("Connect page", () => {
  it.scopedLive("without a session it is framed by nobody: frame-ancestors 'none', no inline script, no referrer, nosniff", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      for (const path of ["/connect", "/connect?sid=cs_unknown", "/connect?sid="]) {
        const { status, headers, html } = yield* page(started.baseUrl, path)
        assert.strictEqual(status, 200, path)
        const csp = headers.get("content-security-policy")
        assert.strictEqual(frameAncestors(csp), "'none'", path)
        assert.include(csp ?? "", "script-src 'self'")
        assert.notInclude(csp ?? "", "unsafe-inline")
        assert.strictEqual(headers.get("referrer-policy"), "no-referrer")
        assert.strictEqual(headers.get("x-content-type-options"), "nosniff")
        assert.strictEqual(headers.get("x-frame-options"), "DENY")
        assert.include(html, 'content="[]"', "no origin to post to")
        assert.include(html, '<script type="module" src="/connect.js">')
      }
    })
  )

  it.scopedLive("a pending session's allowed origins are its frame-ancestors and the page's postMessage targets; once completed, 'none' again", () =>
    Effect.gen(function* () {
      const { api, sim, started } = yield* app
      const allowedOrigins = ["https://app.acme.example", "http://localhost:5173"]
      const created = yield* api.call("POST", "/api/connect-sessions", { endUser, allowedOrigins, returnUrl: "https://app.acme.example/done" })
      assert.strictEqual(created.status, 201)
      const url = new URL(created.body.connectUrl)
      const { headers, html } = yield* page(started.baseUrl, `${url.pathname}${url.search}`)
      assert.strictEqual(frameAncestors(headers.get("content-security-policy")), allowedOrigins.join(" "))
      assert.isNull(headers.get("x-frame-options"), "frame-ancestors decides")
      assert.strictEqual(headers.get("referrer-policy"), "no-referrer")
      assert.include(html, `content="${JSON.stringify(allowedOrigins).replace(/"/g, "&quot;")}"`)
      assert.include(html, 'content="https://app.acme.example/done"')

      const done = yield* Harness.client(started.baseUrl, created.body.token).call("POST", "/connect/api/complete", { tokens: [sim.tokens["scoped"]] })
      assert.strictEqual(done.status, 200, JSON.stringify(done.body))
      const after = yield* page(started.baseUrl, `${url.pathname}${url.search}`)
      assert.strictEqual(frameAncestors(after.headers.get("content-security-policy")), "'none'")
      assert.include(after.html, 'content="[]"')
    })
  )

  it("connectCsp keeps only exact origins and falls back to 'none'", () => {
    assert.strictEqual(frameAncestors(Http.connectCsp([])), "'none'")
    assert.strictEqual(frameAncestors(Http.connectCsp(["https://a.example", "https://b.example:8443"])), "https://a.example https://b.example:8443")
    assert.strictEqual(frameAncestors(Http.connectCsp(["*", "https://a.example/path", "https://x; script-src *"])), "'none'")
  })

  it.scopedLive("the dashboard keeps its own CSP (never framed)", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const { headers } = yield* page(started.baseUrl, "/")
      assert.strictEqual(frameAncestors(headers.get("content-security-policy")), "'none'")
      assert.strictEqual(headers.get("x-frame-options"), "DENY")
    })
  )
})
