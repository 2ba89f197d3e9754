/**
 * Issue #13 item 4 — per-zone and multi-zone tokens, equally: a connection holding one token per
 * zone reads each zone through its own token (the simulator records which token sent each
 * request); revoking one expires only its zone — the alert, the webhook and the connection view
 * name the zone and the token's fingerprint — while the other zone keeps producing snapshots and
 * drift; a token added with `PUT …/credential` (mode add) or through a reconnect session restores
 * the zone. `PATCH` checks new zones against every token. No API answer or webhook ever carries a token.
 */
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { CloudflareClient } from "@plumbline/cloudflare"
import { Credential } from "@plumbline/core"
import { Keyring } from "@plumbline/store-sql"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schedule } from "effect"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

/** The groups each per-zone token holds, on its one zone. */
const zoneGroups = ["Zone Read", "Zone Settings Read", "DNS Read", "Firewall Services Read"]

/** One request the simulator answered: the name of the token that sent it, and the path. */
interface Seen {
  readonly token: string
  readonly path: string
}

/**
 * The redpine simulator with three per-zone tokens (`ioToken` on redpine.io, `devToken` and
 * `devToken2` on redpine.dev), served through a recorder of every request's token and path.
 */
const worldWith = (scheduleEvery?: Duration.Duration) => Effect.gen(function* () {
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
  const zone = (name: string) => sim.state.zones.find((z) => z.name === name)!
  const io = zone("redpine.io")
  const dev = zone("redpine.dev")
  const tokens: Record<string, string> = {}
  for (const [name, zoneId, n] of [["ioToken", io.id, 1], ["devToken", dev.id, 2], ["devToken2", dev.id, 3]] as const) {
    const value = `cfut_multi${String(n).repeat(35)}`
    tokens[name] = value
    sim.state.tokens.push({
      name,
      id: `${n}`.repeat(32),
      value,
      owner: { kind: "user" },
      status: "active",
      policies: [{ permissionGroups: zoneGroups, resource: { kind: "zones", zoneIds: [zoneId] } }]
    })
  }
  // `ioAudit`: redpine.io's groups, and Account Settings Read (the audit log) on the account.
  tokens["ioAudit"] = `cfut_multi${"4".repeat(35)}`
  sim.state.tokens.push({
    name: "ioAudit",
    id: "4".repeat(32),
    value: tokens["ioAudit"],
    owner: { kind: "user" },
    status: "active",
    policies: [
      { permissionGroups: zoneGroups, resource: { kind: "zones", zoneIds: [io.id] } },
      { permissionGroups: ["Account Settings Read"], resource: { kind: "account", accountId: io.account.id } }
    ]
  })
  const names = new Map(Object.entries(tokens).map(([name, value]) => [value, name]))
  const seen: Array<Seen> = []
  const recorded: Simulator.Simulator = {
    ...sim,
    handle: (request) => {
      const bearer = /^Bearer\s+(\S+)/.exec(request.headers.get("authorization") ?? "")?.[1] ?? ""
      seen.push({ token: names.get(bearer) ?? "other", path: new URL(request.url).pathname })
      return sim.handle(request)
    }
  }
  const running = yield* Effect.acquireRelease(
    Effect.promise(() => serve(recorded, { port: 0 })),
    (r) => Effect.promise(() => r.close())
  )
  const dir = yield* Harness.tempDir
  const hooks = yield* Harness.receiver()
  const config = Harness.config(dir, running.baseUrl, Keyring.generate("k1"), [hooks.host])
  const started = yield* Main.start(
    scheduleEvery === undefined ? config : { ...config, scheduler: { ...config.scheduler, interval: scheduleEvery } }
  )
  const api = Harness.client(started.baseUrl)
  const endpoint = yield* api.call("POST", "/api/webhooks", { url: hooks.url })
  hooks.setSecret(endpoint.body.secret)
  const origin = new URL(running.baseUrl).origin
  const revoke = (name: string) =>
    Effect.promise(() => fetch(`${origin}/__admin/tokens/${name}/revoke`, { method: "POST" })).pipe(
      Effect.tap((r) => assert.strictEqual(r.status, 200))
    )
  const fingerprint = (name: string) => Credential.fingerprint(Credential.make(CloudflareClient.CREDENTIAL_KIND, tokens[name]!))
  /** The tokens that sent requests about one zone (`/zones/<id>/…`) since `from`. */
  const tokensFor = (zoneId: string, from = 0) =>
    [...new Set(seen.slice(from).filter((s) => s.path.includes(`/zones/${zoneId}/`)).map((s) => s.token))].sort()
  /** Neither any API answer nor any webhook carries a token. */
  const noSecretLeaked = () => {
    for (const value of Object.values(tokens)) {
      for (const body of api.bodies) assert.notInclude(body, value)
      for (const hook of hooks.received) assert.notInclude(hook.body, value)
    }
  }
  return { sim, io, dev, tokens, seen, api, hooks, started, revoke, fingerprint, tokensFor, noSecretLeaked }
})

const world = worldWith()

type World = Effect.Effect.Success<typeof world>

const recheck = (w: World, id: string) =>
  Effect.map(w.api.call("POST", `/api/connections/${id}/recheck?wait=true`), (r) => {
    assert.strictEqual(r.status, 200, JSON.stringify(r.body))
    return r.body as { outcome: string; snapshotId: string | null; driftEvents: number }
  })

/** The results of the latest snapshot, by `resource@scope`. */
const latestResults = (w: World, id: string) =>
  Effect.map(w.api.call("GET", `/api/connections/${id}/snapshots/latest`), (r) => {
    assert.strictEqual(r.status, 200)
    return new Map((r.body.results as Array<{ resource: string; scope: string; status: string }>).map((x) => [`${x.resource}@${x.scope}`, x.status]))
  })

/** Revokes `devToken` and re-checks: only redpine.dev expires; returns the expiry webhook. */
const revokeDev = (w: World, id: string) =>
  Effect.gen(function* () {
    yield* w.revoke("devToken")
    const from = w.seen.length
    const run = yield* recheck(w, id)
    assert.strictEqual(run.outcome, "committed", "the other zone's snapshot is committed")
    assert.deepStrictEqual(w.tokensFor(w.io.id, from), ["ioToken"])
    const view = (yield* w.api.call("GET", `/api/connections/${id}`)).body
    assert.strictEqual(view.status, "active")
    assert.strictEqual(view.alert?.kind, "credential_expired")
    assert.include(view.alert.message, w.fingerprint("devToken"))
    assert.include(view.alert.message, "redpine.dev")
    assert.notInclude(view.alert.message, "redpine.io")
    assert.deepStrictEqual(
      view.credentials.map((c: { fingerprint: string; status: string; zones: Array<string> }) => [c.fingerprint, c.status, c.zones]),
      [
        [w.fingerprint("ioToken"), "active", [w.io.id]],
        [w.fingerprint("devToken"), "expired", [w.dev.id]]
      ]
    )
    const hook = yield* w.hooks.until((all) => all.find((h) => h.payload.type === "connection.credential_expired"))
    assert.isTrue(hook.verified)
    assert.strictEqual(hook.payload.data["credentialFingerprint"], w.fingerprint("devToken"))
    assert.deepStrictEqual(hook.payload.data["zones"], [{ id: w.dev.id, name: "redpine.dev" }])
    assert.strictEqual(hook.payload.data["partial"], true)
    const results = yield* latestResults(w, id)
    assert.strictEqual(results.get(`dns_records@zone:${w.io.id}`), "ok")
    assert.isUndefined(results.get(`dns_records@zone:${w.dev.id}`), "redpine.dev is not read")
    // The zone listing knows it could not see redpine.dev: partial, so drift never calls the zone removed.
    const account = w.io.account.id
    assert.strictEqual(results.get(`zones@account:${account}`), "partial")
    const drift = yield* w.api.call("GET", `/api/drift-events?connectionId=${id}&limit=1000`)
    assert.notInclude(
      (drift.body.items as Array<{ kind: string; resource: string }>).map((e) => `${e.kind} ${e.resource}`),
      "removed zones"
    )
  })

describe("Several credentials per connection (issue #13 item 4)", () => {
  it.scopedLive(
    "incremental runs notice an expired token they read nothing through: its zone expires with the alert and webhook (issue #15)",
    () =>
      Effect.gen(function* () {
        // Scheduled every second: after the first (full) run, every run is incremental from the audit log.
        const w = yield* worldWith(Duration.seconds(1))
        const created = yield* w.api.call("POST", "/api/connections", { name: "Redpine", tokens: [w.tokens["ioAudit"], w.tokens["devToken"]] })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        const id = created.body.id as string
        assert.strictEqual((yield* w.api.call("PATCH", `/api/connections/${id}`, { zones: [w.io.id, w.dev.id] })).status, 200)
        // Wait for incremental runs, which carry redpine.dev and send nothing through devToken.
        const snapshots = () => Effect.map(w.api.call("GET", `/api/connections/${id}/snapshots?limit=100`), (r) => r.body.items as Array<{ kind: string }>)
        yield* Effect.repeat(snapshots(), { until: (items) => items.filter((x) => x.kind === "incremental").length >= 2, schedule: Schedule.spaced("100 millis") })
        assert.strictEqual((yield* w.api.call("GET", `/api/connections/${id}`)).body.changeDetection.mode, "audit_log")

        // devToken reaches its expiry date: unlike a revocation, nothing is written to the audit log,
        // so the feed announces nothing and only asking the provider about the token can tell.
        const devToken = w.sim.state.tokens.find((t) => t.name === "devToken")!
        devToken.expires_on = new Date(Date.now() - 1000).toISOString()
        const hook = yield* w.hooks.until((all) => all.find((h) => h.payload.type === "connection.credential_expired"))
        assert.isTrue(hook.verified)
        assert.strictEqual(hook.payload.data["credentialFingerprint"], w.fingerprint("devToken"))
        assert.deepStrictEqual(hook.payload.data["zones"], [{ id: w.dev.id, name: "redpine.dev" }])
        const view = (yield* w.api.call("GET", `/api/connections/${id}`)).body
        assert.strictEqual(view.status, "active")
        assert.strictEqual(view.alert?.kind, "credential_expired")
        assert.deepStrictEqual(
          view.credentials.map((c: { fingerprint: string; status: string }) => [c.fingerprint, c.status]),
          [
            [w.fingerprint("ioAudit"), "active"],
            [w.fingerprint("devToken"), "expired"]
          ]
        )
        w.noSecretLeaked()
      }),
    { timeout: 120_000 } // a real scheduler every second; the revocation is noticed within a few runs
  )

  it.scopedLive("the change feed reads the audit log through the token that can, even when it is not the first (issue #15)", () =>
    Effect.gen(function* () {
      const w = yield* world
      const created = yield* w.api.call("POST", "/api/connections", { name: "Redpine", tokens: [w.tokens["devToken"], w.tokens["ioAudit"]] })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      const id = created.body.id as string
      assert.strictEqual((yield* w.api.call("PATCH", `/api/connections/${id}`, { zones: [w.io.id, w.dev.id] })).status, 200)
      const auditReaders = (from: number) => [...new Set(w.seen.slice(from).filter((s) => s.path.includes("/logs/audit")).map((s) => s.token))].sort()

      assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
      const view = (yield* w.api.call("GET", `/api/connections/${id}`)).body
      // The first token cannot read the audit log; the second can, so the feed is the audit log.
      assert.strictEqual(view.changeDetection.mode, "audit_log")
      assert.isNull(view.changeDetection.betterPermission)
      assert.include(auditReaders(0), "ioAudit")

      // The feed keeps that token: the next run asks the audit log through it alone.
      const from = w.seen.length
      assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
      assert.deepStrictEqual(auditReaders(from), ["ioAudit"])
      assert.strictEqual((yield* w.api.call("GET", `/api/connections/${id}`)).body.changeDetection.mode, "audit_log")
      w.noSecretLeaked()
    })
  )


  it.scopedLive(
    "two per-zone tokens: each zone is read through its own token; revoking one expires only its zone, the other keeps producing snapshots and drift; a token added with PUT mode add restores it",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const created = yield* w.api.call("POST", "/api/connections", { name: "Redpine", tokens: [w.tokens["ioToken"], w.tokens["devToken"]] })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        const id = created.body.id as string
        assert.deepStrictEqual(
          created.body.credentials.map((c: { fingerprint: string; status: string; zones: Array<string> }) => [c.fingerprint, c.status, c.zones]),
          [
            [w.fingerprint("ioToken"), "active", [w.io.id]],
            [w.fingerprint("devToken"), "active", [w.dev.id]]
          ]
        )
        // Zones are checked against every token: each of these is seen by one of them only.
        const patched = yield* w.api.call("PATCH", `/api/connections/${id}`, { zones: [w.io.id, w.dev.id] })
        assert.strictEqual(patched.status, 200, JSON.stringify(patched.body))
        const from = w.seen.length
        assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
        // Each zone through its own token, and both zones read.
        assert.deepStrictEqual(w.tokensFor(w.io.id, from), ["ioToken"])
        assert.deepStrictEqual(w.tokensFor(w.dev.id, from), ["devToken"])
        const results = yield* latestResults(w, id)
        assert.strictEqual(results.get(`dns_records@zone:${w.io.id}`), "ok")
        assert.strictEqual(results.get(`dns_records@zone:${w.dev.id}`), "ok")

        yield* revokeDev(w, id)

        // redpine.io keeps being monitored: a new DNS record there is drift as usual.
        const records = w.sim.state.dnsRecords.get(w.io.id)!
        records.push({ ...records[0]!, id: "e".repeat(32), name: "added.redpine.io", content: "192.0.2.77" })
        const after = yield* recheck(w, id)
        assert.strictEqual(after.outcome, "committed")
        const drift = yield* w.api.call("GET", `/api/drift-events?connectionId=${id}&limit=1000`)
        const added = (drift.body.items as Array<{ kind: string; resource: string; scope: string; snapshotId: string }>).filter(
          (e) => e.snapshotId === after.snapshotId && e.kind === "added"
        )
        assert.deepStrictEqual(added.map((e) => `${e.resource}@${e.scope}`), [`dns_records@zone:${w.io.id}`])
        const stillExpired = (yield* w.api.call("GET", `/api/connections/${id}`)).body
        assert.strictEqual(stillExpired.alert?.kind, "credential_expired")

        // The customer adds a new token for redpine.dev beside the other one.
        const added2 = yield* w.api.call("PUT", `/api/connections/${id}/credential`, { tokens: [w.tokens["devToken2"]], mode: "add" })
        assert.strictEqual(added2.status, 200, JSON.stringify(added2.body))
        assert.isNull(added2.body.alert)
        assert.deepStrictEqual(
          added2.body.credentials.map((c: { fingerprint: string; status: string }) => [c.fingerprint, c.status]),
          [
            [w.fingerprint("ioToken"), "active"],
            [w.fingerprint("devToken2"), "active"]
          ]
        )
        const restored = yield* w.hooks.until((all) => all.find((h) => h.payload.type === "connection.restored"))
        assert.isTrue(restored.verified)
        const back = w.seen.length
        assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
        assert.deepStrictEqual(w.tokensFor(w.dev.id, back), ["devToken2"])
        assert.deepStrictEqual(w.tokensFor(w.io.id, back), ["ioToken"])
        assert.strictEqual((yield* latestResults(w, id)).get(`dns_records@zone:${w.dev.id}`), "ok")
        // The single-token body still works, and replaces (the default) every credential.
        const replaced = yield* w.api.call("PUT", `/api/connections/${id}/credential`, { token: w.sim.tokens["account"] })
        assert.strictEqual(replaced.status, 200)
        assert.strictEqual(replaced.body.credentials.length, 1)
        const neither = yield* w.api.call("PUT", `/api/connections/${id}/credential`, {})
        assert.strictEqual(neither.status, 400)
        w.noSecretLeaked()
      }),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "a connect session completes with two per-zone tokens; after a revocation, a reconnect session adding a token restores the zone",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const endUser = { id: "cus_multi", displayName: "Redpine" }
        const open = (body: Record<string, unknown>) =>
          Effect.gen(function* () {
            const created = yield* w.api.call("POST", "/api/connect-sessions", body)
            assert.strictEqual(created.status, 201)
            return Harness.client(w.started.baseUrl, created.body.token as string)
          })
        const first = yield* open({ endUser })
        const done = yield* first.call("POST", "/connect/api/complete", { tokens: [w.tokens["ioToken"], w.tokens["devToken"]] })
        assert.strictEqual(done.status, 200, JSON.stringify(done.body))
        const id = done.body.connectionId as string
        assert.deepStrictEqual(
          (done.body.zones as Array<{ name: string }>).map((z) => z.name).sort(),
          ["redpine.dev", "redpine.io"]
        )
        const from = w.seen.length
        assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
        assert.deepStrictEqual(w.tokensFor(w.dev.id, from), ["devToken"])
        assert.deepStrictEqual(w.tokensFor(w.io.id, from), ["ioToken"])

        yield* revokeDev(w, id)
        const expired = w.hooks.received.find((h) => h.payload.type === "connection.credential_expired")
        assert.deepStrictEqual(expired?.payload.data["endUser"], { id: "cus_multi", displayName: "Redpine", email: null })

        const again = yield* open({ endUser, reconnect: id })
        const reconnected = yield* again.call("POST", "/connect/api/complete", { tokens: [w.tokens["devToken2"]], mode: "add" })
        assert.strictEqual(reconnected.status, 200, JSON.stringify(reconnected.body))
        assert.strictEqual(reconnected.body.connectionId, id)
        const restored = yield* w.hooks.until((all) => all.find((h) => h.payload.type === "connection.restored"))
        assert.isTrue(restored.verified)
        const view = (yield* w.api.call("GET", `/api/connections/${id}`)).body
        assert.isNull(view.alert)
        assert.deepStrictEqual(
          view.credentials.map((c: { fingerprint: string; status: string }) => [c.fingerprint, c.status]),
          [
            [w.fingerprint("ioToken"), "active"],
            [w.fingerprint("devToken2"), "active"]
          ]
        )
        const back = w.seen.length
        assert.strictEqual((yield* recheck(w, id)).outcome, "committed")
        assert.deepStrictEqual(w.tokensFor(w.dev.id, back), ["devToken2"])
        w.noSecretLeaked()
      }),
    { timeout: 120_000 }
  )
})
