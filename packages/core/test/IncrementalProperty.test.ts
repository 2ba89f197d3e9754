/**
 * The property behind incremental snapshots: after any script of changes, a snapshot composed from
 * the previous one and the marks a correct feed emits has the same content hash as a full snapshot
 * taken at the same moment. The fake provider holds mutable data; each step of the script changes
 * it and says what a correct feed would mark. A feed that loses one mark must break the property.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, FastCheck as fc } from "effect"
import * as ChangeFeed from "../src/ChangeFeed.js"
import * as Snapshot from "../src/Snapshot.js"
import * as SnapshotRunner from "../src/SnapshotRunner.js"
import * as Toy from "./fixtures/ToyConnector.js"

type Mark = { readonly scope: string; readonly resources?: ReadonlyArray<string> }

/** One change to the provider's data; `pick` chooses among what exists, modulo its length. */
const ops = [
  "addRecord",
  "removeRecord",
  "editRecord",
  "editFirewall",
  "addFirewall",
  "addZone",
  "removeZone",
  "togglePlan",
  "renameZone",
  "addAccount",
  "renameAccount"
] as const
type Step = { readonly op: (typeof ops)[number]; readonly pick: number; readonly text: string } | { readonly op: "nothing" }

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constantFrom(...ops),
    pick: fc.nat(50),
    text: fc.stringMatching(/^[a-z0-9]{1,6}$/)
  }),
  fc.constant({ op: "nothing" as const })
)

/** A cycle: some steps, then an incremental and a full snapshot. A script: some cycles. */
const script = fc.array(fc.array(step, { maxLength: 4 }), { minLength: 1, maxLength: 5 })

let serial = 0
/** Applies a step to `data` and returns what a correct feed marks for it. */
const apply = (data: Toy.ToyData, s: Step): ReadonlyArray<Mark> => {
  const at = <A>(list: ReadonlyArray<A>, pick: number): A | undefined => (list.length === 0 ? undefined : list[pick % list.length])
  const id = () => `n${++serial}`
  switch (s.op) {
    case "nothing":
      return []
    case "addRecord": {
      const zone = at(data.zones, s.pick)
      if (zone === undefined) return []
      data.records.push({ id: id(), zone: zone.id, type: "TXT", name: zone.name, content: s.text })
      return [{ scope: `zone:${zone.id}`, resources: ["records"] }]
    }
    case "removeRecord":
    case "editRecord": {
      const record = at(data.records, s.pick)
      if (record === undefined) return []
      if (s.op === "removeRecord") data.records = data.records.filter((r) => r !== record)
      else record.content = s.text
      return [{ scope: `zone:${record.zone}`, resources: ["records"] }]
    }
    case "editFirewall": {
      const rule = at(data.firewall, s.pick)
      if (rule === undefined) return []
      rule.action = s.text
      return [{ scope: `zone:${rule.zone}`, resources: ["firewall"] }]
    }
    case "addFirewall": {
      const zone = at(data.zones, s.pick)
      if (zone === undefined) return []
      data.firewall.push({ id: id(), zone: zone.id, expression: s.text, action: "block" })
      // An entry a feed cannot attribute to a resource marks its whole zone.
      return [{ scope: `zone:${zone.id}` }]
    }
    case "addZone": {
      const account = at(data.accounts, s.pick)
      if (account === undefined) return []
      const zone = { id: id(), account: account.id, name: `${s.text}.test`, plan: "free" as const, modified_on: "2026-01-01T00:00:00Z" }
      data.zones.push(zone)
      data.records.push({ id: id(), zone: zone.id, type: "A", name: zone.name, content: "192.0.2.1" })
      return [{ scope: `zone:${zone.id}` }]
    }
    case "removeZone":
    case "togglePlan":
    case "renameZone": {
      const zone = at(data.zones, s.pick)
      if (zone === undefined) return []
      if (s.op === "removeZone") data.zones = data.zones.filter((z) => z !== zone)
      else if (s.op === "togglePlan") zone.plan = zone.plan === "free" ? "pro" : "free"
      else zone.name = `${s.text}.test`
      return [{ scope: `account:${zone.account}`, resources: ["zones"] }]
    }
    case "addAccount":
      data.accounts.push({ id: id(), name: s.text })
      return [{ scope: "connection:conn-1" }]
    case "renameAccount": {
      const account = at(data.accounts, s.pick)
      if (account === undefined) return []
      account.name = s.text
      return [{ scope: "connection:conn-1", resources: ["accounts"] }]
    }
  }
}

const snapshotOf = (data: Toy.ToyData, options: Partial<SnapshotRunner.RunOptions> = {}) =>
  SnapshotRunner.run(Toy.connector, { connectionId: "conn-1", ...options }).pipe(Effect.provide(Toy.layer(Toy.fakeProvider(data))))

/** Runs a script; fails with the cycle where incremental and full content differ. `lose` drops a feed's first mark of each cycle. */
const check = (cycles: ReadonlyArray<ReadonlyArray<Step>>, lose = false) =>
  Effect.gen(function* () {
    const data = Toy.initialData()
    let previous = yield* snapshotOf(data)
    for (const [index, cycle] of cycles.entries()) {
      const marks = cycle.flatMap((s) => apply(data, s))
      const changes = new ChangeFeed.Changes({
        position: new ChangeFeed.Position({ mode: "audit_log", at: yield* DateTime.now, cursor: index }),
        marks: (lose ? marks.slice(1) : marks).map((m) => new ChangeFeed.Mark({ ...m, reason: "script" })),
        requestCount: 0
      })
      const incremental = yield* snapshotOf(data, { incremental: { previous, changes } })
      const full = yield* snapshotOf(data)
      if (Snapshot.contentHash(incremental) !== Snapshot.contentHash(full)) {
        return yield* Effect.fail(`cycle ${index}: incremental differs from full`)
      }
      previous = incremental
    }
  })

const property = (lose: boolean) =>
  fc.asyncProperty(script, (cycles) =>
    Effect.runPromise(Effect.match(check(cycles, lose), { onFailure: () => false, onSuccess: () => true }))
  )

describe("incremental snapshots (property)", () => {
  it.effect(
    "equal a full snapshot taken at the same moment, whatever the script of changes",
    () => Effect.promise(() => fc.assert(property(false), { numRuns: 40 })),
    { timeout: 120_000 }
  )

  it.effect(
    "a feed that loses one mark is caught: the property finds a script where the snapshots differ",
    () =>
      Effect.gen(function* () {
        const result = yield* Effect.promise(() => fc.check(property(true), { numRuns: 200 }))
        assert.isTrue(result.failed)
      }),
    { timeout: 120_000 }
  )
})
