/**
 * The one HTTP pipeline of the Cloudflare connector: core's `HttpPipeline` pinned to the v4 base URL,
 * with the bearer token, Cloudflare's error classification (401 → credential invalid, 403 →
 * permission missing, 410 → product retired) and the `cf-ray` request id. The v4 envelope
 * (`{ success, errors, messages, result, result_info }`) is unwrapped here and nowhere else: `get`
 * checks `success`, then decodes `result` (and `result_info`) with the caller's Schema, so a missing
 * field becomes a `DecodeFailure` naming the resource, the field and the scope.
 *
 * Listing items are decoded one by one: a bad item is reported as an `ItemProblem` (index, id, path,
 * schema message) and left out, every good one is kept, so one unexpected item costs that item and
 * not the resource (the runner turns the read into a `partial` result).
 *
 * Listings come in the three paging styles the API uses (page numbers, `result_info.cursor`,
 * `result_info.cursors.after`), each at the page size the caller asks for (the largest the API allows),
 * as Streams (`pages`, `cursor`) or read whole (`readPages`, `readCursor`, what resources use).
 *
 * The app supplies the `HttpClient` (and the shared `RequestBudget`), as every Effect library client does.
 */
import type { HttpClient } from "@effect/platform"
import {
  ConnectorError,
  Credential,
  HttpPipeline,
  ItemProblem,
  Pagination,
  type RequestBudget,
  type RetryPolicy
} from "@plumbline/core"
import type { Stream } from "effect";
import { Config, type ConfigError, Context, Effect, Either, Layer, Option, ParseResult, Redacted, Schema, type SchemaAST, Stream as S } from "effect"
import * as RateLimit from "./RateLimit.js"

/** Cloudflare's production API. */
export const DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"

/** The credential kind recorded for Cloudflare API tokens. */
export const CREDENTIAL_KIND = "cloudflare-api-token"

/** Options of a client. */
export interface Options {
  /** The API token (`cfut_…` user token, `cfat_…` account-owned token, or an older unprefixed one). */
  readonly token: Redacted.Redacted<string> | string
  /** Default `https://api.cloudflare.com/client/v4`; point it at the simulator in tests. */
  readonly baseUrl?: string | undefined
  /**
   * The account an account-owned (`cfat_`) token belongs to. Optional: when absent it is learnt from
   * the first zone the token can list.
   */
  readonly accountId?: string | undefined
  readonly retry?: Partial<RetryPolicy.RetryPolicy> | undefined
  /** The token's request budget. Default `RateLimit.budget`, Cloudflare's documented limit. */
  readonly budget?: RequestBudget.Limits | undefined
  /**
   * The share (0 < share ≤ 1) of the remaining quota Cloudflare announces (`Ratelimit` header) that
   * the connector may spend; the rest is left to the customer's own use of the same quota. Default
   * `RateLimit.defaultShare` (0.5). `false` ignores the announcements (not recommended).
   */
  readonly quotaShare?: number | false | undefined
  /** The process-wide per-client-IP budget. Default `RateLimit.clientIpBudget`; `false` for none. */
  readonly clientIpBudget?: typeof RateLimit.clientIpBudget | false | undefined
}

/** Who is asking, so that errors name the resource, the scope and the permission to grant. */
export interface CallContext {
  readonly resource: string
  /** The scope's label, e.g. `zone redpine.io`. */
  readonly scope?: string | undefined
  /** The exact Cloudflare permission the call needs, reported when it answers 403. */
  readonly permission?: string | undefined
}

/** A decoded success: the `result` and the raw `result_info`. */
export interface Answer<A> {
  readonly result: A
  readonly resultInfo: unknown
}

/** What kind of token the client holds. */
export type TokenKind = "user" | "account-owned"

/** The client's service. */
export interface Service {
  readonly baseUrl: string
  readonly tokenKind: TokenKind
  /** The account id given in the options, if any. */
  readonly configuredAccountId: string | undefined
  /** The account of an account-owned token: configured, or learnt from the zones it can list. */
  readonly ownerAccountId: Effect.Effect<string | undefined, ConnectorError.ConnectorError>
  /** GET `path`, unwrap the envelope and decode `result` with `schema`. */
  readonly get: <A, I>(
    path: string,
    params: Readonly<Record<string, string | number | undefined>>,
    schema: Schema.Schema<A, I>,
    context: CallContext
  ) => Effect.Effect<Answer<A>, ConnectorError.ConnectorError>
  /**
   * GET a listing returned whole (no paging), decoding each item on its own: bad items are reported
   * as `ItemProblem`s and left out.
   */
  readonly items: <A, I>(
    path: string,
    params: Readonly<Record<string, string | number | undefined>>,
    item: Schema.Schema<A, I>,
    context: CallContext
  ) => Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError>
  /** Every item of a page-number listing (`?page=&per_page=`); bad items are reported and left out. */
  readonly pages: <A, I>(path: string, options: PageOptions<A, I>, context: CallContext) => Stream.Stream<A, ConnectorError.ConnectorError>
  /** What `pages` streams, read whole into one array (cheaper than collecting the Stream). */
  readonly readPages: <A, I>(
    path: string,
    options: PageOptions<A, I>,
    context: CallContext
  ) => Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError>
  /**
   * Every item of a cursor listing: `style: "cursor"` reads `result_info.cursor` (rulesets),
   * `style: "cursors.after"` reads `result_info.cursors.after` (list items).
   */
  readonly cursor: <A, I>(path: string, options: CursorOptions<A, I>, context: CallContext) => Stream.Stream<A, ConnectorError.ConnectorError>
  /** What `cursor` streams, read whole into one array. */
  readonly readCursor: <A, I>(
    path: string,
    options: CursorOptions<A, I>,
    context: CallContext
  ) => Effect.Effect<ReadonlyArray<A>, ConnectorError.ConnectorError>
}

/** The options of a page-number listing. */
export interface PageOptions<A, I> {
  readonly params?: Readonly<Record<string, string | number | undefined>>
  readonly perPage: number
  readonly item: Schema.Schema<A, I>
  readonly key: (item: A) => string
}

/** The options of a cursor listing. */
export interface CursorOptions<A, I> {
  readonly style: "cursor" | "cursors.after"
  readonly perPage: number
  readonly item: Schema.Schema<A, I>
}

/** The Cloudflare client of one connection. */
export class CloudflareClient extends Context.Tag("@plumbline/cloudflare/CloudflareClient")<CloudflareClient, Service>() {}

const Message = Schema.Struct({ code: Schema.Number, message: Schema.String })

/** The envelope's head: what tells a success from a failure. `errors: null` counts as none (legacy endpoints). */
const EnvelopeHead = Schema.Struct({
  success: Schema.Boolean,
  errors: Schema.optional(Schema.NullOr(Schema.Array(Message)))
})

const PageInfo = Schema.Struct({
  total_pages: Schema.optional(Schema.NullOr(Schema.Number))
})
const CursorInfo = Schema.Struct({ cursor: Schema.optional(Schema.NullOr(Schema.String)) })
const CursorsInfo = Schema.Struct({
  cursors: Schema.optional(Schema.NullOr(Schema.Struct({ after: Schema.optional(Schema.NullOr(Schema.String)) })))
})

const Items = Schema.Array(Schema.Unknown)

/** An item's `id`, when it has a string one, to name it in a problem. */
const idOf = (raw: unknown): string | undefined => {
  if (typeof raw !== "object" || raw === null) return undefined
  const id = (raw as { id?: unknown }).id
  return typeof id === "string" ? id : undefined
}

const escapePointer = (segment: PropertyKey) => String(segment).replace(/~/g, "~0").replace(/\//g, "~1")

/**
 * Decodes each raw item with `item`, keeps the good ones and reports each bad one (its index in the
 * listing from `offset`, its id, the JSON Pointer and the schema's message).
 */
export const decodeEach = <A, I>(
  raws: ReadonlyArray<unknown>,
  item: Schema.Schema<A, I>,
  offset: number
): Effect.Effect<ReadonlyArray<A>> =>
  Effect.suspend(() => {
    const decode = Schema.decodeUnknownEither(item, decodeOptions)
    const out: Array<A> = []
    const problems: Array<ItemProblem.ItemProblem> = []
    for (let i = 0; i < raws.length; i++) {
      const raw = raws[i]
      const decoded = decode(raw)
      if (Either.isRight(decoded)) {
        out.push(decoded.right)
        continue
      }
      const [issue] = ParseResult.ArrayFormatter.formatErrorSync(decoded.left)
      const id = idOf(raw)
      problems.push(
        new ItemProblem.ItemProblem({
          index: offset + i,
          ...(id === undefined ? {} : { id }),
          path: issue === undefined ? "" : issue.path.map((s) => `/${escapePointer(s)}`).join(""),
          message: issue?.message ?? decoded.left.message
        })
      )
    }
    // A clean page (the usual one) reports nothing and costs no further effect.
    return problems.length === 0 ? Effect.succeed(out) : Effect.as(Effect.forEach(problems, ItemProblem.report, { discard: true }), out)
  })

/** Decode options: extra fields Cloudflare adds are ignored, and the first problem is reported. */
const decodeOptions: SchemaAST.ParseOptions = { onExcessProperty: "ignore", errors: "first" }

const decodeHead = Schema.decodeUnknownEither(EnvelopeHead, decodeOptions)

/**
 * The decoder of a success envelope around `result`, built once per result schema rather than once
 * per answer, and run synchronously.
 */
const envelopes = new WeakMap<Schema.Schema.Any, (body: unknown) => Either.Either<{ readonly result: unknown; readonly result_info?: unknown }, ParseResult.ParseError>>()
const envelopeOf = <A, I>(schema: Schema.Schema<A, I>) => {
  let decode = envelopes.get(schema)
  if (decode === undefined) {
    decode = Schema.decodeUnknownEither(Schema.Struct({ result: schema, result_info: Schema.optional(Schema.Unknown) }), decodeOptions)
    envelopes.set(schema, decode)
  }
  return decode as (body: unknown) => Either.Either<{ readonly result: A; readonly result_info?: unknown }, ParseResult.ParseError>
}

/** The `{ code, message }` entries of an error body, including `error_chain`. */
export const errorMessages = (body: unknown): ReadonlyArray<ConnectorError.ProviderMessage> => {
  const out: Array<ConnectorError.ProviderMessage> = []
  const walk = (entries: unknown) => {
    if (!Array.isArray(entries)) return
    for (const entry of entries) {
      if (typeof entry !== "object" || entry === null) continue
      const { code, message, error_chain } = entry as { code?: unknown; message?: unknown; error_chain?: unknown }
      if (typeof code === "number") out.push({ code, message: typeof message === "string" ? message : "" })
      walk(error_chain)
    }
  }
  if (typeof body === "object" && body !== null) walk((body as { errors?: unknown }).errors)
  return out
}

/** Codes of a 400 that mean the credential itself is malformed or absent (API-NOTES §3). */
const MALFORMED_CREDENTIAL_CODES = new Set([6003, 6103, 6111, 9106])

/**
 * Cloudflare's code for a product the account or zone is not entitled to: 10010, with messages such as
 * `firewallaccessrules.api.not_entitled` (observed: github.com/xiaotianxt/bypass-cloudflare-for-github-action/issues/6).
 * Cloudflare publishes no error catalogue, so a message saying "not entitled" counts too.
 */
export const ENTITLEMENT_CODES: ReadonlySet<number> = new Set([10010])

/** Is this 403 a plan or entitlement refusal rather than a missing permission? */
export const isEntitlementRefusal = (codes: ReadonlyArray<ConnectorError.ProviderMessage>): boolean =>
  codes.some((c) => ENTITLEMENT_CODES.has(c.code) || /not[ _]entitled/i.test(c.message))

/**
 * A suspended or locked account, from an error's wording. Cloudflare publishes no error code for it
 * (no catalogue exists, and neither the official schema's error examples nor its docs show one:
 * API-NOTES.md "Suspended or locked accounts"), so the connector reads what the message says: the
 * account (or user) is suspended, locked or disabled. Only the wording is relied on, never a code.
 */
export const accountStateOf = (codes: ReadonlyArray<ConnectorError.ProviderMessage>): "suspended" | "locked" | undefined => {
  for (const c of codes) {
    if (!/\b(account|user)\b/i.test(c.message)) continue
    if (/\b(suspended|disabled|deactivated)\b/i.test(c.message)) return "suspended"
    if (/\blocked\b/i.test(c.message)) return "locked"
  }
  return undefined
}

/**
 * Maps Cloudflare's non-2xx answers onto core's errors, before core's generic mapping:
 * 401 or 403 saying the account is suspended or locked → account unavailable (its own alert);
 * 401 → credential invalid (nothing is retried, the runner stops); 400 with a malformed-credential
 * code → credential invalid; 403 with an entitlement code (10010) → not available on the plan (skipped);
 * any other 403 → permission missing (the caller adds which); 410 → the product is
 * retired (skipped, not an error). Everything else (404, 429, 5xx) is left to core.
 */
export const classify = (failure: HttpPipeline.FailedResponse): ConnectorError.ConnectorError | undefined => {
  const context = {
    status: failure.status,
    codes: [...failure.codes],
    ...(failure.requestId === undefined ? {} : { requestId: failure.requestId })
  }
  // A suspended or locked account is neither a bad credential nor a missing permission (issue #14 §4).
  const accountState = failure.status === 401 || failure.status === 403 ? accountStateOf(failure.codes) : undefined
  if (accountState !== undefined) return new ConnectorError.AccountUnavailable({ reason: accountState, ...context })
  if (failure.status === 401) return new ConnectorError.CredentialInvalid({ reason: "invalid", ...context })
  if (failure.status === 400 && failure.codes.some((c) => MALFORMED_CREDENTIAL_CODES.has(c.code))) {
    return new ConnectorError.CredentialInvalid({ reason: "invalid", ...context })
  }
  if (failure.status === 403 && isEntitlementRefusal(failure.codes)) {
    // The plan does not include the product: granting a permission cannot help (API-NOTES "403 kinds").
    return new ConnectorError.NotAvailable({
      reason: "plan",
      detail: `the plan does not include ${failure.path}`,
      ...context
    })
  }
  if (failure.status === 403) return new ConnectorError.PermissionMissing(context)
  if (failure.status === 410) {
    return new ConnectorError.NotAvailable({
      reason: "feature",
      detail: `Cloudflare retired ${failure.path} (410 Gone)`,
      ...context
    })
  }
  return undefined
}

/** Is this a 404 with the given Cloudflare code (10003: no entry point for the phase)? */
export const isNotFoundWithCode = (error: ConnectorError.ConnectorError, code: number): boolean =>
  error._tag === "RequestRejected" && error.status === 404 && error.codes.some((c) => c.code === code)

/** The token kind from its prefix: `cfat_` is account-owned, anything else a user token. */
export const tokenKindOf = (token: string): TokenKind => (token.startsWith("cfat_") ? "account-owned" : "user")

const ZoneAccount = Schema.Struct({ account: Schema.Struct({ id: Schema.String }) })

/**
 * Gives an error the context of the resource it was read for: the resource (and the exact
 * permission and zone, for a 403). Shared reads use it too, for the resource that waited on them.
 */
export const attribute = (error: ConnectorError.ConnectorError, context: CallContext): ConnectorError.ConnectorError => {
  switch (error._tag) {
    case "PermissionMissing":
      return new ConnectorError.PermissionMissing({
        ...error,
        resource: context.resource,
        ...(context.permission === undefined ? {} : { permission: context.permission }),
        ...(context.scope === undefined ? {} : { scope: context.scope })
      })
    case "NotAvailable":
      return new ConnectorError.NotAvailable({
        ...error,
        resource: context.resource,
        ...(context.scope === undefined ? {} : { scope: context.scope })
      })
    case "DecodeFailure":
      return new ConnectorError.DecodeFailure({ ...error, resource: context.resource })
    case "AccountUnavailable":
      return new ConnectorError.AccountUnavailable({
        ...error,
        resource: context.resource,
        ...(context.scope === undefined ? {} : { scope: context.scope })
      })
    default:
      return error
  }
}

/** Builds the client of one connection on the app's `HttpClient` and `RequestBudget`. */
export const make = (
  options: Options
): Effect.Effect<Service, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Effect.gen(function* () {
    const secret = Redacted.isRedacted(options.token) ? options.token : Redacted.make(options.token)
    const http = yield* HttpPipeline.make({
      baseUrl: options.baseUrl ?? DEFAULT_BASE_URL,
      credential: Credential.make(CREDENTIAL_KIND, secret),
      requestIdHeader: "cf-ray",
      errorMessages,
      classify,
      budget: options.budget ?? RateLimit.budget,
      ...(options.quotaShare === false ? {} : { quota: { share: options.quotaShare ?? RateLimit.defaultShare, read: RateLimit.parseHeaders } }),
      ...(options.clientIpBudget === false ? {} : { clientBudget: options.clientIpBudget ?? RateLimit.clientIpBudget }),
      ...(options.retry === undefined ? {} : { retry: options.retry })
    })


    const get = <A, I>(
      path: string,
      params: Readonly<Record<string, string | number | undefined>>,
      schema: Schema.Schema<A, I>,
      context: CallContext
    ): Effect.Effect<Answer<A>, ConnectorError.ConnectorError> =>
      Effect.flatMap(http.get(path, params), (response): Effect.Effect<Answer<A>, ConnectorError.ConnectorError> => {
        const body = response.body
        const decodeFailure = (error: ParseResult.ParseError) =>
          ConnectorError.decodeFailureFrom(error, { resource: context.resource, scope: context.scope, input: body })
        const head = decodeHead(body)
        if (Either.isLeft(head)) return Effect.fail(decodeFailure(head.left))
        if (!head.right.success) {
          // A failure inside a 200: Cloudflare said no, in its own words; no retry can change that.
          return Effect.fail(
            new ConnectorError.RequestRejected({
              reason: "status",
              method: "GET",
              path,
              status: response.status,
              codes: [...errorMessages(body)],
              detail: "success: false in a 2xx answer",
              ...(response.requestId === undefined ? {} : { requestId: response.requestId })
            })
          )
        }
        const decoded = envelopeOf(schema)(body)
        if (Either.isLeft(decoded)) return Effect.fail(decodeFailure(decoded.left))
        return Effect.succeed({ result: decoded.right.result, resultInfo: decoded.right.result_info })
      }).pipe(Effect.mapError((error) => attribute(error, context)))

    const items: Service["items"] = (path, params, item, context) =>
      Effect.flatMap(get(path, params, Items, context), (answer) => decodeEach(answer.result, item, 0))

    const pageListing = <A, I>(path: string, { item, key, params, perPage }: PageOptions<A, I>, context: CallContext) => ({
      perPage,
      key,
      path: `GET ${path}`,
      fetch: (page: number) =>
        Effect.flatMap(get(path, { ...params, page, per_page: perPage }, Items, context), (answer) => {
          const info = decodeInfo(PageInfo, answer.resultInfo, context)
          if (Either.isLeft(info)) return Effect.fail(info.left)
          // `more` is judged on the raw page, so a bad item never ends the listing early.
          return Effect.map(decodeEach(answer.result, item, (page - 1) * perPage), (decoded) => ({
            items: decoded,
            rawCount: answer.result.length,
            totalPages: info.right?.total_pages ?? undefined
          }))
        })
    })

    const decodeInfo = <A, I>(schema: Schema.Schema<A, I>, info: unknown, context: CallContext) =>
      info === undefined || info === null
        ? Either.right(undefined)
        : Either.mapLeft(Schema.decodeUnknownEither(schema, decodeOptions)(info), (error) =>
            ConnectorError.decodeFailureFrom(error, { resource: context.resource, scope: context.scope, input: info })
          )

    /** A cursor listing's pages; `seen` counts the items so far, so a problem's index counts across pages. */
    const cursorListing = <A, I>(path: string, { item, perPage, style }: CursorOptions<A, I>, context: CallContext) => {
      let seen = 0
      return {
        path: `GET ${path}`,
        fetch: (after: Option.Option<string>) =>
          Effect.gen(function* () {
            const answer = yield* get(path, { per_page: perPage, cursor: Option.getOrUndefined(after) }, Items, context)
            const decoded = yield* decodeEach(answer.result, item, seen)
            seen += answer.result.length
            if (style === "cursor") {
              const info = yield* decodeInfo(CursorInfo, answer.resultInfo, context)
              return { items: decoded, next: info?.cursor ?? undefined }
            }
            const info = yield* decodeInfo(CursorsInfo, answer.resultInfo, context)
            return { items: decoded, next: info?.cursors?.after ?? undefined }
          })
      }
    }

    const pages: Service["pages"] = (path, options, context) => Pagination.pageNumber(pageListing(path, options, context))
    const readPages: Service["readPages"] = (path, options, context) =>
      Pagination.collectPageNumber(pageListing(path, options, context))
    const cursor: Service["cursor"] = (path, options, context) => S.suspend(() => Pagination.cursor(cursorListing(path, options, context)))
    const readCursor: Service["readCursor"] = (path, options, context) =>
      Effect.suspend(() => Pagination.collectCursor(cursorListing(path, options, context)))

    const tokenKind = tokenKindOf(Redacted.value(secret))
    const ownerAccountId: Effect.Effect<string | undefined, ConnectorError.ConnectorError> =
      tokenKind === "user"
        ? Effect.succeed(undefined)
        : options.accountId !== undefined
          ? Effect.succeed(options.accountId)
          : yield* Effect.cached(
              Effect.map(
                get("/zones", { per_page: 5 }, Schema.Array(ZoneAccount), { resource: "accounts", permission: "Zone Read" }),
                (answer) => answer.result[0]?.account.id
              )
            )

    return {
      baseUrl: http.baseUrl,
      tokenKind,
      configuredAccountId: options.accountId,
      ownerAccountId,
      get,
      items,
      pages,
      readPages,
      cursor,
      readCursor
    } satisfies Service
  })

const optionalString = (name: string): Config.Config<string | undefined> =>
  Config.option(Config.string(name)).pipe(Config.map(Option.getOrUndefined))

/** The client as a Layer, for a token held by the app. */
export const layer = (
  options: Options
): Layer.Layer<CloudflareClient, never, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(CloudflareClient, make(options))

/**
 * The client from configuration: `CLOUDFLARE_API_TOKEN` (secret, required), `CLOUDFLARE_BASE_URL`
 * and `CLOUDFLARE_ACCOUNT_ID` (both optional).
 */
export const layerConfig = (
  config: {
    readonly token?: Config.Config<Redacted.Redacted<string>>
    readonly baseUrl?: Config.Config<string | undefined>
    readonly accountId?: Config.Config<string | undefined>
  } = {}
): Layer.Layer<CloudflareClient, ConfigError.ConfigError, HttpClient.HttpClient | RequestBudget.RequestBudget> =>
  Layer.effect(
    CloudflareClient,
    Effect.gen(function* () {
      const token = yield* config.token ?? Config.redacted("CLOUDFLARE_API_TOKEN")
      const baseUrl = yield* config.baseUrl ?? optionalString("CLOUDFLARE_BASE_URL")
      const accountId = yield* config.accountId ?? optionalString("CLOUDFLARE_ACCOUNT_ID")
      return yield* make({ token, baseUrl, accountId })
    })
  )

