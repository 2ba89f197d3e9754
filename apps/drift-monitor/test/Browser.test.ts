/**
 * The onboarding story in a real browser: Debian's Chromium, driven by playwright-core, against the
 * app's own server and dashboard, with the Cloudflare simulator as the customer's account.
 *
 * Chromium is `CHROMIUM_PATH` or `/usr/bin/chromium` (`.ci/run` installs Debian's package). Without
 * it the test is skipped on a developer machine and fails under `CI=true`. Screenshots of every
 * step are kept in `test-results/screenshots/`.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { createServer } from "node:http"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import type { Page } from "playwright-core"
import * as Events from "../src/Events.js"
import * as Http from "../src/Http.js"
import * as Main from "../src/Main.js"
import * as Chromium from "./fixtures/Chromium.js"
import * as Harness from "./fixtures/Harness.js"

const LOGIN = "cloudflare.waf.login-rate-limited"
const WAF_ACTIVE = "cloudflare.waf.custom-rules-active"
const EXPRESSION = '(http.request.uri.path eq "/login" and http.request.method eq "POST")'

const shot = (page: Page, name: string) => Chromium.step(() => page.screenshot({ path: join(Chromium.screenshots, `${name}.png`), fullPage: true }))

/** The checklist row of one check on one zone. */
const item = (page: Page, checkId: string, zone = "redpine.io") =>
  page.getByTestId(`zone-checklist-${zone}`).locator(`[data-testid="check-item"][data-check="${checkId}"]`)

describe("Browser", () => {
  if (!Chromium.requiredUnderCi()) return

  it.live.skipIf(!Chromium.available)(
    "plays the onboarding story: connect, audit, fix in the account, re-check green, revoke, restart — nothing lost",
    () =>
      Effect.gen(function* () {
        mkdirSync(Chromium.screenshots, { recursive: true })
        const dir = yield* Harness.tempDir
        const { sim, baseUrl: simUrl, origin } = yield* Harness.simulator
        const config = Harness.config(dir, simUrl)
        const apiKey = "test-api-key-0123456789"
        const chrome = yield* Chromium.browser
        const context = yield* Effect.acquireRelease(
          Chromium.step(() => chrome.newContext({ viewport: { width: 1200, height: 900 } })),
          (c) => Effect.promise(() => c.close())
        )
        yield* Chromium.step(() => context.grantPermissions(["clipboard-read", "clipboard-write"]))
        const page = yield* Chromium.step(() => context.newPage())
        // Every wait below is for something the page shows; none has a deadline of its own (a loaded
        // machine is slow, not wrong): the test's timeout bounds them, and a failure leaves a screenshot.
        page.setDefaultTimeout(0)
        yield* Effect.addFinalizer((exit) =>
          Exit.isSuccess(exit)
            ? Effect.void
            : Effect.promise(() => page.screenshot({ path: join(Chromium.screenshots, "99-failure.png"), fullPage: true, timeout: 10_000 })).pipe(
                Effect.ignore
              )
        )
        const pageErrors: Array<string> = []
        page.on("pageerror", (e) => pageErrors.push(e.message))

        // ---- the app, first run
        const scope = yield* Scope.make()
        const started = yield* Main.start(config).pipe(Scope.extend(scope))
        yield* Chromium.step(() => page.goto(`${started.baseUrl}/#key=${apiKey}`))
        yield* Chromium.step(() => page.getByTestId("connections").waitFor())
        assert.notInclude(page.url(), apiKey, "the key is taken out of the address bar")

        // The wizard: paste the token scoped to redpine.io, verify, see what is granted and missing.
        yield* Chromium.step(() => page.getByTestId("new-connection").click())
        yield* Chromium.step(() => page.getByTestId("wizard-token").fill(sim.tokens["scoped"] as string))
        yield* Chromium.step(() => page.getByTestId("wizard-verify").click())
        yield* Chromium.step(() => page.getByTestId("zones").waitFor())
        const zoneNames = yield* Chromium.step(() => page.getByTestId("zones").locator("li label").allTextContents())
        assert.deepStrictEqual(zoneNames.map((z) => z.trim()), ["redpine.io"])
        const missing = yield* Chromium.step(() => page.getByTestId("missing-permissions").locator("li").allTextContents())
        assert.include(missing, "DNS Read")
        assert.include(missing, "Zone Settings Read")
        yield* shot(page, "01-wizard-verified")
        yield* Chromium.step(() => page.getByTestId("wizard-create").click())

        // The first snapshot runs at once; the audit appears when it finishes.
        yield* Chromium.step(() => page.getByTestId("connection").waitFor())
        yield* Chromium.step(() => item(page, LOGIN).waitFor())
        assert.strictEqual(yield* Chromium.step(() => page.getByTestId("connection-status").textContent()), "active")
        assert.strictEqual(yield* Chromium.step(() => item(page, WAF_ACTIVE).getAttribute("data-status")), "pass")
        assert.strictEqual(yield* Chromium.step(() => item(page, LOGIN).getAttribute("data-status")), "fail")
        const shown = yield* Chromium.step(() => item(page, LOGIN).getByTestId("remediation-expression").textContent())
        assert.strictEqual(shown, EXPRESSION)
        const scoreBefore = Number(yield* Chromium.step(() => page.getByTestId("score").textContent()))
        yield* shot(page, "02-audit-login-unprotected")

        // The copy button puts exactly that expression on the clipboard.
        yield* Chromium.step(() => item(page, LOGIN).getByTestId("copy-expression").click())
        yield* Chromium.step(() => item(page, LOGIN).getByText("Copied").waitFor())
        const copied = yield* Chromium.step(() => page.evaluate<string>("navigator.clipboard.readText()"))
        assert.strictEqual(copied, EXPRESSION)

        // The customer adds the rule in their own dashboard: the request the checklist shows, with the
        // copied expression, sent with the customer's own token.
        const summary = yield* Chromium.step(() => item(page, LOGIN).locator("[data-testid=remediation] details summary").textContent())
        const body = yield* Chromium.step(() => item(page, LOGIN).locator("[data-testid=remediation] details pre").textContent())
        const [method, path] = (summary ?? "").split(" ") as [string, string]
        const rule = JSON.parse(body ?? "null") as { expression?: string }
        assert.strictEqual(rule.expression, copied)
        const added = yield* Chromium.step(() =>
          fetch(`${simUrl}${path}`, {
            method,
            headers: { authorization: `Bearer ${sim.tokens["customer"]}`, "content-type": "application/json" },
            body: JSON.stringify(rule)
          })
        )
        assert.strictEqual(added.status, 200)

        // Re-check now turns the item green and the drift timeline shows the new rule.
        yield* Chromium.step(() => page.getByTestId("recheck").click())
        yield* Chromium.step(() => page.locator(`[data-testid="check-item"][data-check="${LOGIN}"][data-status="pass"]`).waitFor())
        assert.isAbove(Number(yield* Chromium.step(() => page.getByTestId("score").textContent())), scoreBefore)
        const driftEvents = yield* Chromium.step(() => page.getByTestId("drift-event").allTextContents())
        assert.isTrue(driftEvents.some((e) => e.startsWith("added rate_limit_rules")), driftEvents.join("\n"))
        yield* shot(page, "03-recheck-green")

        // The customer revokes the token: the next check shows the credential-expired alert.
        const revoked = yield* Chromium.step(() => fetch(`${origin}/__admin/tokens/scoped/revoke`, { method: "POST" }))
        assert.strictEqual(revoked.status, 200)
        yield* Chromium.step(() => page.getByTestId("recheck").click())
        yield* Chromium.step(() => page.getByTestId("credential-expired-alert").waitFor())
        assert.strictEqual(yield* Chromium.step(() => page.getByTestId("connection-status").textContent()), "credential_expired")
        const connectionUrl = new URL(page.url()).hash
        yield* shot(page, "04-credential-expired")
        yield* Scope.close(scope, Exit.void)

        // ---- the app restarts on the same data folder: nothing is lost.
        const scope2 = yield* Scope.make()
        // Main.layer, with the services kept in the output: the test publishes a stream event below.
        const services = yield* Layer.build(
          Http.layer(config).pipe(
            Layer.provideMerge(Main.layerServices(config)),
            Layer.provideMerge(NodeHttpServer.layer(createServer, { port: config.port, host: config.host }))
          )
        ).pipe(Scope.extend(scope2))
        const address = Context.get(services, HttpServer.HttpServer).address
        const restarted = { baseUrl: `http://${config.host}:${address._tag === "TcpAddress" ? address.port : config.port}` }
        yield* Chromium.step(() => page.goto(`${restarted.baseUrl}/${connectionUrl}&key=${apiKey}`))
        yield* Chromium.step(() => page.getByTestId("credential-expired-alert").waitFor())
        assert.strictEqual(yield* Chromium.step(() => item(page, LOGIN).getAttribute("data-status")), "pass")
        assert.strictEqual(yield* Chromium.step(() => item(page, WAF_ACTIVE).getAttribute("data-status")), "pass")
        const driftAfter = yield* Chromium.step(() => page.getByTestId("drift-event").allTextContents())
        assert.deepStrictEqual(driftAfter, driftEvents)
        const overflow = yield* Chromium.step(() => page.evaluate<number>("document.documentElement.scrollWidth - document.documentElement.clientWidth"))
        assert.strictEqual(overflow, 0, "nothing on the page is wider than the window")
        yield* shot(page, "05-after-restart")

        // A refresh of the page (here after "Re-check now"; stream events refresh it the same way)
        // keeps a half-typed replacement token.
        const half = (sim.tokens["account"] as string).slice(0, 12)
        yield* Chromium.step(() => page.getByTestId("replace-token").fill(half))
        yield* Chromium.step(() => page.getByTestId("connection").evaluate((e) => e.setAttribute("data-before-refresh", "")))
        yield* Chromium.step(() => page.getByTestId("recheck").click())
        // The page was rebuilt: the section marked before the refresh is gone.
        yield* Chromium.step(() => page.locator('[data-testid="connection"]:not([data-before-refresh])').waitFor())
        assert.strictEqual(yield* Chromium.step(() => page.getByTestId("replace-token").inputValue()), half)

        // So does a stream event arriving while the customer types (another process or the scheduler
        // changed the connection): the page refreshes from it and the half-typed token stays.
        const more = (sim.tokens["account"] as string).slice(0, 20)
        yield* Chromium.step(() => page.getByTestId("replace-token").fill(more))
        yield* Chromium.step(() => page.getByTestId("connection").evaluate((e) => e.setAttribute("data-before-event", "")))
        const connectionId = decodeURIComponent(connectionUrl.replace(/^#\/connections\//, "").replace(/[?&].*$/, ""))
        yield* Events.publish({ type: "connection.status", connectionId, status: "credential_expired", alert: null }).pipe(
          Effect.provideService(Events.Bus, Context.get(services, Events.Bus))
        )
        yield* Chromium.step(() => page.locator('[data-testid="connection"]:not([data-before-event])').waitFor())
        assert.strictEqual(yield* Chromium.step(() => page.getByTestId("replace-token").inputValue()), more)

        // A new token from the alert restores the connection.
        yield* Chromium.step(() => page.getByTestId("replace-token").fill(sim.tokens["account"] as string))
        yield* Chromium.step(() => page.getByTestId("replace-submit").click())
        yield* Chromium.step(() => page.getByTestId("credential-expired-alert").waitFor({ state: "detached" }))
        yield* Chromium.step(() => page.locator(`[data-testid="connection-status"]:text-is("active")`).waitFor())
        yield* shot(page, "06-restored")

        // A crafted link cannot point the dashboard's authenticated requests at another route.
        for (const crafted of ["..%2F..%2Fwebhooks", "..%2Fwebhooks%2Fdeliveries", ".."]) {
          const sent: Array<string> = []
          const record = (r: { url: () => string }) => {
            const url = new URL(r.url())
            if (url.pathname.startsWith("/api/")) sent.push(url.pathname)
          }
          page.on("request", record)
          yield* Chromium.step(() => page.goto(`${restarted.baseUrl}/#/connections/${crafted}`))
          yield* Chromium.step(() => page.getByTestId("error").waitFor())
          page.off("request", record)
          for (const path of sent) {
            // `/api/stream` is the event stream of the connection shown before (an EventSource that may
            // reconnect while the crafted link loads, as it did on a loaded machine): its route is fixed,
            // and an id only ever goes in its query.
            assert.isTrue(
              path.startsWith(`/api/connections/${crafted}`) || path === "/api/drift-events" || path === "/api/stream",
              `${crafted} sent ${path}`
            )
            assert.notInclude(path.slice(1), "/../", path)
          }
          assert.notInclude(sent, "/api/webhooks")
        }

        // The pasted tokens are in no page the browser was shown.
        const html = yield* Chromium.step(() => page.content())
        for (const token of [sim.tokens["scoped"], sim.tokens["account"]]) assert.notInclude(html, token as string)
        assert.deepStrictEqual(pageErrors, [])
        yield* Scope.close(scope2, Exit.void)
      }).pipe(Effect.scoped),
    // Chromium, two app starts and a dozen page loads: about 15 s on an idle machine.
    180_000
  )
})
