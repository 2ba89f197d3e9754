import { HttpClient, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConnectorError, RequestBudget } from "@plumbline/core"
import { ConfigProvider, Duration, Effect, Exit, Layer, Schema, Stream } from "effect"
import { CloudflareClient, RateLimit } from "../src/index.js"

interface Seen {
  readonly url: URL
  readonly headers: Record<string, string>
}

/** A fake HttpClient answering synchronously from a handler (the TestClock alone drives it). */
const fake = (
  handler: (url: URL) => { status: number; body: unknown },
  budget: Layer.Layer<RequestBudget.RequestBudget> = RequestBudget.layer
) => {
  const seen: Array<Seen> = []
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      seen.push({ url, headers: { ...request.headers } })
      const answer = handler(url)
      const text = JSON.stringify(answer.body)
      const response = HttpClientResponse.fromWeb(request, new Response(null, { status: answer.status }))
      return Object.create(response, { text: { value: Effect.succeed(text) } }) as HttpClientResponse.HttpClientResponse
    })
  )
  return { seen, layer: Layer.merge(Layer.succeed(HttpClient.HttpClient, client), budget) }
}

const ok = (result: unknown, result_info?: unknown) => ({ status: 200, body: { success: true, errors: [], messages: [], result, result_info } })

const TOKEN = "cfut_secret-token-never-printed"

const withClient = <A, E>(handler: Parameters<typeof fake>[0], use: (client: CloudflareClient.Service) => Effect.Effect<A, E>) => {
  const f = fake(handler)
  return Effect.flatMap(
    Effect.provide(CloudflareClient.make({ token: TOKEN, baseUrl: "https://cf.test/client/v4", retry: { maxRetries: 0 } }), f.layer),
    (client) => Effect.map(use(client), (value) => ({ value, seen: f.seen }))
  )
}

const Item = Schema.Struct({ id: Schema.String })
const context = { resource: "dns_records", scope: "zone redpine.io", permission: "DNS Read" }

/** A budget registry that records the limits each credential's budget is made with. */
const recordingBudget = () => {
  const limits: Array<RequestBudget.Limits> = []
  const layer = Layer.effect(
    RequestBudget.RequestBudget,
    Effect.map(RequestBudget.make, (registry) => ({
      forKey: (key: string, given: RequestBudget.Limits) => {
        limits.push(given)
        return registry.forKey(key, given)
      }
    }))
  )
  return { limits, layer }
}

describe("CloudflareClient", () => {
  it.effect("keeps to Cloudflare's documented limit by default: 1,200 requests per 5 minutes, with a second of margin", () =>
    Effect.gen(function* () {
      const budget = recordingBudget()
      const { layer } = fake(() => ok([]), budget.layer)
      // (The per-client-IP budget, registered too by default, is left out here and checked below.)
      yield* Effect.provide(CloudflareClient.make({ token: TOKEN, clientIpBudget: false }), layer)
      yield* Effect.provide(CloudflareClient.make({ token: TOKEN, budget: { limit: 10, window: Duration.seconds(1) }, clientIpBudget: false }), layer)
      assert.strictEqual(budget.limits[0], RateLimit.budget)
      assert.strictEqual(budget.limits[0]?.limit, 1200)
      assert.isTrue(Duration.equals(budget.limits[0]!.window, Duration.minutes(5)))
      assert.isTrue(Duration.equals(budget.limits[0]!.margin ?? Duration.zero, Duration.seconds(1)))
      assert.strictEqual(budget.limits[1]?.limit, 10)
      // By default one process-wide budget keeps to Cloudflare's 200 requests per second per client IP.
      yield* Effect.provide(CloudflareClient.make({ token: TOKEN }), layer)
      assert.strictEqual(budget.limits[3], RateLimit.clientIpBudget.limits)
      assert.strictEqual(budget.limits[3]?.limit, 200)
    }))

  it("classifies Cloudflare's statuses", () => {
    const failure = (status: number, codes: Array<{ code: number; message: string }> = []) =>
      CloudflareClient.classify({ status, method: "GET", path: "/client/v4/x", codes, requestId: "ray-1", body: {} })
    assert.strictEqual(failure(401, [{ code: 1000, message: "Invalid API Token" }])?._tag, "CredentialInvalid")
    assert.strictEqual(failure(400, [{ code: 6111, message: "Invalid format for Authorization header" }])?._tag, "CredentialInvalid")
    assert.strictEqual(failure(403, [{ code: 10000, message: "Authentication error" }])?._tag, "PermissionMissing")
    assert.strictEqual(failure(410)?._tag, "NotAvailable")
    const plan = failure(403, [{ code: 10010, message: "firewallaccessrules.api.not_entitled" }])
    assert.strictEqual(plan?._tag, "NotAvailable")
    assert.strictEqual(plan?._tag === "NotAvailable" ? plan.reason : undefined, "plan")
    assert.strictEqual(failure(403, [{ code: 20120, message: "zone is not entitled to use the phase" }])?._tag, "NotAvailable")
    assert.isUndefined(failure(404, [{ code: 10003, message: "no entrypoint" }]))
    assert.isUndefined(failure(400, [{ code: 1001, message: "account owned tokens" }]))
    assert.isUndefined(failure(429))
  })

  it("tells a suspended or locked account from a missing permission, a plan refusal and a bad credential", () => {
    const failure = (status: number, codes: Array<{ code: number; message: string }>) =>
      CloudflareClient.classify({ status, method: "GET", path: "/client/v4/zones", codes, requestId: "ray-1", body: {} })
    const suspended = failure(403, [{ code: 10000, message: "This account is suspended; contact Cloudflare support" }])
    assert.strictEqual(suspended?._tag, "AccountUnavailable")
    assert.strictEqual(suspended?._tag === "AccountUnavailable" ? suspended.reason : undefined, "suspended")
    const locked = failure(401, [{ code: 10000, message: "Your account is locked" }])
    assert.strictEqual(locked?._tag === "AccountUnavailable" ? locked.reason : undefined, "locked")
    // The same codes without the account's state keep their meaning.
    assert.strictEqual(failure(403, [{ code: 10000, message: "Authentication error" }])?._tag, "PermissionMissing")
    assert.strictEqual(failure(401, [{ code: 10000, message: "Authentication error" }])?._tag, "CredentialInvalid")
    assert.strictEqual(failure(400, [{ code: 1001, message: "List accounts endpoint does not support account owned tokens." }]), undefined)
  })

  it("reads error entries, their chains, and null", () => {
    assert.deepStrictEqual(
      CloudflareClient.errorMessages({ errors: [{ code: 6008, message: "Invalid request parameters", error_chain: [{ code: 11000, message: "per_page" }] }] }),
      [
        { code: 6008, message: "Invalid request parameters" },
        { code: 11000, message: "per_page" }
      ]
    )
    assert.deepStrictEqual(CloudflareClient.errorMessages({ errors: null }), [])
    assert.deepStrictEqual(CloudflareClient.errorMessages("<html>"), [])
  })

  it("tells account-owned tokens by their prefix", () => {
    assert.strictEqual(CloudflareClient.tokenKindOf("cfat_abc"), "account-owned")
    assert.strictEqual(CloudflareClient.tokenKindOf("cfut_abc"), "user")
    assert.strictEqual(CloudflareClient.tokenKindOf("a".repeat(40)), "user")
  })

  it.effect("unwraps the envelope once, accepts errors: null and ignores unknown fields", () =>
    Effect.gen(function* () {
      const { value, seen } = yield* withClient(
        () => ({ status: 200, body: { success: true, errors: null, messages: null, result: [{ id: "a", extra: 1 }], brand_new: true } }),
        (client) => client.get("/zones/z/filters", {}, Schema.Array(Item), context)
      )
      assert.deepStrictEqual(value.result, [{ id: "a" }])
      assert.strictEqual(seen[0]?.headers["authorization"], `Bearer ${TOKEN}`)
      assert.strictEqual(seen[0]?.url.toString(), "https://cf.test/client/v4/zones/z/filters")
    })
  )

  it.effect("a 403 names the permission, the resource and the scope, never the token", () =>
    Effect.gen(function* () {
      const { value: exit } = yield* withClient(
        () => ({ status: 403, body: { success: false, errors: [{ code: 10000, message: "Authentication error" }], messages: [], result: null } }),
        (client) => Effect.exit(client.get("/zones/z/dns_records", {}, Schema.Array(Item), context))
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(error?._tag, "PermissionMissing")
      if (error?._tag === "PermissionMissing") {
        assert.strictEqual(error.permission, "DNS Read")
        assert.strictEqual(error.scope, "zone redpine.io")
        assert.strictEqual(error.codes[0]?.code, 10000)
        assert.notInclude(JSON.stringify(error) + error.message, TOKEN)
      }
    })
  )

  it.effect("a missing field is a DecodeFailure with the field's path", () =>
    Effect.gen(function* () {
      const { value: exit } = yield* withClient(
        () => ok([{ id: "a" }, { name: "no id" }]),
        (client) => Effect.exit(client.get("/zones/z/dns_records", {}, Schema.Array(Item), context))
      )
      const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
      assert.strictEqual(error?._tag, "DecodeFailure")
      if (error?._tag === "DecodeFailure") {
        assert.strictEqual(error.path, "/result/1/id")
        assert.strictEqual(error.resource, "dns_records")
        assert.strictEqual(error.scope, "zone redpine.io")
      }
    })
  )

  it.effect("page numbers: stops at total_pages, or at the first short page without it", () =>
    Effect.gen(function* () {
      const items = Array.from({ length: 7 }, (_, i) => ({ id: `r${i}` }))
      const page = (url: URL, withTotal: boolean) => {
        const n = Number(url.searchParams.get("page"))
        const per = Number(url.searchParams.get("per_page"))
        return ok(items.slice((n - 1) * per, n * per), withTotal ? { page: n, per_page: per, total_pages: Math.ceil(items.length / per) } : { page: n })
      }
      for (const withTotal of [true, false]) {
        const { value, seen } = yield* withClient(
          (url) => page(url, withTotal),
          (client) => Stream.runCollect(client.pages("/zones", { perPage: 3, item: Item, key: (i) => i.id }, context))
        )
        assert.strictEqual(value.length, 7)
        assert.strictEqual(seen.length, 3)
      }
    })
  )

  it.effect("cursors: result_info.cursor and result_info.cursors.after, until none comes back", () =>
    Effect.gen(function* () {
      const { value, seen } = yield* withClient(
        (url) => (url.searchParams.get("cursor") === null ? ok([{ id: "a" }], { cursor: "next" }) : ok([{ id: "b" }], { count: 1 })),
        (client) => Stream.runCollect(client.cursor("/zones/z/rulesets", { style: "cursor", perPage: 50, item: Item }, context))
      )
      assert.deepStrictEqual(Array.from(value).map((i) => i.id), ["a", "b"])
      assert.strictEqual(seen[1]?.url.searchParams.get("cursor"), "next")
      const after = yield* withClient(
        (url) => (url.searchParams.get("cursor") === null ? ok([{ id: "a" }], { cursors: { after: "c2" } }) : ok([{ id: "b" }], { cursors: { before: "c1" } })),
        (client) => Stream.runCollect(client.cursor("/accounts/a/rules/lists/l/items", { style: "cursors.after", perPage: 500, item: Item }, context))
      )
      assert.strictEqual(after.value.length, 2)
      assert.strictEqual(after.seen[0]?.url.searchParams.get("per_page"), "500")
    })
  )

  it.effect("layerConfig reads CLOUDFLARE_API_TOKEN and CLOUDFLARE_BASE_URL", () =>
    Effect.gen(function* () {
      const f = fake(() => ok({ id: "tok", status: "active" }))
      const client = yield* Effect.provide(
        CloudflareClient.CloudflareClient,
        CloudflareClient.layerConfig().pipe(
          Layer.provide(f.layer),
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["CLOUDFLARE_API_TOKEN", "cfut_from_config"], ["CLOUDFLARE_BASE_URL", "https://sim.test/client/v4"]]))))
        )
      )
      yield* client.get("/user/tokens/verify", {}, Schema.Unknown, { resource: "token" })
      assert.strictEqual(f.seen[0]?.url.host, "sim.test")
      assert.strictEqual(f.seen[0]?.headers["authorization"], "Bearer cfut_from_config")
    })
  )

  it.effect("layerConfig fails with a ConfigError when the token is missing", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.provide(
          CloudflareClient.CloudflareClient,
          CloudflareClient.layerConfig().pipe(
            Layer.provide(fake(() => ok(null)).layer),
            Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map())))
          )
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.isFalse(ConnectorError.isConnectorError(Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined))
    })
  )
})
