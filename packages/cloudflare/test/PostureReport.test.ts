/* eslint-disable @typescript-eslint/no-explicit-any -- OCSF events are plain JSON, checked field by field */
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Effect } from "effect"
import { PostureReport } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const report = (sim: Simulator.Simulator) =>
  Effect.map(SimHttp.snapshotOf(sim, sim.tokens["account"]!), ({ snapshot }) => PostureReport.make(snapshot))

describe("PostureReport", () => {
  it.effect("a checklist per zone, with scores and the login remediation", () =>
    Effect.gen(function* () {
      const r = yield* report(Simulator.make({ scenario: "redpine", rateLimit: false }))
      assert.deepStrictEqual(r.zones.map((z) => z.zone), ["redpine.dev", "redpine.io"])
      const io = r.zones.find((z) => z.zone === "redpine.io")!
      const dev = r.zones.find((z) => z.zone === "redpine.dev")!
      assert.isAbove(io.score, dev.score)
      assert.isAtLeast(r.score, 0)
      assert.isAtMost(r.score, 100)
      const login = io.items.find((i) => i.checkId === "cloudflare.waf.login-rate-limited")
      assert.strictEqual(login?.verdict, "fail")
      assert.strictEqual(login?.remediation?.expression, '(http.request.uri.path eq "/login" and http.request.method eq "POST")')
      const owasp = dev.items.find((i) => i.checkId === "cloudflare.waf.owasp-ruleset")
      assert.strictEqual(owasp?.verdict, "skipped")
      assert.match(owasp?.detail ?? "", /free plan/)
    }))

  it.effect("exports OCSF 1.x Compliance Findings with the required fields and values", () =>
    Effect.gen(function* () {
      const r = yield* report(Simulator.make({ scenario: "redpine", rateLimit: false }))
      const events = PostureReport.ocsf(r)
      assert.strictEqual(events.length, r.findings.length)
      const required = ["activity_id", "category_uid", "class_uid", "compliance", "finding_info", "metadata", "severity_id", "time", "type_uid"]
      for (const event of JSON.parse(JSON.stringify(events)) as Array<Record<string, any>>) {
        for (const field of required) assert.property(event, field)
        assert.strictEqual(event["class_uid"], 2003)
        assert.strictEqual(event["category_uid"], 2)
        assert.strictEqual(event["activity_id"], 1)
        assert.strictEqual(event["type_uid"], 200301)
        assert.include([1, 2, 3, 4, 5], event["severity_id"])
        assert.include([0, 1, 3, 99], event["compliance"]["status_id"])
        assert.isString(event["compliance"]["status"])
        assert.isArray(event["compliance"]["standards"])
        assert.isString(event["finding_info"]["uid"])
        assert.isString(event["finding_info"]["title"])
        assert.isString(event["finding_info"]["desc"])
        assert.match(event["metadata"]["version"], /^1\.\d+\.\d+$/)
        assert.deepStrictEqual(event["metadata"]["product"], { name: "Plumbline", vendor_name: "Plumbline" })
        assert.isNumber(event["time"])
        assert.strictEqual(event["time"], Date.parse(r.evaluatedAt))
        assert.strictEqual(event["resources"].length, 1)
        for (const key of ["uid", "name", "type"]) assert.isString(event["resources"][0][key])
      }
      const byUid = new Map(events.map((e) => [(e["finding_info"] as any).uid as string, e as Record<string, any>]))
      const dmarc = byUid.get("cloudflare.dns.dmarc@zone:11fd74a28cdb93d200c29f894282b953")!
      assert.deepStrictEqual([dmarc["compliance"]["status_id"], dmarc["compliance"]["status"]], [3, "Fail"])
      assert.deepStrictEqual(dmarc["resources"][0], { uid: "11fd74a28cdb93d200c29f894282b953", name: "redpine.io", type: "cloudflare.zone" })
      const ssl = byUid.get("cloudflare.tls.ssl-strict@zone:11fd74a28cdb93d200c29f894282b953")!
      assert.deepStrictEqual([ssl["compliance"]["status_id"], ssl["compliance"]["status"]], [1, "Pass"])
      const owasp = byUid.get("cloudflare.waf.owasp-ruleset@zone:4d410eb31d686aa1b7cdc068ae7756bc")!
      assert.strictEqual(owasp["compliance"]["status_id"], 99)
      const login = byUid.get("cloudflare.waf.login-rate-limited@zone:11fd74a28cdb93d200c29f894282b953")!
      assert.strictEqual(login["severity_id"], 4)
      assert.strictEqual(login["severity"], "High")
    }))
})
