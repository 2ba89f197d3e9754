import { FetchHttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Check, Credential, RequestBudget, Snapshot, SnapshotRunner } from "@plumbline/core"
import { FakeProvider, MswServer } from "@plumbline/testkit"
import { Effect, Layer } from "effect"
import { endpointsSigned } from "../examples/RelayChecks.js"
import * as Relay from "../examples/RelayConnector.js"
import * as RelayFake from "../examples/RelayFake.js"

describe("Relay example", () => {
  it.effect("maps endpoints to canonical records and judges them", () =>
    Effect.gen(function* () {
      const fake = RelayFake.harness()
      const snapshot = yield* SnapshotRunner.run(Relay.connector, { connectionId: "relay-1" }).pipe(Effect.provide(fake.layer))
      const endpoints = Snapshot.recordsOf(snapshot, "endpoints").map(({ record }) => record.value)
      assert.deepStrictEqual(endpoints[1], {
        id: "ep_2",
        url: "https://hooks.example.test/2",
        events: ["deploy", "push"],
        signed: false,
        algorithm: null,
        lastDeliveryAt: "2026-01-01T00:00:00Z"
      })
      assert.strictEqual(Snapshot.find(snapshot, "audit-log", "workspace:ws_2")?.status._tag, "skipped")
      const findings = Check.run([endpointsSigned], snapshot)
      assert.deepStrictEqual(
        findings.map((f) => [f.scope.id, f.verdict._tag]),
        [
          ["ws_1", "fail"],
          ["ws_2", "pass"]
        ]
      )
    }))

  it.effect("a Relay 403 with code 4030 is a skip, not a denial", () =>
    Effect.gen(function* () {
      const fake = RelayFake.harness()
      // The scope says Pro, Relay says otherwise: the classifier turns its answer into a skip.
      fake.provider.inject({
        match: { path: /audit-log$/ },
        answer: FakeProvider.json(403, { errors: [{ code: 4030, message: "The audit log is a Pro feature" }] })
      })
      const snapshot = yield* SnapshotRunner.run(Relay.connector, { connectionId: "relay-1" }).pipe(Effect.provide(fake.layer))
      const status = Snapshot.find(snapshot, "audit-log", "workspace:ws_1")?.status
      assert.deepStrictEqual(status?._tag === "skipped" && [status.reason, status.detail], ["feature", "The audit log is a Pro feature"])
    }))
})

// #region msw
const relay = RelayFake.fakeRelay(RelayFake.baseline())

const relayOverFetch = Relay.layer({ credential: Credential.make("relay-api-token", RelayFake.SECRET), baseUrl: RelayFake.BASE_URL }).pipe(
  Layer.provide(Layer.mergeAll(FetchHttpClient.layer, RequestBudget.layer))
)

describe("Relay over msw", () => {
  it.scoped("reads the fake Relay over real fetch", () =>
    Effect.gen(function* () {
      const snapshot = yield* SnapshotRunner.run(Relay.connector, { connectionId: "relay-1" })
      assert.strictEqual(snapshot.outcome, "complete")
      assert.strictEqual(Snapshot.recordsOf(snapshot, "workspaces").length, 2)
      assert.isTrue(relay.requests.length > 0 && relay.requests.every((r) => r.method === "GET"))
    }).pipe(Effect.provide(relayOverFetch), Effect.provide(MswServer.layer(...relay.handlers))))
})
// #endregion msw
