/**
 * Reads several resources share, made as Effect requests so the snapshot runner's per-run request
 * cache sends each once per snapshot: a zone's ruleset listing (every phase resource needs it), the
 * zone's entry point of a phase, and an account's custom lists (lists and their items).
 *
 * A shared read fails without a resource's context; `CloudflareClient.attribute` gives the error the context of the
 * resource that waited for it (its name and the permission it needs).
 */
import { ConnectorError, Json, type Scope } from "@plumbline/core"
import { Effect, Option, Request, RequestResolver, Schema } from "effect"
import { attribute, type CallContext, CloudflareClient, isNotFoundWithCode } from "../CloudflareClient.js"
import { callContext } from "./context.js"
import { openStruct } from "./records.js"

/** Rulesets per page of the cursor-paged listing (the simulator allows 1–50; Cloudflare does not document the bound). */
export const RULESETS_PER_PAGE = 50

/** Items per page of a list's items: 1–500 (official schema, `GET /accounts/{account_id}/rules/lists/{list_id}/items`, parameter `per_page`). */
export const LIST_ITEMS_PER_PAGE = 500

const opt = <A, I>(s: Schema.Schema<A, I>) => Schema.optional(Schema.NullOr(s))

/** A ruleset summary, as the listing sends it (no rules). */
export const RulesetSummaryWire = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  description: opt(Schema.String),
  kind: Schema.String,
  phase: Schema.String,
  version: opt(Schema.String),
  last_updated: opt(Schema.String)
})
export type RulesetSummaryWire = typeof RulesetSummaryWire.Type

/**
 * The `ratelimit` object of a rate limiting rule (API-NOTES §5.6; absent from the 2024 schema).
 * Open: members it does not name are kept (the rule record's `ratelimit.extra`).
 */
export const RatelimitWire = openStruct({
  characteristics: Schema.Array(Schema.String),
  period: Schema.Number,
  requests_per_period: opt(Schema.Number),
  mitigation_timeout: opt(Schema.Number),
  counting_expression: opt(Schema.String),
  requests_to_origin: opt(Schema.Boolean),
  score_per_period: opt(Schema.Number),
  score_response_header_name: opt(Schema.String)
})
export type RatelimitWire = typeof RatelimitWire.Type

/**
 * A rule of a ruleset as Cloudflare sends it (managed rules come without `expression`). Open:
 * members it does not name are kept (the rule record's `extra`).
 */
export const RuleWire = openStruct({
  // Optional in the official schema (`rulesets_Rule.id`); some managed rules come without one.
  id: opt(Schema.String),
  version: opt(Schema.String),
  action: Schema.String,
  expression: opt(Schema.String),
  description: opt(Schema.String),
  enabled: Schema.Boolean,
  ref: opt(Schema.String),
  last_updated: opt(Schema.String),
  action_parameters: opt(Json.Json),
  ratelimit: opt(RatelimitWire),
  logging: opt(Schema.Struct({ enabled: Schema.Boolean })),
  // TypeScript SDK `rulesets` rule types (`ExposedCredentialCheck{username_expression, password_expression}`), API-NOTES §5.6.
  exposed_credential_check: opt(Json.Json),
  categories: opt(Schema.Array(Schema.String))
})
export type RuleWire = typeof RuleWire.Type

/**
 * A ruleset with its rules (entry point or ruleset by id). Open: members it does not name are kept
 * (each of its rule records' `ruleset_extra`).
 */
export const RulesetWire = openStruct({
  ...RulesetSummaryWire.fields,
  rules: opt(Schema.Array(RuleWire))
})
export type RulesetWire = typeof RulesetWire.Type

/** A custom list as Cloudflare sends it; open: members it does not name are kept (the record's `extra`). */
export const ListWire = openStruct({
  id: Schema.String,
  name: Schema.String,
  description: opt(Schema.String),
  kind: Schema.String,
  num_items: opt(Schema.Number),
  num_referencing_filters: opt(Schema.Number),
  created_on: opt(Schema.String),
  modified_on: opt(Schema.String)
})
export type ListWire = typeof ListWire.Type

/** The zone's ruleset listing (summaries), every page. */
export class ListZoneRulesets extends Request.TaggedClass("ListZoneRulesets")<
  ReadonlyArray<RulesetSummaryWire>,
  ConnectorError.ConnectorError,
  { readonly zoneId: string; readonly scope: string }
> {}

/** The zone's entry point ruleset of a phase; `none` when the phase was never configured (404/10003). */
export class GetZoneEntrypoint extends Request.TaggedClass("GetZoneEntrypoint")<
  Option.Option<RulesetWire>,
  ConnectorError.ConnectorError,
  { readonly zoneId: string; readonly phase: string; readonly scope: string }
> {}

/** The account's custom lists. */
export class ListAccountLists extends Request.TaggedClass("ListAccountLists")<
  ReadonlyArray<ListWire>,
  ConnectorError.ConnectorError,
  { readonly accountId: string; readonly scope: string }
> {}

const shared = (resource: string, scope: string): CallContext => ({ resource, scope })

/**
 * A shared read that, once started, always completes its request. Another resource's fibre may be
 * waiting on the same cached request: if the fibre that runs it were interrupted (a sibling read
 * failed) while the read waits on a budget, the request would never complete and every waiter would
 * hang. Uninterruptible, the read finishes and the waiters get its answer.
 */
const withClient = <A, E>(read: (client: Effect.Effect.Success<typeof CloudflareClient>) => Effect.Effect<A, E>) =>
  Effect.uninterruptible(Effect.flatMap(CloudflareClient, read))

/**
 * Runs `f` on every item at once, like `Effect.forEach`, but lets every one finish before failing
 * with the first error: a failing read never interrupts a sibling in the middle of a shared request.
 */
export const forEachSettled = <A, B, E, R>(items: Iterable<A>, f: (a: A) => Effect.Effect<B, E, R>): Effect.Effect<Array<B>, E, R> => {
  const all = Array.from(items)
  // Nothing to run side by side: no fibre to fork (most zones have one phase to read, or none).
  if (all.length === 0) return Effect.succeed([])
  if (all.length === 1) return Effect.map(f(all[0]!), (b) => [b])
  return Effect.flatMap(Effect.forEach(all, (a) => Effect.either(f(a)), { concurrency: "unbounded" }), (results) => {
    const out: Array<B> = []
    for (const result of results) {
      if (result._tag === "Left") return Effect.fail(result.left)
      out.push(result.right)
    }
    return Effect.succeed(out)
  })
}

const rulesetsResolver = RequestResolver.fromEffect((request: ListZoneRulesets) =>
  withClient((client) =>
    client.readCursor(
      `/zones/${request.zoneId}/rulesets`,
      { style: "cursor", perPage: RULESETS_PER_PAGE, item: RulesetSummaryWire },
      shared("rulesets", request.scope)
    )
  )
)

const entrypointResolver = RequestResolver.fromEffect((request: GetZoneEntrypoint) =>
  withClient((client) =>
    client.get(`/zones/${request.zoneId}/rulesets/phases/${request.phase}/entrypoint`, {}, RulesetWire, shared("rulesets", request.scope)).pipe(
      Effect.map((answer) => Option.some(answer.result)),
      // A phase never configured has no entry point: that is "no rules", not an error.
      Effect.catchIf(
        (error) => isNotFoundWithCode(error, 10003),
        () => Effect.succeed(Option.none<RulesetWire>())
      )
    )
  )
)

const listsResolver = RequestResolver.fromEffect((request: ListAccountLists) =>
  withClient((client) =>
    Effect.map(
      client.get(`/accounts/${request.accountId}/rules/lists`, {}, Schema.Array(ListWire), shared("ip_lists", request.scope)),
      (answer) => answer.result
    )
  )
)


/** The zone's ruleset summaries, read once per snapshot. */
export const zoneRulesets = (resource: string, scope: Scope.Scope) =>
  Effect.request(new ListZoneRulesets({ zoneId: scope.id, scope: scope.label }), RequestResolver.contextFromServices(CloudflareClient)(rulesetsResolver)).pipe(
    Effect.mapError((error) => attribute(error, callContext(resource, scope)))
  )

/** The zone's entry point of `phase`, read once per snapshot. */
export const zoneEntrypoint = (resource: string, scope: Scope.Scope, phase: string) =>
  Effect.request(new GetZoneEntrypoint({ zoneId: scope.id, phase, scope: scope.label }), RequestResolver.contextFromServices(CloudflareClient)(entrypointResolver)).pipe(
    Effect.mapError((error) => attribute(error, callContext(resource, scope)))
  )

/** The account's Workers Custom Domains, as raw items (each zone decodes its own). */
export class ListAccountWorkerDomains extends Request.TaggedClass("ListAccountWorkerDomains")<
  ReadonlyArray<unknown>,
  ConnectorError.ConnectorError,
  { readonly accountId: string; readonly scope: string }
> {}

// Not paginated: the SDK reads it as a single page
// (https://developers.cloudflare.com/api/resources/workers/subresources/domains/methods/list/).
const workerDomainsResolver = RequestResolver.fromEffect((request: ListAccountWorkerDomains) =>
  Effect.flatMap(CloudflareClient, (client) =>
    Effect.map(
      client.get(`/accounts/${request.accountId}/workers/domains`, {}, Schema.Array(Schema.Unknown), shared("workers_custom_domains", request.scope)),
      (answer) => answer.result
    )
  )
)

/** The account's Workers Custom Domains (raw), read once per snapshot however many zones the account has. */
export const accountWorkerDomains = (resource: string, scope: Scope.Scope, accountId: string) =>
  Effect.request(
    new ListAccountWorkerDomains({ accountId, scope: `account ${accountId}` }),
    RequestResolver.contextFromServices(CloudflareClient)(workerDomainsResolver)
  ).pipe(Effect.mapError((error) => attribute(error, callContext(resource, scope))))

/** The account's custom lists, read once per snapshot. */
export const accountLists = (resource: string, scope: Scope.Scope) =>
  Effect.request(new ListAccountLists({ accountId: scope.id, scope: scope.label }), RequestResolver.contextFromServices(CloudflareClient)(listsResolver)).pipe(
    Effect.mapError((error) => attribute(error, callContext(resource, scope)))
  )

/**
 * Is this the plan refusal of an account-level phase? Account-level WAF rulesets are Enterprise-only
 * (https://developers.cloudflare.com/waf/account/custom-rulesets/); `CloudflareClient.classify` already
 * maps Cloudflare's entitlement refusal (403 with code 10010 or a "not entitled" message, API-NOTES.md
 * "403 kinds") to `NotAvailable` for the plan, never a bare 403.
 */
const isNotEntitled = (error: ConnectorError.ConnectorError): error is ConnectorError.NotAvailable =>
  error._tag === "NotAvailable" && error.reason === "plan"

/** The account's entry point ruleset of a phase; `none` when it does not exist (404/10003). */
export class GetAccountEntrypoint extends Request.TaggedClass("GetAccountEntrypoint")<
  Option.Option<RulesetWire>,
  ConnectorError.ConnectorError,
  { readonly accountId: string; readonly phase: string; readonly scope: string }
> {}

/** A ruleset by id (a custom ruleset an `execute` rule runs), under a zone or an account. */
export class GetRuleset extends Request.TaggedClass("GetRuleset")<
  RulesetWire,
  ConnectorError.ConnectorError,
  { readonly owner: "zones" | "accounts"; readonly ownerId: string; readonly rulesetId: string; readonly scope: string }
> {}

const accountEntrypointResolver = RequestResolver.fromEffect((request: GetAccountEntrypoint) =>
  withClient((client) =>
    client
      .get(`/accounts/${request.accountId}/rulesets/phases/${request.phase}/entrypoint`, {}, RulesetWire, shared("account_rules", request.scope))
      .pipe(
        Effect.map((answer) => Option.some(answer.result)),
        // Cloudflare has no entry point until the phase is first configured: 404/10003 (API-NOTES.md).
        Effect.catchIf(
          (error) => isNotFoundWithCode(error, 10003),
          () => Effect.succeed(Option.none<RulesetWire>())
        ),
        Effect.catchIf(isNotEntitled, (error) =>
          Effect.fail(
            new ConnectorError.NotAvailable({
              reason: "plan",
              detail: `Account-level rulesets need an Enterprise account (${request.phase}: ${error.detail})`,
              scope: request.scope
            })
          )
        )
      )
  )
)

const rulesetResolver = RequestResolver.fromEffect((request: GetRuleset) =>
  withClient((client) =>
    Effect.map(
      client.get(`/${request.owner}/${request.ownerId}/rulesets/${request.rulesetId}`, {}, RulesetWire, shared("rulesets", request.scope)),
      (answer) => answer.result
    )
  )
)

/** The account's entry point of `phase`, read once per snapshot (shared by every zone of the account). */
export const accountEntrypoint = (resource: string, scope: Scope.Scope, accountId: string, phase: string) =>
  Effect.request(
    new GetAccountEntrypoint({ accountId, phase, scope: `account ${accountId}` }),
    RequestResolver.contextFromServices(CloudflareClient)(accountEntrypointResolver)
  ).pipe(Effect.mapError((error) => attribute(error, callContext(resource, scope))))

/** A ruleset by id, read once per snapshot however many rules execute it. */
export const rulesetById = (resource: string, scope: Scope.Scope, owner: "zones" | "accounts", ownerId: string, rulesetId: string) =>
  Effect.request(
    new GetRuleset({ owner, ownerId, rulesetId, scope: `${owner === "zones" ? "zone" : "account"} ${ownerId}` }),
    RequestResolver.contextFromServices(CloudflareClient)(rulesetResolver)
  ).pipe(Effect.mapError((error) => attribute(error, callContext(resource, scope))))
