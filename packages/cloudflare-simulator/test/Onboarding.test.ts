import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { serve, Simulator } from "../src/index.js"
import type { RunningServer } from "../src/Server.js"
import { validate } from "./OpenApi.js"

let clock = Date.UTC(2026, 10, 1, 12, 0, 0)
const sim = Simulator.make({ scenario: "redpine", now: () => clock })
let server: RunningServer
let origin: string

beforeAll(async () => {
  server = await serve(sim, { port: 0 })
  origin = new URL(server.baseUrl).origin
})
afterAll(() => server.close())

const api = async (method: string, path: string, token: string, body?: unknown) => {
  const res = await fetch(`${server.baseUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${sim.tokens[token]}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })
  return { status: res.status, body: (await res.json()) as { success: boolean; result: Record<string, unknown> & { rules: Array<Record<string, unknown>> }; errors: Array<{ code: number }> } }
}

const coversPostLogin = (rules: ReadonlyArray<Record<string, unknown>>) =>
  rules.some((r) => r["enabled"] === true && typeof r["ratelimit"] === "object" && String(r["expression"]).includes("/login") && String(r["expression"]).includes("POST"))

describe("Onboarding", () => {
  it("plays the onboarding story: find no POST /login rate limit, the customer adds one, the re-check passes", async () => {
    const verify = await api("GET", "/user/tokens/verify", "scoped")
    assert.strictEqual(verify.body.result["status"], "active")
    const zones = await api("GET", "/zones", "scoped")
    const io = (zones.body.result as unknown as Array<{ id: string; name: string }>).find((z) => z.name === "redpine.io")!
    const before = await api("GET", `/zones/${io.id}/rulesets/phases/http_ratelimit/entrypoint`, "scoped")
    assert.isFalse(coversPostLogin(before.body.result.rules))
    assert.strictEqual(before.body.result["version"], "2")

    clock += 60_000
    const loginRule = {
      description: "Throttle logins",
      action: "block",
      expression: "(http.request.method eq \"POST\" and http.request.uri.path eq \"/login\")",
      ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 5, mitigation_timeout: 600 }
    }
    const put = await api("PUT", `/zones/${io.id}/rulesets/phases/http_ratelimit/entrypoint`, "customer", {
      rules: [...before.body.result.rules, loginRule]
    })
    assert.strictEqual(put.status, 200)
    assert.isUndefined(validate(`/zones/${io.id}/rulesets/phases/http_ratelimit/entrypoint`, put.body))
    assert.strictEqual(put.body.result["version"], "3")
    assert.strictEqual(put.body.result["last_updated"], new Date(clock).toISOString())
    // The untouched rule keeps its id and version.
    assert.strictEqual(put.body.result.rules[0]?.["id"], before.body.result.rules[0]?.["id"])
    assert.strictEqual(put.body.result.rules[0]?.["version"], before.body.result.rules[0]?.["version"])
    assert.match(String(put.body.result.rules[1]?.["id"]), /^[0-9a-f]{32}$/)

    const after = await api("GET", `/zones/${io.id}/rulesets/phases/http_ratelimit/entrypoint`, "scoped")
    assert.isTrue(coversPostLogin(after.body.result.rules))
    const rulesetId = String(after.body.result["id"])
    const versions = await api("GET", `/zones/${io.id}/rulesets/${rulesetId}/versions`, "scoped")
    assert.deepStrictEqual((versions.body.result as unknown as Array<{ version: string }>).map((v) => v.version), ["3", "2"])
    const v2 = await api("GET", `/zones/${io.id}/rulesets/${rulesetId}/versions/2`, "scoped")
    assert.deepStrictEqual(v2.body.result.rules, before.body.result.rules)

    // Pro allows two rate limiting rules: a third is refused.
    const third = await api("POST", `/zones/${io.id}/rulesets/${String(after.body.result["id"])}/rules`, "customer", { ...loginRule, expression: "true" })
    assert.strictEqual(third.status, 400)
    // A read-only token cannot write.
    const denied = await api("PUT", `/zones/${io.id}/rulesets/phases/http_ratelimit/entrypoint`, "scoped", { rules: [] })
    assert.strictEqual(denied.status, 403)
  })

  it("adds, changes and removes rules through the rules endpoints, bumping the version each time", async () => {
    const io = sim.state.zones.find((z) => z.name === "redpine.io")!
    const rs = sim.state.rulesets.find((r) => r.owner.kind === "zone" && r.owner.zoneId === io.id && r.phase === "http_request_firewall_custom")!
    const v0 = Number(rs.version)
    clock += 1000
    const added = await api("POST", `/zones/${io.id}/rulesets/${rs.id}/rules`, "customer", {
      action: "block",
      expression: "(http.request.uri.path eq \"/xmlrpc.php\")",
      description: "xmlrpc",
      position: { index: 1 }
    })
    assert.strictEqual(added.status, 200)
    assert.isUndefined(validate(`/zones/${io.id}/rulesets/${rs.id}`, added.body))
    assert.strictEqual(added.body.result["version"], String(v0 + 1))
    const rule = added.body.result.rules[0]!
    assert.strictEqual(rule["description"], "xmlrpc")
    clock += 1000
    const patched = await api("PATCH", `/zones/${io.id}/rulesets/${rs.id}/rules/${String(rule["id"])}`, "customer", { enabled: false })
    assert.strictEqual(patched.body.result["version"], String(v0 + 2))
    assert.strictEqual(patched.body.result.rules[0]?.["enabled"], false)
    assert.strictEqual(patched.body.result.rules[0]?.["version"], "2")
    const removed = await api("DELETE", `/zones/${io.id}/rulesets/${rs.id}/rules/${String(rule["id"])}`, "customer")
    assert.strictEqual(removed.body.result["version"], String(v0 + 3))
    assert.isFalse(removed.body.result.rules.some((r) => r["id"] === rule["id"]))
    const invalid = await api("POST", `/zones/${io.id}/rulesets/${rs.id}/rules`, "customer", { action: "rewrite", expression: "true" })
    assert.strictEqual(invalid.status, 400)
  })

  it("creates a phase entry point that did not exist", async () => {
    const dev = sim.state.zones.find((z) => z.name === "redpine.dev")!
    const missing = await api("GET", `/zones/${dev.id}/rulesets/phases/http_request_transform/entrypoint`, "account")
    assert.strictEqual(missing.status, 404)
    const put = await api("PUT", `/zones/${dev.id}/rulesets/phases/http_request_transform/entrypoint`, "customer", {
      rules: [{ action: "rewrite", expression: "true", action_parameters: { uri: { path: { value: "/index.html" } } } }]
    })
    assert.strictEqual(put.status, 200)
    assert.strictEqual(put.body.result["version"], "1")
    assert.strictEqual((await api("GET", `/zones/${dev.id}/rulesets/phases/http_request_transform/entrypoint`, "account")).status, 200)
  })

  it("adds a DNS record (the missing DMARC) and refuses a duplicate", async () => {
    const io = sim.state.zones.find((z) => z.name === "redpine.io")!
    const record = { type: "TXT", name: "_dmarc", content: "\"v=DMARC1; p=reject\"", ttl: 3600 }
    const created = await api("POST", `/zones/${io.id}/dns_records`, "customer", record)
    assert.strictEqual(created.status, 200)
    assert.isUndefined(validate(`/zones/${io.id}/dns_records/${String(created.body.result["id"])}`, created.body))
    assert.strictEqual(created.body.result["name"], "_dmarc.redpine.io")
    const listed = await api("GET", `/zones/${io.id}/dns_records?name=_dmarc.redpine.io`, "account")
    assert.strictEqual((listed.body.result as unknown as Array<unknown>).length, 1)
    const dup = await api("POST", `/zones/${io.id}/dns_records`, "customer", record)
    assert.deepStrictEqual([dup.status, dup.body.errors[0]?.code], [400, 81058])
    assert.strictEqual((await api("POST", `/zones/${io.id}/dns_records`, "account", { ...record, name: "x" })).status, 403)
  })

  it("revokes tokens through the API and through the admin endpoint", async () => {
    const scoped = sim.state.tokens.find((t) => t.name === "scoped")!
    assert.strictEqual((await api("DELETE", `/user/tokens/${scoped.id}`, "customer")).status, 200)
    assert.strictEqual((await api("GET", "/user/tokens/verify", "scoped")).status, 401)
    const res = await fetch(`${origin}/__admin/tokens/account/revoke`, { method: "POST" })
    assert.strictEqual(res.status, 200)
    assert.strictEqual((await api("GET", "/zones", "account")).status, 401)
    const counts = (await (await fetch(`${origin}/__admin/requests`)).json()) as { counts: Record<string, number> }
    assert.isAbove(counts.counts["customer"] ?? 0, 5)
    assert.isAbove(counts.counts["scoped"] ?? 0, 3)
  })

  it("answers CORS preflights only when asked to", async () => {
    const plain = await fetch(`${server.baseUrl}/zones`, { method: "OPTIONS" })
    assert.isNull(plain.headers.get("access-control-allow-origin"))
    const withCors = await serve(sim, { port: 0, cors: true })
    try {
      const preflight = await fetch(`${withCors.baseUrl}/zones`, { method: "OPTIONS" })
      assert.strictEqual(preflight.status, 204)
      assert.include(preflight.headers.get("access-control-allow-headers") ?? "", "authorization")
      const res = await fetch(`${withCors.baseUrl}/user/tokens/verify`, { headers: { authorization: `Bearer ${sim.tokens["customer"]}` } })
      assert.strictEqual(res.headers.get("access-control-allow-origin"), "*")
    } finally {
      await withCors.close()
    }
  })

  it("drops the connection on a reset fault and hangs until the client aborts", async () => {
    const faults = (body: unknown) => fetch(`${origin}/__admin/faults`, { method: "POST", body: JSON.stringify(body) })
    await faults({ rules: [{ count: 1, effect: { kind: "reset" } }] })
    const reset = await fetch(`${server.baseUrl}/zones`).catch((e: unknown) => e)
    assert.instanceOf(reset, TypeError)
    await faults({ rules: [{ count: 1, effect: { kind: "hang" } }] })
    // A second server over the same simulator tells the test when the request has reached the
    // handler, so the client aborts once the request is held rather than after a guessed delay.
    let reached!: () => void
    const arrived = new Promise<void>((resolve) => (reached = resolve))
    let answer: Promise<Response> | undefined
    const watched = await serve({ ...sim, handle: (request) => ((answer = sim.handle(request)), reached(), answer) }, { port: 0 })
    try {
      const client = new AbortController()
      const hung = fetch(`${watched.baseUrl}/zones`, { signal: client.signal }).catch((e: unknown) => e)
      await arrived
      let answered = false
      void answer!.then(() => (answered = true))
      // Everything the handler does without waiting on the client has run by the next turn of the
      // event loop; an answer that was coming would have settled.
      await new Promise((resolve) => setImmediate(resolve))
      assert.isFalse(answered, "the request was answered instead of held")
      client.abort()
      const error = await hung
      assert.instanceOf(error, DOMException)
      assert.strictEqual((error as DOMException).name, "AbortError")
      // The abort is what ends the hang: the handler then drops the connection.
      assert.strictEqual((await answer!).type, "error")
    } finally {
      await watched.close()
    }
    await fetch(`${origin}/__admin/faults`, { method: "DELETE" })
    assert.strictEqual((await fetch(`${server.baseUrl}/zones`)).status, 400)
  })
})
