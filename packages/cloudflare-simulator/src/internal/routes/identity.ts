/**
 * Token verification, permission groups and accounts.
 */
import { permissionGroups, scopeUrn } from "../../Permissions.js"
import type { ApiToken } from "../../State.js"
import { allowsAccount, allowsUser, findAccount, requireAccount, touchesAccount } from "../access.js"
import { compare, fail, pageOf, readEnum, readPage } from "../http.js"
import type { Route } from "../router.js"

const verifyResult = (token: ApiToken) => {
  const result: Record<string, string> = { id: token.id, status: token.status }
  if (token.not_before !== undefined) result["not_before"] = token.not_before
  if (token.expires_on !== undefined) result["expires_on"] = token.expires_on
  return { result, messages: [{ code: 10000, message: "This API Token is valid and active" }] }
}

const ACCOUNT_DETAIL_GROUPS = [
  "Account Settings Read",
  "Account Settings Write",
  "Account Firewall Access Rules Read",
  "Account Firewall Access Rules Write",
  "Workers Scripts Read",
  "Workers Scripts Write",
  "Billing Read",
  "Billing Write"
]

const listGroups = (query: URLSearchParams) => {
  const name = query.get("name")
  const scope = query.get("scope")
  return permissionGroups
    .filter((g) => (name === null || g.name === name) && (scope === null || scopeUrn(g.scope) === scope))
    .map((g) => ({ id: g.id, name: g.name, scopes: [scopeUrn(g.scope)] }))
}

/** Identity routes. */
export const identityRoutes: ReadonlyArray<Route> = [
  {
    method: "GET",
    template: "/user/tokens/verify",
    handler: ({ token }) => {
      // Account-owned tokens are not user tokens: this endpoint does not know them.
      if (token.owner.kind !== "user") throw fail.invalidToken()
      return verifyResult(token)
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/tokens/verify",
    handler: ({ token, params, state, path }) => {
      findAccount(state, params["account_id"] ?? "", path)
      if (token.owner.kind !== "account" || token.owner.accountId !== params["account_id"]) throw fail.invalidToken()
      return verifyResult(token)
    }
  },
  {
    method: "GET",
    template: "/user/tokens/permission_groups",
    handler: ({ token, query }) => {
      if (!allowsUser(token, ["API Tokens Read", "API Tokens Write"])) throw fail.forbidden()
      return { result: listGroups(query) }
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id/tokens/permission_groups",
    handler: ({ token, query, params, state, path }) => {
      requireAccount(state, token, params["account_id"] ?? "", ["Account API Tokens Read", "Account API Tokens Write"], path)
      return { result: listGroups(query) }
    }
  },
  {
    method: "GET",
    template: "/accounts",
    handler: ({ token, query, state }) => {
      if (token.owner.kind === "account") {
        throw fail.invalidBody(1001, "List accounts endpoint does not support account owned tokens.")
      }
      const { page, perPage } = readPage(query, { min: 5, max: 50, default: 20 })
      const direction = readEnum(query, "direction", ["asc", "desc"] as const) ?? "asc"
      const name = query.get("name")
      const accounts = state.accounts
        .filter((a) => touchesAccount(token, state, a.id) && (name === null || a.name.toLowerCase().includes(name.toLowerCase())))
        .sort((a, b) => (direction === "asc" ? 1 : -1) * compare(a.name, b.name))
      return pageOf(accounts, page, perPage)
    }
  },
  {
    method: "GET",
    template: "/accounts/:account_id",
    handler: ({ token, params, state, path }) => {
      const account = findAccount(state, params["account_id"] ?? "", path)
      if (!allowsAccount(token, account.id, ACCOUNT_DETAIL_GROUPS)) throw fail.forbidden()
      return { result: account }
    }
  },
  {
    // Revoking a token is what a customer does in the dashboard; the API deletes it.
    method: "DELETE",
    template: "/user/tokens/:token_id",
    handler: ({ token, params, state, path }) => {
      if (!allowsUser(token, ["API Tokens Write"])) throw fail.forbidden()
      const target = state.tokens.find((t) => t.id === params["token_id"] && t.owner.kind === "user")
      if (target === undefined) throw fail.notFound(path)
      target.status = "disabled"
      return { result: { id: target.id } }
    }
  }
]
