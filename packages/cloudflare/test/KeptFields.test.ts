/**
 * Issue #14 §3: every field Cloudflare documents reaches the canonical record, a field it adds
 * tomorrow shows up in drift (and its removal too), and timestamps that move on their own do not.
 */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Connector, Drift, type Json, Snapshot } from "@plumbline/core"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const { snapshotOf } = SimHttp

type Value = { readonly [key: string]: Json.Json }

const records = (snapshot: Snapshot.Snapshot, resource: string, zone?: string): Array<Value> =>
  Snapshot.recordsOf(snapshot, resource)
    .filter((r) => zone === undefined || r.scope.name === zone)
    .map((r) => r.record.value as Value)

const volatile = Connector.volatileFields(CloudflareConnector.connector)

/** A test-only scenario tweak: a member the simulator's types do not know, as Cloudflare may add one. */
const addMember = (target: object, key: string, value: Json.Json) => Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true })

const summary = (report: Drift.DriftReport) =>
  report.changes.map((c) => [c._tag, c.resource, c._tag === "changed" ? c.fields.map((f) => [f.path, f.before ?? null, f.after ?? null]) : []])

describe("Kept fields", () => {
  it.effect("every newly kept field reaches the snapshot record", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
      const io = sim.state.zones.find((z) => z.name === "redpine.io")!
      const dev = sim.state.zones.find((z) => z.name === "redpine.dev")!
      // Test-only tweaks for what the redpine story does not have: a partial setup's verification
      // key, a custom rule with an exposed credentials check and logging, and a DNS record's `meta`.
      dev.type = "partial"
      dev.verification_key = "476754457-428595283"
      const custom = sim.state.rulesets.find((rs) => rs.owner.kind === "zone" && rs.owner.zoneId === io.id && rs.phase === "http_request_firewall_custom")!
      const guarded = custom.rules[0]!
      guarded.exposed_credential_check = { username_expression: 'http.request.body.form["user"][0]', password_expression: 'http.request.body.form["pass"][0]' }
      guarded.logging = { enabled: false }
      // The SDK's DNS `meta` keys appear only when meaningful: one record shadowed by another.
      const originRecord = sim.state.dnsRecords.get(io.id)!.find((r) => r.comment === "origin")!
      originRecord.meta = { shadowed_by: ["b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"], shadowed_records_count: 1 }
      const limiter = sim.state.rulesets.find((rs) => rs.owner.kind === "zone" && rs.owner.zoneId === io.id && rs.phase === "http_ratelimit")!.rules[0]!
      limiter.ratelimit = {
        characteristics: ["ip.src", "cf.colo.id"],
        period: 60,
        requests_per_period: 100,
        mitigation_timeout: 600,
        counting_expression: "(http.response.code eq 401)",
        requests_to_origin: true,
        score_per_period: 400,
        score_response_header_name: "my-score"
      }

      const { snapshot } = yield* snapshotOf(sim, sim.tokens["account"]!)
      assert.strictEqual(snapshot.outcome, "complete")

      // DNS: meta, settings and the comment's and tags' own timestamps.
      const dns = records(snapshot, "dns_records", "redpine.io")
      const origin = dns.find((r) => r["comment"] === "origin")!
      assert.deepStrictEqual(origin["meta"], { shadowed_by: ["b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"], shadowed_records_count: 1 })
      assert.deepStrictEqual(origin["settings"], {})
      assert.isString(origin["comment_modified_on"])
      assert.isString(dns.find((r) => r["name"] === "api.redpine.io")!["tags_modified_on"])
      assert.deepStrictEqual(dns.find((r) => r["name"] === "www.redpine.io")!["settings"], { flatten_cname: false })

      // Rules: exposed_credential_check, logging and every ratelimit field.
      const waf = records(snapshot, "waf_custom_rules", "redpine.io").find((r) => r["position"] === 0)!
      assert.deepStrictEqual(waf["exposed_credential_check"], guarded.exposed_credential_check)
      assert.deepStrictEqual(waf["logging"], { enabled: false })
      const rl = records(snapshot, "rate_limit_rules", "redpine.io")[0]!
      assert.deepStrictEqual(rl["ratelimit"], { ...limiter.ratelimit, characteristics: ["cf.colo.id", "ip.src"] })

      // Legacy rate limits: login_protect and correlate.
      const legacy = records(snapshot, "legacy_rate_limits", "redpine.dev")[0]!
      assert.strictEqual(legacy["login_protect"], true)
      assert.deepStrictEqual(legacy["correlate"], { by: "nat" })

      // Zones: meta, owner, original name servers; the verification key only as its fingerprint.
      const zone = records(snapshot, "zones").find((z) => z["name"] === "redpine.dev")!
      assert.deepStrictEqual(zone["meta"], dev.meta)
      assert.deepStrictEqual(zone["owner"], dev.owner)
      assert.deepStrictEqual(zone["original_name_servers"], [...dev.original_name_servers!].sort())
      assert.deepStrictEqual(zone["plan_detail"], { ...Object.fromEntries(Object.entries(dev.plan).filter(([k]) => k !== "legacy_id" && k !== "name")) })
      assert.strictEqual(zone["verification_key_sha256"], `sha256:${createHash("sha256").update("476754457-428595283").digest("hex")}`)
      assert.notInclude(Snapshot.toJson(snapshot), "476754457-428595283")
    })
  )

  it.effect("a field Cloudflare adds shows up in drift as a change, and its removal too", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const token = sim.tokens["account"]!
      const io = sim.state.zones.find((z) => z.name === "redpine.io")!
      const first = (yield* snapshotOf(sim, token)).snapshot

      const route = sim.state.workerRoutes.get(io.id)![0]!
      const limiter = sim.state.rulesets.find((rs) => rs.owner.kind === "zone" && rs.owner.zoneId === io.id && rs.phase === "http_ratelimit")!.rules[0]!
      addMember(route, "request_limit_fail_open", true)
      addMember(limiter.ratelimit!, "requests_per_period_burst", 20)
      const second = (yield* snapshotOf(sim, token)).snapshot
      assert.deepStrictEqual(summary(Drift.diff(first, second, { volatile })), [
        ["changed", "rate_limit_rules", [["/ratelimit/extra", null, { requests_per_period_burst: 20 }]]],
        ["changed", "workers_routes", [["/extra", null, { request_limit_fail_open: true }]]]
      ])

      delete (route as { request_limit_fail_open?: unknown }).request_limit_fail_open
      delete (limiter.ratelimit as { requests_per_period_burst?: unknown }).requests_per_period_burst
      const third = (yield* snapshotOf(sim, token)).snapshot
      assert.deepStrictEqual(summary(Drift.diff(second, third, { volatile })), [
        ["changed", "rate_limit_rules", [["/ratelimit/extra", { requests_per_period_burst: 20 }, null]]],
        ["changed", "workers_routes", [["/extra", { request_limit_fail_open: true }, null]]]
      ])
      // Gone again: the same content as before it came.
      assert.strictEqual(Snapshot.contentHash(third), Snapshot.contentHash(first))
    })
  )

  it.effect("timestamps that move on their own make no drift", () =>
    Effect.gen(function* () {
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const token = sim.tokens["account"]!
      const io = sim.state.zones.find((z) => z.name === "redpine.io")!
      const first = (yield* snapshotOf(sim, token)).snapshot
      for (const record of sim.state.dnsRecords.get(io.id)!) {
        if (record.comment_modified_on !== undefined) record.comment_modified_on = "2026-11-01T00:00:00.000Z"
        if (record.tags_modified_on !== undefined) record.tags_modified_on = "2026-11-01T00:00:00.000Z"
      }
      const setting = sim.state.settings.get(io.id)!.find((s) => s.id === "ssl")!
      addMember(setting, "time_remaining", 3600)
      const second = (yield* snapshotOf(sim, token)).snapshot
      addMember(setting, "time_remaining", 3500)
      const third = (yield* snapshotOf(sim, token)).snapshot
      assert.notStrictEqual(Snapshot.contentHash(second), Snapshot.contentHash(first))
      assert.deepStrictEqual(summary(Drift.diff(first, second, { volatile })), [])
      assert.deepStrictEqual(summary(Drift.diff(second, third, { volatile })), [])
    })
  )
})
