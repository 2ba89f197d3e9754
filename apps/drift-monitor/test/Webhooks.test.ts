import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Layer, Redacted, TestClock } from "effect"
import { join } from "node:path"
import { Keyring } from "@plumbline/store-sql"
import { Webhook } from "standardwebhooks"
import { defaultWebhooks, type WebhookSettings } from "../src/Config.js"
import * as Db from "../src/Db.js"
import type * as Events from "../src/Events.js"
import * as Webhooks from "../src/Webhooks.js"
import * as WebhookTarget from "../src/WebhookTarget.js"
import * as WebhookTransport from "../src/WebhookTransport.js"
import * as Harness from "./fixtures/Harness.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"

interface Sent {
  readonly headers: Record<string, string>
  readonly body: string
}

/** A transport answering with `statuses` in turn (the last one repeats), recording each request. */
const fakeClient = (statuses: ReadonlyArray<number>, sent: Array<Sent>) =>
  WebhookTransport.layerFake((outgoing) =>
    Effect.sync(() => {
      sent.push({ headers: { ...outgoing.headers }, body: outgoing.body })
      return statuses[Math.min(sent.length - 1, statuses.length - 1)] ?? 204
    })
  )

const settings: WebhookSettings = { ...defaultWebhooks, maxAttempts: 4, backoff: Duration.seconds(5), maxBackoff: Duration.seconds(60), secretOverlap: Duration.minutes(1) }

const withWebhooks = <A, E>(
  statuses: ReadonlyArray<number>,
  body: (sent: Array<Sent>) => Effect.Effect<A, E, Webhooks.Webhooks | SqlClient.SqlClient>
) =>
  Effect.gen(function* () {
    const dir = yield* Harness.tempDir
    const sent: Array<Sent> = []
    const sql = Db.layer({ _tag: "sqlite", filename: join(dir, "hooks.db") })
    const layer = Webhooks.layerManual(settings).pipe(
      Layer.provideMerge(Layer.merge(sql, fakeClient(statuses, sent))),
      Layer.orDie
    )
    return yield* Effect.provide(body(sent), layer)
  }).pipe(Effect.scoped)

const event = (id: string, type: Events.EventType = "finding.changed"): Events.DomainEvent => ({
  id,
  type,
  connectionId: "conn-1",
  timestamp: "2026-01-01T00:00:00.000Z",
  data: { checkId: "c", before: "fail", after: "pass" }
})

describe("Webhooks", () => {
  it("signs per Standard Webhooks: the standardwebhooks package verifies it, and refuses a tampered body", () => {
    const secret = Webhooks.generateSecret()
    const body = JSON.stringify({ type: "drift.detected", timestamp: "2026-01-01T00:00:00Z", data: { id: "e1" } })
    const headers = Webhooks.sign(secret, "e1", new Date(), body)
    assert.deepStrictEqual(new Webhook(secret).verify(body, headers), JSON.parse(body))
    assert.throws(() => new Webhook(secret).verify(body.replace("e1", "e2"), headers))
    assert.throws(() => new Webhook(Webhooks.generateSecret()).verify(body, headers))
  })

  it("seals endpoint secrets with the store's keyring, bound to the endpoint", () => {
    const keys = Keyring.parse(Keyring.generate("k1"))
    const other = Keyring.parse(Keyring.generate("k1"))
    if (keys._tag === "Left" || other._tag === "Left") return assert.fail("keys")
    const box = Webhooks.sealWith(Keyring.make(keys.right))
    const secret = Webhooks.generateSecret()
    const sealed = box.seal(secret, "ep-1")
    assert.notInclude(sealed, secret.slice(6))
    assert.strictEqual(box.open(sealed, "ep-1"), secret)
    assert.isUndefined(box.open(sealed, "ep-2"), "a sealed secret copied to another endpoint does not open")
    assert.isUndefined(Webhooks.sealWith(Keyring.make(other.right)).open(sealed, "ep-1"))
  })

  it("backs off exponentially: 5 s, 10 s, 20 s, … capped", () => {
    assert.deepStrictEqual([1, 2, 3, 4, 5].map((n) => Webhooks.backoffMillis(settings, n)), [5000, 10_000, 20_000, 40_000, 60_000])
  })

  it.effect("retries a refused delivery with backoff and the same webhook-id until it is delivered; the log keeps each outcome", () =>
    withWebhooks([500, 503, 204], (sent) =>
      Effect.gen(function* () {
        // Receivers check the signed timestamp against their own clock.
        yield* TestClock.setTime(Date.now())
        const webhooks = yield* Webhooks.Webhooks
        const { endpoint, secret } = yield* webhooks.createEndpoint({ url: "https://backend.example/hooks" })
        yield* webhooks.enqueue([event("evt-1")])
        assert.strictEqual(yield* webhooks.dispatchDue, 1)
        let log = yield* webhooks.deliveries({ endpointId: endpoint.id })
        assert.strictEqual(log.items[0]?.status, "pending")
        assert.strictEqual(log.items[0]?.lastStatus, 500)
        assert.strictEqual(log.items[0]?.attempts, 1)
        yield* TestClock.adjust(Duration.seconds(4))
        assert.strictEqual(yield* webhooks.dispatchDue, 0, "not due before the backoff")
        yield* TestClock.adjust(Duration.seconds(1))
        assert.strictEqual(yield* webhooks.dispatchDue, 1)
        yield* TestClock.adjust(Duration.seconds(10))
        assert.strictEqual(yield* webhooks.dispatchDue, 1)
        log = yield* webhooks.deliveries({ endpointId: endpoint.id })
        assert.strictEqual(log.items[0]?.status, "delivered")
        assert.strictEqual(log.items[0]?.attempts, 3)
        assert.strictEqual(sent.length, 3)
        assert.deepStrictEqual(sent.map((s) => s.headers["webhook-id"]), ["evt-1", "evt-1", "evt-1"])
        for (const s of sent) {
          const payload = new Webhook(secret).verify(s.body, s.headers) as { type: string; data: { id: string } }
          assert.strictEqual(payload.type, "finding.changed")
          assert.strictEqual(payload.data.id, "evt-1")
        }
      })
    )
  )

  it.effect("gives up after the last attempt (failed) and a manual retry starts over", () =>
    withWebhooks([500], (sent) =>
      Effect.gen(function* () {
        const webhooks = yield* Webhooks.Webhooks
        yield* webhooks.createEndpoint({ url: "https://backend.example/hooks" })
        yield* webhooks.enqueue([event("evt-2")])
        for (let i = 0; i < 6; i++) {
          yield* webhooks.dispatchDue
          yield* TestClock.adjust(Duration.minutes(2))
        }
        assert.strictEqual(sent.length, 4)
        const failed = yield* webhooks.deliveries({ status: "failed" })
        assert.strictEqual(failed.items.length, 1)
        assert.strictEqual(failed.items[0]?.lastError, "status 500")
        const retried = yield* webhooks.redeliver(failed.items[0]?.id ?? "")
        assert.strictEqual(retried.status, "pending")
        assert.strictEqual(retried.attempts, 0)
        yield* webhooks.dispatchDue
        assert.strictEqual(sent.length, 5)
      })
    )
  )

  it.effect("enqueueing an event twice yields one event and one delivery per subscribed endpoint", () =>
    withWebhooks([204], (sent) =>
      Effect.gen(function* () {
        const webhooks = yield* Webhooks.Webhooks
        yield* webhooks.createEndpoint({ url: "https://a.example/hooks" })
        yield* webhooks.createEndpoint({ url: "https://b.example/hooks", eventTypes: ["drift.detected"] })
        yield* webhooks.enqueue([event("evt-3"), event("evt-4", "drift.detected")])
        yield* webhooks.enqueue([event("evt-3"), event("evt-4", "drift.detected")])
        const events = yield* webhooks.events({})
        assert.deepStrictEqual(events.items.map((e) => e.id).sort(), ["evt-3", "evt-4"])
        const log = yield* webhooks.deliveries({})
        assert.strictEqual(log.items.length, 3)
        yield* webhooks.dispatchDue
        assert.strictEqual(sent.length, 3)
        assert.strictEqual(yield* webhooks.dispatchDue, 0, "delivered once")
      })
    )
  )

  it.effect("pages the delivery log with an opaque cursor and refuses a foreign one", () =>
    withWebhooks([204], () =>
      Effect.gen(function* () {
        const webhooks = yield* Webhooks.Webhooks
        yield* webhooks.createEndpoint({ url: "https://a.example/hooks" })
        yield* webhooks.enqueue(["e1", "e2", "e3", "e4", "e5"].map((id) => event(id)))
        const first = yield* webhooks.deliveries({ limit: 2 })
        assert.strictEqual(first.items.length, 2)
        assert.isNotNull(first.next)
        const second = yield* webhooks.deliveries({ limit: 2, cursor: first.next ?? undefined })
        const third = yield* webhooks.deliveries({ limit: 2, cursor: second.next ?? undefined })
        assert.strictEqual(third.items.length, 1)
        assert.isNull(third.next)
        const ids = [...first.items, ...second.items, ...third.items].map((d) => d.eventId)
        assert.deepStrictEqual(ids, ["e5", "e4", "e3", "e2", "e1"])
        const bad = yield* Effect.flip(webhooks.deliveries({ cursor: "nonsense" }))
        assert.strictEqual(bad.reason, "invalid")
        const badUrl = yield* Effect.flip(webhooks.createEndpoint({ url: "ftp://x" }))
        assert.strictEqual(badUrl.reason, "invalid")
      })
    )
  )

  it.effect("a stored endpoint, delivery or event that does not decode is a corrupt failure, never a crash or a wrong value", () =>
    withWebhooks([204], () =>
      Effect.gen(function* () {
        const webhooks = yield* Webhooks.Webhooks
        const sql = yield* SqlClient.SqlClient
        yield* webhooks.createEndpoint({ url: "https://a.example/hooks" })
        yield* webhooks.enqueue([event("evt-1")])

        yield* sql`update drift_monitor_deliveries set status = 'lost'`
        const delivery = yield* Effect.flip(webhooks.deliveries({}))
        assert.strictEqual(delivery.reason, "corrupt")
        assert.include(delivery.message, "status")

        yield* sql`update drift_monitor_events set payload = 'not json'`
        const stored = yield* Effect.flip(webhooks.events({}))
        assert.strictEqual(stored.reason, "corrupt")
        assert.include(stored.message, "payload")

        yield* sql`update drift_monitor_endpoints set event_types = '["drift.detected","nope"]'`
        const endpoint = yield* Effect.flip(webhooks.listEndpoints)
        assert.strictEqual(endpoint.reason, "corrupt")
        assert.include(endpoint.message, "event_types")
        // Enqueueing fails (and with it the caller's transaction) rather than skip the endpoint silently.
        const enqueue = yield* Effect.flip(webhooks.enqueue([event("evt-2")]))
        assert.isTrue(enqueue._tag === "WebhookError" && enqueue.reason === "corrupt")
      })
    )
  )

  it.effect("a rotated secret overlaps: both signatures verify during the overlap, only the new one after it or after dropping the old", () =>
    withWebhooks([204], (sent) =>
      Effect.gen(function* () {
        // Receivers check the signed timestamp against their own clock.
        yield* TestClock.setTime(Date.now())
        const webhooks = yield* Webhooks.Webhooks
        const { endpoint, secret: old } = yield* webhooks.createEndpoint({ url: "https://backend.example/hooks" })
        const verifies = (secret: string, i: number) => {
          const s = sent[i]
          if (s === undefined) return false
          try {
            new Webhook(secret).verify(s.body, s.headers)
            return true
          } catch {
            return false
          }
        }
        yield* webhooks.enqueue([event("evt-r1")])
        yield* webhooks.dispatchDue
        assert.isTrue(verifies(old, 0))

        const rotated = yield* webhooks.rotateSecret(endpoint.id)
        assert.notStrictEqual(rotated.secret, old)
        assert.strictEqual(Date.parse(rotated.previousValidUntil), (yield* Clock.currentTimeMillis) + 60_000)
        yield* webhooks.enqueue([event("evt-r2")])
        yield* webhooks.dispatchDue
        assert.strictEqual(sent[1]?.headers["webhook-signature"]?.split(" ").length, 2, "two space-separated v1 entries")
        assert.isTrue(verifies(old, 1), "the previous secret still verifies during the overlap")
        assert.isTrue(verifies(rotated.secret, 1), "the new secret verifies")

        yield* TestClock.adjust(Duration.seconds(61))
        yield* webhooks.enqueue([event("evt-r3")])
        yield* webhooks.dispatchDue
        assert.isFalse(verifies(old, 2), "the previous secret no longer signs after the overlap")
        assert.isTrue(verifies(rotated.secret, 2))

        const again = yield* webhooks.rotateSecret(endpoint.id)
        yield* webhooks.dropPreviousSecret(endpoint.id)
        yield* webhooks.enqueue([event("evt-r4")])
        yield* webhooks.dispatchDue
        assert.isFalse(verifies(rotated.secret, 3), "dropping the previous secret ends the overlap at once")
        assert.isTrue(verifies(again.secret, 3))
        assert.strictEqual(sent[3]?.headers["webhook-signature"]?.split(" ").length, 1)

        const missing = yield* Effect.flip(webhooks.rotateSecret("ep_nope"))
        assert.strictEqual(missing.reason, "not-found")
      })
    )
  )

  it("the address policy refuses every non-public address, in every spelling, and lets public ones through", () => {
    const host = (url: string) => WebhookTarget.hostOf(new URL(url))
    const refused = [
      "127.0.0.1", "127.255.255.254", "10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254",
      "100.64.0.1", "100.127.255.255", "224.0.0.1", "239.255.255.250", "0.0.0.0", "255.255.255.255", "::", "::1",
      "fe80::1", "fc00::1", "fd00:ec2::254", "ff02::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "::ffff:10.0.0.1",
      "::127.0.0.1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "::ffff:0:127.0.0.1",
      host("http://2130706433/"), host("http://0x7f000001/"), host("http://0177.0.0.1/"), host("http://127.1/"),
      host("http://0x7f.1/"), host("http://[::ffff:127.0.0.1]/"), host("http://[0:0:0:0:0:ffff:7f00:1]/")
    ]
    for (const address of refused) assert.isDefined(WebhookTarget.refusal(address), address)
    const allowed = ["93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:93.184.216.34"]
    for (const address of allowed) assert.isUndefined(WebhookTarget.refusal(address), address)
    assert.isDefined(WebhookTarget.refusal("example.com"), "a name is never an address")
    assert.isTrue(Either.isLeft(WebhookTarget.parseUrl("https://u:p@example.com/")))
    assert.isTrue(Either.isLeft(WebhookTarget.parseUrl(`https://example.com/${"a".repeat(2048)}`)))
    assert.isTrue(Either.isLeft(WebhookTarget.parseUrl("gopher://example.com/")))
    assert.isTrue(Either.isRight(WebhookTarget.parseUrl("https://example.com/hooks")))
    assert.deepStrictEqual(WebhookTarget.parseAllowlist(" Hooks.Internal:8443, 127.0.0.1:9000 "), Either.right(["hooks.internal:8443", "127.0.0.1:9000"]))
    assert.isTrue(Either.isLeft(WebhookTarget.parseAllowlist("no-port")))
  })
})

describeWithPostgres("Webhooks on PostgreSQL", (server) => {
  it.live(
    "reads back endpoints, deliveries and events whose times PostgreSQL returns as bigint strings",
    () =>
      Effect.gen(function* () {
        const { url } = yield* freshDatabase(server)
        const sent: Array<Sent> = []
        const layer = Webhooks.layerManual(settings).pipe(
          Layer.provide(Layer.merge(Db.layer({ _tag: "pg", url: Redacted.make(url) }), fakeClient([204], sent))),
          Layer.orDie
        )
        yield* Effect.gen(function* () {
          const webhooks = yield* Webhooks.Webhooks
          const { endpoint } = yield* webhooks.createEndpoint({ url: "https://a.example/hooks", eventTypes: ["finding.changed"] })
          assert.deepStrictEqual(endpoint.eventTypes, ["finding.changed"])
          assert.isTrue(Date.parse(endpoint.createdAt) > 0)
          yield* webhooks.enqueue([event("evt-pg")])
          assert.strictEqual(yield* webhooks.dispatchDue, 1)
          const [delivery] = (yield* webhooks.deliveries({})).items
          assert.strictEqual(delivery?.status, "delivered")
          assert.strictEqual(delivery?.attempts, 1)
          assert.isTrue(Date.parse(delivery?.deliveredAt ?? "") > 0)
          const [stored] = (yield* webhooks.events({})).items
          assert.strictEqual(stored?.id, "evt-pg")
          assert.deepStrictEqual((yield* webhooks.listEndpoints).map((e) => e.id), [endpoint.id])
          assert.strictEqual(sent.length, 1)
        }).pipe(Effect.provide(layer))
      }).pipe(Effect.scoped),
    60_000
  )
})
