/**
 * A tour of the runtime on an imaginary provider, "Acme DNS", served by an in-memory fake
 * `HttpClient`, so no network is needed. It defines a connector (connection → account → zone),
 * takes a snapshot with progress events, changes the provider's data, takes a second snapshot and
 * prints the drift between the two. Run it with `pnpm --filter @plumbline/core demo`.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { Context, Duration, Effect, Layer, Schema, Stream } from "effect"
// In your code: import { Connector, … } from "@plumbline/core"
import {
  Connector,
  ConnectorError,
  Credential,
  Drift,
  HttpPipeline,
  Json,
  Pagination,
  RequestBudget,
  Resource,
  Scope,
  Snapshot,
  SnapshotRunner
} from "../src/index.js"
import type { Progress } from "../src/index.js"

// ---------------------------------------------------------------------------------------------
// The fake provider: Acme DNS's data, and an HttpClient that answers JSON by URL path.

interface AcmeRecord {
  id: string
  type: string
  name: string
  content: string
  ttl: number
  modified_on: string
}

const provider = {
  accounts: [{ id: "acc-1", name: "Acme Corp" }],
  zones: [
    { id: "z-shop", account: "acc-1", name: "shop.example", plan: "pro" },
    { id: "z-blog", account: "acc-1", name: "blog.example", plan: "free" }
  ],
  records: new Map<string, Array<AcmeRecord>>([
    [
      "z-shop",
      [
        { id: "r1", type: "A", name: "shop.example", content: "192.0.2.10", ttl: 300, modified_on: "2026-01-01T00:00:00Z" },
        { id: "r2", type: "CNAME", name: "www.shop.example", content: "shop.example", ttl: 300, modified_on: "2026-01-01T00:00:00Z" },
        { id: "r3", type: "MX", name: "shop.example", content: "mail.shop.example", ttl: 3600, modified_on: "2026-01-01T00:00:00Z" },
        { id: "r4", type: "TXT", name: "shop.example", content: "v=spf1 -all", ttl: 3600, modified_on: "2026-01-01T00:00:00Z" }
      ]
    ],
    [
      "z-blog",
      [{ id: "r9", type: "A", name: "blog.example", content: "192.0.2.20", ttl: 300, modified_on: "2026-01-01T00:00:00Z" }]
    ]
  ]),
  dnssec: new Map([["z-shop", { status: "active", algorithm: "13" }]]),
  /** Paths the token may not read (the provider answers 403). */
  forbidden: [/^\/v1\/accounts\/[^/]+\/members$/] as Array<RegExp>
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "x-request-id": "req-demo" } })

/** Routes one request of the fake provider. */
const route = (url: URL): Response => {
  const path = url.pathname
  if (provider.forbidden.some((p) => p.test(path))) {
    return json(403, { success: false, errors: [{ code: 10000, message: "Authentication error" }], result: null })
  }
  const ok = (result: unknown, extra: Record<string, unknown> = {}) => json(200, { success: true, errors: [], result, ...extra })
  let m: RegExpExecArray | null
  if (path === "/v1/token/verify") return ok({ id: "tok-demo", status: "active" })
  if (path === "/v1/accounts") return ok(provider.accounts)
  if ((m = /^\/v1\/accounts\/([^/]+)\/zones$/.exec(path))) {
    return ok(provider.zones.filter((z) => z.account === m?.[1]).map(({ account: _, ...zone }) => zone))
  }
  if ((m = /^\/v1\/zones\/([^/]+)\/records$/.exec(path))) {
    const all = provider.records.get(m[1] ?? "") ?? []
    const page = Number(url.searchParams.get("page") ?? "1")
    const perPage = Number(url.searchParams.get("per_page") ?? "100")
    const totalPages = Math.max(1, Math.ceil(all.length / perPage))
    return ok(all.slice((page - 1) * perPage, page * perPage), { result_info: { page, per_page: perPage, total_pages: totalPages } })
  }
  if ((m = /^\/v1\/zones\/([^/]+)\/dnssec$/.exec(path))) return ok(provider.dnssec.get(m[1] ?? "") ?? { status: "disabled" })
  return json(404, { success: false, errors: [{ code: 7003, message: "No route" }], result: null })
}

let sent = 0

/** The fake provider as an HttpClient. */
const FakeAcme = Layer.succeed(
  HttpClient.HttpClient,
  HttpClient.make((request, url) =>
    Effect.sync(() => {
      sent++
      return HttpClientResponse.fromWeb(request, route(url))
    })
  )
)

// ---------------------------------------------------------------------------------------------
// The connector: wire Schemas, one pipeline, the envelope unwrapped in one place.

/** The connection's HTTP pipeline, as the resources ask for it. */
class AcmeHttp extends Context.Tag("demo/AcmeHttp")<AcmeHttp, HttpPipeline.ProviderHttp>() {}

const Envelope = <A, I>(result: Schema.Schema<A, I>) =>
  Schema.Struct({
    result,
    result_info: Schema.optional(Schema.Struct({ total_pages: Schema.Number }))
  })

/** GETs `path` and decodes the envelope's `result` (a decode problem becomes a `DecodeFailure`). */
const getResult = <A, I>(resource: string, scope: Scope.Scope, path: string, schema: Schema.Schema<A, I>, params?: Record<string, number>) =>
  Effect.gen(function* () {
    const http = yield* AcmeHttp
    const response = yield* http.get(path, params)
    return yield* Schema.decodeUnknown(Envelope(schema))(response.body).pipe(
      Effect.mapError((error) => ConnectorError.decodeFailureFrom(error, { resource, scope: scope.key, input: response.body }))
    )
  })

const Account = Schema.Struct({ id: Schema.String, name: Schema.String })
const Zone = Schema.Struct({ id: Schema.String, name: Schema.String, plan: Schema.Literal("free", "pro") })
const DnsRecord = Schema.Struct({
  id: Schema.String,
  type: Schema.String,
  name: Schema.String,
  content: Schema.String,
  ttl: Schema.Number,
  modified_on: Schema.String
})
const Dnssec = Schema.Struct({ status: Schema.String, algorithm: Schema.optional(Schema.String) })
const Member = Schema.Struct({ id: Schema.String, email: Schema.String })

const accounts = Resource.make({
  name: "accounts",
  description: "The accounts the token can see.",
  scope: "connection",
  schema: Account,
  identity: (account) => account.id,
  permissions: ["account:read"],
  list: (scope) =>
    Stream.fromIterableEffect(Effect.map(getResult("accounts", scope, "/v1/accounts", Schema.Array(Account)), (e) => e.result)),
  produces: { scope: "account", fromRecord: (a) => new Scope.Scope({ kind: "account", id: a.id, name: a.name }) }
})

const members = Resource.make({
  name: "members",
  description: "The people who can sign in to an account.",
  scope: "account",
  schema: Member,
  identity: (member) => member.id,
  permissions: ["members:read"],
  list: (scope) =>
    Stream.fromIterableEffect(
      Effect.map(getResult("members", scope, `/v1/accounts/${scope.id}/members`, Schema.Array(Member)), (e) => e.result)
    )
})

const zones = Resource.make({
  name: "zones",
  description: "The DNS zones of an account.",
  scope: "account",
  schema: Zone,
  identity: (zone) => zone.id,
  permissions: ["zone:read"],
  list: (scope) =>
    Stream.fromIterableEffect(Effect.map(getResult("zones", scope, `/v1/accounts/${scope.id}/zones`, Schema.Array(Zone)), (e) => e.result)),
  produces: {
    scope: "zone",
    // The plan goes into the scope's attributes, so plan-gated resources are skipped without a request.
    fromRecord: (z) => new Scope.Scope({ kind: "zone", id: z.id, name: z.name, attributes: { plan: z.plan } })
  }
})

const records = Resource.make({
  name: "records",
  description: "The DNS records of a zone.",
  scope: "zone",
  schema: DnsRecord,
  identity: (record) => record.id,
  permissions: ["dns:read"],
  volatile: ["/modified_on"],
  list: (scope) =>
    Pagination.pageNumber({
      perPage: 2, // tiny, so the demo shows several pages
      path: `GET /v1/zones/${scope.id}/records`,
      key: (record) => record.id,
      fetch: (page) =>
        Effect.map(
          getResult("records", scope, `/v1/zones/${scope.id}/records`, Schema.Array(DnsRecord), { page, per_page: 2 }),
          (e) => ({ items: e.result, totalPages: e.result_info?.total_pages })
        )
    })
})

const dnssec = Resource.make({
  name: "dnssec",
  description: "DNSSEC settings of a zone (paid plans only).",
  scope: "zone",
  schema: Dnssec,
  identity: () => "dnssec",
  permissions: ["dnssec:read"],
  availability: (scope) =>
    scope.attributes["plan"] === "free" ? Resource.unavailable("plan", "DNSSEC needs the pro plan") : Resource.available,
  list: (scope) =>
    Stream.fromIterableEffect(Effect.map(getResult("dnssec", scope, `/v1/zones/${scope.id}/dnssec`, Dnssec), (e) => [e.result]))
})

const acmeDns = Connector.make({
  id: "acme-dns",
  version: "0.0.0-demo",
  schemaVersion: 1,
  credentialKind: "api-token",
  scopes: ["connection", "account", "zone"],
  resources: [accounts, members, zones, records, dnssec],
  verify: Effect.gen(function* () {
    const http = yield* AcmeHttp
    const { body } = yield* http.get("/v1/token/verify")
    const result = (body as { result: { id: string } }).result
    return new Credential.Verification({ subject: result.id, status: "active", grants: [] })
  })
})

// ---------------------------------------------------------------------------------------------
// Printing

const statusLine = (result: Snapshot.ResourceResult): string => {
  const status = result.status
  switch (status._tag) {
    case "ok":
      return `ok, ${status.records.length} record(s)`
    case "partial":
      return `partial, ${status.records.length} record(s), ${status.problems.length} undecodable item(s)`
    case "skipped":
      return `skipped (${status.reason}: ${status.detail})`
    case "forbidden":
      return `forbidden (grant ${status.permissions.join(", ")})`
    case "failed":
      return `failed: ${status.error.message}`
  }
}

const printSnapshot = (title: string, snapshot: Snapshot.Snapshot) => {
  console.log(`\n${title}: outcome ${snapshot.outcome}, ${snapshot.requestCount} request(s)`)
  for (const result of snapshot.results) console.log(`  ${result.resource.padEnd(8)} ${result.scope.key.padEnd(18)} ${statusLine(result)}`)
  console.log(`  content hash ${Snapshot.contentHash(snapshot).slice(0, 16)}…`)
}

const printDrift = (report: Drift.DriftReport) => {
  console.log(`\nDrift: ${report.changes.length} record change(s), ${report.coverage.length} coverage change(s)`)
  for (const change of report.changes) {
    const where = `${change.resource} ${change.key} in ${change.scope.label}`
    switch (change._tag) {
      case "added":
        console.log(`  + ${where}: ${Json.stringify(change.after)}`)
        break
      case "removed":
        console.log(`  - ${where}: ${Json.stringify(change.before)}`)
        break
      case "changed":
        console.log(`  ~ ${where}`)
        for (const field of change.fields) {
          console.log(`      ${field.path}: ${Json.stringify(field.before)} → ${Json.stringify(field.after)}`)
        }
    }
  }
  for (const c of report.coverage) console.log(`  ! ${c.resource} in ${c.scope.label}: ${c.before} → ${c.after}`)
}

const onProgress = (event: Progress.ProgressEvent) =>
  Effect.sync(() => {
    switch (event._tag) {
      case "ScopeStarted":
        console.log(`  scope    ${event.scope.key}`)
        break
      case "PageFetched":
        console.log(`  page     ${event.resource} ${event.scope.key} #${event.page}: ${event.items} item(s)`)
        break
      case "ResourceFinished":
        console.log(`  finished ${event.resource} ${event.scope.key}: ${event.status} (${event.records})`)
    }
  })

// ---------------------------------------------------------------------------------------------
// The run

// A real app reads the secret with `Config.redacted`; from here on it stays `Redacted`.
const credential = Credential.make("api-token", "acme-demo-token")

// The budget is the provider's documented request limit per token (Acme's: 600 a minute); core has
// no default, because every provider's limit is its own.
const AcmeHttpLive = Layer.effect(
  AcmeHttp,
  HttpPipeline.make({
    baseUrl: "https://api.acme-dns.example/",
    credential,
    budget: { limit: 600, window: Duration.minutes(1) },
    requestIdHeader: "x-request-id"
  })
).pipe(Layer.provide(Layer.mergeAll(RequestBudget.layer, FakeAcme)))

const program = Effect.gen(function* () {
  console.log(`Acme DNS demo, credential ${Credential.fingerprint(credential)} (a fingerprint, never the secret)`)
  const verification = yield* acmeDns.verify
  console.log(`verified: token ${verification.subject} is ${verification.status}`)

  console.log("\nFirst snapshot:")
  const first = yield* SnapshotRunner.run(acmeDns, { connectionId: "demo", onProgress })
  printSnapshot("First snapshot", first)

  // Someone edits the zone in the provider's dashboard, and the token loses DNSSEC access.
  const shop = provider.records.get("z-shop") ?? []
  const www = shop.find((r) => r.id === "r2")
  if (www !== undefined) Object.assign(www, { content: "shop-cdn.example", ttl: 60, modified_on: "2026-02-01T00:00:00Z" })
  const mx = shop.find((r) => r.id === "r3")
  if (mx !== undefined) mx.modified_on = "2026-02-01T00:00:00Z" // volatile only: not drift
  shop.push({ id: "r5", type: "AAAA", name: "shop.example", content: "2001:db8::10", ttl: 300, modified_on: "2026-02-01T00:00:00Z" })
  provider.records.set("z-shop", shop.filter((r) => r.id !== "r4"))
  provider.forbidden.push(/^\/v1\/zones\/[^/]+\/dnssec$/)

  console.log("\nSecond snapshot (after changing the provider's data):")
  const second = yield* SnapshotRunner.run(acmeDns, { connectionId: "demo", onProgress })
  printSnapshot("Second snapshot", second)

  printDrift(Drift.diff(first, second, { volatile: Connector.volatileFields(acmeDns) }))

  const again = yield* SnapshotRunner.run(acmeDns, { connectionId: "demo" })
  console.log(`\nA third snapshot of unchanged data has the same content: ${Snapshot.contentJson(again) === Snapshot.contentJson(second)}`)
  console.log(`The fake provider answered ${sent} request(s) in all.`)
})

Effect.runPromise(program.pipe(Effect.provide(AcmeHttpLive))).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
