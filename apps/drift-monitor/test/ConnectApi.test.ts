import { Keyring } from "@plumbline/store-sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Main from "../src/Main.js"
import * as TokenTemplate from "../src/TokenTemplate.js"
import * as Harness from "./fixtures/Harness.js"

/** The app against the simulator, with a webhook receiver it may call. */
const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { sim, baseUrl, origin } = yield* Harness.simulator
  const hooks = yield* Harness.receiver()
  const config = Harness.config(dir, baseUrl, Keyring.generate("k1"), [hooks.host])
  const started = yield* Main.start(config)
  const api = Harness.client(started.baseUrl)
  const endpoint = yield* api.call("POST", "/api/webhooks", { url: hooks.url })
  hooks.setSecret(endpoint.body.secret)
  return { sim, origin, started, api, hooks }
})

/** A client of the headless routes with a session token (or anything else as the bearer). */
const headless = (baseUrl: string, bearer: string) => Harness.client(baseUrl, bearer)

const endUser = { id: "cus_42", displayName: "Acme Corp", email: "ops@acme.example" }

/** Opens a session; returns its id and the token taken from the connectUrl's fragment, as the page would. */
const open = (api: ReturnType<typeof Harness.client>, body: Record<string, unknown> = { endUser }) =>
  Effect.gen(function* () {
    const created = yield* api.call("POST", "/api/connect-sessions", body)
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    const url = new URL(created.body.connectUrl)
    const token = new URLSearchParams(url.hash.slice(1)).get("session") ?? ""
    assert.strictEqual(token, created.body.token, "the fragment carries the token")
    return { id: created.body.id as string, token, url }
  })

describe("Connect API", () => {
  it.scopedLive("opens a session: connectUrl with the public id in the query and the secret only in the fragment; status pending", () =>
    Effect.gen(function* () {
      const { api, started } = yield* app
      const { id, token, url } = yield* open(api, { endUser, allowedOrigins: ["https://app.acme.example"], ttlSeconds: 600 })
      assert.strictEqual(url.origin, started.baseUrl)
      assert.strictEqual(url.pathname, "/connect")
      assert.strictEqual(url.searchParams.get("sid"), id)
      assert.notInclude(url.search, token.split(".")[1]!)
      const status = yield* api.call("GET", `/api/connect-sessions/${id}`)
      assert.strictEqual(status.status, 200)
      assert.strictEqual(status.body.status, "pending")
      assert.deepStrictEqual(status.body.endUser, endUser)
      assert.notProperty(status.body, "connectionId")
      assert.notInclude(JSON.stringify(status.body), token)
      const unknown = yield* api.call("GET", "/api/connect-sessions/cs_nope")
      assert.strictEqual(unknown.status, 404)
    })
  )

  it.scopedLive("with DRIFT_MONITOR_PUBLIC_URL set, connectUrl starts with that origin", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const { baseUrl } = yield* Harness.simulator
      const started = yield* Main.start({ ...Harness.config(dir, baseUrl), publicUrl: "https://plumbline.example" })
      const { url } = yield* open(Harness.client(started.baseUrl))
      assert.strictEqual(url.origin, "https://plumbline.example")
    })
  )

  it.scopedLive("a session token opens no /api route, and the API key none of /connect/api; unknown sessions get 401 JSON", () =>
    Effect.gen(function* () {
      const { api, started } = yield* app
      const { token } = yield* open(api)
      const asSession = headless(started.baseUrl, token)
      for (const path of ["/api/connections", "/api/connect-sessions/x", "/api/events"]) {
        const refused = yield* asSession.call("GET", path)
        assert.strictEqual(refused.status, 401, path)
        assert.strictEqual(refused.body._tag, "Unauthorized")
      }
      const viaHeader = yield* api.call("GET", "/api/connections", undefined, { authorization: `Bearer ${token}`, "x-api-key": token })
      assert.strictEqual(viaHeader.status, 401)
      const asKey = headless(started.baseUrl, "test-api-key-0123456789")
      for (const [method, path, body] of [
        ["GET", "/connect/api/session", undefined],
        ["POST", "/connect/api/verify", { token: "abcdefghij0123456789" }],
        ["POST", "/connect/api/complete", { tokens: ["abcdefghij0123456789"] }]
      ] as const) {
        const refused = yield* asKey.call(method, path, body)
        assert.strictEqual(refused.status, 401, path)
        assert.strictEqual(refused.body._tag, "Unauthorized")
      }
      const unknown = yield* headless(started.baseUrl, "cs_AAAAAAAAAAAAAAAAAAAAAA.nope").call("GET", "/connect/api/session")
      assert.strictEqual(unknown.status, 401)
      assert.strictEqual(unknown.body.message, "unknown or expired connect session")
      const none = yield* Effect.promise(() => fetch(`${started.baseUrl}/connect/api/session`))
      assert.strictEqual(none.status, 401)
      assert.strictEqual(((yield* Effect.promise(() => none.json())) as { _tag: string })._tag, "Unauthorized")
      const noRoute = yield* headless(started.baseUrl, token).call("GET", "/connect/api/nothing-here")
      assert.strictEqual(noRoute.status, 404)
    })
  )

  it.scopedLive("the session shows the permissions and Cloudflare's token template link", () =>
    Effect.gen(function* () {
      const { api, started } = yield* app
      const { token } = yield* open(api)
      const session = yield* headless(started.baseUrl, token).call("GET", "/connect/api/session")
      assert.strictEqual(session.status, 200)
      assert.deepStrictEqual(session.body.endUser, endUser)
      assert.include(session.body.requiredPermissions, "Zone Read")
      assert.include(session.body.optionalPermissions, "Account Settings Read")
      assert.include(session.body.permissionPurposes["Account Settings Read"], "for faster change detection")
      const link = new URL(session.body.tokenTemplateUrl)
      assert.strictEqual(`${link.origin}${link.pathname}`, "https://dash.cloudflare.com/profile/api-tokens")
      assert.strictEqual(link.searchParams.get("accountId"), "*")
      assert.strictEqual(link.searchParams.get("zoneId"), "all")
      assert.strictEqual(link.searchParams.get("name"), "Plumbline (read-only)")
      const keys = JSON.parse(link.searchParams.get("permissionGroupKeys") ?? "[]") as Array<{ key: string; type: string }>
      assert.deepInclude(keys, { key: "zone", type: "read" })
      assert.deepInclude(keys, { key: "zone_dns", type: "read" })
      assert.isTrue(keys.every((k) => k.type === "read"), "read-only")
      // URL-encoded JSON, as the documented example (%5B%7B%22key%22…), not form-encoded.
      assert.include(session.body.tokenTemplateUrl, "permissionGroupKeys=%5B%7B%22key%22%3A%22zone%22")
      assert.isUndefined(session.body.reconnect)
      assert.strictEqual(TokenTemplate.url([], "x"), "https://dash.cloudflare.com/profile/api-tokens?permissionGroupKeys=%5B%5D&accountId=*&zoneId=all&name=x")
    })
  )

  it.scopedLive("verify, then complete: the connection is made for the end user, the session is consumed (410), the webhook carries endUser and zones, and the token is in no response", () =>
    Effect.gen(function* () {
      const { api, hooks, sim, started } = yield* app
      const scoped = sim.tokens["scoped"] as string
      const { id, token } = yield* open(api)
      const browser = headless(started.baseUrl, token)
      const verified = yield* browser.call("POST", "/connect/api/verify", { token: scoped })
      assert.strictEqual(verified.status, 200, JSON.stringify(verified.body))
      assert.isArray(verified.body.grants)
      assert.isArray(verified.body.missingPermissions)
      const redpine = (verified.body.zones as Array<{ id: string; name: string }>).find((z) => z.name === "redpine.io")
      assert.isDefined(redpine)
      const rejected = yield* browser.call("POST", "/connect/api/verify", { token: sim.tokens["revoked"] })
      assert.strictEqual(rejected.status, 422)
      const done = yield* browser.call("POST", "/connect/api/complete", { tokens: [scoped], zones: [redpine!.id] })
      assert.strictEqual(done.status, 200, JSON.stringify(done.body))
      assert.deepStrictEqual(done.body.zones, [{ id: redpine!.id, name: "redpine.io" }])
      const connectionId: string = done.body.connectionId

      // Consumed: every later call is a 410 JSON.
      for (const [method, path, body] of [
        ["GET", "/connect/api/session", undefined],
        ["POST", "/connect/api/verify", { token: scoped }],
        ["POST", "/connect/api/complete", { tokens: [scoped] }]
      ] as const) {
        const gone = yield* browser.call(method, path, body)
        assert.strictEqual(gone.status, 410, path)
        assert.strictEqual(gone.body._tag, "Gone")
      }
      const status = yield* api.call("GET", `/api/connect-sessions/${id}`)
      assert.strictEqual(status.body.status, "completed")
      assert.strictEqual(status.body.connectionId, connectionId)

      // The connection shows its end user; the product finds it by end user id.
      const connection = yield* api.call("GET", `/api/connections/${connectionId}`)
      assert.deepStrictEqual(connection.body.endUser, endUser)
      const mine = yield* api.call("GET", "/api/connections?endUserId=cus_42")
      assert.deepStrictEqual(mine.body.map((c: { id: string }) => c.id), [connectionId])
      const direct = yield* api.call("POST", "/api/connections", { name: "Direct", token: sim.tokens["account"] })
      assert.isNull(direct.body.endUser, "made without a session")
      assert.lengthOf((yield* api.call("GET", "/api/connections")).body, 2)
      assert.deepStrictEqual((yield* api.call("GET", "/api/connections?endUserId=someone-else")).body, [])

      const created = yield* hooks.until((received) =>
        received.find((r) => r.payload.type === "connection.created" && r.payload.data["connectionId"] === connectionId)
      )
      assert.isTrue(created.verified)
      assert.deepStrictEqual(created.payload.data["endUser"], endUser)
      assert.deepStrictEqual(created.payload.data["zones"], [{ id: redpine!.id, name: "redpine.io" }])

      for (const body of [...api.bodies, ...browser.bodies]) assert.notInclude(body, scoped)
      for (const r of hooks.received) assert.notInclude(r.body, scoped)
    })
  )

  it.scopedLive("more than 10 verifications in one session get 429", () =>
    Effect.gen(function* () {
      const { api, started } = yield* app
      const { token } = yield* open(api)
      const browser = headless(started.baseUrl, token)
      // A token no Cloudflare token looks like is refused without a request to the provider, and still counts.
      for (let i = 0; i < 10; i++) {
        const refused = yield* browser.call("POST", "/connect/api/verify", { token: "bad\u00e9token0123456789" })
        assert.strictEqual(refused.status, 400)
      }
      const limited = yield* browser.call("POST", "/connect/api/verify", { token: "bad\u00e9token0123456789" })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.body._tag, "TooManyRequests")
      const other = yield* open(api)
      const fresh = yield* headless(started.baseUrl, other.token).call("POST", "/connect/api/verify", { token: "bad\u00e9token0123456789" })
      assert.strictEqual(fresh.status, 400, "the limit is per session")
    })
  )

  it.scopedLive("a reconnect session restores the expired connection; connection.restored carries endUser and zones", () =>
    Effect.gen(function* () {
      const { api, hooks, origin, sim, started } = yield* app
      const first = yield* open(api)
      const done = yield* headless(started.baseUrl, first.token).call("POST", "/connect/api/complete", { tokens: [sim.tokens["scoped"]] })
      const connectionId: string = done.body.connectionId
      yield* api.call("POST", `/api/connections/${connectionId}/recheck?wait=true`)
      yield* Effect.promise(() => fetch(`${origin}/__admin/tokens/scoped/revoke`, { method: "POST" }))
      const expired = yield* api.call("POST", `/api/connections/${connectionId}/recheck?wait=true`)
      assert.strictEqual(expired.body.outcome, "credential_expired")
      const expiredHook = yield* hooks.until((received) => received.find((r) => r.payload.type === "connection.credential_expired"))
      assert.deepStrictEqual(expiredHook.payload.data["endUser"], endUser)

      const unknown = yield* api.call("POST", "/api/connect-sessions", { endUser, reconnect: "no-such-connection" })
      assert.strictEqual(unknown.status, 404)
      const again = yield* open(api, { endUser, reconnect: connectionId })
      const browser = headless(started.baseUrl, again.token)
      assert.strictEqual((yield* browser.call("GET", "/connect/api/session")).body.reconnect, connectionId)
      const restored = yield* browser.call("POST", "/connect/api/complete", { tokens: [sim.tokens["account"]] })
      assert.strictEqual(restored.status, 200, JSON.stringify(restored.body))
      assert.strictEqual(restored.body.connectionId, connectionId)
      const connection = yield* api.call("GET", `/api/connections/${connectionId}`)
      assert.strictEqual(connection.body.status, "active")
      assert.lengthOf((yield* api.call("GET", "/api/connections")).body, 1, "restored, not a second connection")
      const restoredHook = yield* hooks.until((received) => received.find((r) => r.payload.type === "connection.restored"))
      assert.deepStrictEqual(restoredHook.payload.data["endUser"], endUser)
      assert.isAbove((restoredHook.payload.data["zones"] as Array<unknown>).length, 0)
    })
  )

  it.scopedLive("refuses bad session requests with 400s: display names with bidi overrides, origins with paths, bad URLs, ttl out of range", () =>
    Effect.gen(function* () {
      const { api } = yield* app
      const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
        [{ endUser: { id: "cus_1", displayName: "Acme\u202Eevil" } }, "bidi"],
        [{ endUser: { id: "cus_1", displayName: "Acme\u0007" } }, "control"],
        [{ endUser: { id: "cus_1", displayName: "x".repeat(201) } }, "200"],
        [{ endUser: { id: "" } }, "endUser.id"],
        [{ endUser: { id: "x".repeat(201) } }, "endUser.id"],
        [{ endUser: { id: "cus_1", email: "not-an-email" } }, "email"],
        [{ endUser, allowedOrigins: ["https://app.acme.example/path"] }, "allowedOrigins"],
        [{ endUser, allowedOrigins: ["http://app.acme.example"] }, "allowedOrigins"],
        [{ endUser, allowedOrigins: ["*"] }, "allowedOrigins"],
        [{ endUser, returnUrl: "/relative" }, "returnUrl"],
        [{ endUser, returnUrl: "javascript:alert(1)" }, "returnUrl"],
        [{ endUser, ttlSeconds: 59 }, "ttlSeconds"],
        [{ endUser, ttlSeconds: 3601 }, "ttlSeconds"]
      ]
      for (const [body, says] of cases) {
        const refused = yield* api.call("POST", "/api/connect-sessions", body)
        assert.strictEqual(refused.status, 400, JSON.stringify(body))
        assert.include(JSON.stringify(refused.body), says, JSON.stringify(body))
      }
      const local = yield* api.call("POST", "/api/connect-sessions", {
        endUser,
        allowedOrigins: ["http://localhost:3000", "http://127.0.0.1:8080", "https://app.acme.example"],
        returnUrl: "https://app.acme.example/settings?tab=cloudflare",
        ttlSeconds: 60
      })
      assert.strictEqual(local.status, 201)
    })
  )

  it.scopedLive("the OpenAPI description lists the connect routes with the session security scheme", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const doc = (yield* Effect.promise(() => fetch(`${started.baseUrl}/api/openapi.json`).then((r) => r.json()))) as {
        paths: Record<string, Record<string, { security?: Array<Record<string, unknown>> }>>
      }
      for (const path of ["/api/connect-sessions", "/api/connect-sessions/{id}", "/connect/api/session", "/connect/api/verify", "/connect/api/complete"]) {
        assert.property(doc.paths, path)
      }
      assert.deepStrictEqual(doc.paths["/connect/api/verify"]?.["post"]?.security, [{ connectSession: [] }])
    })
  )
})
