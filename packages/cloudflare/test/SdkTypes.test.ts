/**
 * The simulator answers with the types of Cloudflare's official TypeScript SDK (`cloudflare`, pinned
 * in package.json). The test runs the connector against the simulator in-process (a full snapshot
 * and connection set-up, with two tokens), records every GET it sends, re-reads each answer, and
 * writes every answer's `result` as a typed constant (`const e3: Array<Records.RecordResponse> =
 * [...]`) into a temporary .ts file that the TypeScript compiler API checks with `strict` on and
 * `exactOptionalPropertyTypes` off, as the SDK is written. Object literals get excess-property checks,
 * so a field the SDK does not declare fails as surely as a missing or mistyped one.
 *
 * Which endpoints: whatever the connector requests. Every path it sent must match an entry of
 * `SDK_TYPES` (a new endpoint fails until it is given its SDK type), every connector resource must
 * have been read successfully (a new resource fails until the scenario exercises it), and every
 * entry must have been answered with at least one item (no stale entries).
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import type { Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

/** One endpoint: the SDK module and type of an item of `result`, or why the SDK declares none. */
type SdkType =
  | { readonly module: string; readonly type: string; readonly shape: "list" | "one" }
  | { readonly none: string }

/**
 * Every GET the connector sends (paths below `/client/v4`, `:name` matches one segment), with the
 * type the official SDK gives an item of its `result` (the type its `list`/`get` method returns).
 */
export const SDK_TYPES: Readonly<Record<string, SdkType>> = {
  "/user/tokens/verify": { module: "user/tokens/tokens", type: "TokenVerifyResponse", shape: "one" },
  "/accounts/:account_id/tokens/verify": { module: "accounts/tokens/tokens", type: "TokenVerifyResponse", shape: "one" },
  "/accounts": { module: "accounts/accounts", type: "Account", shape: "list" },
  "/accounts/:account_id": { module: "accounts/accounts", type: "Account", shape: "one" },
  "/zones": { module: "zones/zones", type: "Zone", shape: "list" },
  // The SDK has no method for the bulk read; each item is what `zones.settings.get` returns for its id.
  "/zones/:zone_id/settings": { module: "zones/settings", type: "SettingGetResponse", shape: "list" },
  "/zones/:zone_id/settings/:setting_id": { module: "zones/settings", type: "SettingGetResponse", shape: "one" },
  "/zones/:zone_id/dnssec": { module: "dns/dnssec/dnssec", type: "DNSSEC", shape: "one" },
  "/zones/:zone_id/dns_records": { module: "dns/records", type: "RecordResponse", shape: "list" },
  "/zones/:zone_id/rulesets": { module: "rulesets/rulesets", type: "RulesetListResponse", shape: "list" },
  "/zones/:zone_id/rulesets/phases/:phase/entrypoint": { module: "rulesets/phases/phases", type: "PhaseGetResponse", shape: "one" },
  "/zones/:zone_id/rulesets/:ruleset_id": { module: "rulesets/rulesets", type: "RulesetGetResponse", shape: "one" },
  "/accounts/:account_id/rulesets": { module: "rulesets/rulesets", type: "RulesetListResponse", shape: "list" },
  "/accounts/:account_id/rulesets/phases/:phase/entrypoint": { module: "rulesets/phases/phases", type: "PhaseGetResponse", shape: "one" },
  "/accounts/:account_id/rulesets/:ruleset_id": { module: "rulesets/rulesets", type: "RulesetGetResponse", shape: "one" },
  "/zones/:zone_id/firewall/rules": { module: "firewall/rules", type: "FirewallRule", shape: "list" },
  "/zones/:zone_id/filters": { module: "filters/filters", type: "FirewallFilter", shape: "list" },
  "/zones/:zone_id/rate_limits": { none: "the SDK types the retired legacy rate limits as `APIPromise<void>`" },
  "/zones/:zone_id/firewall/access_rules/rules": { module: "firewall/access-rules", type: "AccessRuleListResponse", shape: "list" },
  "/accounts/:account_id/firewall/access_rules/rules": { module: "firewall/access-rules", type: "AccessRuleListResponse", shape: "list" },
  "/accounts/:account_id/rules/lists": { module: "rules/lists/lists", type: "ListsList", shape: "list" },
  "/accounts/:account_id/rules/lists/:list_id/items": { module: "rules/lists/items", type: "ItemListResponse", shape: "list" },
  "/accounts/:account_id/workers/scripts": { module: "workers/scripts/scripts", type: "ScriptListResponse", shape: "list" },
  "/accounts/:account_id/workers/domains": { module: "workers/domains", type: "DomainListResponse", shape: "list" },
  "/zones/:zone_id/workers/routes": { module: "workers/routes", type: "RouteListResponse", shape: "list" },
  "/zones/:zone_id/pagerules": { module: "page-rules/page-rules", type: "PageRule", shape: "list" }
}

const API_PREFIX = "/client/v4"

/** The template a path matches, if any. */
const templateOf = (path: string): string | undefined =>
  Object.keys(SDK_TYPES).find((template) => {
    const t = template.split("/")
    const p = path.split("/")
    return t.length === p.length && t.every((segment, i) => segment.startsWith(":") || segment === p[i])
  })

/** One recorded answer: the request and its `result`. */
interface Answer {
  readonly template: string
  readonly url: string
  readonly result: unknown
}

/** The simulator world the test reads: redpine, the Pro zone on Enterprise so every resource is read. */
const world = () => {
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
  const io = sim.state.zones.find((z) => z.name === "redpine.io")!
  io.plan.legacy_id = "enterprise"
  return sim
}

/** Runs set-up and a full snapshot with `token`; returns the snapshot and every GET that answered 200. */
const exercise = (sim: Simulator.Simulator, token: string) =>
  Effect.gen(function* () {
    const fake = SimHttp.make(sim)
    const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, token))
    yield* connector.verify
    const snapshot = yield* connector.snapshot()
    const urls = [...new Set(fake.requests.filter((r) => r.method === "GET" && r.status === 200).map((r) => r.url.toString()))]
    return { snapshot, urls }
  })

/** Asks the simulator again for `url` and keeps its `result`. */
const answerOf = (sim: Simulator.Simulator, token: string, url: string): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const path = new URL(url).pathname.slice(API_PREFIX.length)
    const response = await sim.handle(new Request(url, { headers: { authorization: `Bearer ${token}` } }))
    const body = (await response.json()) as { result: unknown }
    const template = templateOf(path)
    return { template: template ?? `unknown ${path}`, url, result: body.result }
  })

/** The .ts source: one typed constant per endpoint, holding every item it answered. */
const sourceOf = (answers: ReadonlyArray<Answer>): { source: string; lines: Array<{ from: number; template: string }> } => {
  const modules = [...new Set(Object.values(SDK_TYPES).flatMap((t) => ("module" in t ? [t.module] : [])))]
  const alias = (module: string) => `M${modules.indexOf(module)}`
  const out = modules.map((m) => `import type * as ${alias(m)} from "cloudflare/resources/${m}"`)
  const lines: Array<{ from: number; template: string }> = []
  Object.entries(SDK_TYPES).forEach(([template, sdk], i) => {
    if (!("module" in sdk)) return
    const items = answers
      .filter((a) => a.template === template)
      .flatMap((a) => (sdk.shape === "list" ? (a.result as ReadonlyArray<unknown>) : [a.result]))
    const unique = [...new Map(items.map((item) => [JSON.stringify(item), item])).values()]
    // Diagnostics name their endpoint by the first line of its constant.
    lines.push({ from: out.join("\n").split("\n").length + 1, template })
    out.push(`// GET ${template}`)
    out.push(`export const e${i}: Array<${alias(sdk.module)}.${sdk.type}> = ${JSON.stringify(unique, null, 2)}`)
  })
  return { source: `${out.join("\n")}\n`, lines }
}

const PACKAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..")

/** Type-checks `source` against the installed SDK; returns the diagnostics, each with its endpoint. */
const typeCheck = (source: string, lines: ReadonlyArray<{ from: number; template: string }>): { file: string; problems: Array<string> } => {
  // Inside the package (under node_modules/.cache), so `cloudflare` resolves as the package's own dependency.
  const cache = join(PACKAGE_DIR, "node_modules", ".cache")
  mkdirSync(cache, { recursive: true })
  const dir = mkdtempSync(join(cache, "sdk-answers-"))
  const file = join(dir, "answers.ts")
  writeFileSync(file, source)
  const program = ts.createProgram([file], {
    strict: true,
    exactOptionalPropertyTypes: false,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: []
  })
  const diagnostics = ts.getPreEmitDiagnostics(program)
  const problems = diagnostics.map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, "\n")
    if (d.file === undefined || d.start === undefined) return text
    const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1
    const endpoint = [...lines].reverse().find((l) => l.from <= line)?.template ?? "(imports)"
    return `GET ${endpoint} (answers.ts:${line}): ${text}`
  })
  if (problems.length === 0) rmSync(dir, { recursive: true, force: true })
  return { file, problems }
}

const okResources = (snapshots: ReadonlyArray<Snapshot.Snapshot>) =>
  new Set(snapshots.flatMap((s) => s.results.filter((r) => r.status._tag === "ok").map((r) => r.resource)))

describe("SDK types", () => {
  it.effect(
    "every answer the connector reads from the simulator type-checks against the official SDK's types",
    () =>
      Effect.gen(function* () {
        const sim = world()
        // Account-level rulesets, and custom rulesets they or a zone `execute`: the enterprise world.
        const enterprise = Simulator.make({ scenario: "enterprise", rateLimit: false })
        const runs = [
          { sim, token: sim.tokens["account"]!, ...(yield* exercise(sim, sim.tokens["account"]!)) },
          { sim, token: sim.tokens["accountOwned"]!, ...(yield* exercise(sim, sim.tokens["accountOwned"]!)) },
          { sim: enterprise, token: enterprise.tokens["account"]!, ...(yield* exercise(enterprise, enterprise.tokens["account"]!)) }
        ]

        // Every resource was read, so every endpoint it needs was requested.
        const read = okResources(runs.map((r) => r.snapshot))
        const unread = CloudflareConnector.resources.map((r) => r.name).filter((name) => !read.has(name))
        assert.deepStrictEqual(unread, [], "resources never read successfully: extend the scenario of this test")

        const answers = yield* Effect.forEach(runs, (run) => Effect.forEach(run.urls, (url) => answerOf(run.sim, run.token, url)))
        const flat = answers.flat()
        // Every request matches an endpoint with its SDK type.
        assert.deepStrictEqual(
          [...new Set(flat.filter((a) => a.template.startsWith("unknown ")).map((a) => a.template))],
          [],
          "requests without an SDK type: add them to SDK_TYPES"
        )
        // Every endpoint was answered with at least one item (no stale entry, nothing checked vacuously).
        const empty = Object.keys(SDK_TYPES).filter((template) => {
          const items = flat.filter((a) => a.template === template).flatMap((a) => (Array.isArray(a.result) ? a.result : [a.result]))
          return items.length === 0
        })
        assert.deepStrictEqual(empty, [], "endpoints never answered with an item")

        const { lines, source } = sourceOf(flat)
        const { file, problems } = typeCheck(source, lines)
        assert.deepStrictEqual(problems, [], `the simulator's answers do not match the SDK's types (source kept at ${file})`)
      }),
    // Loading the SDK's declarations takes a few seconds; generous for a loaded two-core machine.
    180_000
  )
})
