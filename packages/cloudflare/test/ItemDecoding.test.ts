import { HttpClient, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ItemProblem, RequestBudget, Scope } from "@plumbline/core"
import { Effect, Layer, Schema, Stream } from "effect"
import { CloudflareClient, IpLists, Rulesets, Zones } from "../src/index.js"
import { RuleWire } from "../src/internal/shared.js"

/** A fake HttpClient answering from a handler. */
const fake = (handler: (url: URL) => unknown) => {
  const client = HttpClient.make((request, url) =>
    Effect.sync(() => {
      const text = JSON.stringify({ success: true, errors: [], messages: [], ...(handler(url) as object) })
      const response = HttpClientResponse.fromWeb(request, new Response(null, { status: 200 }))
      return Object.create(response, { text: { value: Effect.succeed(text) } }) as HttpClientResponse.HttpClientResponse
    })
  )
  return Layer.merge(Layer.succeed(HttpClient.HttpClient, client), RequestBudget.layer)
}

/** Runs `stream` with a client on `handler`, collecting the items and the problems reported. */
const collect = <A, E>(handler: (url: URL) => unknown, stream: Stream.Stream<A, E, CloudflareClient.CloudflareClient>) =>
  Effect.gen(function* () {
    const problems = ItemProblem.makeCollector()
    const items = yield* Stream.runCollect(stream).pipe(
      Effect.locally(ItemProblem.currentCollector, problems),
      Effect.provide(CloudflareClient.layer({ token: "cfut_x", baseUrl: "https://cf.test/client/v4", retry: { maxRetries: 0 } }))
    )
    return { items: Array.from(items), problems: problems.problems }
  }).pipe(Effect.provide(fake(handler)))

const zone = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `${id}.example`,
  account: { id: "acc" },
  name_servers: ["b.ns", "a.ns"],
  plan: { legacy_id: "free" },
  ...extra
})
const account = new Scope.Scope({ kind: "account", id: "acc", name: "Acc" })

describe("per-item decoding", () => {
  it.effect("one bad item costs that item: the others are kept, the listing goes on, the problem is structured", () =>
    Effect.gen(function* () {
      const pages: Record<string, Array<unknown>> = {
        "1": [zone("z1"), { ...zone("z2"), account: { id: 42 } }, zone("z3")],
        "2": [zone("z4")]
      }
      const { items, problems } = yield* collect(
        (url) => ({ result: pages[url.searchParams.get("page") ?? ""] ?? [], result_info: { total_pages: 2 } }),
        Zones.list("acc", account)
      )
      assert.deepStrictEqual(items.map((z) => z.id), ["z1", "z3", "z4"])
      assert.strictEqual(problems.length, 1)
      const [problem] = problems
      assert.strictEqual(problem?.index, 1)
      assert.strictEqual(problem?.id, "z2")
      assert.strictEqual(problem?.path, "/account/id")
      assert.include(problem?.message ?? "", "string")
    }))

  it.effect("a zone without name_servers decodes", () =>
    Effect.gen(function* () {
      const bare = zone("z1")
      delete (bare as { name_servers?: unknown }).name_servers
      const { items, problems } = yield* collect(() => ({ result: [bare, zone("z2", { name_servers: null })] }), Zones.list("acc", account))
      assert.deepStrictEqual(items.map((z) => [z.id, z.name_servers]), [["z1", []], ["z2", []]])
      assert.deepStrictEqual(problems, [])
    }))

  it.effect("a managed rule without id decodes and is named by its ref, or else its place", () =>
    Effect.sync(() => {
      const rule = Schema.decodeUnknownSync(RuleWire)({ action: "block", enabled: true, ref: "r-100" })
      const noRef = Schema.decodeUnknownSync(RuleWire)({ action: "log", enabled: false })
      const ruleset = { id: "rs1", name: "managed", kind: "managed", phase: "http_request_firewall_managed", rules: [rule, noRef] }
      assert.strictEqual(Rulesets.toRecord(ruleset, rule, 0, []).id, "rs1/r-100")
      assert.strictEqual(Rulesets.toRecord(ruleset, noRef, 1, []).id, "rs1#1")
    }))

  it.effect("a list item id given twice keeps the first and reports the second", () =>
    Effect.gen(function* () {
      const { items, problems } = yield* collect(
        (url) =>
          url.pathname.endsWith("/rules/lists")
            ? { result: [{ id: "l1", name: "office", kind: "ip", num_items: 3 }] }
            : {
                result: [
                  { id: "i1", ip: "192.0.2.1" },
                  { id: "i2", ip: "192.0.2.2" },
                  { id: "i1", ip: "192.0.2.9" }
                ],
                result_info: { cursors: {} }
              },
        IpLists.items.list(account)
      )
      assert.deepStrictEqual(items.map((i) => [i.id, i.ip]), [["i1", "192.0.2.1"], ["i2", "192.0.2.2"]])
      assert.deepStrictEqual(problems.map((p) => [p.index, p.id, p.path]), [[2, "i1", "/id"]])
    }))
})
