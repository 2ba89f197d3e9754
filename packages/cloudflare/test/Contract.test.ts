/**
 * The connector contract suite from @plumbline/testkit, run against the Cloudflare connector.
 * The provider is the Cloudflare simulator (the same handler its msw handlers and server wrap)
 * behind the testkit's FakeProvider, which adds fault injection, a request log and test-clock
 * timestamps. Seeding rewrites the simulator's state: the first account and its first zone
 * (redpine.io) get the records; the other zone gets none of them.
 */
import { Simulator } from "@plumbline/cloudflare-simulator"
import type { State } from "@plumbline/cloudflare-simulator"
import { RequestBudget } from "@plumbline/core"
import { ConnectorContract, FakeHttp, FakeProvider } from "@plumbline/testkit"
import { Layer } from "effect"
import { CloudflareClient, CloudflareConnector } from "../src/index.js"

const BASE_URL = "https://api.cloudflare.com/client/v4"

interface Harness extends ConnectorContract.Harness<CloudflareClient.CloudflareClient> {
  readonly state: State.State
}

/** The simulator's token with read access to the first account (a user token, so `/accounts` lists). */
const TOKEN_NAME = "account"
const SECRET = Simulator.make({ scenario: "redpine", rateLimit: false }).tokens[TOKEN_NAME]!

const harness = (): Harness => {
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
  const provider = FakeProvider.make({
    baseUrl: BASE_URL,
    routes: [],
    maxRequests: 5000,
    fallback: (request) => sim.handle(FakeHttp.toRequest(request)).then(FakeHttp.fromResponse)
  })
  const layer = CloudflareClient.layer({ token: sim.tokens[TOKEN_NAME]!, baseUrl: BASE_URL }).pipe(
    Layer.provide(Layer.merge(provider.layer, RequestBudget.layer))
  )
  return { state: sim.state, provider, layer }
}

// ---- seeding ----------------------------------------------------------------------------------

/** A 32-hex id, distinct per `kind` and `i`, like Cloudflare's. */
const hexId = (kind: number, i: number) => `${kind.toString(16).padStart(8, "0")}${i.toString(16).padStart(24, "0")}`

/** `count` copies of `template` with fresh ids; `vary` makes each distinct where identity needs it. */
const clones = <T extends { id: string }>(template: T, count: number, kind: number, vary?: (item: T, i: number) => void): Array<T> =>
  Array.from({ length: count }, (_, i) => {
    const item = structuredClone(template)
    item.id = hexId(kind, i + 1)
    vary?.(item, i + 1)
    return item
  })

const account = (h: Harness) => h.state.accounts[0]!
const zone = (h: Harness) => h.state.zones[0]!

/** Replaces a per-zone collection: `count` items in the first zone, none in the others. */
const perZone = <T extends { id: string }>(map: Map<string, Array<T>>, h: Harness, count: number, kind: number, template: T, vary?: (item: T, i: number) => void) => {
  for (const z of h.state.zones) map.set(z.id, [])
  const items = clones(template, count, kind, vary)
  map.set(zone(h).id, items)
  return items as unknown as Array<Record<string, unknown>>
}

const first = <T>(items: ReadonlyArray<T> | undefined, what: string): T => {
  const item = items?.[0]
  if (item === undefined) throw new Error(`the redpine scenario has no ${what} to copy`)
  return item
}

/** The first item of any entry of a per-zone or per-account collection. */
const any = <T>(map: Map<string, Array<T>>, what: string): T => first([...map.values()].flat(), what)

/** Templates are taken once from the baseline, before any seeding empties a collection. */
const templates = (() => {
  const s = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" }).state
  return {
    account: s.accounts[0]!,
    zone: s.zones[0]!,
    dns: any(s.dnsRecords, "DNS record"),
    accessRule: first(s.accessRules, "access rule"),
    list: any(s.lists, "list"),
    item: first([...s.lists.values()].flat().flatMap((l) => l.items), "list item"),
    script: any(s.workerScripts, "Workers script"),
    route: { id: "route", pattern: "redpine.io/api/*", script: "api" },
    domain: any(s.workerDomains, "Workers Custom Domain"),
    pageRule: any(s.pageRules, "page rule"),
    firewallRule: any(s.firewallRules, "firewall rule"),
    filter: first([...[...s.filters.values()].flat(), ...[...s.firewallRules.values()].flat().map((r) => r.filter)], "filter"),
    rateLimit: any(s.legacyRateLimits, "legacy rate limit"),
    rulesets: s.rulesets
  }
})()

/** Puts `count` rules into the first zone's entry point of `phases[0]` and empties `phases` everywhere else. */
const seedRules = (h: Harness, phases: ReadonlyArray<string>, count: number): Array<Record<string, unknown>> => {
  const target = zone(h).id
  for (const ruleset of h.state.rulesets) {
    if (ruleset.owner.kind === "zone" && phases.includes(ruleset.phase)) ruleset.rules = []
  }
  let entrypoint = h.state.rulesets.find((r) => r.owner.kind === "zone" && r.owner.zoneId === target && r.kind === "zone" && r.phase === phases[0])
  const template =
    templates.rulesets.find((r) => r.owner.kind === "zone" && r.kind === "zone" && r.phase === phases[0] && r.rules.length > 0) ??
    templates.rulesets.find((r) => r.owner.kind === "zone" && r.kind === "zone" && r.rules.length > 0)!
  if (entrypoint === undefined) {
    entrypoint = { ...structuredClone(template), id: hexId(0xe0, phases[0]!.length), phase: template.phase, owner: { kind: "zone", zoneId: target }, rules: [] }
    entrypoint.phase = phases[0] as typeof entrypoint.phase
    h.state.rulesets.push(entrypoint)
  }
  entrypoint.rules = clones(first(template.rules, "rule"), count, 0xa0, (rule, i) => {
    rule.ref = rule.id
    rule.description = `rule ${i}`
  })
  return entrypoint.rules as unknown as Array<Record<string, unknown>>
}

const rules = (phases: ReadonlyArray<string>, options: { readonly enterprise?: boolean } = {}): ConnectorContract.ResourceFixture<Harness> => ({
  path: new RegExp(`^/zones/[^/]+/rulesets/phases/(${phases.join("|")})/entrypoint$`),
  paging: { style: "none" },
  requiredField: "action",
  seed: (h, count) => {
    if (options.enterprise === true) zone(h).plan.legacy_id = "enterprise"
    return seedRules(h, phases, count)
  },
  ...(options.enterprise === true
    ? {
        makeUnavailable: (h: Harness) => {
          for (const z of h.state.zones) z.plan.legacy_id = "pro"
        }
      }
    : {})
})

const resources: Record<string, ConnectorContract.ResourceFixture<Harness>> = {
  accounts: {
    // A token refused the account listing walks to its accounts through the zone listing, so both read this resource.
    path: /^\/(accounts|zones)$/,
    paging: { style: "page-number", pageSize: 50 },
    requiredField: "name",
    seed: (h, count) => {
      const extra = clones(templates.account, Math.max(0, count - 1), 0xac, (a, i) => {
        a.name = `Account ${i}`
      })
      h.state.accounts = count === 0 ? [] : [account(h), ...extra]
      // The token reads every account seeded.
      const token = h.state.tokens.find((t) => t.name === TOKEN_NAME)!
      const groups = token.policies[0]!.permissionGroups
      for (const a of extra) token.policies.push({ permissionGroups: groups, resource: { kind: "account", accountId: a.id } })
      return h.state.accounts as unknown as Array<Record<string, unknown>>
    }
  },
  zones: {
    path: /^\/zones$/,
    paging: { style: "page-number", pageSize: 50 },
    requiredField: "name",
    seed: (h, count) => {
      const kept = h.state.zones.filter((z) => z.account.id === account(h).id).slice(0, count)
      const extra = clones(templates.zone, Math.max(0, count - kept.length), 0x20, (z, i) => {
        z.name = `zone-${i}.example.test`
      })
      h.state.zones = [...kept, ...extra]
      return h.state.zones as unknown as Array<Record<string, unknown>>
    }
  },
  account_ip_access_rules: {
    path: /^\/accounts\/[^/]+\/firewall\/access_rules\/rules$/,
    paging: { style: "page-number", pageSize: 1000 },
    requiredField: "mode",
    seed: (h, count) => {
      const items = clones(templates.accessRule, count, 0xa1, (r, i) => {
        r.owner = { kind: "account", accountId: account(h).id }
        r.scope = { id: account(h).id, type: "organization" }
        r.configuration = { target: "ip", value: `198.51.${Math.floor(i / 250)}.${i % 250}` }
      })
      h.state.accessRules = [...h.state.accessRules.filter((r) => r.owner.kind !== "account"), ...items]
      return items as unknown as Array<Record<string, unknown>>
    }
  },
  ip_access_rules: {
    path: /^\/zones\/[^/]+\/firewall\/access_rules\/rules$/,
    paging: { style: "page-number", pageSize: 1000 },
    requiredField: "mode",
    seed: (h, count) => {
      const items = clones(templates.accessRule, count, 0xa2, (r, i) => {
        r.owner = { kind: "zone", zoneId: zone(h).id }
        delete r.scope
        r.configuration = { target: "ip", value: `203.0.${Math.floor(i / 250)}.${i % 250}` }
      })
      // A zone's listing includes the account's rules, as Cloudflare's does: keep only the seeded ones.
      h.state.accessRules = items
      return items as unknown as Array<Record<string, unknown>>
    }
  },
  ip_lists: {
    path: /^\/accounts\/[^/]+\/rules\/lists$/,
    paging: { style: "none" },
    requiredField: "name",
    seed: (h, count) => {
      const lists = clones(templates.list, count, 0x11, (l, i) => {
        l.name = `list_${i}`
        l.items = []
        l.num_items = 0
      })
      h.state.lists.set(account(h).id, lists)
      return lists as unknown as Array<Record<string, unknown>>
    }
  },
  ip_list_items: {
    path: /^\/accounts\/[^/]+\/rules\/lists\/[^/]+\/items$/,
    paging: { style: "cursor", pageSize: 500 },
    requiredField: "id",
    seed: (h, count) => {
      const list = { ...structuredClone(templates.list), items: [] as typeof templates.list.items }
      list.items = clones(templates.item, count, 0x12, (item, i) => {
        item.ip = `192.0.2.${i % 250}`
        item.comment = `item ${i}`
      })
      list.num_items = count
      h.state.lists.set(account(h).id, [list])
      return list.items as unknown as Array<Record<string, unknown>>
    }
  },
  workers_scripts: {
    path: /^\/accounts\/[^/]+\/workers\/scripts$/,
    paging: { style: "none" },
    requiredField: "id",
    seed: (h, count) => {
      const scripts = clones(templates.script, count, 0x33, (s, i) => {
        s.id = `worker-${i}`
      })
      h.state.workerScripts.set(account(h).id, scripts)
      return scripts as unknown as Array<Record<string, unknown>>
    }
  },
  zone_settings: {
    path: /^\/zones\/[^/]+\/settings$/,
    paging: { style: "none" },
    requiredField: "value",
    // Cloudflare answers a fixed set of settings per zone: the count is what the zones hold.
    counts: [36],
    seed: (h) => h.state.zones.flatMap((z) => h.state.settings.get(z.id) ?? []) as unknown as Array<Record<string, unknown>>
  },
  dnssec: {
    path: /^\/zones\/[^/]+\/dnssec$/,
    paging: { style: "none" },
    // Every DNSSEC field is nullable: a bad record has a field of the wrong type instead.
    mistypedField: "status",
    // One DNSSEC object per zone.
    counts: [2],
    seed: (h) => h.state.zones.flatMap((z) => (h.state.dnssec.get(z.id) === undefined ? [] : [h.state.dnssec.get(z.id)!])) as unknown as Array<Record<string, unknown>>
  },
  dns_records: {
    path: /^\/zones\/[^/]+\/dns_records$/,
    paging: { style: "page-number", pageSize: 5000 },
    requiredField: "type",
    seed: (h, count) =>
      perZone(h.state.dnsRecords, h, count, 0xd0, templates.dns, (r, i) => {
        r.name = `host-${i}.${zone(h).name}`
      })
  },
  waf_custom_rules: rules(["http_request_firewall_custom"]),
  managed_rulesets: rules(["http_request_firewall_managed"]),
  rate_limit_rules: rules(["http_ratelimit"]),
  transform_rules: rules(["http_request_transform", "http_request_late_transform", "http_response_headers_transform"]),
  redirect_rules: rules(["http_request_dynamic_redirect"]),
  sensitive_data_rules: rules(["http_response_firewall_managed"], { enterprise: true }),
  // The account's custom-rules entry point, as it reaches the first zone (made Enterprise: account
  // rulesets reach Enterprise zones only; the other zone is skipped for its plan).
  account_rules: {
    path: /^\/accounts\/[^/]+\/rulesets\/phases\/http_request_firewall_custom\/entrypoint$/,
    paging: { style: "none" },
    requiredField: "action",
    seed: (h, count) => {
      zone(h).plan.legacy_id = "enterprise"
      account(h).type = "enterprise"
      const template = templates.rulesets.find((r) => r.owner.kind === "zone" && r.kind === "zone" && r.phase === "http_request_firewall_custom" && r.rules.length > 0)!
      const entrypoint = { ...structuredClone(template), id: hexId(0xe1, 1), kind: "root" as const, owner: { kind: "account" as const, accountId: account(h).id } }
      entrypoint.rules = clones(first(template.rules, "rule"), count, 0xa2, (rule, i) => {
        rule.ref = rule.id
        rule.description = `account rule ${i}`
      })
      h.state.rulesets = [...h.state.rulesets.filter((r) => !(r.owner.kind === "account" && r.phase === "http_request_firewall_custom")), entrypoint]
      return entrypoint.rules as unknown as Array<Record<string, unknown>>
    },
    makeUnavailable: (h) => {
      for (const z of h.state.zones) z.plan.legacy_id = "pro"
    }
  },
  legacy_firewall_rules: {
    path: /^\/zones\/[^/]+\/firewall\/rules$/,
    paging: { style: "page-number", pageSize: 100 },
    requiredField: "action",
    seed: (h, count) => perZone(h.state.firewallRules, h, count, 0xf1, templates.firewallRule)
  },
  legacy_filters: {
    path: /^\/zones\/[^/]+\/filters$/,
    paging: { style: "page-number", pageSize: 100 },
    requiredField: "id",
    seed: (h, count) => perZone(h.state.filters, h, count, 0xf2, templates.filter)
  },
  legacy_rate_limits: {
    path: /^\/zones\/[^/]+\/rate_limits$/,
    paging: { style: "page-number", pageSize: 1000 },
    requiredField: "id",
    seed: (h, count) => perZone(h.state.legacyRateLimits, h, count, 0xf3, templates.rateLimit),
    // Cloudflare retired the product: it answers 410 Gone.
    makeUnavailable: (h) =>
      h.provider.inject({
        match: { path: /^\/zones\/[^/]+\/rate_limits$/ },
        answer: FakeProvider.json(410, { success: false, errors: [{ code: 10000, message: "Gone" }], messages: [], result: null })
      })
  },
  workers_routes: {
    path: /^\/zones\/[^/]+\/workers\/routes$/,
    paging: { style: "none" },
    requiredField: "pattern",
    seed: (h, count) =>
      perZone(h.state.workerRoutes, h, count, 0x34, templates.route, (r, i) => {
        r.pattern = `redpine.io/route-${i}/*`
      })
  },
  workers_custom_domains: {
    path: /^\/accounts\/[^/]+\/workers\/domains$/,
    paging: { style: "none" },
    // The zone a domain is kept under: without it the item cannot be attributed, so it is reported.
    requiredField: "zone_id",
    seed: (h, count) => {
      const domains = clones(templates.domain, count, 0x35, (d, i) => {
        d.hostname = `app-${i}.${zone(h).name}`
        d.zone_id = zone(h).id
        d.zone_name = zone(h).name
      })
      h.state.workerDomains.set(account(h).id, domains)
      return domains as unknown as Array<Record<string, unknown>>
    }
  },
  page_rules: {
    path: /^\/zones\/[^/]+\/pagerules$/,
    paging: { style: "none" },
    requiredField: "priority",
    seed: (h, count) => perZone(h.state.pageRules, h, count, 0x9a, templates.pageRule)
  }
}

ConnectorContract.suite({
  connector: CloudflareConnector.connector,
  secret: SECRET,
  harness,
  resources,
  errorBody: (status) => ({ success: false, errors: [{ code: status * 10, message: `injected HTTP ${status}` }], messages: [], result: null })
})
