/**
 * What every scenario starts from: the empty state, the fixed creation date its timestamps count
 * from, and the standard set of tokens each world carries.
 */
import type { Ctx } from "../builders.js"
import { makeToken, READ_ACCOUNT_GROUPS, READ_ZONE_GROUPS, stamp } from "../builders.js"
import { permissionGroups } from "../../Permissions.js"
import type { Account, ApiToken, State, Zone } from "../../State.js"

/** The fixed creation date of every scenario, so timestamps do not depend on the wall clock. */
export const EPOCH = Date.UTC(2025, 0, 6, 9, 0, 0)

/** A world with nothing in it. */
export const emptyState = (): State => ({
  accounts: [],
  zones: [],
  settings: new Map(),
  dnssec: new Map(),
  dnsRecords: new Map(),
  rulesets: [],
  firewallRules: new Map(),
  filters: new Map(),
  legacyRateLimits: new Map(),
  accessRules: [],
  lists: new Map(),
  workerScripts: new Map(),
  workerRoutes: new Map(),
  workerDomains: new Map(),
  pageRules: new Map(),
  tokens: []
})

const allGroups = permissionGroups.filter((g) => g.scope !== "user").map((g) => g.name)

/**
 * The standard token set every scenario carries, by name:
 * `scoped` (one zone, Zone Read + Firewall Services Read), `account` (read-only, every account),
 * `accountOwned` (`cfat_`, read-only, first account), `revoked` (disabled), `expired`, and
 * `customer` (the customer's own read-write token, used to play the dashboard).
 */
export const standardTokens = (ctx: Ctx, accounts: ReadonlyArray<Account>, scopedZone: Zone): Array<ApiToken> => {
  const first = accounts[0]
  if (first === undefined) return []
  const readAll = accounts.map((a) => ({
    permissionGroups: [...READ_ZONE_GROUPS, ...READ_ACCOUNT_GROUPS],
    resource: { kind: "account" as const, accountId: a.id }
  }))
  const expired = makeToken(ctx, "expired", { kind: "user" }, readAll, "expired")
  expired.expires_on = stamp(ctx, 200)
  return [
    makeToken(ctx, "scoped", { kind: "user" }, [
      { permissionGroups: ["Zone Read", "Firewall Services Read"], resource: { kind: "zones", zoneIds: [scopedZone.id] } }
    ]),
    makeToken(ctx, "account", { kind: "user" }, readAll),
    makeToken(ctx, "accountOwned", { kind: "account", accountId: first.id }, [
      { permissionGroups: [...READ_ZONE_GROUPS, ...READ_ACCOUNT_GROUPS], resource: { kind: "account", accountId: first.id } }
    ]),
    makeToken(ctx, "revoked", { kind: "user" }, readAll, "disabled"),
    expired,
    makeToken(ctx, "customer", { kind: "user" }, [
      ...accounts.map((a) => ({ permissionGroups: allGroups, resource: { kind: "account" as const, accountId: a.id } })),
      { permissionGroups: ["API Tokens Read", "API Tokens Write"], resource: { kind: "user" as const } }
    ])
  ]
}
