import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Request, RequestResolver, Schema, Stream, TestClock } from "effect"
import * as Connector from "../src/Connector.js"
import * as Credential from "../src/Credential.js"
import * as ItemProblem from "../src/ItemProblem.js"
import * as Resource from "../src/Resource.js"
import * as Scope from "../src/Scope.js"
import type * as Progress from "../src/Progress.js"
import * as Snapshot from "../src/Snapshot.js"
import * as SnapshotRunner from "../src/SnapshotRunner.js"
import * as Toy from "./fixtures/ToyConnector.js"

const run = (data: Toy.ToyData, options: Partial<SnapshotRunner.RunOptions> = {}) => {
  const fake = Toy.fakeProvider(data)
  return Effect.map(
    SnapshotRunner.run(Toy.connector, { connectionId: "conn-1", ...options }).pipe(
      Effect.provide(Toy.layer(fake))
    ),
    (snapshot) => ({ snapshot, requests: fake.requests })
  )
}

const statuses = (snapshot: Snapshot.Snapshot) =>
  Object.fromEntries(snapshot.results.map((r) => [r.key, r.status._tag]))

describe("SnapshotRunner", () => {
  it.effect("gives every resource in every scope a status; one failing, forbidden or unavailable resource fails nothing else", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      data.failures.set("/zones/z1/firewall", 403)
      data.failures.set("/zones/z1/audit", 500)
      const fiber = yield* Effect.fork(run(data, { concurrency: 2 }))
      yield* TestClock.adjust(Duration.minutes(10))
      const { snapshot } = yield* Fiber.join(fiber)
      assert.strictEqual(snapshot.outcome, "complete")
      assert.deepStrictEqual(statuses(snapshot), {
        "accounts@connection:conn-1": "ok",
        "analytics@zone:z1": "ok",
        "analytics@zone:z2": "skipped",
        "audit@zone:z1": "failed",
        "audit@zone:z2": "skipped",
        "firewall@zone:z1": "forbidden",
        "firewall@zone:z2": "ok",
        "records@zone:z1": "ok",
        "records@zone:z2": "ok",
        "zones@account:acc1": "ok"
      })
      const forbidden = Snapshot.find(snapshot, "firewall", "zone:z1")?.status
      assert.deepStrictEqual(forbidden?._tag === "forbidden" && forbidden.permissions, ["Firewall Services Read"])
      const skipped = Snapshot.find(snapshot, "analytics", "zone:z2")?.status
      assert.deepStrictEqual(skipped?._tag === "skipped" && [skipped.reason, skipped.detail], ["plan", "Analytics needs the Pro plan"])
      const failed = Snapshot.find(snapshot, "audit", "zone:z1")?.status
      assert.strictEqual(failed?._tag === "failed" && failed.error._tag, "UpstreamUnavailable")
      const records = Snapshot.find(snapshot, "records", "zone:z1")?.status
      assert.deepStrictEqual(records?._tag === "ok" && records.records.map((r) => r.key), ["r1", "r2", "r3"])
    }))

  it.effect("stops cleanly when the credential is refused midway", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      data.failures.set("/zones/z2/records", 401)
      const { requests, snapshot } = yield* run(data, { concurrency: 1 })
      assert.strictEqual(snapshot.outcome, "credential-invalid")
      assert.strictEqual(snapshot.credentialError?._tag, "CredentialInvalid")
      assert.isUndefined(Snapshot.find(snapshot, "records", "zone:z2"))
      // Nothing is sent after the refusal: reads still waiting for a permit stop too.
      const refusedAt = requests.findIndex((r) => r.url.pathname.endsWith("/zones/z2/records"))
      assert.strictEqual(refusedAt, requests.length - 1)
      assert.notInclude(Snapshot.toJson(snapshot), Toy.TOKEN)
    }))

  it.effect("two runs over unchanged data give byte-identical snapshots, whatever order the provider lists in", () =>
    Effect.gen(function* () {
      const first = yield* run(Toy.initialData())
      const reversed = Toy.initialData()
      reversed.reverse = true
      const second = yield* run(reversed)
      assert.strictEqual(Snapshot.toJson(first.snapshot), Snapshot.toJson(second.snapshot))
      yield* TestClock.adjust(Duration.hours(1))
      const later = yield* run(Toy.initialData())
      assert.notStrictEqual(Snapshot.toJson(first.snapshot), Snapshot.toJson(later.snapshot))
      assert.strictEqual(Snapshot.contentJson(first.snapshot), Snapshot.contentJson(later.snapshot))
      assert.strictEqual(Snapshot.contentHash(first.snapshot), Snapshot.contentHash(later.snapshot))
    }))

  it.effect("round-trips through JSON", () =>
    Effect.gen(function* () {
      const { snapshot } = yield* run(Toy.initialData())
      const parsed = yield* Snapshot.fromJson(Snapshot.toJson(snapshot, 2))
      assert.strictEqual(Snapshot.toJson(parsed), Snapshot.toJson(snapshot))
    }))

  it.effect("counts every request it made", () =>
    Effect.gen(function* () {
      const { requests, snapshot } = yield* run(Toy.initialData())
      // accounts 1, zones 1, records 2 + 1 pages, firewall 2, analytics 1 (z2 is free), audit 1 (z2 has none).
      assert.strictEqual(snapshot.requestCount, 9)
      assert.strictEqual(requests.length, 9)
    }))

  it.effect("reports progress: scopes started, pages fetched, resources finished", () =>
    Effect.gen(function* () {
      const events: Array<Progress.ProgressEvent> = []
      yield* run(Toy.initialData(), { onProgress: (event) => Effect.sync(() => events.push(event)) })
      const started = events.filter((e) => e._tag === "ScopeStarted").map((e) => e.scope.key).sort()
      assert.deepStrictEqual(started, ["account:acc1", "connection:conn-1", "zone:z1", "zone:z2"])
      const pages = events.flatMap((e) => (e._tag === "PageFetched" && e.resource === "records" ? [`${e.scope.id}#${e.page}:${e.items}`] : []))
      assert.deepStrictEqual(pages.sort(), ["z1#1:2", "z1#2:1", "z2#1:1"])
      assert.strictEqual(events.filter((e) => e._tag === "ResourceFinished").length, 10)
    }))

  it.effect("reads only the scopes and resources asked for, plus what produces their scopes", () =>
    Effect.gen(function* () {
      const { snapshot, requests } = yield* run(Toy.initialData(), {
        resources: ["records"],
        include: (scope) => scope.kind !== "zone" || scope.name === "redpine.io"
      })
      assert.deepStrictEqual(Object.keys(statuses(snapshot)), ["accounts@connection:conn-1", "records@zone:z1", "zones@account:acc1"])
      assert.strictEqual(requests.length, 4)
    }))

  it.effect("a body missing a required field fails that resource, naming resource, scope and field", () =>
    Effect.gen(function* () {
      const data = Toy.initialData()
      delete (data.firewall[0] as { action?: string }).action
      const { snapshot } = yield* run(data)
      const status = Snapshot.find(snapshot, "firewall", "zone:z1")?.status
      assert.strictEqual(status?._tag, "failed")
      if (status?._tag === "failed") {
        assert.strictEqual(status.error._tag, "DecodeFailure")
        assert.include(status.error.message, "Could not decode firewall in zone:z1 at /result/0/action")
      }
      assert.strictEqual(Snapshot.find(snapshot, "records", "zone:z1")?.status._tag, "ok")
      assert.strictEqual(snapshot.outcome, "complete")
    }))
})

describe("SnapshotRunner partial reads", () => {
  it.effect("a read that reported bad items becomes partial: the good records and every problem", () =>
    Effect.gen(function* () {
      const things = Resource.make({
        name: "things",
        description: "things, one of them undecodable",
        scope: "connection",
        schema: Schema.Struct({ id: Schema.String }),
        identity: (t: { readonly id: string }) => t.id,
        permissions: [],
        // Reported from a stream stage, as the client does while it decodes a page.
        list: () =>
          Stream.concat(
            Stream.make({ id: "a" }),
            Stream.fromEffect(ItemProblem.report(new ItemProblem.ItemProblem({ index: 1, id: "b", path: "/name", message: "is missing" }))).pipe(
              Stream.drain
            )
          )
      })
      const connector = Connector.make({
        id: "partial",
        version: "0.0.0",
        schemaVersion: 1,
        credentialKind: "none",
        scopes: ["connection"],
        resources: [things],
        verify: Effect.succeed(new Credential.Verification({ subject: "x", status: "active", grants: [] }))
      })
      const snapshot = yield* SnapshotRunner.run(connector, { connectionId: "c" })
      const status = Snapshot.find(snapshot, "things", "connection:c")?.status ?? snapshot.results[0]?.status
      assert.strictEqual(status?._tag, "partial")
      if (status?._tag === "partial") {
        assert.deepStrictEqual(status.records.map((r) => r.key), ["a"])
        assert.deepStrictEqual(status.problems.map((p) => [p.index, p.id, p.path]), [[1, "b", "/name"]])
      }
      const again = yield* Snapshot.fromJson(Snapshot.toJson(snapshot))
      assert.strictEqual(again.results[0]?.status._tag, "partial")
    }))
})

describe("SnapshotRunner shared reads", () => {
  class ListThings extends Request.TaggedClass("ListThings")<ReadonlyArray<string>, never, { readonly zone: string }> {}

  it.effect("sends a read several resources share once per snapshot, and again in the next", () =>
    Effect.gen(function* () {
      let calls = 0
      const resolver = RequestResolver.fromEffect((request: ListThings) =>
        Effect.sync(() => {
          calls++
          return [`${request.zone}-a`, `${request.zone}-b`]
        })
      )
      const Thing = Schema.Struct({ id: Schema.String })
      const derived = (name: string, suffix: string) =>
        Resource.make({
          name,
          description: name,
          scope: "connection",
          schema: Thing,
          identity: (t: typeof Thing.Type) => t.id,
          permissions: [],
          list: (scope) =>
            Stream.fromIterableEffect(
              Effect.map(Effect.request(new ListThings({ zone: scope.id }), resolver), (all) =>
                all.filter((id) => id.endsWith(suffix)).map((id) => ({ id }))
              )
            )
        })
      const connector = Connector.make({
        id: "shared",
        version: "1.0.0",
        schemaVersion: 1,
        credentialKind: "none",
        scopes: ["connection"],
        resources: [derived("as", "a"), derived("bs", "b")],
        verify: Effect.die("unused")
      })
      const first = yield* SnapshotRunner.run(connector, { connectionId: "c" })
      assert.strictEqual(calls, 1)
      assert.deepStrictEqual(first.results.map((r) => r.status._tag === "ok" && r.status.records.map((x) => x.key)), [["c-a"], ["c-b"]])
      yield* SnapshotRunner.run(connector, { connectionId: "c" })
      assert.strictEqual(calls, 2)
    }))

  it.effect("keeps at most `concurrency` reads in flight, and uses them all, across a thousand scopes", () =>
    Effect.gen(function* () {
      let inFlight = 0
      let peak = 0
      const Thing = Schema.Struct({ id: Schema.String })
      const zones = Resource.make({
        name: "zones",
        description: "a thousand zones",
        scope: "connection",
        schema: Thing,
        identity: (t: typeof Thing.Type) => t.id,
        permissions: [],
        read: () => Effect.succeed(Array.from({ length: 1000 }, (_, i) => ({ id: `z${i}` }))),
        produces: { scope: "zone", fromRecord: (t) => new Scope.Scope({ kind: "zone", id: t.id }) }
      })
      const perZone = (name: string) =>
        Resource.make({
          name,
          description: name,
          scope: "zone",
          schema: Thing,
          identity: (t: typeof Thing.Type) => t.id,
          permissions: [],
          read: () =>
            Effect.acquireUseRelease(
              Effect.sync(() => {
                inFlight++
                peak = Math.max(peak, inFlight)
              }),
              () => Effect.as(Effect.sleep(Duration.millis(10)), [{ id: "a" }]),
              () => Effect.sync(() => inFlight--)
            )
        })
      const connector = Connector.make({
        id: "wide",
        version: "0.0.0",
        schemaVersion: 1,
        credentialKind: "none",
        scopes: ["connection", "zone"],
        resources: [zones, perZone("a"), perZone("b"), perZone("c")],
        verify: Effect.succeed(new Credential.Verification({ subject: "x", status: "active", grants: [] }))
      })
      const fiber = yield* Effect.fork(SnapshotRunner.run(connector, { connectionId: "c", concurrency: 7 }))
      yield* TestClock.adjust(Duration.minutes(1))
      const snapshot = yield* Fiber.join(fiber)
      assert.strictEqual(snapshot.outcome, "complete")
      assert.strictEqual(snapshot.results.length, 1 + 3_000)
      assert.isTrue(snapshot.results.every((r) => r.status._tag === "ok"))
      assert.strictEqual(peak, 7)
    }))
})
