/**
 * B1's baseline: the same read of an account written the way a user of the official `cloudflare`
 * SDK would write it — the SDK's auto-pagination (`for await`), one loop over the zones, each
 * resource read in turn, the SDK's default page sizes and its default retries (2, honouring
 * `Retry-After`). It reads what the connector reads: per account the IP access rules, the lists and
 * their items, the Workers scripts and Custom Domains; per zone the settings, DNSSEC, the DNS records, the ruleset
 * listing and the entry points of the phases the connector reads, the legacy firewall rules and
 * filters, the legacy rate limits (a 410 today), the IP access rules, the Workers routes and the
 * page rules.
 *
 * Settings: SDK 7.x has no call that lists a zone's settings (only `zones.settings.get(id)`, one
 * request per setting), so the baseline uses the SDK's own `client.get` on `/zones/{id}/settings`:
 * one request, as the connector makes. Per-setting calls would only make the baseline slower.
 *
 * Sampling: the loop is sequential, so its time is the sum of its iterations. With a `stride`
 * above 1, only every `stride`-th zone is read (the loop still walks the whole listing) and the
 * time of each zone read is returned, for `Figures.extrapolateLoop`.
 */
import Cloudflare from "cloudflare"
// The connector test's own count (test code, not exported: imported from its source).
import { phasesFor } from "../../../packages/cloudflare/test/fixtures/MinimumRequests.js"

/** Options of one baseline run. */
export interface Options {
  readonly baseUrl: string
  readonly token: string
  /** Read every `stride`-th zone of the listing (1: every zone). */
  readonly stride: number
}

/** What one run saw. */
export interface Outcome {
  readonly elapsedMs: number
  readonly zones: number
  readonly zonesRead: number
  /** Wall time of each zone read, in listing order. */
  readonly zoneMs: ReadonlyArray<number>
  /** Requests per HTTP status, as the SDK's fetch saw them (retries included). */
  readonly statuses: Readonly<Record<string, number>>
  /** Requests made while reading the sampled zones (to extrapolate the request count). */
  readonly zoneRequests: number
  readonly requests: number
  readonly records: number
}

const isGone = (error: unknown): boolean => error instanceof Cloudflare.APIError && error.status === 410

/** Runs the baseline once. */
export const run = async (options: Options): Promise<Outcome> => {
  const statuses: Record<string, number> = {}
  let requests = 0
  const counting: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    requests++
    statuses[response.status] = (statuses[response.status] ?? 0) + 1
    return response
  }
  const client = new Cloudflare({ apiToken: options.token, baseURL: options.baseUrl, fetch: counting })
  let records = 0
  const keep = (items: ReadonlyArray<unknown>) => {
    records += items.length
  }

  const started = performance.now()

  for await (const account of client.accounts.list()) {
    const account_id = account.id
    const accessRules: Array<unknown> = []
    for await (const rule of client.firewall.accessRules.list({ account_id })) accessRules.push(rule)
    keep(accessRules)
    for await (const list of client.rules.lists.list({ account_id })) {
      keep([list])
      if (list.num_items === 0) continue
      const items: Array<unknown> = []
      for await (const item of client.rules.lists.items.list(list.id, { account_id })) items.push(item)
      keep(items)
    }
    const scripts: Array<unknown> = []
    for await (const script of client.workers.scripts.list({ account_id })) scripts.push(script)
    keep(scripts)
    const domains: Array<unknown> = []
    for await (const domain of client.workers.domains.list({ account_id })) domains.push(domain)
    keep(domains)
  }

  const zoneMs: Array<number> = []
  let zoneRequests = 0
  let zones = 0
  for await (const zone of client.zones.list()) {
    if (zones++ % options.stride !== 0) continue
    const zoneStarted = performance.now()
    const before = requests
    const zone_id = zone.id
    keep([await client.get<unknown>(`/zones/${zone_id}/settings`)])
    keep([await client.dns.dnssec.get({ zone_id })])
    const dns: Array<unknown> = []
    for await (const record of client.dns.records.list({ zone_id })) dns.push(record)
    keep(dns)
    const phases = phasesFor(zone.plan?.legacy_id ?? "free")
    const entryPoints: Array<string> = []
    for await (const ruleset of client.rulesets.list({ zone_id })) {
      if (ruleset.kind === "zone" && phases.includes(ruleset.phase)) entryPoints.push(ruleset.phase)
    }
    for (const phase of entryPoints) keep([await client.rulesets.phases.get(phase as Cloudflare.Rulesets.Phase, { zone_id })])
    const firewall: Array<unknown> = []
    for await (const rule of client.firewall.rules.list({ zone_id })) firewall.push(rule)
    keep(firewall)
    const filters: Array<unknown> = []
    for await (const filter of client.filters.list({ zone_id })) filters.push(filter)
    keep(filters)
    await client.rateLimits.list({ zone_id }).catch((error: unknown) => {
      if (!isGone(error)) throw error
    })
    const zoneRules: Array<unknown> = []
    for await (const rule of client.firewall.accessRules.list({ zone_id })) zoneRules.push(rule)
    keep(zoneRules)
    const routes: Array<unknown> = []
    for await (const route of client.workers.routes.list({ zone_id })) routes.push(route)
    keep(routes)
    keep([await client.pageRules.list({ zone_id })])
    zoneRequests += requests - before
    zoneMs.push(performance.now() - zoneStarted)
  }

  return {
    elapsedMs: performance.now() - started,
    zones,
    zonesRead: zoneMs.length,
    zoneMs,
    statuses,
    zoneRequests,
    requests,
    records
  }
}
