import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as CredentialRouting from "../src/CredentialRouting.js"
import * as Snapshot from "../src/Snapshot.js"
import * as SnapshotRunner from "../src/SnapshotRunner.js"
import * as Toy from "./fixtures/ToyConnector.js"

/** A credential over its own provider view: it sees only the zones `zones` names. */
const credential = (id: string, zones: ReadonlyArray<string>, tweak: (data: Toy.ToyData) => void = () => {}) =>
  Effect.gen(function* () {
    const data = Toy.initialData()
    data.zones = data.zones.filter((z) => zones.includes(z.id))
    tweak(data)
    const fake = Toy.fakeProvider(data)
    const context = yield* Layer.build(Toy.layer(fake))
    return { fake, routed: { id, context, active: true } satisfies CredentialRouting.RoutedCredential<Toy.ToyHttp> }
  })

const zonePaths = (fake: ReturnType<typeof Toy.fakeProvider>) =>
  [...new Set(fake.requests.map((r) => /\/zones\/(z\d)\//.exec(r.url.pathname)?.[1]).filter((z) => z !== undefined))].sort()

describe("CredentialRouting", () => {
  it.scoped("reads each zone through the credential that lists it; one refused midway fails only its zone's reads", () =>
    Effect.gen(function* () {
      const a = yield* credential("a", ["z1"])
      const b = yield* credential("b", ["z2"], (data) => data.failures.set("/zones/z2/records", 401))
      const routing = CredentialRouting.make(Toy.connector, [a.routed, b.routed])
      const snapshot = yield* SnapshotRunner.run(routing.connector, { connectionId: "c1", concurrency: 1 })
      assert.strictEqual(snapshot.outcome, "complete")
      assert.deepStrictEqual(zonePaths(a.fake), ["z1"])
      assert.deepStrictEqual(zonePaths(b.fake), ["z2"])
      assert.strictEqual(Snapshot.find(snapshot, "records", "zone:z1")?.status._tag, "ok")
      const refused = Snapshot.find(snapshot, "records", "zone:z2")?.status
      assert.strictEqual(refused?._tag === "failed" && refused.error._tag === "CredentialInvalid" && refused.error.credential, "b")
      assert.deepStrictEqual([...(yield* routing.refused).keys()], ["b"])
      assert.deepStrictEqual(Object.fromEntries(yield* routing.seen), { a: ["account:acc1", "zone:z1"], b: ["account:acc1", "zone:z2"] })
    }))

  it.scoped("zones only a refused or expired credential could see are unreadable items of the listing, not gone; all refused stops the run", () =>
    Effect.gen(function* () {
      const a = yield* credential("a", ["z1"])
      const b = yield* credential("b", ["z2"], (data) => data.failures.set("/accounts", 401))
      const known = [{ key: "zone:z2", parent: "account:acc1" }]
      const routing = CredentialRouting.make(Toy.connector, [a.routed, { ...b.routed, scopes: known }])
      const snapshot = yield* SnapshotRunner.run(routing.connector, { connectionId: "c1" })
      assert.strictEqual(snapshot.outcome, "complete")
      const listing = Snapshot.find(snapshot, "zones", "account:acc1")?.status
      assert.deepStrictEqual(listing?._tag === "partial" && listing.problems.map((p) => p.id), ["z2"])
      assert.isUndefined(Snapshot.find(snapshot, "records", "zone:z2"))
      // An expired credential is not used, and its zones are reported the same way.
      const expired = CredentialRouting.make(Toy.connector, [a.routed, { ...b.routed, active: false, scopes: known }])
      const before = b.fake.requests.length
      const again = yield* SnapshotRunner.run(expired.connector, { connectionId: "c1" })
      assert.strictEqual(b.fake.requests.length, before)
      const listed = Snapshot.find(again, "zones", "account:acc1")?.status
      assert.deepStrictEqual(listed?._tag === "partial" && listed.problems.map((p) => p.id), ["z2"])
      // Every credential refused: the run stops, as with one credential.
      const c = yield* credential("c", ["z1"], (data) => data.failures.set("/accounts", 401))
      const none = CredentialRouting.make(Toy.connector, [c.routed, b.routed])
      const stopped = yield* SnapshotRunner.run(none.connector, { connectionId: "c1" })
      assert.strictEqual(stopped.outcome, "credential-invalid")
      assert.isUndefined(stopped.credentialError?.credential)
    }))
})
