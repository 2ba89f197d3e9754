/**
 * Connection set-up: verify the token, then discover what it can read. Verification uses
 * `GET /user/tokens/verify` (user tokens) or `GET /accounts/{id}/tokens/verify` (account-owned
 * `cfat_` tokens). Cloudflare does not say what a token may do, so each resource is probed with its
 * cheapest request on one account and one zone the token can see: 2xx (or a "not configured" /
 * "retired" answer, which also needs the permission) → granted, 403 → missing, with the exact
 * permission to add. Works the same for tokens scoped to one zone, several zones or a whole account.
 */
import { ConnectorError, Credential } from "@plumbline/core"
import { Effect, Option, Schema } from "effect"
import { CloudflareClient, isNotFoundWithCode, type Service } from "./CloudflareClient.js"
import * as Permissions from "./Permissions.js"

const TokenWire = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  expires_on: Schema.optional(Schema.NullOr(Schema.String)),
  not_before: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * An account with its `type` (`standard` or `enterprise`: cloudflare SDK 7.3.0,
 * `resources/accounts/accounts.d.ts`, `Account.type`; absent from the official schema subset, so optional).
 */
const AccountRef = Schema.Struct({ id: Schema.String, type: Schema.optional(Schema.NullOr(Schema.String)) })
const ZoneRef = Schema.Struct({ id: Schema.String, account: Schema.Struct({ id: Schema.String }) })

type Outcome = "granted" | "missing" | "unknown" | "not_applicable"

/** The resource names a probe answers for, with the request that probes them. */
interface Probe {
  readonly resources: ReadonlyArray<string>
  readonly path: string
  readonly params?: Readonly<Record<string, string | number>>
}

const zoneProbes = (zone: string): ReadonlyArray<Probe> => [
  { resources: ["zone_settings"], path: `/zones/${zone}/settings/ssl` },
  { resources: ["dnssec"], path: `/zones/${zone}/dnssec` },
  { resources: ["dns_records"], path: `/zones/${zone}/dns_records`, params: { per_page: 1 } },
  {
    resources: ["waf_custom_rules", "managed_rulesets", "rate_limit_rules", "sensitive_data_rules"],
    path: `/zones/${zone}/rulesets/phases/http_request_firewall_custom/entrypoint`
  },
  { resources: ["transform_rules"], path: `/zones/${zone}/rulesets/phases/http_request_transform/entrypoint` },
  { resources: ["redirect_rules"], path: `/zones/${zone}/rulesets/phases/http_request_dynamic_redirect/entrypoint` },
  {
    resources: ["legacy_firewall_rules", "legacy_filters", "legacy_rate_limits", "ip_access_rules"],
    path: `/zones/${zone}/firewall/access_rules/rules`,
    params: { per_page: 1 }
  },
  { resources: ["workers_routes"], path: `/zones/${zone}/workers/routes` },
  { resources: ["page_rules"], path: `/zones/${zone}/pagerules` }
]

const accountProbes = (account: string): ReadonlyArray<Probe> => [
  { resources: ["account_ip_access_rules"], path: `/accounts/${account}/firewall/access_rules/rules`, params: { per_page: 1 } },
  { resources: ["ip_lists", "ip_list_items"], path: `/accounts/${account}/rules/lists` },
  { resources: ["workers_scripts"], path: `/accounts/${account}/workers/scripts` },
  { resources: ["account_rules"], path: `/accounts/${account}/rulesets` },
  { resources: ["workers_custom_domains"], path: `/accounts/${account}/workers/domains` }
]

/** Turns a probe's answer into an outcome; a refused credential is not an outcome, it fails. */
const outcomeOf = <A>(effect: Effect.Effect<A, ConnectorError.ConnectorError>) =>
  effect.pipe(
    Effect.as<Outcome>("granted"),
    Effect.catchAll((error): Effect.Effect<Outcome, ConnectorError.CredentialInvalid> => {
      if (error._tag === "CredentialInvalid") return Effect.fail(error)
      if (error._tag === "PermissionMissing") return Effect.succeed("missing")
      // The phase was never configured, or the product is retired: Cloudflare checked the permission first.
      if (error._tag === "NotAvailable" || isNotFoundWithCode(error, 10003)) return Effect.succeed("granted")
      return Effect.succeed("unknown")
    })
  )

const grant = (resource: string, status: Outcome) =>
  new Credential.Grant({ resource, status, permissions: [Permissions.forResource(resource)] })

/** Verifies the token with the endpoint its kind needs. */
export const verifyToken = (client: Service) =>
  Effect.gen(function* () {
    const context = { resource: "token" }
    if (client.tokenKind === "user") {
      const user = client.get("/user/tokens/verify", {}, TokenWire, context)
      const configured = client.configuredAccountId
      // An unprefixed token may be account-owned: with an account configured, try that (API-NOTES §5.1).
      const verified =
        configured === undefined
          ? user
          : Effect.catchTag(user, "CredentialInvalid", (refused) =>
              Effect.mapError(client.get(`/accounts/${configured}/tokens/verify`, {}, TokenWire, context), () => refused)
            )
      return (yield* verified).result
    }
    const account = yield* client.ownerAccountId
    if (account === undefined) {
      return yield* Effect.fail(
        new ConnectorError.CredentialInvalid({ reason: "invalid", codes: [{ code: 0, message: "no account found for the account-owned token" }] })
      )
    }
    return (yield* client.get(`/accounts/${account}/tokens/verify`, {}, TokenWire, context)).result
  })

const statusOf = (status: string): Credential.Verification["status"] =>
  status === "active" || status === "expired" || status === "disabled" ? status : "revoked"

/** Verifies the token and discovers, per resource, whether it may be read. */
export const verify: Effect.Effect<Credential.Verification, ConnectorError.ConnectorError, CloudflareClient> = Effect.gen(function* () {
  const client = yield* CloudflareClient
  const token = yield* verifyToken(client)
  const status = statusOf(token.status)
  const base = { subject: token.id, status, ...(token.expires_on == null ? {} : { expiresAt: token.expires_on }) }
  if (status !== "active") return new Credential.Verification({ ...base, grants: [] })

  const outcomes = new Map<string, Outcome>()
  const probe = (name: string) => ({ resource: name })

  // Accounts: a user token lists them; an account-owned token reads its own.
  const accountOwned = client.tokenKind === "account-owned"
  const ownAccount = yield* client.ownerAccountId
  const accountsAnswer = yield* Effect.either(
    accountOwned && ownAccount !== undefined
      ? Effect.map(client.get(`/accounts/${ownAccount}`, {}, AccountRef, probe("accounts")), (a) => [a.result])
      : Effect.map(client.get("/accounts", { per_page: 50 }, Schema.Array(AccountRef), probe("accounts")), (a) => a.result)
  )
  outcomes.set("accounts", yield* outcomeOf(accountsAnswer._tag === "Right" ? Effect.void : Effect.fail(accountsAnswer.left)))

  const zonesAnswer = yield* Effect.either(client.get("/zones", { per_page: 5 }, Schema.Array(ZoneRef), probe("zones")))
  outcomes.set("zones", yield* outcomeOf(zonesAnswer._tag === "Right" ? Effect.void : Effect.fail(zonesAnswer.left)))
  const zone = zonesAnswer._tag === "Right" ? Option.fromNullable(zonesAnswer.right.result[0]) : Option.none()
  const account = Option.orElse(
    Option.fromNullable(ownAccount ?? (accountsAnswer._tag === "Right" ? accountsAnswer.right[0]?.id : undefined)),
    () => Option.map(zone, (z) => z.account.id)
  )

  const probes = [
    ...Option.match(zone, { onNone: () => [], onSome: (z) => zoneProbes(z.id) }),
    ...Option.match(account, { onNone: () => [], onSome: (a) => accountProbes(a) })
  ]
  yield* Effect.forEach(
    probes,
    (p) =>
      Effect.map(outcomeOf(client.get(p.path, p.params ?? {}, Schema.Unknown, probe(p.resources[0] ?? "probe"))), (outcome) => {
        for (const resource of p.resources) outcomes.set(resource, outcome)
      }),
    { concurrency: 4, discard: true }
  )

  // Account-level rulesets are Enterprise-only (https://developers.cloudflare.com/waf/account/custom-rulesets/):
  // when every account the token sees (the first page of up to 50) is `standard`, there is nothing for
  // Account Rulesets Read to open, so it is not asked for.
  const seen = accountsAnswer._tag === "Right" ? accountsAnswer.right : []
  if (outcomes.get("account_rules") === "missing" && seen.length > 0 && seen.every((a) => a.type === "standard")) {
    outcomes.set("account_rules", "not_applicable")
  }

  const grants = Object.keys(Permissions.byResource).map((resource) => grant(resource, outcomes.get(resource) ?? "unknown"))
  return new Credential.Verification({ ...base, grants })
})
