/**
 * Token checks: which zones and accounts a token covers with which permission groups.
 */
import { withAliases } from "../Permissions.js"
import type { Account, ApiToken, State, Zone } from "../State.js"
import { fail } from "./http.js"

const grants = (groups: ReadonlyArray<string>, wanted: ReadonlyArray<string>): boolean => {
  const accepted = withAliases(wanted)
  return groups.some((g) => accepted.includes(g))
}

/** Does the token hold one of `groups` over this zone (directly or through its account)? */
export const allowsZone = (token: ApiToken, zone: Zone, groups: ReadonlyArray<string>): boolean =>
  token.policies.some(
    (p) =>
      grants(p.permissionGroups, groups) &&
      ((p.resource.kind === "account" && p.resource.accountId === zone.account.id) ||
        (p.resource.kind === "zones" && p.resource.zoneIds.includes(zone.id)))
  )

/** Does the token hold one of `groups` over this account? */
export const allowsAccount = (token: ApiToken, accountId: string, groups: ReadonlyArray<string>): boolean =>
  token.policies.some((p) => grants(p.permissionGroups, groups) && p.resource.kind === "account" && p.resource.accountId === accountId)

/** Does the token hold one of `groups` over any resource at all? */
export const holdsAnywhere = (token: ApiToken, groups: ReadonlyArray<string>): boolean =>
  token.policies.some((p) => grants(p.permissionGroups, groups))

/** Does the token hold one of `groups` at user level? */
export const allowsUser = (token: ApiToken, groups: ReadonlyArray<string>): boolean =>
  token.owner.kind === "user" && token.policies.some((p) => grants(p.permissionGroups, groups) && p.resource.kind === "user")

/** Does the token cover the account at all (any group, account or one of its zones)? */
export const touchesAccount = (token: ApiToken, state: State, accountId: string): boolean =>
  token.policies.some(
    (p) =>
      (p.resource.kind === "account" && p.resource.accountId === accountId) ||
      (p.resource.kind === "zones" && p.resource.zoneIds.some((z) => state.zones.find((zone) => zone.id === z)?.account.id === accountId))
  )

/** The zone, or 404. */
export const findZone = (state: State, zoneId: string, path: string): Zone => {
  const zone = state.zones.find((z) => z.id === zoneId)
  if (zone === undefined) throw fail.notFound(path)
  return zone
}

/** The account, or 404. */
export const findAccount = (state: State, accountId: string, path: string): Account => {
  const account = state.accounts.find((a) => a.id === accountId)
  if (account === undefined) throw fail.notFound(path)
  return account
}

/** The zone if the token holds one of `groups` over it; 404 for an unknown id, 403 otherwise. */
export const requireZone = (state: State, token: ApiToken, zoneId: string, groups: ReadonlyArray<string>, path: string): Zone => {
  const zone = findZone(state, zoneId, path)
  if (!allowsZone(token, zone, groups)) throw fail.forbidden()
  return zone
}

/** The account if the token holds one of `groups` over it; 404 for an unknown id, 403 otherwise. */
export const requireAccount = (state: State, token: ApiToken, accountId: string, groups: ReadonlyArray<string>, path: string): Account => {
  const account = findAccount(state, accountId, path)
  if (!allowsAccount(token, accountId, groups)) throw fail.forbidden()
  return account
}
