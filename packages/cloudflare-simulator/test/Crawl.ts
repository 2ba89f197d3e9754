/**
 * Walks every GET endpoint the simulator covers for every zone and account of a simulator, so a
 * test can check each response.
 */
import type { Simulator } from "../src/Simulator.js"


/** One response seen by the crawl. */
export interface Seen {
  readonly path: string
  readonly status: number
  readonly body: unknown
}

const BASE = "https://api.cloudflare.com/client/v4"

/** GETs a path through the handler with a named token. */
export const get = async (sim: Simulator, path: string, token = "customer"): Promise<Seen> => {
  const res = await sim.handle(new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${sim.tokens[token] ?? token}` } }))
  return { path: path.split("?")[0] ?? path, status: res.status, body: await res.json() }
}

type Json = Record<string, unknown>
const results = (s: Seen): Array<Json> => ((s.body as Json)["result"] as Array<Json>) ?? []

/** Every GET endpoint for every zone and account (records capped per zone). */
export const crawl = async (sim: Simulator, options: { readonly maxRecordGets?: number } = {}): Promise<Array<Seen>> => {
  const seen: Array<Seen> = []
  const go = async (path: string, token?: string): Promise<Seen> => {
    const s = await get(sim, path, token)
    seen.push(s)
    return s
  }
  await go("/user/tokens/verify", "account")
  await go("/user/tokens/permission_groups")
  const accounts = results(await go("/accounts?per_page=50"))
  const first = sim.state.accounts[0]
  if (first !== undefined) await go(`/accounts/${first.id}/tokens/verify`, "accountOwned")
  for (const account of accounts) {
    const a = account["id"] as string
    await go(`/accounts/${a}`)
    const rulesets = results(await go(`/accounts/${a}/rulesets?per_page=50`))
    for (const rs of rulesets) await go(`/accounts/${a}/rulesets/${rs["id"] as string}`)
    for (const rs of sim.state.rulesets) {
      if (rs.owner.kind === "account" && rs.owner.accountId === a) await go(`/accounts/${a}/rulesets/phases/${rs.phase}/entrypoint`)
    }
    await go(`/accounts/${a}/firewall/access_rules/rules`)
    const lists = results(await go(`/accounts/${a}/rules/lists`))
    for (const list of lists) {
      await go(`/accounts/${a}/rules/lists/${list["id"] as string}`)
      await go(`/accounts/${a}/rules/lists/${list["id"] as string}/items`)
    }
    await go(`/accounts/${a}/workers/scripts`)
  }
  let page = 1
  const zones: Array<Json> = []
  for (;;) {
    const s = await go(`/zones?per_page=50&page=${page}`)
    const batch = results(s)
    if (batch.length === 0) break
    zones.push(...batch)
    page++
  }
  for (const zone of zones) {
    const z = zone["id"] as string
    await go(`/zones/${z}`)
    const settings = results(await go(`/zones/${z}/settings`))
    for (const setting of settings) await go(`/zones/${z}/settings/${setting["id"] as string}`)
    await go(`/zones/${z}/dnssec`)
    const records = results(await go(`/zones/${z}/dns_records?per_page=5000`))
    for (const r of records.slice(0, options.maxRecordGets ?? records.length)) await go(`/zones/${z}/dns_records/${r["id"] as string}`)
    const rulesets = results(await go(`/zones/${z}/rulesets?per_page=50`))
    for (const rs of rulesets) {
      const full = await go(`/zones/${z}/rulesets/${rs["id"] as string}`)
      if (rs["kind"] === "zone") await go(`/zones/${z}/rulesets/phases/${((full.body as Json)["result"] as Json)["phase"] as string}/entrypoint`)
    }
    const fw = results(await go(`/zones/${z}/firewall/rules`))
    for (const r of fw) await go(`/zones/${z}/firewall/rules/${r["id"] as string}`)
    const filters = results(await go(`/zones/${z}/filters`))
    for (const f of filters) await go(`/zones/${z}/filters/${f["id"] as string}`)
    const rls = results(await go(`/zones/${z}/rate_limits`))
    for (const r of rls) await go(`/zones/${z}/rate_limits/${r["id"] as string}`)
    await go(`/zones/${z}/firewall/access_rules/rules`)
    await go(`/zones/${z}/workers/routes`)
    const pagerules = results(await go(`/zones/${z}/pagerules`))
    for (const p of pagerules) await go(`/zones/${z}/pagerules/${p["id"] as string}`)
  }
  return seen
}
