/**
 * The hosted connect flow in a real browser (issue #13 item 7), started from the sample product's
 * page as a product's customer would: the product's backend opens a connect session with its API
 * key, its page opens Plumbline's hosted page in a popup, the customer pastes their Cloudflare token
 * there, picks zones, and the product's page receives the connection id by `postMessage` while its
 * backend receives the signed `connection.created` webhook. The product's server records every
 * request it gets, and the test checks that none of them — line, headers or body — contains the
 * customer's token. Then the token is revoked, the connection goes `credential_expired`, and a
 * reconnect session restores it (`connection.restored`). Finally the same product page served from
 * an origin the session does not allow gets no message at all. A third test frames the hosted page
 * in an iframe (issue #13 item 3): at an allowed origin, two per-zone tokens pasted there make one
 * connection and the parent page is told its id; at another origin the page cannot be framed at all.
 *
 * Chromium is `CHROMIUM_PATH` or `/usr/bin/chromium`; skipped without it, failing under `CI=true`.
 */
import { mkdirSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Keyring } from "@plumbline/store-sql"
import { Effect, Exit } from "effect"
import type { BrowserContext, Page } from "playwright-core"
import * as Main from "../src/Main.js"
import * as SampleProduct from "../src/sample/SampleProduct.js"
import * as Chromium from "./fixtures/Chromium.js"
import * as Harness from "./fixtures/Harness.js"

const apiKey = "test-api-key-0123456789"

/** The messages the product page logged (`<type> from <origin>`). */
const messages = (page: Page) => Chromium.step(() => page.getByTestId("messages").locator("li").allTextContents())

/** Waits until the product page logged `count` messages of `type`. */
const messageCount = (page: Page, type: string, count: number) =>
  Chromium.step(() =>
    page.waitForFunction(
      ([t, n]) => Array.from(document.querySelectorAll("[data-testid=messages] li")).filter((li) => (li.textContent ?? "").startsWith(`${t} from`)).length >= Number(n),
      [type, String(count)],
      { timeout: 0 }
    )
  )

/**
 * Clicks `button` on the product page, then, in the popup it opens, pastes `token`, verifies, keeps
 * the zones ticked and connects. Returns the popup (which the product page may already have closed).
 */
const connectThroughPopup = (context: BrowserContext, page: Page, button: string, token: string, name: string) =>
  Effect.gen(function* () {
    const opened = context.waitForEvent("page", { timeout: 0 })
    yield* Chromium.step(() => page.getByTestId(button).click())
    const popup = yield* Chromium.step(() => opened)
    popup.setDefaultTimeout(0)
    yield* Chromium.step(() => popup.getByTestId("permissions-step").waitFor())
    const href = yield* Chromium.step(() => popup.evaluate(() => location.href))
    assert.notInclude(href, "#", "the session token is taken out of the address bar")
    assert.include(href, "/connect?sid=")
    const template = yield* Chromium.step(() => popup.getByTestId("token-template").getAttribute("href"))
    assert.match(template ?? "", /^https:\/\/dash\.cloudflare\.com\/profile\/api-tokens\?permissionGroupKeys=/)
    yield* Chromium.step(() => popup.screenshot({ path: join(Chromium.screenshots, `connect-${name}-1-permissions.png`), fullPage: true }))
    yield* Chromium.step(() => popup.getByTestId("token-input").first().fill(token))
    yield* Chromium.step(() => popup.getByTestId("verify").click())
    yield* Chromium.step(() => popup.getByTestId("zones").waitFor())
    assert.strictEqual(yield* Chromium.step(() => popup.getByTestId("token-input").first().inputValue()), "", "the field is emptied once sent")
    assert.notInclude(yield* Chromium.step(() => popup.content()), token, "the page never shows the token")
    const zones = yield* Chromium.step(() => popup.getByTestId("zone-checkbox").evaluateAll((boxes) => boxes.map((b) => b.getAttribute("data-zone"))))
    assert.include(zones, "redpine.io")
    yield* Chromium.step(() => popup.screenshot({ path: join(Chromium.screenshots, `connect-${name}-2-verified.png`), fullPage: true }))
    yield* Chromium.step(() => popup.getByTestId("complete").click())
    return popup
  })

/** Every request the product's server got, as one searchable text per request. */
const recorded = (product: SampleProduct.SampleProduct) =>
  product.requests.map((r) => `${r.method} ${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`)

describe("Connect flow", () => {
  if (!Chromium.requiredUnderCi()) return

  it.live.skipIf(!Chromium.available)(
    "from the sample product: connect in the hosted page, id by postMessage, signed webhook, no token ever reaches the product; revoke, reconnect, restored; a disallowed origin gets nothing",
    () =>
      Effect.gen(function* () {
        mkdirSync(Chromium.screenshots, { recursive: true })
        const dir = yield* Harness.tempDir
        const { sim, baseUrl: simUrl, origin: simOrigin } = yield* Harness.simulator
        const product = yield* SampleProduct.start()
        const config = Harness.config(dir, simUrl, Keyring.generate("k1"), [product.hostPort])
        const started = yield* Main.start(config)
        yield* product.attach({ baseUrl: started.baseUrl, apiKey })
        const scoped = sim.tokens["scoped"] as string
        const account = sim.tokens["account"] as string

        const chrome = yield* Chromium.browser
        const context = yield* Effect.acquireRelease(
          Chromium.step(() => chrome.newContext({ viewport: { width: 1000, height: 900 } })),
          (c) => Effect.promise(() => c.close())
        )
        // Every wait is for something a page shows or a webhook that arrives; the test's timeout bounds them.
        context.setDefaultTimeout(0)
        const page = yield* Chromium.step(() => context.newPage())
        yield* Effect.addFinalizer((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.promise(() => page.screenshot({ path: join(Chromium.screenshots, "connect-99-failure.png"), fullPage: true, timeout: 10_000 })).pipe(Effect.ignore)
        )
        const pageErrors: Array<string> = []
        context.on("weberror", (e) => pageErrors.push(e.error().message))

        // ---- connect
        yield* Chromium.step(() => page.goto(product.url))
        yield* connectThroughPopup(context, page, "connect", scoped, "new")
        yield* messageCount(page, "plumbline:connected", 1)
        const connectionId = (yield* Chromium.step(() => page.getByTestId("connection-id").textContent())) ?? ""
        assert.isNotEmpty(connectionId)
        const created = yield* product.until((w) => w.type === "connection.created" && w.data["connectionId"] === connectionId)
        assert.isTrue(created.verified, "the product verified the Standard Webhooks signature")
        assert.deepStrictEqual(created.data["endUser"], { ...SampleProduct.endUser })
        assert.deepStrictEqual((created.data["zones"] as Array<{ name: string }>).map((z) => z.name), ["redpine.io"])
        yield* Chromium.step(() => page.screenshot({ path: join(Chromium.screenshots, "connect-new-3-product.png"), fullPage: true }))

        // ---- revoked, then reconnected through a new session
        yield* Chromium.step(() => fetch(`${simOrigin}/__admin/tokens/scoped/revoke`, { method: "POST" }))
        const api = Harness.client(started.baseUrl)
        const recheck = yield* api.call("POST", `/api/connections/${connectionId}/recheck?wait=true`)
        assert.strictEqual(recheck.body.outcome, "credential_expired")
        yield* product.until((w) => w.type === "connection.credential_expired" && w.data["connectionId"] === connectionId)
        yield* connectThroughPopup(context, page, "reconnect", account, "reconnect")
        yield* messageCount(page, "plumbline:connected", 2)
        assert.strictEqual(yield* Chromium.step(() => page.getByTestId("connection-id").textContent()), connectionId, "the same connection")
        const restored = yield* product.until((w) => w.type === "connection.restored" && w.data["connectionId"] === connectionId)
        assert.isTrue(restored.verified)
        assert.strictEqual((yield* api.call("GET", `/api/connections/${connectionId}`)).body.status, "active")

        // ---- nothing the product received carries a customer token
        const requests = recorded(product)
        assert.isAbove(requests.length, 5, "the product's page and backend were used")
        assert.isTrue(requests.some((r) => r.startsWith("POST /webhooks")), "webhooks are recorded too")
        for (const token of [scoped, account]) {
          assert.isEmpty(requests.filter((r) => r.includes(token)), "no request reaching the product contains the customer's token")
        }

        // ---- the same product page on an origin the session does not allow gets no message
        const other = yield* Chromium.step(() => context.newPage())
        yield* Chromium.step(() => other.goto(product.url.replace("127.0.0.1", "localhost")))
        const popup = yield* connectThroughPopup(context, other, "connect", account, "disallowed")
        yield* Chromium.step(() => popup.getByTestId("done").waitFor())
        // Messages from one window are delivered in order: once this one arrives, any earlier one has.
        yield* Chromium.step(() => popup.evaluate(() => (window.opener as Window).postMessage({ type: "sentinel" }, "*")))
        yield* messageCount(other, "sentinel", 1)
        assert.deepStrictEqual(
          (yield* messages(other)).filter((m) => m.startsWith("plumbline:connected")),
          [],
          "a page at a disallowed origin is told nothing"
        )
        assert.isEmpty(recorded(product).filter((r) => r.includes(account) || r.includes(scoped)))
        assert.deepStrictEqual(pageErrors, [])
      }).pipe(Effect.scoped),
    { timeout: 300_000 }
  )

  it.live.skipIf(!Chromium.available)(
    "opened without a window to tell, the page sends the browser to returnUrl?connection_id= with no Referer",
    () =>
      Effect.gen(function* () {
        const dir = yield* Harness.tempDir
        const { sim, baseUrl: simUrl } = yield* Harness.simulator
        const product = yield* SampleProduct.start()
        const started = yield* Main.start(Harness.config(dir, simUrl, Keyring.generate("k1"), [product.hostPort]))
        yield* product.attach({ baseUrl: started.baseUrl, apiKey })
        const session = yield* Chromium.step(async () => (await fetch(`${product.url}api/connect-session`, { method: "POST" })).json() as Promise<{ connectUrl: string }>)
        const chrome = yield* Chromium.browser
        const context = yield* Effect.acquireRelease(Chromium.step(() => chrome.newContext()), (c) => Effect.promise(() => c.close()))
        context.setDefaultTimeout(0)
        const page = yield* Chromium.step(() => context.newPage())
        yield* Chromium.step(() => page.goto(session.connectUrl))
        yield* Chromium.step(() => page.getByTestId("token-input").first().fill(sim.tokens["scoped"] as string))
        yield* Chromium.step(() => page.getByTestId("verify").click())
        yield* Chromium.step(() => page.getByTestId("complete").click())
        yield* Chromium.step(() => page.waitForURL((url) => url.pathname === "/returned", { timeout: 0 }))
        const connectionId = new URL(page.url()).searchParams.get("connection_id") ?? ""
        assert.isNotEmpty(connectionId)
        yield* product.until((w) => w.type === "connection.created" && w.data["connectionId"] === connectionId)
        const returned = product.requests.find((r) => r.url.startsWith("/returned"))
        assert.isDefined(returned)
        assert.isUndefined(returned?.headers["referer"], "the connect page sends no Referer")
        assert.isEmpty(recorded(product).filter((r) => r.includes(sim.tokens["scoped"] as string)))
      }).pipe(Effect.scoped),
    { timeout: 300_000 }
  )

  it.live.skipIf(!Chromium.available)(
    "in an iframe at an allowed origin, two per-zone tokens make one connection and the parent is told; at another origin the page is not framed",
    () =>
      Effect.gen(function* () {
        const dir = yield* Harness.tempDir
        // The scenario's `scoped` token reads redpine.io only; this one reads redpine.dev only.
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        const dev = sim.state.zones.find((z) => z.name === "redpine.dev")!
        const devToken = `cfut_frame${"7".repeat(35)}`
        sim.state.tokens.push({
          name: "devScoped",
          id: "7".repeat(32),
          value: devToken,
          owner: { kind: "user" },
          status: "active",
          policies: [{ permissionGroups: ["Zone Read", "Firewall Services Read"], resource: { kind: "zones", zoneIds: [dev.id] } }]
        })
        const scoped = sim.tokens["scoped"] as string
        const running = yield* Effect.acquireRelease(
          Chromium.step(() => serve(sim, { port: 0 })),
          (r) => Effect.promise(() => r.close())
        )
        // A product page that frames the connect URL of its query and lists the messages it is told.
        const parent = createServer((req, res) => {
          const src = new URL(req.url ?? "/", "http://parent").searchParams.get("src") ?? ""
          res.writeHead(200, { "content-type": "text/html; charset=utf-8" })
          res.end(`<!doctype html><ul data-testid="messages"></ul><p data-testid="frame-state">loading</p>
<iframe src="${src.replace(/"/g, "&quot;")}" width="900" height="700" onload="document.querySelector('[data-testid=frame-state]').textContent = 'loaded'"></iframe>
<script>addEventListener("message", (e) => { const li = document.createElement("li"); li.textContent = e.data.type + " from " + e.origin + " " + e.data.connectionId; document.querySelector("[data-testid=messages]").append(li) })</script>`)
        })
        yield* Effect.acquireRelease(
          Effect.async<void>((resume) => void parent.listen(0, "127.0.0.1", () => resume(Effect.void))),
          () => Effect.async<void>((resume) => void parent.close(() => resume(Effect.void)))
        )
        const port = (parent.address() as AddressInfo).port
        const allowed = `http://127.0.0.1:${port}`
        const started = yield* Main.start(Harness.config(dir, running.baseUrl))
        const api = Harness.client(started.baseUrl)
        const openSession = Effect.map(
          api.call("POST", "/api/connect-sessions", { endUser: { id: "cus_frame" }, allowedOrigins: [allowed] }),
          (r) => r.body.connectUrl as string
        )

        const chrome = yield* Chromium.browser
        const context = yield* Effect.acquireRelease(Chromium.step(() => chrome.newContext()), (c) => Effect.promise(() => c.close()))
        context.setDefaultTimeout(0)
        const page = yield* Chromium.step(() => context.newPage())
        yield* Chromium.step(async () => page.goto(`${allowed}/?src=${encodeURIComponent(await Effect.runPromise(openSession))}`))
        const frame = page.frameLocator("iframe")
        yield* Chromium.step(() => frame.getByTestId("permissions-step").waitFor())
        yield* Chromium.step(() => frame.getByTestId("add-token").click())
        yield* Chromium.step(() => frame.getByTestId("token-input").nth(0).fill(scoped))
        yield* Chromium.step(() => frame.getByTestId("token-input").nth(1).fill(devToken))
        yield* Chromium.step(() => frame.getByTestId("verify").click())
        yield* Chromium.step(() => frame.getByTestId("zones").waitFor())
        const zones = yield* Chromium.step(() => frame.getByTestId("zone-checkbox").evaluateAll((boxes) => boxes.map((b) => b.getAttribute("data-zone"))))
        assert.deepStrictEqual([...new Set(zones)].sort(), ["redpine.dev", "redpine.io"])
        yield* Chromium.step(() => frame.getByTestId("complete").click())
        yield* messageCount(page, "plumbline:connected", 1)
        const told = yield* messages(page)
        const connectionId = (yield* Chromium.step(() => frame.getByTestId("connection-id").textContent())) ?? ""
        assert.deepStrictEqual(told, [`plumbline:connected from ${started.baseUrl} ${connectionId}`])
        const view = (yield* api.call("GET", `/api/connections/${connectionId}`)).body
        assert.deepStrictEqual(
          view.credentials.map((c: { zones: Array<string> }) => c.zones),
          [[sim.state.zones.find((z) => z.name === "redpine.io")!.id], [dev.id]]
        )

        // The same parent page at an origin the session does not allow: the browser refuses to frame it.
        const other = yield* Chromium.step(() => context.newPage())
        yield* Chromium.step(async () => other.goto(`http://localhost:${port}/?src=${encodeURIComponent(await Effect.runPromise(openSession))}`))
        yield* Chromium.step(() => other.waitForFunction(() => document.querySelector("[data-testid=frame-state]")?.textContent === "loaded", undefined, { timeout: 0 }))
        const framed = other.frames().filter((f) => f !== other.mainFrame())
        for (const f of framed) assert.strictEqual(yield* Chromium.step(() => f.locator("[data-testid=permissions-step]").count()), 0)
        assert.deepStrictEqual(yield* messages(other), [])
      }).pipe(Effect.scoped),
    { timeout: 300_000 }
  )
})
