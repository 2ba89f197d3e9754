/**
 * The `enterprise` scenario: zones protected from the account. Northwind is an Enterprise account
 * whose account-level entry points `execute` account custom rulesets (a `/login` rate limit in
 * `http_ratelimit`, an `/admin` block in `http_request_firewall_custom`), scoped to zones by
 * `cf.zone.name` / `cf.zone.plan`, as Cloudflare's "Deploy a custom ruleset" page shows
 * (https://developers.cloudflare.com/ruleset-engine/custom-rulesets/deploy-custom-ruleset/).
 * `northwind.io` has no zone-level rules at all; `northwind.shop` also executes a zone custom
 * ruleset from its own entry point; `northwind.dev` (Pro) is out of the account rules' reach.
 * Smallco is a standard (non-Enterprise) account with an Enterprise zone: its account-level WAF
 * phases answer as not entitled (account-level WAF is Enterprise-only). The account managed and
 * redirect phases are never configured, so their entry points answer 404/10003.
 */
import type { Ctx } from "../builders.js"
import { makeAccount, makeDnssec, makeManagedRulesets, makeRule, makeRuleset, makeSettings, makeZone } from "../builders.js"
import { makePrng } from "../prng.js"
import type { Account, State, Zone } from "../../State.js"
import { EPOCH, emptyState, standardTokens } from "./base.js"

const bare = (ctx: Ctx, state: State, zone: Zone, plan: "pro" | "enterprise"): void => {
  state.settings.set(zone.id, makeSettings(ctx, plan, "strict"))
  state.dnssec.set(zone.id, makeDnssec(ctx, zone.name, true))
  state.dnsRecords.set(zone.id, [])
  state.filters.set(zone.id, [])
  state.firewallRules.set(zone.id, [])
  state.legacyRateLimits.set(zone.id, [])
  state.workerRoutes.set(zone.id, [])
  state.pageRules.set(zone.id, [])
}

const emptyAccount = (state: State, account: Account): void => {
  state.lists.set(account.id, [])
  state.workerScripts.set(account.id, [])
}

/** Builds the `enterprise` world. */
export const enterprise = (seed: number): State => {
  const ctx: Ctx = { rng: makePrng(`enterprise:${seed}`), epoch: EPOCH }
  const state = emptyState()
  const at = new Date(EPOCH).toISOString()
  const northwind = makeAccount(ctx, "Northwind", "enterprise")
  const smallco = makeAccount(ctx, "Smallco", "standard")
  state.accounts.push(northwind, smallco)
  const io = makeZone(ctx, northwind, "northwind.io", "enterprise")
  const shop = makeZone(ctx, northwind, "northwind.shop", "enterprise")
  const dev = makeZone(ctx, northwind, "northwind.dev", "pro")
  const small = makeZone(ctx, smallco, "smallco.io", "enterprise")
  state.zones.push(io, shop, dev, small)
  bare(ctx, state, io, "enterprise")
  bare(ctx, state, shop, "enterprise")
  bare(ctx, state, dev, "pro")
  bare(ctx, state, small, "enterprise")
  emptyAccount(state, northwind)
  emptyAccount(state, smallco)
  state.rulesets.push(...makeManagedRulesets(ctx))

  const account = { kind: "account" as const, accountId: northwind.id }
  const loginThrottle = makeRuleset(
    ctx,
    account,
    "http_ratelimit",
    [
      makeRule(
        ctx,
        {
          action: "block",
          expression: `(http.request.uri.path eq "/login" and http.request.method eq "POST")`,
          description: "Throttle logins",
          ratelimit: { characteristics: ["cf.colo.id", "ip.src"], period: 60, requests_per_period: 10, mitigation_timeout: 600 }
        },
        at
      )
    ],
    { kind: "custom", name: "Shared login throttle", at }
  )
  const adminBlock = makeRuleset(
    ctx,
    account,
    "http_request_firewall_custom",
    [makeRule(ctx, { action: "block", expression: `starts_with(http.request.uri.path, "/admin")`, description: "Block /admin" }, at)],
    { kind: "custom", name: "Shared admin block", at }
  )
  const zones = `cf.zone.name in {"northwind.io" "northwind.shop"} and cf.zone.plan eq "ENT"`
  state.rulesets.push(
    loginThrottle,
    adminBlock,
    makeRuleset(
      ctx,
      account,
      "http_ratelimit",
      [makeRule(ctx, { action: "execute", expression: zones, description: "Shared login throttle", action_parameters: { id: loginThrottle.id } }, at)],
      { at }
    ),
    makeRuleset(
      ctx,
      account,
      "http_request_firewall_custom",
      [makeRule(ctx, { action: "execute", expression: `cf.zone.plan eq "ENT"`, description: "Shared admin block", action_parameters: { id: adminBlock.id } }, at)],
      { at }
    )
  )
  // northwind.shop runs a zone custom ruleset from its own entry point.
  const shopRules = makeRuleset(
    ctx,
    { kind: "zone", zoneId: shop.id },
    "http_request_firewall_custom",
    [makeRule(ctx, { action: "block", expression: `http.request.uri.path eq "/checkout/debug"`, description: "Block the debug checkout" }, at)],
    { kind: "custom", name: "Shop rules", at }
  )
  state.rulesets.push(
    shopRules,
    makeRuleset(
      ctx,
      { kind: "zone", zoneId: shop.id },
      "http_request_firewall_custom",
      [makeRule(ctx, { action: "execute", expression: "true", description: "Shop rules", action_parameters: { id: shopRules.id } }, at)],
      { at }
    )
  )
  state.tokens.push(...standardTokens(ctx, state.accounts, io))
  return state
}
