import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Duration, TestClock } from "effect"
import * as Check from "../src/Check.js"
import * as SnapshotRunner from "../src/SnapshotRunner.js"
import * as Toy from "./fixtures/ToyConnector.js"

const snapshotOf = (data: Toy.ToyData) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(
      SnapshotRunner.run(Toy.connector, { connectionId: "conn-1" }).pipe(Effect.provide(Toy.layer(Toy.fakeProvider(data))))
    )
    yield* TestClock.adjust(Duration.minutes(10))
    return yield* Fiber.join(fiber)
  })

/** Every zone must have an SPF record; reads records (zone) and accounts (an ancestor scope). */
const spf: Check.Check = {
  id: "toy.spf",
  title: "SPF present",
  description: "A TXT record starting with v=spf1",
  severity: "high",
  scope: "zone",
  resources: ["records", "accounts"],
  permissions: ["DNS Read"],
  evaluate: ({ records }) => {
    const found = records("records").filter((r) => String((r.value as { content?: string }).content).startsWith("v=spf1"))
    const account = records("accounts")[0]?.key ?? "none"
    return found.length > 0
      ? new Check.Pass({ evidence: { records: found.map((r) => r.key), account } })
      : new Check.Fail({
          evidence: { records: [], account },
          remediation: new Check.Remediation({ summary: "Add an SPF record", expression: "v=spf1 -all" })
        })
  }
}

const firewallActive: Check.Check = {
  id: "toy.firewall",
  title: "Firewall rules active",
  description: "At least one firewall rule",
  severity: "critical",
  scope: "zone",
  resources: ["firewall"],
  permissions: ["Firewall Services Read"],
  evaluate: ({ records }) =>
    records("firewall").length > 0
      ? new Check.Pass({ evidence: { rules: records("firewall").length } })
      : new Check.Fail({ evidence: { rules: 0 }, remediation: new Check.Remediation({ summary: "Add a rule" }) })
}

const analytics: Check.Check = {
  ...firewallActive,
  id: "toy.analytics",
  resources: ["analytics"],
  severity: "low",
  evaluate: ({ records }) => new Check.Pass({ evidence: { days: records("analytics").length } })
}

describe("Check", () => {
  it.effect("judges every scope of its kind, reading ancestors' resources too", () =>
    Effect.gen(function* () {
      const snapshot = yield* snapshotOf(Toy.initialData())
      const findings = Check.run([spf], snapshot)
      assert.deepStrictEqual(
        findings.map((f) => [f.key, f.verdict._tag]),
        [
          ["toy.spf@zone:z1", "pass"],
          ["toy.spf@zone:z2", "fail"]
        ]
      )
      const pass = findings[0]?.verdict
      assert.deepStrictEqual(pass?._tag === "pass" && pass.evidence, { records: ["r2"], account: "acc1" })
    }))

  it.effect("turns a forbidden resource into skipped naming the permission, a plan gate into skipped, a failure into error", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      data.failures.set("/zones/z1/firewall", 403)
      data.failures.set("/zones/z2/firewall", 500)
      const snapshot = yield* snapshotOf(data)
      const verdicts = Check.run([firewallActive, analytics], snapshot).map((f) => f.verdict)
      const [planOk, planSkipped, forbidden, failed] = verdicts
      assert.deepStrictEqual(forbidden?._tag === "skipped" && [forbidden.reason, forbidden.permissions], [
        "permission",
        ["Firewall Services Read"]
      ])
      assert.strictEqual(failed?._tag, "error")
      assert.strictEqual(planOk?._tag, "pass")
      assert.deepStrictEqual(planSkipped?._tag === "skipped" && planSkipped.reason, "plan")
    }))

  it.effect("scores by severity and lists verdicts that changed", () =>
    Effect.gen(function* () {
      const before = Check.run([spf, firewallActive], yield* snapshotOf(Toy.initialData()))
      // spf: z1 pass, z2 fail (high, 5 each); firewall: z1 pass, z2 fail (critical, 10 each) → 15 / 30.
      assert.strictEqual(Check.score(before), 50)
      const fixed = Toy.initialData()
      fixed.records.push({ id: "r9", zone: "z2", type: "TXT", name: "redpine.dev", content: "v=spf1 ~all" })
      const after = Check.run([spf, firewallActive], yield* snapshotOf(fixed))
      assert.strictEqual(Check.score(after), 67)
      assert.deepStrictEqual(
        Check.changed(before, after).map((c) => [c.after.key, c.before?.verdict._tag, c.after.verdict._tag]),
        [["toy.spf@zone:z2", "fail", "pass"]]
      )
    }))

  it.effect("reports a resource the snapshot did not read as an error, not a failure", () =>
    Effect.gen(function* () {
      const snapshot = yield* snapshotOf(Toy.initialData())
      const ghost: Check.Check = { ...firewallActive, id: "toy.ghost", resources: ["nonexistent"] }
      const [finding] = Check.run([ghost], snapshot)
      assert.strictEqual(finding?.verdict._tag, "error")
    }))
})
