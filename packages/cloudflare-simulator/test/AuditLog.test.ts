import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "../src/index.js"
import { BASE, call } from "./Request.js"

const T0 = Date.parse("2026-03-02T10:00:00Z")

const make = (options: Partial<Simulator.SimulatorOptions> = {}) => {
  const clock = { t: T0 }
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false, now: () => clock.t, ...options })
  const account = sim.state.accounts[0]!.id
  const zone = (name: string) => sim.state.zones.find((z) => z.name === name)!.id
  return { sim, clock, account, zone }
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- entries are read as the JSON they are
type Entry = Record<string, any>

const v2 = async (sim: Simulator.Simulator, account: string, query: string, token = "account") => {
  const answer = await call(sim, "GET", `/accounts/${account}/logs/audit?${query}`, token)
  return { ...answer, entries: (answer.body["result"] ?? []) as Array<Entry>, info: answer.body["result_info"] as Entry | undefined }
}

const v1 = async (sim: Simulator.Simulator, account: string, query: string, token = "account") => {
  const answer = await call(sim, "GET", `/accounts/${account}/audit_logs?${query}`, token)
  return { ...answer, entries: (answer.body["result"] ?? []) as Array<Entry>, info: answer.body["result_info"] as Entry | undefined }
}

const WINDOW = "since=2026-03-01&before=2026-03-03"

const addRecord = (sim: Simulator.Simulator, zone: string, name: string) =>
  call(sim, "POST", `/zones/${zone}/dns_records`, "customer", { type: "A", name, content: "192.0.2.10", ttl: 300 })

describe("Audit log: every write appends an entry", () => {
  it("logs an API write in the v2 shape, with the zone, the URI and the token", async () => {
    const { sim, account, zone } = make()
    const z = zone("redpine.io")
    assert.strictEqual((await addRecord(sim, z, "new.redpine.io")).status, 200)
    const { status, entries } = await v2(sim, account, WINDOW)
    assert.strictEqual(status, 200)
    assert.strictEqual(entries.length, 1)
    const e = entries[0]!
    assert.deepStrictEqual(e["zone"], { id: z, name: "redpine.io" })
    assert.strictEqual(e["account"].id, account)
    assert.strictEqual(e["action"].type, "create")
    assert.strictEqual(e["action"].result, "success")
    assert.strictEqual(e["action"].time, "2026-03-02T10:00:00Z")
    assert.strictEqual(e["actor"].context, "api_token")
    assert.strictEqual(e["actor"].token_name, "customer")
    assert.strictEqual(e["raw"].method, "POST")
    assert.strictEqual(e["raw"].uri, `/client/v4/zones/${z}/dns_records`)
    assert.strictEqual(e["resource"].type, "dns_record")
    assert.strictEqual(e["resource"].scope, "zones")
  })

  it("logs the same write in the v1 shape (no URI, zone in metadata)", async () => {
    const { sim, account, zone } = make()
    const z = zone("redpine.dev")
    await call(sim, "PATCH", `/zones/${z}/settings/ssl`, "customer", { value: "strict" })
    const { status, entries, info } = await v1(sim, account, "")
    assert.strictEqual(status, 200)
    assert.strictEqual(entries.length, 1)
    const e = entries[0]!
    assert.deepStrictEqual(e["action"], { result: true, type: "change" })
    assert.deepStrictEqual(e["resource"], { id: "ssl", type: "zone_setting" })
    assert.deepStrictEqual(e["metadata"], { zone_id: z, zone_name: "redpine.dev" })
    assert.strictEqual(e["owner"].id, account)
    assert.strictEqual(e["interface"], "API")
    assert.strictEqual(e["when"], "2026-03-02T10:00:00.000Z")
    assert.deepStrictEqual(info, { page: 1, per_page: 100, count: 1, total_count: 1 })
  })

  it("does not log reads or refused writes", async () => {
    const { sim, account, zone } = make()
    const z = zone("redpine.dev")
    await call(sim, "GET", `/zones/${z}/settings/ssl`, "account")
    assert.strictEqual((await call(sim, "PATCH", `/zones/${z}/settings/ssl`, "account", { value: "full" })).status, 403)
    assert.strictEqual((await v2(sim, account, WINDOW)).entries.length, 0)
  })

  it("logs a token revoked through the admin routes", async () => {
    const { sim, account } = make()
    const res = await sim.handle(new Request("https://api.cloudflare.com/__admin/tokens/scoped/revoke", { method: "POST" }))
    assert.strictEqual(res.status, 200)
    const { entries } = await v2(sim, account, WINDOW)
    assert.strictEqual(entries.length, 1)
    assert.strictEqual(entries[0]!["resource"].type, "api_token")
    assert.strictEqual(entries[0]!["actor"].context, "dash")
  })

  it("runs a scheduled dashboard write when the clock reaches it, logged at its time as dash", async () => {
    const { sim, clock, account, zone } = make()
    const z = zone("redpine.io")
    sim.schedule([{ at: T0 + 60_000, method: "POST", path: `/zones/${z}/dns_records`, body: { type: "TXT", name: "later.redpine.io", content: "x", ttl: 300 } }])
    assert.strictEqual(sim.runDue().length, 0)
    assert.strictEqual((await v2(sim, account, WINDOW)).entries.length, 0)
    clock.t = T0 + 90_000
    const { entries } = await v2(sim, account, WINDOW)
    assert.strictEqual(entries.length, 1)
    assert.strictEqual(entries[0]!["actor"].context, "dash")
    assert.strictEqual(entries[0]!["action"].time, "2026-03-02T10:01:00Z")
    assert.isTrue(sim.state.dnsRecords.get(z)!.some((r) => r.name === "later.redpine.io"))
    assert.strictEqual(sim.outcomes()[0]!.status, 200)
  })

  it("schedules writes through the admin route", async () => {
    const { sim, account, zone } = make()
    const z = zone("redpine.dev")
    const res = await sim.handle(
      new Request("https://api.cloudflare.com/__admin/schedule", {
        method: "POST",
        body: JSON.stringify({ writes: [{ method: "PATCH", path: `/zones/${z}/settings/ssl`, body: { value: "strict" } }] })
      })
    )
    assert.strictEqual(res.status, 200)
    assert.strictEqual((await v2(sim, account, WINDOW)).entries[0]!["resource"].type, "zone_setting")
  })
})

describe("Audit log: delay and drops", () => {
  it("shows an entry only once its delay has passed", async () => {
    const { sim, clock, account, zone } = make({ auditLog: { delayMs: 45_000 } })
    await addRecord(sim, zone("redpine.io"), "slow.redpine.io")
    clock.t = T0 + 44_999
    assert.strictEqual((await v2(sim, account, WINDOW)).entries.length, 0)
    assert.strictEqual((await v1(sim, account, "")).entries.length, 0)
    clock.t = T0 + 45_000
    const { entries } = await v2(sim, account, WINDOW)
    assert.strictEqual(entries.length, 1)
    // The entry keeps the time of the write, not the time it appeared.
    assert.strictEqual(entries[0]!["action"].time, "2026-03-02T10:00:00Z")
  })

  it("drops the chosen entry for good and keeps the others", async () => {
    const { sim, account, zone } = make()
    const z = zone("redpine.io")
    sim.auditLog.dropNext((w) => w.path.endsWith("/dns_records"))
    await addRecord(sim, z, "hidden.redpine.io")
    await addRecord(sim, z, "shown.redpine.io")
    await call(sim, "PATCH", `/zones/${z}/settings/ssl`, "customer", { value: "full" })
    const { entries } = await v2(sim, account, WINDOW)
    assert.deepStrictEqual(entries.map((e) => e["resource"].type).sort(), ["dns_record", "zone_setting"])
    assert.strictEqual(sim.auditLog.entries.filter((e) => e.dropped).length, 1)
    // The write itself happened.
    assert.isTrue(sim.state.dnsRecords.get(z)!.some((r) => r.name === "hidden.redpine.io"))
  })

  it("sets the delay and drops through the admin route", async () => {
    const { sim, clock, account, zone } = make()
    const admin = (body: unknown) => sim.handle(new Request("https://api.cloudflare.com/__admin/audit-log", { method: "POST", body: JSON.stringify(body) }))
    assert.strictEqual((await admin({ delayMs: 10_000, dropNext: { pathPrefix: "/zones", count: 1 } })).status, 200)
    await addRecord(sim, zone("redpine.io"), "a.redpine.io")
    await addRecord(sim, zone("redpine.io"), "b.redpine.io")
    clock.t = T0 + 10_000
    const { entries } = await v2(sim, account, WINDOW)
    assert.strictEqual(entries.length, 1)
    assert.strictEqual((await admin({ drop: entries[0]!["id"] })).status, 200)
    assert.strictEqual((await v2(sim, account, WINDOW)).entries.length, 0)
  })
})

describe("Audit log v2: window, paging, filters, permission", () => {
  const fill = async (n: number) => {
    const ctx = make()
    const io = ctx.zone("redpine.io")
    const dev = ctx.zone("redpine.dev")
    for (let i = 0; i < n; i++) {
      ctx.clock.t = T0 + i * 1000
      await addRecord(ctx.sim, i % 2 === 0 ? io : dev, `r${i}.${i % 2 === 0 ? "redpine.io" : "redpine.dev"}`)
    }
    await ctx.sim.handle(new Request(`${BASE}/zones/${dev}/settings/ssl`, { method: "PATCH", headers: { authorization: `Bearer ${ctx.sim.tokens["customer"]}` }, body: JSON.stringify({ value: "full" }) }))
    return { ...ctx, io, dev }
  }

  it("requires since and before", async () => {
    const { sim, account } = make()
    assert.strictEqual((await v2(sim, account, "since=2026-03-01")).status, 400)
    assert.strictEqual((await v2(sim, account, "before=2026-03-01")).status, 400)
    assert.strictEqual((await v2(sim, account, "since=yesterday&before=2026-03-01")).status, 400)
  })

  it("pages with limit and cursor, newest first by default, every entry once", async () => {
    const { sim, account } = await fill(7)
    const seen: Array<string> = []
    let query = `${WINDOW}&limit=3`
    let pages = 0
    for (;;) {
      const page = await v2(sim, account, query)
      assert.strictEqual(page.status, 200)
      assert.strictEqual(page.info!["count"], page.entries.length)
      seen.push(...page.entries.map((e) => e["action"].time as string))
      pages++
      const cursor = page.info!["cursor"] as string | undefined
      if (cursor === undefined) break
      query = `${WINDOW}&limit=3&cursor=${cursor}`
    }
    assert.strictEqual(pages, 3)
    assert.strictEqual(seen.length, 8)
    assert.deepStrictEqual(seen, [...seen].sort().reverse())
    const asc = await v2(sim, account, `${WINDOW}&direction=asc&limit=1`)
    assert.strictEqual(asc.entries[0]!["action"].time, "2026-03-02T10:00:00Z")
    assert.strictEqual((await v2(sim, account, `${WINDOW}&limit=0`)).status, 400)
    // A cursor belongs to its query.
    const first = await v2(sim, account, `${WINDOW}&limit=3`)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&limit=3&direction=asc&cursor=${first.info!["cursor"]}`)).status, 400)
  })

  it("keeps since inclusive and before exclusive", async () => {
    const { sim, account } = await fill(4)
    const { entries } = await v2(sim, account, "since=2026-03-02T10:00:01Z&before=2026-03-02T10:00:03Z&direction=asc")
    assert.deepStrictEqual(
      entries.map((e) => e["action"].time),
      ["2026-03-02T10:00:01Z", "2026-03-02T10:00:02Z"]
    )
  })

  it("filters by value and excludes with .not", async () => {
    const { sim, account, io, dev } = await fill(4)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&zone_id=${io}`)).entries.length, 2)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&zone_id[]=${io}&zone_id[]=${dev}`)).entries.length, 5)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&resource_type.not=dns_record`)).entries.length, 1)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&action_type=update`)).entries.length, 1)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&zone_name=redpine.dev&action_type.not=update`)).entries.length, 2)
    assert.strictEqual((await v2(sim, account, `${WINDOW}&actor_context=dash`)).entries.length, 0)
  })

  it("needs Account Settings Read; an account can refuse v2 while v1 answers", async () => {
    const { sim, account } = await fill(2)
    assert.strictEqual((await v2(sim, account, WINDOW, "scoped")).status, 403)
    assert.strictEqual((await v1(sim, account, "", "scoped")).status, 403)
    sim.auditLog.v2Refused.add(account)
    assert.strictEqual((await v2(sim, account, WINDOW)).status, 403)
    assert.strictEqual((await v1(sim, account, "")).entries.length, 3)
  })
})

describe("Audit log v1: pages and filters", () => {
  it("pages with page and per_page and filters by zone name, action and window", async () => {
    const { sim, clock, account, zone } = make()
    for (let i = 0; i < 5; i++) {
      clock.t = T0 + i * 1000
      await addRecord(sim, zone(i < 3 ? "redpine.io" : "redpine.dev"), `v${i}.${i < 3 ? "redpine.io" : "redpine.dev"}`)
    }
    const page2 = await v1(sim, account, "per_page=2&page=2&direction=asc")
    assert.deepStrictEqual(page2.info, { page: 2, per_page: 2, count: 2, total_count: 5 })
    assert.deepStrictEqual(
      page2.entries.map((e) => e["when"]),
      ["2026-03-02T10:00:02.000Z", "2026-03-02T10:00:03.000Z"]
    )
    assert.strictEqual((await v1(sim, account, "zone.name=redpine.dev")).entries.length, 2)
    assert.strictEqual((await v1(sim, account, "action.type=add")).entries.length, 5)
    assert.strictEqual((await v1(sim, account, "action.type=delete")).entries.length, 0)
    assert.strictEqual((await v1(sim, account, "since=2026-03-02T10:00:03Z")).entries.length, 2)
    assert.strictEqual((await v1(sim, account, "before=2026-03-02T10:00:01Z")).entries.length, 1)
    assert.strictEqual((await v1(sim, account, "per_page=1001")).status, 400)
  })
})
