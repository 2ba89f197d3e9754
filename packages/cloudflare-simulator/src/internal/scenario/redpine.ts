/**
 * The data of the `redpine` scenario: the onboarding story's account, its Pro and Free zones and
 * everything configured on them (records, lists, rulesets, legacy rules, Workers, page rules).
 */
import type { Ctx, RecordSpec } from "../builders.js"
import { makeAccessRule, makeAccount, makeDnssec, makeIpList, makeManagedRulesets, makeRecord, makeRule, makeRuleset, makeSettings, makeZone, stamp } from "../builders.js"
import { makePrng } from "../prng.js"
import type { State } from "../../State.js"
import { MANAGED_RULESET_IDS } from "../../State.js"
import { EPOCH, emptyState, standardTokens } from "./base.js"

/** The onboarding story's world (see README "Scenarios"). */
export const redpine = (seed: number): State => {
  const ctx: Ctx = { rng: makePrng(`redpine:${seed}`), epoch: EPOCH }
  const state = emptyState()
  const account = makeAccount(ctx, "Redpine")
  state.accounts.push(account)
  const io = makeZone(ctx, account, "redpine.io", "pro")
  const dev = makeZone(ctx, account, "redpine.dev", "free")
  state.zones.push(io, dev)

  state.settings.set(io.id, makeSettings(ctx, "pro", "strict"))
  state.settings.set(dev.id, makeSettings(ctx, "free", "lax"))
  state.dnssec.set(io.id, makeDnssec(ctx, io.name, true))
  state.dnssec.set(dev.id, makeDnssec(ctx, dev.name, false))

  const ioRecords: ReadonlyArray<RecordSpec> = [
    { type: "A", name: "redpine.io", content: "203.0.113.10", proxied: true, comment: "origin" },
    { type: "AAAA", name: "redpine.io", content: "2001:db8::10", proxied: true },
    { type: "CNAME", name: "www.redpine.io", content: "redpine.io", proxied: true },
    { type: "A", name: "api.redpine.io", content: "203.0.113.20", proxied: true, tags: ["team:platform"] },
    { type: "A", name: "admin.redpine.io", content: "203.0.113.30", proxied: true },
    { type: "CNAME", name: "status.redpine.io", content: "redpine.statuspage.io", proxied: false, ttl: 3600 },
    { type: "MX", name: "redpine.io", content: "aspmx.l.google.com", priority: 1, ttl: 3600 },
    { type: "MX", name: "redpine.io", content: "alt1.aspmx.l.google.com", priority: 5, ttl: 3600 },
    { type: "TXT", name: "redpine.io", content: "\"v=spf1 include:_spf.google.com ~all\"", ttl: 3600, comment: "SPF" },
    { type: "TXT", name: "redpine.io", content: "\"google-site-verification=rp-7c1f0a9e\"", ttl: 3600 },
    { type: "TXT", name: "google._domainkey.redpine.io", content: "\"v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr3d\"", ttl: 3600 },
    { type: "CAA", name: "redpine.io", content: "0 issue \"letsencrypt.org\"", ttl: 3600, data: { flags: 0, tag: "issue", value: "letsencrypt.org" } },
    {
      type: "SRV",
      name: "_sip._tcp.redpine.io",
      content: "10 5060 sip.redpine.io",
      // SRV keeps its priority in `data` only (the SDK's SRVRecord has no top-level priority).
      ttl: 3600,
      data: { priority: 10, weight: 10, port: 5060, target: "sip.redpine.io" }
    },
    { type: "NS", name: "lab.redpine.io", content: "ns1.lab-dns.net", ttl: 86400 }
  ]
  state.dnsRecords.set(io.id, ioRecords.map((r) => makeRecord(ctx, r)))
  state.dnsRecords.set(
    dev.id,
    [
      { type: "A", name: "redpine.dev", content: "203.0.113.40", proxied: true },
      { type: "CNAME", name: "docs.redpine.dev", content: "redpine.github.io", proxied: true },
      { type: "TXT", name: "redpine.dev", content: "\"v=spf1 -all\"", ttl: 3600 }
    ].map((r) => makeRecord(ctx, r))
  )

  // Bad-actor list, referenced by a blocking rule.
  const badActors = makeIpList(ctx, "bad_actors", "IPs seen credential-stuffing /login", [
    "192.0.2.14",
    "192.0.2.77",
    "198.51.100.0/24",
    "203.0.113.250",
    "2001:db8:bad::/64"
  ])
  badActors.num_referencing_filters = 1
  const redirectsAt = stamp(ctx, 150)
  const legacyRedirects = {
    id: ctx.rng.hexId(),
    name: "legacy_redirects",
    description: "Old marketing URLs",
    kind: "redirect" as const,
    num_items: 2,
    num_referencing_filters: 1,
    created_on: redirectsAt,
    modified_on: redirectsAt,
    items: [
      { id: ctx.rng.hexId(), redirect: { source_url: "redpine.io/pricing-old", target_url: "https://redpine.io/pricing", status_code: 301 as const }, comment: "", created_on: redirectsAt, modified_on: redirectsAt },
      { id: ctx.rng.hexId(), redirect: { source_url: "redpine.io/jobs", target_url: "https://redpine.io/careers", status_code: 302 as const }, comment: "", created_on: redirectsAt, modified_on: redirectsAt }
    ]
  }
  state.lists.set(account.id, [badActors, legacyRedirects])

  state.rulesets.push(...makeManagedRulesets(ctx))
  const at = stamp(ctx, 320)
  const zone = { kind: "zone" as const, zoneId: io.id }
  state.rulesets.push(
    makeRuleset(
      ctx,
      zone,
      "http_request_firewall_custom",
      [
        makeRule(
          ctx,
          {
            action: "block",
            expression: "(http.request.uri.path contains \"/admin\" and not ip.src in {198.51.100.7 203.0.113.0/24})",
            description: "Block /admin outside the office"
          },
          at
        ),
        makeRule(ctx, { action: "block", expression: "(ip.src in $bad_actors)", description: "Block bad actors" }, at),
        makeRule(ctx, { action: "managed_challenge", expression: "(http.user_agent contains \"sqlmap\" or http.user_agent eq \"\")", description: "Challenge scanners" }, at),
        makeRule(ctx, { action: "skip", expression: "(http.request.uri.path eq \"/healthz\")", description: "Let health checks through", enabled: false, action_parameters: { ruleset: "current" } }, at)
      ],
      { version: 7, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_firewall_managed",
      [
        makeRule(
          ctx,
          {
            action: "execute",
            expression: "true",
            description: "Cloudflare Managed Ruleset",
            action_parameters: {
              id: MANAGED_RULESET_IDS.cloudflareManaged,
              overrides: {
                categories: [{ category: "wordpress", enabled: false }],
                rules: [{ id: "5de7edfa648c4d6891dc3e7f84534ffa", action: "block", enabled: true }]
              }
            }
          },
          at
        )
      ],
      { version: 3, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_ratelimit",
      [
        makeRule(
          ctx,
          {
            action: "block",
            expression: "(http.request.uri.path wildcard \"/api/*\")",
            description: "Throttle the public API",
            ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 100, mitigation_timeout: 600 }
          },
          at
        )
      ],
      { version: 2, at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "(http.request.uri.path wildcard \"/blog/*\")",
            description: "Serve the blog from /posts",
            action_parameters: { uri: { path: { expression: "wildcard_replace(http.request.uri.path, \"/blog/*\", \"/posts/${1}\")" } } }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_late_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "true",
            description: "Tell the origin who forwarded",
            action_parameters: { headers: { "X-Forwarded-Host": { operation: "set", expression: "http.host" } } }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_response_headers_transform",
      [
        makeRule(
          ctx,
          {
            action: "rewrite",
            expression: "true",
            description: "Security headers",
            action_parameters: {
              headers: {
                "X-Frame-Options": { operation: "set", value: "DENY" },
                "X-Content-Type-Options": { operation: "set", value: "nosniff" },
                "X-Powered-By": { operation: "remove" }
              }
            }
          },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      zone,
      "http_request_dynamic_redirect",
      [
        makeRule(
          ctx,
          {
            action: "redirect",
            expression: "(http.host eq \"www.redpine.io\")",
            description: "www to apex",
            action_parameters: {
              from_value: {
                status_code: 301,
                target_url: { expression: "concat(\"https://redpine.io\", http.request.uri.path)" },
                preserve_query_string: true
              }
            }
          },
          at
        )
      ],
      { at }
    ),
    // Bulk redirects live at account level (all plans).
    makeRuleset(
      ctx,
      { kind: "account", accountId: account.id },
      "http_request_redirect",
      [
        makeRule(
          ctx,
          {
            action: "redirect",
            expression: "http.request.full_uri in $legacy_redirects",
            description: "Legacy marketing redirects",
            action_parameters: { from_list: { name: "legacy_redirects", key: "http.request.full_uri" } }
          },
          at
        )
      ],
      { at }
    ),
    // The Free zone: only the Free Managed Ruleset, one custom rule, no rate limiting rules.
    makeRuleset(
      ctx,
      { kind: "zone", zoneId: dev.id },
      "http_request_firewall_managed",
      [
        makeRule(
          ctx,
          { action: "execute", expression: "true", description: "Free Managed Ruleset", action_parameters: { id: MANAGED_RULESET_IDS.freeManaged } },
          at
        )
      ],
      { at }
    ),
    makeRuleset(
      ctx,
      { kind: "zone", zoneId: dev.id },
      "http_request_firewall_custom",
      [makeRule(ctx, { action: "block", expression: "(ip.src in $bad_actors)", description: "Block bad actors" }, at)],
      { at }
    )
  )

  // Legacy products on the older Free zone: one firewall rule with its filter, one old rate limit.
  const filter = { id: ctx.rng.hexId(), expression: "(http.request.uri.path contains \"/wp-login.php\")", paused: false, description: "WordPress login probes" }
  state.filters.set(dev.id, [filter])
  state.firewallRules.set(dev.id, [
    { id: ctx.rng.hexId(), paused: false, description: "Block WordPress probes", action: "block", filter }
  ])
  state.filters.set(io.id, [])
  state.firewallRules.set(io.id, [])
  state.legacyRateLimits.set(dev.id, [
    {
      id: ctx.rng.hexId(),
      disabled: false,
      description: "Old login throttle (pre-rulesets)",
      match: { request: { methods: ["POST"], schemes: ["HTTP", "HTTPS"], url: "redpine.dev/login" }, response: { origin_traffic: true }, headers: [] },
      threshold: 20,
      period: 60,
      action: { mode: "ban", timeout: 600 },
      bypass: [],
      login_protect: true,
      correlate: { by: "nat" }
    }
  ])

  state.accessRules.push(
    makeAccessRule(ctx, { kind: "account", accountId: account.id }, "block", { target: "ip_range", value: "192.0.2.0/24" }, "Known scanner range"),
    makeAccessRule(ctx, { kind: "zone", zoneId: io.id }, "whitelist", { target: "ip", value: "198.51.100.7" }, "Office"),
    makeAccessRule(ctx, { kind: "zone", zoneId: io.id }, "challenge", { target: "asn", value: "AS64496" }, "Hosting ASN with abuse history")
  )

  const created = stamp(ctx, 100)
  state.workerScripts.set(account.id, [
    {
      id: "redpine-edge-auth",
      etag: ctx.rng.hexId() + ctx.rng.hexId(),
      created_on: created,
      modified_on: stamp(ctx, 310),
      usage_model: "standard",
      compatibility_date: "2025-01-01",
      compatibility_flags: ["nodejs_compat"],
      handlers: ["fetch"],
      has_assets: false,
      has_modules: true,
      logpush: false,
      tail_consumers: null,
      tags: null
    },
    {
      id: "redpine-og-images",
      etag: ctx.rng.hexId() + ctx.rng.hexId(),
      created_on: created,
      modified_on: stamp(ctx, 250),
      usage_model: "standard",
      compatibility_date: "2024-09-23",
      compatibility_flags: [],
      handlers: ["fetch", "scheduled"],
      has_assets: true,
      has_modules: true,
      logpush: false,
      placement_mode: "smart",
      tail_consumers: [{ service: "redpine-edge-auth" }],
      tags: ["marketing"]
    }
  ])
  state.workerRoutes.set(io.id, [
    { id: ctx.rng.hexId(), pattern: "redpine.io/api/*", script: "redpine-edge-auth" },
    { id: ctx.rng.hexId(), pattern: "redpine.io/og/*", script: "redpine-og-images" },
    { id: ctx.rng.hexId(), pattern: "redpine.io/static/*" }
  ])
  state.workerRoutes.set(dev.id, [])
  // One Custom Domain: auth.redpine.io served whole by the edge-auth Worker. Fixed ids (no draw from
  // the scenario's generator), so every other id of the world stays what it was.
  state.workerDomains.set(account.id, [
    {
      id: "5d1e0a7c3b9f4e2a8c6d0b1f3e5a7c9d",
      cert_id: "0b6f3c1e-2a4d-4f8b-9c7e-5d3a1f0e2b4c",
      environment: "production",
      hostname: "auth.redpine.io",
      service: "redpine-edge-auth",
      zone_id: io.id,
      zone_name: io.name
    }
  ])
  state.pageRules.set(io.id, [
    {
      id: ctx.rng.hexId(),
      priority: 1,
      status: "active",
      targets: [{ target: "url", constraint: { operator: "matches", value: "redpine.io/legacy/*" } }],
      actions: [{ id: "forwarding_url", value: { url: "https://redpine.io/$1", status_code: 301 } }],
      created_on: stamp(ctx, 40),
      modified_on: stamp(ctx, 40)
    }
  ])
  state.pageRules.set(dev.id, [
    {
      id: ctx.rng.hexId(),
      priority: 1,
      status: "active",
      targets: [{ target: "url", constraint: { operator: "matches", value: "http://*redpine.dev/*" } }],
      actions: [{ id: "always_use_https" }],
      created_on: stamp(ctx, 30),
      modified_on: stamp(ctx, 30)
    }
  ])

  state.tokens.push(...standardTokens(ctx, state.accounts, io))
  return state
}
