import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Json, Snapshot } from "@plumbline/core"
import { Duration, Effect } from "effect"
import { CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const { drive } = SimHttp

const fastRetry = { retry: { maxRetries: 3, baseDelay: Duration.millis(1), maxDelay: Duration.millis(2) } }

const run = (sim: Simulator.Simulator, options: CloudflareConnector.SnapshotOptions = {}, before?: Parameters<typeof SimHttp.make>[1]) =>
  Effect.gen(function* () {
    const fake = SimHttp.make(sim, before)
    const connector = yield* Effect.provide(CloudflareConnector.CloudflareConnector, SimHttp.connectorLayer(fake, sim.tokens["account"]!, fastRetry))
    return { snapshot: yield* connector.snapshot(options), requests: fake.requests }
  })

const result = (snapshot: Snapshot.Snapshot, resource: string, zone: string) =>
  snapshot.results.find((r) => r.resource === resource && r.scope.name === zone)!

const othersOk = (snapshot: Snapshot.Snapshot, except: ReadonlyArray<string>) =>
  snapshot.results
    .filter((r) => !except.includes(r.resource))
    .filter((r) => r.status._tag !== "ok" && r.status._tag !== "skipped")
    .map((r) => r.key)

/** Every record's `extra` (or, for a rule, its ruleset's `ruleset_extra`), by result and record key; and the records with neither. */
const extrasOf = (snapshot: Snapshot.Snapshot) => {
  const kept: Array<[string, Json.Json]> = []
  const derived: Array<string> = []
  for (const result of snapshot.results) {
    for (const record of Snapshot.recordsOfStatus(result.status)) {
      const value = record.value as { readonly [key: string]: Json.Json }
      const extra = value["extra"] ?? value["ruleset_extra"]
      if (extra === undefined) derived.push(`${result.key} ${record.key}`)
      else kept.push([`${result.key} ${record.key}`, extra])
    }
  }
  return { kept, derived }
}

/** Each result's status and records, without `extra` and `ruleset_extra`. */
const withoutExtras = (snapshot: Snapshot.Snapshot) =>
  snapshot.results.map((result) => ({
    key: result.key,
    status: result.status._tag,
    records: Snapshot.recordsOfStatus(result.status).map((record) => {
      const { extra: _extra, ruleset_extra: _rulesetExtra, ...rest } = record.value as { readonly [key: string]: Json.Json }
      return [record.key, rest]
    })
  }))

describe("Faults", () => {
  it.effect("a token revoked mid-snapshot ends it as credential-invalid, without retries", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const { requests, snapshot } = yield* run(sim, {}, (index) => {
        if (index === 8) sim.revokeToken("account")
      })
      assert.strictEqual(snapshot.outcome, "credential-invalid")
      assert.strictEqual(snapshot.credentialError?.reason, "invalid")
      const refused = requests.filter((r) => r.status === 401)
      // Only the requests already in flight when the token went get a 401 (at most 4 resource reads,
      // one of which may have several entry points or list pages in flight); none is retried.
      assert.isAtMost(refused.length, 8)
      const urls = refused.map((r) => r.url.toString())
      assert.strictEqual(new Set(urls).size, urls.length)
      assert.isAtMost(requests.length, 8 + 8)
      assert.isBelow(requests.length, 37)
    })
  )

  it.live("retries 5xx and Cloudflare's HTML error pages, then succeeds", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/dns_records", effect: { kind: "status", status: 502, html: true }, count: 2 }, { route: "GET /zones/:zone_id/settings", effect: { kind: "status", status: 500 }, count: 1 }] }
      })
      const { requests, snapshot } = yield* run(sim)
      assert.strictEqual(snapshot.outcome, "complete")
      assert.deepStrictEqual(othersOk(snapshot, []), [])
      assert.strictEqual(requests.filter((r) => r.status >= 500).length, 3)
    })
  )

  it.live("a resource whose 5xx HTML page persists fails with the page's title; the others complete", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/dns_records", effect: { kind: "status", status: 503, html: true } }] }
      })
      const { snapshot } = yield* run(sim)
      const status = result(snapshot, "dns_records", "redpine.io").status
      assert.strictEqual(status._tag, "failed")
      if (status._tag === "failed") {
        assert.strictEqual(status.error._tag, "UpstreamUnavailable")
        if (status.error._tag === "UpstreamUnavailable") {
          assert.strictEqual(status.error.status, 503)
          assert.strictEqual(status.error.attempts, 4)
          assert.include(status.error.detail ?? "", "HTML error page")
        }
      }
      assert.deepStrictEqual(othersOk(snapshot, ["dns_records"]), [])
    })
  )

  it.live("malformed and truncated bodies are retried, then reported as malformed", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: {
          rules: [
            { route: "GET /zones/:zone_id/dnssec", effect: { kind: "malformed" } },
            { route: "GET /zones/:zone_id/pagerules", effect: { kind: "truncate" }, count: 1 }
          ]
        }
      })
      const { snapshot } = yield* run(sim)
      const status = result(snapshot, "dnssec", "redpine.io").status
      assert.strictEqual(status._tag === "failed" ? status.error._tag : status._tag, "UpstreamUnavailable")
      if (status._tag === "failed" && status.error._tag === "UpstreamUnavailable") assert.strictEqual(status.error.reason, "malformed-body")
      assert.strictEqual(result(snapshot, "page_rules", "redpine.io").status._tag, "ok")
      assert.deepStrictEqual(othersOk(snapshot, ["dnssec"]), [])
    })
  )

  it.effect("a missing required field makes the resource partial, each item's problem naming the field; the rest completes", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/dns_records", effect: { kind: "missingFields", fields: ["type"] } }] }
      })
      const { snapshot } = yield* run(sim)
      const found = result(snapshot, "dns_records", "redpine.io")
      const status = found.status
      assert.strictEqual(status._tag, "partial")
      if (status._tag === "partial") {
        assert.strictEqual(found.resource, "dns_records")
        assert.strictEqual(found.scope.label, "zone redpine.io")
        assert.strictEqual(status.problems[0]?.index, 0)
        assert.isTrue(status.problems.every((p) => p.path === "/type" && p.id !== undefined))
        assert.include(status.problems[0]?.message ?? "", "is missing")
      } else assert.fail(`expected a partial result, got ${JSON.stringify(status)}`)
      assert.strictEqual(snapshot.outcome, "complete")
      assert.deepStrictEqual(othersOk(snapshot, ["dns_records"]), [])
    })
  )

  it.effect("unknown extra fields cost nothing and are kept under `extra`: otherwise the same content as without them", () =>
    Effect.gen(function* () {
      const clean = yield* run(Simulator.make({ scenario: "redpine", rateLimit: false }))
      const noisy = yield* run(Simulator.make({ scenario: "redpine", rateLimit: false, faults: { rules: [{ effect: { kind: "extraFields" } }] } }))
      // Issue #14 §3: a field Cloudflare adds must not vanish. Each answer's item (for entry points,
      // the ruleset: its rules carry it as `ruleset_extra`) keeps the two unknown members...
      // (besides what the clean answers already carry beyond the schema, e.g. DNS `locked`)...
      const unknown = { unknown_flag: 1, x_simulator_unknown: { added: true } }
      const before = new Map(extrasOf(clean.snapshot).kept)
      const { derived, kept } = extrasOf(noisy.snapshot)
      assert.isAbove(kept.length, 0)
      for (const [key, extra] of kept) assert.deepStrictEqual(extra, { ...(before.get(key) as object | undefined), ...unknown }, key)
      assert.deepStrictEqual(derived, [])
      // ...and nothing else differs: same statuses, same records, same request count.
      assert.strictEqual(Json.stringify(withoutExtras(noisy.snapshot)), Json.stringify(withoutExtras(clean.snapshot)))
      assert.strictEqual(noisy.snapshot.requestCount, clean.snapshot.requestCount)
    })
  )

  it.effect("success: false inside a 200 is a typed failure with Cloudflare's codes", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/workers/routes", effect: { kind: "successFalse", code: 10013 } }] }
      })
      const { snapshot } = yield* run(sim)
      const status = result(snapshot, "workers_routes", "redpine.io").status
      if (status._tag === "failed" && status.error._tag === "RequestRejected") {
        assert.strictEqual(status.error.status, 200)
        assert.strictEqual(status.error.codes[0]?.code, 10013)
      } else assert.fail(`expected RequestRejected, got ${JSON.stringify(status)}`)
      assert.deepStrictEqual(othersOk(snapshot, ["workers_routes"]), [])
    })
  )

  it.effect("a plan refusal (403, 10010) is skipped because of the plan, not a missing permission", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET /zones/:zone_id/workers/routes", effect: { kind: "notEntitled", product: "workers" } }] }
      })
      const { snapshot } = yield* run(sim)
      const status = result(snapshot, "workers_routes", "redpine.io").status
      if (status._tag === "skipped") {
        assert.strictEqual(status.reason, "plan")
      } else assert.fail(`expected skipped (plan), got ${JSON.stringify(status)}`)
      assert.deepStrictEqual(othersOk(snapshot, ["workers_routes"]), [])
    })
  )

  it.effect("a suspended account fails every read as account unavailable, not forbidden, skipped or a bad credential", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({
        scenario: "redpine",
        rateLimit: false,
        faults: { rules: [{ route: "GET *", effect: { kind: "accountUnavailable", state: "suspended" } }] }
      })
      const { snapshot } = yield* run(sim)
      assert.strictEqual(snapshot.outcome, "complete")
      const statuses = snapshot.results.map((r) => r.status)
      assert.isAbove(statuses.length, 0)
      for (const status of statuses) {
        if (status._tag !== "failed") assert.fail(`expected failed, got ${JSON.stringify(status)}`)
        assert.strictEqual(status.error._tag, "AccountUnavailable")
        assert.strictEqual(status.error._tag === "AccountUnavailable" ? status.error.reason : undefined, "suspended")
      }
    })
  )

  it.effect("a 429 storm: Retry-After is honoured by every reader at once, and the snapshot completes", () =>
    Effect.gen(function* () {
      const clock = { now: 1_800_000_000_000 }
      const sim = Simulator.make({ scenario: "redpine", rateLimit: { limit: 10, windowMs: 10_000 }, now: () => clock.now })
      const fake = SimHttp.make(sim)
      const connector = yield* Effect.provide(
        CloudflareConnector.CloudflareConnector,
        // The announced quota is ignored here, so that 429s happen and their handling is what is tested.
        SimHttp.connectorLayer(fake, sim.tokens["account"]!, { retry: { maxRetries: 8 }, quotaShare: false })
      )
      const snapshot = yield* drive(connector.snapshot(), clock, 500)
      assert.isDefined(snapshot)
      assert.strictEqual(snapshot!.outcome, "complete")
      assert.deepStrictEqual(othersOk(snapshot!, []), [])
      const limited = fake.requests.filter((r) => r.status === 429).length
      const answered = fake.requests.filter((r) => r.status !== 429).length
      assert.strictEqual(answered, 38)
      assert.isAbove(limited, 0)
      // The pause is shared: refusals stay within the reads in flight per window, not one per retry loop.
      console.log(`429 storm: ${limited} refusals for ${answered} answers`)
      assert.isAtMost(limited, 20, `${limited} refusals`)
    })
  )

  it.effect("a Retry-After longer than the cap fails those reads as RateLimited instead of waiting; nothing hangs", () =>
    Effect.gen(function* () {
      const clock = { now: 1_800_000_000_000 }
      const sim = Simulator.make({ scenario: "redpine", rateLimit: { limit: 20, windowMs: 600_000 }, now: () => clock.now })
      const fake = SimHttp.make(sim)
      // The announced quota is ignored here, so that 429s happen and their handling is what is tested.
      const connector = yield* Effect.provide(
        CloudflareConnector.CloudflareConnector,
        SimHttp.connectorLayer(fake, sim.tokens["account"]!, { quotaShare: false })
      )
      const snapshot = yield* drive(connector.snapshot(), clock, 30_000)
      assert.isDefined(snapshot)
      assert.strictEqual(snapshot!.outcome, "complete")
      const failures = snapshot!.results.flatMap((r) => (r.status._tag === "failed" ? [r.status.error] : []))
      assert.isAbove(failures.length, 0)
      for (const error of failures) {
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag === "RateLimited") assert.isAbove(error.retryAfterMillis ?? 0, 120_000)
      }
    })
  )
})
