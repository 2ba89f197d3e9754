import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { ChangeFeed, Snapshot, SnapshotRunner } from "@plumbline/core"
import { DateTime, Duration, Effect, Either, Option, Schema, TestClock } from "effect"
import { AuditMapping, ChangeFeed as Feed, CloudflareConnector } from "../src/index.js"
import * as SimHttp from "./fixtures/SimHttp.js"

const T0 = Date.parse("2026-03-02T10:00:00Z")

/** A simulator whose clock is the TestClock's (kept in step by `advance`), and the previous snapshot. */
const setup = (options: Partial<Simulator.SimulatorOptions> = {}) =>
  Effect.gen(function* () {
    const clock = { t: T0 }
    const sim = Simulator.make({ scenario: "redpine", rateLimit: false, now: () => clock.t, ...options })
    yield* TestClock.setTime(T0)
    const { snapshot } = yield* SimHttp.snapshotOf(sim, sim.tokens["account"]!, { connectionId: "c1" })
    const zone = (name: string) => sim.state.zones.find((z) => z.name === name)!.id
    const advance = (ms: number) =>
      Effect.gen(function* () {
        clock.t += ms
        yield* TestClock.setTime(clock.t)
      })
    return { sim, clock, snapshot, zone, advance }
  })

const read = (
  sim: Simulator.Simulator,
  snapshot: Snapshot.Snapshot,
  mode: ChangeFeed.FeedMode,
  position: Option.Option<ChangeFeed.Position>,
  token = "account",
  feed: ChangeFeed.ChangeFeed<never> | ReturnType<typeof Feed.make> = Feed.feed
) =>
  Effect.gen(function* () {
    const fake = SimHttp.make(sim)
    const changes = yield* feed
      .changes({ connectionId: "c1", mode, position, previous: snapshot })
      .pipe(Effect.provide(SimHttp.clientLayer(fake, sim.tokens[token]!)), Effect.either)
    return { changes, requests: fake.requests.map((r) => r.url.pathname.replace("/client/v4", "")) }
  })

const ok = <A, E>(e: Either.Either<A, E>): A => {
  if (Either.isLeft(e)) assert.fail(`expected a success, got ${JSON.stringify(e.left)}`)
  return (e as Either.Right<E, A>).right
}

/** As the runner keeps it: JSON through the Schema, as if read back by another process. */
const roundTrip = (p: ChangeFeed.Position): ChangeFeed.Position =>
  Schema.decodeUnknownSync(ChangeFeed.Position)(JSON.parse(JSON.stringify(Schema.encodeSync(ChangeFeed.Position)(p))))

const write = (sim: Simulator.Simulator, method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const res = await sim.handle(
      new Request(`${SimHttp.BASE_URL}${path}`, {
        method,
        headers: { authorization: `Bearer ${sim.tokens["customer"]}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    )
    assert.isBelow(res.status, 300, await res.clone().text())
  })

const addRecord = (sim: Simulator.Simulator, zone: string, name: string) => write(sim, "POST", `/zones/${zone}/dns_records`, { type: "A", name, content: "192.0.2.7", ttl: 300 })

const shown = (marks: ReadonlyArray<ChangeFeed.Mark>) => marks.map((m) => (m.resources === undefined ? m.scope : `${m.scope}[${m.resources.join(",")}]`))

describe("ChangeFeed: audit_log", () => {
  it.effect("starts with a position and no marks, then announces each write once", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      assert.deepStrictEqual(start.marks, [])
      assert.strictEqual(DateTime.toEpochMillis(start.position.at), T0)
      assert.strictEqual(start.requestCount, 1)
      yield* advance(5_000)
      yield* addRecord(sim, zone("redpine.io"), "new.redpine.io")
      yield* write(sim, "PATCH", `/zones/${zone("redpine.dev")}/settings/ssl`, { value: "full" })
      yield* advance(55_000)
      const first = yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(start.position)))
      const changes = ok(first.changes)
      assert.deepStrictEqual(shown(changes.marks).sort(), [`zone:${zone("redpine.dev")}[zone_settings]`, `zone:${zone("redpine.io")}[dns_records]`].sort())
      assert.strictEqual(changes.lagSeconds, 55)
      assert.deepStrictEqual(first.requests, [`/accounts/${sim.state.accounts[0]!.id}/logs/audit`])
      yield* advance(60_000)
      const again = ok((yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(changes.position)))).changes)
      assert.deepStrictEqual(again.marks, [])
    })
  )

  it.effect("misses nothing and repeats nothing at a boundary where entries share a timestamp and appear late", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const io = zone("redpine.io")
      const dev = zone("redpine.dev")
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      yield* advance(10_000)
      // Two writes in the same second: the first appears at once, the second 20 s late.
      yield* addRecord(sim, io, "a.redpine.io")
      sim.auditLog.setDelay(20_000)
      yield* write(sim, "PATCH", `/zones/${dev}/settings/ssl`, { value: "full" })
      sim.auditLog.setDelay(0)
      yield* advance(5_000)
      const first = ok((yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(start.position)))).changes)
      assert.deepStrictEqual(shown(first.marks), [`zone:${io}[dns_records]`])
      // A third write lands in the very second of the read, just after it.
      yield* addRecord(sim, dev, "b.redpine.dev")
      yield* advance(20_000)
      const second = ok((yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(first.position)))).changes)
      assert.deepStrictEqual(shown(second.marks), [`zone:${dev}[dns_records,zone_settings]`])
      yield* advance(60_000)
      const third = ok((yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(second.position)))).changes)
      assert.deepStrictEqual(third.marks, [])
    })
  )

  it.effect("announces an entry that appears late, within the overlap, exactly once", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup({ auditLog: { delayMs: 240_000 } })
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      yield* addRecord(sim, zone("redpine.io"), "late.redpine.io")
      let position = start.position
      const seen: Array<string> = []
      for (let i = 0; i < 6; i++) {
        yield* advance(60_000)
        const c = ok((yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(position)))).changes)
        seen.push(...shown(c.marks))
        position = c.position
      }
      assert.deepStrictEqual(seen, [`zone:${zone("redpine.io")}[dns_records]`])
    })
  )

  it.effect("pages through v2 with the cursor, reading each entry once", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const feed = Feed.make({ v2Limit: 2 })
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none(), "account", feed)).changes)
      for (let i = 0; i < 5; i++) yield* addRecord(sim, zone("redpine.io"), `p${i}.redpine.io`)
      yield* advance(1_000)
      const { changes, requests } = yield* read(sim, snapshot, "audit_log", Option.some(start.position), "account", feed)
      const c = ok(changes)
      assert.strictEqual(requests.length, 3)
      assert.strictEqual(c.requestCount, 3)
      assert.deepStrictEqual(shown(c.marks), [`zone:${zone("redpine.io")}[dns_records]`])
      assert.strictEqual((c.position.cursor as { seen: Array<unknown> }).seen.length, 5)
    })
  )

  it.effect("falls back to v1 where v2 is refused, and keeps to v1 afterwards", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const account = sim.state.accounts[0]!.id
      sim.auditLog.v2Refused.add(account)
      const start = yield* read(sim, snapshot, "audit_log", Option.none())
      assert.deepStrictEqual(start.requests, [`/accounts/${account}/logs/audit`, `/accounts/${account}/audit_logs`])
      assert.strictEqual(ok(start.changes).requestCount, 2)
      yield* write(sim, "PATCH", `/zones/${zone("redpine.dev")}/dnssec`, { status: "active" })
      yield* advance(30_000)
      const next = yield* read(sim, snapshot, "audit_log", Option.some(roundTrip(ok(start.changes).position)))
      assert.deepStrictEqual(next.requests, [`/accounts/${account}/audit_logs`])
      assert.deepStrictEqual(shown(ok(next.changes).marks), [`zone:${zone("redpine.dev")}[dnssec]`])
    })
  )

  it.effect("without Account Settings Read: audit_log is forbidden, naming the permission, and probes answer", () =>
    Effect.gen(function* () {
      const { sim, snapshot } = yield* setup()
      assert.strictEqual(Feed.feed.permissionFor("audit_log"), "Account Settings Read")
      const refused = yield* read(sim, snapshot, "audit_log", Option.none(), "scoped")
      assert.isTrue(Either.isLeft(refused.changes))
      const error = (refused.changes as Either.Left<ChangeFeed.FeedUnavailable, ChangeFeed.Changes>).left
      assert.strictEqual(error._tag, "FeedUnavailable")
      assert.strictEqual(error.reason, "forbidden")
      assert.strictEqual(error.permission, "Account Settings Read")
      assert.include(error.message, "Account Settings Read")
      // v2 was tried, then v1.
      assert.deepStrictEqual(refused.requests.map((p) => p.split("/").at(-1)), ["audit", "audit_logs"])
      const probes = yield* read(sim, snapshot, "probes", Option.none(), "scoped")
      assert.deepStrictEqual(ok(probes.changes).marks, [])
    })
  )

  it.effect("refuses a position older than the log's retention", () =>
    Effect.gen(function* () {
      const { sim, snapshot, advance } = yield* setup()
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      yield* advance(31 * 24 * 3600 * 1000)
      const stale = yield* read(sim, snapshot, "audit_log", Option.some(start.position))
      assert.isTrue(Either.isLeft(stale.changes))
      assert.strictEqual((stale.changes as Either.Left<ChangeFeed.FeedUnavailable, unknown>).left.reason, "retention")
      assert.deepStrictEqual(stale.requests, [])
    })
  )

  it.effect("never announces an entry the log dropped (reconciliation must catch it)", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const start = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      sim.auditLog.dropNext((w) => w.path.endsWith("/dns_records"))
      yield* addRecord(sim, zone("redpine.io"), "hidden.redpine.io")
      yield* write(sim, "PATCH", `/zones/${zone("redpine.dev")}/settings/ssl`, { value: "full" })
      yield* advance(30_000)
      const c = ok((yield* read(sim, snapshot, "audit_log", Option.some(start.position))).changes)
      assert.deepStrictEqual(shown(c.marks), [`zone:${zone("redpine.dev")}[zone_settings]`])
    })
  )

  it.effect("the connector declares the feed", () =>
    Effect.sync(() => {
      assert.strictEqual(CloudflareConnector.connector.changes, Feed.feed)
      assert.deepStrictEqual(Feed.feed.modes, ["audit_log", "probes"])
    })
  )
})

describe("ChangeFeed: probes", () => {
  it.effect("marks only the resource whose entry point's version moved", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const io = zone("redpine.io")
      const start = yield* read(sim, snapshot, "probes", Option.none())
      const begun = ok(start.changes)
      assert.deepStrictEqual(begun.marks, [])
      // One zones listing, one rulesets listing per zone.
      assert.deepStrictEqual(start.requests.sort(), ["/zones", ...sim.state.zones.map((z) => `/zones/${z.id}/rulesets`)].sort())
      assert.strictEqual(begun.requestCount, start.requests.length)
      const custom = sim.state.rulesets.find((r) => r.owner.kind === "zone" && r.owner.zoneId === io && r.phase === "http_request_firewall_custom")!
      yield* write(sim, "POST", `/zones/${io}/rulesets/${custom.id}/rules`, { action: "block", expression: 'ip.src eq 192.0.2.99', description: "probe test" })
      // A DNS record has no marker: probes do not see it (the slower cadence re-reads it).
      yield* addRecord(sim, io, "unseen.redpine.io")
      yield* advance(60_000)
      const moved = ok((yield* read(sim, snapshot, "probes", Option.some(roundTrip(begun.position)))).changes)
      assert.deepStrictEqual(shown(moved.marks), [`zone:${io}[waf_custom_rules]`])
      assert.include(moved.marks[0]!.reason, "http_request_firewall_custom")
      assert.strictEqual(moved.lagSeconds, 0)
      const still = ok((yield* read(sim, snapshot, "probes", Option.some(roundTrip(moved.position)))).changes)
      assert.deepStrictEqual(still.marks, [])
    })
  )

  it.effect("marks a zone whose modified_on moved, and its account's zones", () =>
    Effect.gen(function* () {
      const { sim, snapshot, zone, advance } = yield* setup()
      const begun = ok((yield* read(sim, snapshot, "probes", Option.none())).changes)
      const dev = sim.state.zones.find((z) => z.id === zone("redpine.dev"))!
      dev.modified_on = "2026-03-02T10:00:30.000000Z"
      yield* advance(60_000)
      const c = ok((yield* read(sim, snapshot, "probes", Option.some(begun.position))).changes)
      assert.deepStrictEqual(shown(c.marks), [`account:${dev.account.id}[zones]`, `zone:${dev.id}`])
    })
  )

  it.effect("names what no marker covers, so the slower cadence re-reads it: a DNS record probes cannot see shows within one period", () =>
    Effect.gen(function* () {
      // Every resource is marked by probes (the zones listing, a ruleset phase) or named unmarked.
      const probed = ["zones", ...AuditMapping.RULESET_RESOURCES]
      assert.deepStrictEqual([...probed, ...Feed.PROBES_UNMARKED].sort(), CloudflareConnector.connector.resources.map((r) => r.name).sort())
      assert.deepStrictEqual(Feed.feed.unmarked?.("audit_log"), [])
      assert.deepStrictEqual(Feed.feed.unmarked?.("probes"), Feed.PROBES_UNMARKED)

      const { sim, snapshot, zone, advance } = yield* setup()
      const begun = ok((yield* read(sim, snapshot, "probes", Option.none())).changes)
      yield* addRecord(sim, zone("redpine.io"), "cadence.redpine.io")
      yield* advance(3_600_000)
      const changes = ok((yield* read(sim, snapshot, "probes", Option.some(begun.position))).changes)
      assert.deepStrictEqual(changes.marks, [])
      const runner = (options: Partial<SnapshotRunner.RunOptions>) =>
        SnapshotRunner.run(CloudflareConnector.connector, { connectionId: "c1", ...options }).pipe(
          Effect.provide(SimHttp.clientLayer(SimHttp.make(sim), sim.tokens["account"]!))
        )
      const full = yield* runner({})
      const blind = yield* runner({ incremental: { previous: snapshot, changes } })
      assert.notStrictEqual(Snapshot.contentHash(blind), Snapshot.contentHash(full))
      const cadence = { resources: Feed.feed.unmarked!("probes"), maxAge: Duration.hours(1) }
      const seen = yield* runner({ incremental: { previous: snapshot, changes, cadence } })
      assert.strictEqual(Snapshot.contentHash(seen), Snapshot.contentHash(full))
      assert.include(seen.provenance?.read ?? [], `dns_records@zone:${zone("redpine.io")}`)
    })
  )

  it.effect("refuses a position of the other mode", () =>
    Effect.gen(function* () {
      const { sim, snapshot } = yield* setup()
      const audit = ok((yield* read(sim, snapshot, "audit_log", Option.none())).changes)
      const wrong = yield* read(sim, snapshot, "probes", Option.some(audit.position))
      assert.isTrue(Either.isLeft(wrong.changes))
      assert.strictEqual((wrong.changes as Either.Left<ChangeFeed.FeedUnavailable, unknown>).left.reason, "unavailable")
    })
  )
})
