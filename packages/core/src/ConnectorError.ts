/**
 * The typed failures every connector speaks. A provider adapter maps its wire errors onto these,
 * so that the snapshot runner, the drift engine and the apps can act on them without knowing the
 * provider: a credential problem stops work, a missing permission or an unavailable feature
 * becomes a status, and transient trouble is retried before it surfaces.
 *
 * Every error carries serialisable context (resource, scope, HTTP status, provider error codes,
 * request id) and never the credential.
 */
import { ParseResult, Predicate, Schema } from "effect"

/** The unique symbol that marks every connector error. */
export const TypeId: unique symbol = Symbol.for("@plumbline/core/ConnectorError")
export type TypeId = typeof TypeId

/** Is this value one of the connector errors? */
export const isConnectorError = (u: unknown): u is ConnectorError => Predicate.hasProperty(u, TypeId)

/** A provider's own error entry (Cloudflare: `{ code, message }`). */
export const ProviderMessage = Schema.Struct({
  code: Schema.Number,
  message: Schema.String
}).annotations({ identifier: "ProviderMessage" })
export type ProviderMessage = typeof ProviderMessage.Type

const providerContext = {
  status: Schema.optional(Schema.Number),
  codes: Schema.optionalWith(Schema.Array(ProviderMessage), { default: () => [] }),
  requestId: Schema.optional(Schema.String)
}

const describeCodes = (codes: ReadonlyArray<ProviderMessage>): string =>
  codes.length === 0 ? "" : ` (${codes.map((c) => `${c.code}: ${c.message}`).join("; ")})`

/**
 * The credential was refused (HTTP 401, or a verification that reports it unusable).
 * Work for the connection stops; nothing is retried.
 */
export class CredentialInvalid extends Schema.TaggedError<CredentialInvalid>("@plumbline/core/CredentialInvalid")(
  "CredentialInvalid",
  {
    reason: Schema.Literal("invalid", "expired", "revoked", "disabled"),
    /**
     * Set when the connection holds several credentials and only this one (an id the app chose) was
     * refused: the runner records the reads it served as `failed` and goes on with the others.
     */
    credential: Schema.optional(Schema.String),
    ...providerContext
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const which = this.credential === undefined ? "The credential" : `The credential ${this.credential}`
    return `${which} is ${this.reason}${describeCodes(this.codes)}`
  }
}

/** The credential is valid but lacks a permission (HTTP 403). `permission` names what to grant, when known. */
export class PermissionMissing extends Schema.TaggedError<PermissionMissing>("@plumbline/core/PermissionMissing")(
  "PermissionMissing",
  {
    permission: Schema.optional(Schema.String),
    resource: Schema.optional(Schema.String),
    scope: Schema.optional(Schema.String),
    ...providerContext
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const what = this.resource === undefined ? "this request" : `resource ${this.resource}`
    const where = this.scope === undefined ? "" : ` in ${this.scope}`
    const grant = this.permission === undefined ? "a permission" : `the permission "${this.permission}"`
    return `The credential lacks ${grant} needed for ${what}${where}${describeCodes(this.codes)}`
  }
}

/** The provider does not offer this on the scope's plan, or the feature is not enabled. Reported as skipped. */
export class NotAvailable extends Schema.TaggedError<NotAvailable>("@plumbline/core/NotAvailable")("NotAvailable", {
  reason: Schema.Literal("plan", "feature"),
  detail: Schema.String,
  resource: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  ...providerContext
}) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const what = this.resource === undefined ? "This" : `Resource ${this.resource}`
    return `${what} is not available (${this.reason}): ${this.detail}`
  }
}

/** The provider kept answering 429 after the retries allowed, or asked for a wait longer than the cap. */
export class RateLimited extends Schema.TaggedError<RateLimited>("@plumbline/core/RateLimited")("RateLimited", {
  retryAfterMillis: Schema.optional(Schema.Number),
  attempts: Schema.Number,
  /** Set when the credential's own request budget refused under a deadline (no request was sent). */
  budget: Schema.optional(Schema.Literal("spent", "paused", "unavailable")),
  ...providerContext
}) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const wait = this.retryAfterMillis === undefined ? "" : `; the provider asked to wait ${this.retryAfterMillis} ms`
    if (this.budget !== undefined) {
      const seconds = Math.max(1, Math.ceil((this.retryAfterMillis ?? 1_000) / 1000))
      return this.budget === "unavailable"
        ? `The request budget cannot be reached; try again in ${seconds} s`
        : `The credential's request budget is ${this.budget === "paused" ? "paused after a rate limit" : "spent"}; try again in ${seconds} s`
    }
    return `Rate limited after ${this.attempts} attempt(s)${wait}`
  }
}

/** The provider failed (5xx), or the network did, and retries did not help. */
export class UpstreamUnavailable extends Schema.TaggedError<UpstreamUnavailable>(
  "@plumbline/core/UpstreamUnavailable"
)("UpstreamUnavailable", {
  reason: Schema.Literal("status", "transport", "timeout", "malformed-body"),
  attempts: Schema.Number,
  /** The wait the provider asked for, when it was longer than the pipeline may wait. */
  retryAfterMillis: Schema.optional(Schema.Number),
  detail: Schema.optional(Schema.String),
  ...providerContext
}) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const status = this.status === undefined ? "" : ` HTTP ${this.status}`
    const id = this.requestId === undefined ? "" : ` [request ${this.requestId}]`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `Upstream unavailable (${this.reason}${status}) after ${this.attempts} attempt(s)${detail}${describeCodes(this.codes)}${id}`
  }
}

/**
 * The provider answered something no retry can fix and no status describes: an unexpected 4xx,
 * a request or redirect to another host, a page that repeats, a write the connector did not declare.
 */
export class RequestRejected extends Schema.TaggedError<RequestRejected>("@plumbline/core/RequestRejected")(
  "RequestRejected",
  {
    reason: Schema.Literal(
      "status",
      "cross-host-request",
      "cross-host-redirect",
      "too-many-redirects",
      "repeated-page",
      "write-not-declared"
    ),
    method: Schema.String,
    path: Schema.String,
    detail: Schema.optional(Schema.String),
    ...providerContext
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const status = this.status === undefined ? "" : ` HTTP ${this.status}`
    const detail = this.detail === undefined ? "" : `: ${this.detail}`
    return `${this.method} ${this.path} rejected (${this.reason}${status})${detail}${describeCodes(this.codes)}`
  }
}

/**
 * The provider account itself is suspended or locked (for example by its provider for billing or
 * abuse). Neither the credential nor a permission is at fault, and no plan change helps: the
 * customer must settle it with the provider. Apps raise an alert of its own; nothing is committed
 * from a run that met it, since every read would look empty.
 */
export class AccountUnavailable extends Schema.TaggedError<AccountUnavailable>("@plumbline/core/AccountUnavailable")(
  "AccountUnavailable",
  {
    reason: Schema.Literal("suspended", "locked"),
    resource: Schema.optional(Schema.String),
    scope: Schema.optional(Schema.String),
    ...providerContext
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const where = this.scope === undefined ? "" : ` (${this.scope})`
    return `The provider account is ${this.reason}${where}${describeCodes(this.codes)}`
  }
}

/** A provider body did not match its Schema. Names the resource, the field path and a truncated sample. */
export class DecodeFailure extends Schema.TaggedError<DecodeFailure>("@plumbline/core/DecodeFailure")(
  "DecodeFailure",
  {
    resource: Schema.String,
    scope: Schema.optional(Schema.String),
    path: Schema.String,
    sample: Schema.String,
    detail: Schema.String
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const where = this.scope === undefined ? "" : ` in ${this.scope}`
    return `Could not decode ${this.resource}${where} at ${this.path}: ${this.detail} (value: ${this.sample})`
  }
}

/** Every failure a connector may report. */
export type ConnectorError =
  | CredentialInvalid
  | PermissionMissing
  | NotAvailable
  | RateLimited
  | UpstreamUnavailable
  | RequestRejected
  | DecodeFailure
  | AccountUnavailable

/** The Schema of the union, for storing and sending failures. */
export const ConnectorError: Schema.Union<
  [
    typeof CredentialInvalid,
    typeof PermissionMissing,
    typeof NotAvailable,
    typeof RateLimited,
    typeof UpstreamUnavailable,
    typeof RequestRejected,
    typeof DecodeFailure,
    typeof AccountUnavailable
  ]
> = Schema.Union(
  CredentialInvalid,
  PermissionMissing,
  NotAvailable,
  RateLimited,
  UpstreamUnavailable,
  RequestRejected,
  DecodeFailure,
  AccountUnavailable
)

/** Truncates a value's JSON for an error sample, so no large or sensitive body ends up in an error. */
export const sampleOf = (value: unknown, max = 80): string => {
  let text: string
  try {
    text = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value))
  } catch {
    text = String(value)
  }
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

/**
 * Turns a Schema `ParseError` into a `DecodeFailure` naming the resource, the first offending
 * field as a JSON Pointer, and a truncated sample of the value found there.
 */
export const decodeFailureFrom = (
  error: ParseResult.ParseError,
  context: { readonly resource: string; readonly scope?: string | undefined; readonly input: unknown }
): DecodeFailure => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const first = issues[0]
  const segments = first?.path ?? []
  let value: unknown = context.input
  for (const segment of segments) {
    value = typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[segment] : undefined
  }
  const path = segments.length === 0 ? "/" : segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("")
  return new DecodeFailure({
    resource: context.resource,
    ...(context.scope === undefined ? {} : { scope: context.scope }),
    path,
    sample: sampleOf(value),
    detail: first?.message ?? "invalid value"
  })
}
