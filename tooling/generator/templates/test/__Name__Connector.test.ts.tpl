import { assert, describe, it } from "@effect/vitest"
import { Snapshot, SnapshotRunner } from "@plumbline/core"
import { Effect } from "effect"
import * as __Name__Connector from "../src/__Name__Connector.js"
import * as __Name__Fake from "./__Name__Fake.js"

describe("__Name__Connector", () => {
  it.effect("maps items into canonical records keyed by id", () =>
    Effect.gen(function* () {
      const fake = __Name__Fake.harness()
      const snapshot = yield* SnapshotRunner.run(__Name__Connector.connector, { connectionId: "c1" }).pipe(Effect.provide(fake.layer))
      const records = Snapshot.recordsOf(snapshot, "items").map(({ record }) => record.key)
      assert.deepStrictEqual(records, ["item-1", "item-2"])
    }))
})
