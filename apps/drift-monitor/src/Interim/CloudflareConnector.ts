/**
 * A deliberately small Cloudflare connector, used by `Wiring` until `@plumbline/cloudflare` is
 * committed: token verification with permission discovery by probing, the zones the token can see,
 * and the two zone rulesets the onboarding audit needs (custom WAF rules and rate limiting). It is
 * built on core's `HttpPipeline` like the real connector, so the request budget, retries and
 * credential handling are the same; only the breadth of resources differs.
 */
import { ConnectorError, Connector, Credential, HttpPipeline, Pagination, Resource, Scope } from "@plumbline/core"
import type { HttpClient } from "@effect/platform"
import type { RequestBudget } from "@plumbline/core"
import { Effect, Schema, Stream } from "effect"

/** The credential kind of Cloudflare API tokens (the same as the real connector's). */
export const CREDENTIAL_KIND = "cloudflare-api-token"

/** The permissions the onboarding audit needs, by Cloudflare's own names. */
export const PERMISSIONS = {
  zone: "Zone Read",
  waf: "Zone WAF Read"
} as const

/** A zone as listed. */
export const Zone = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  status: Schema.String,
  plan: Schema.optional(Schema.Struct({ name: Schema.optional(Schema.String), legacy_id: Schema.optional(Schema.String) })),
  account: Schema.optional(Schema.Struct({ id: Schema.String, name: Schema.optional(Schema.String) }))
})
export type Zone = typeof Zone.Type

/** A ruleset rule, keeping Cloudflare's field names. */
export const Rule = Schema.Struct({
  id: Schema.String,
  action: Schema.String,
  expression: Schema.String,
  description: Schema.optionalWith(Schema.String, { default: () => "" }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  ratelimit: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type Rule = typeof Rule.Type

/** A rule as stored in a snapshot: the rule and the entry point ruleset it belongs to. */
export const PhaseRule = Schema.Struct({
  ruleset_id: Schema.String,
  id: Schema.String,
  action: Schema.String,
  expression: Schema.String,
  description: Schema.String,
  enabled: Schema.Boolean,
  ratelimit: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})
export type PhaseRule = typeof PhaseRule.Type

const Entrypoint = Schema.Struct({ id: Schema.String, rules: Schema.optionalWith(Schema.Array(Rule), { default: () => [] }) })

const Envelope = Schema.Struct({
  errors: Schema.optionalWith(Schema.Array(Schema.Struct({ code: Schema.Number, message: Schema.String })), { default: () => [] })
})

const errorMessages = (body: unknown) => {
  const decoded = Schema.decodeUnknownOption(Envelope)(body)
  return decoded._tag === "Some" ? decoded.value.errors : []
}

const decode = <A, I>(schema: Schema.Schema<A, I>, value: unknown, resource: string, scope?: string) =>
  Effect.mapError(Schema.decodeUnknown(schema)(value), (error) =>
    ConnectorError.decodeFailureFrom(error, { resource, scope, input: value })
  )

/** The v4 pipeline for one credential. */
export const pipeline = (baseUrl: string, credential: Credential.Credential) =>
  HttpPipeline.make({ baseUrl, credential, requestIdHeader: "cf-ray", errorMessages, userAgent: "plumbline-drift-monitor" })

type Pipeline = HttpPipeline.ProviderHttp

const resultOf = (body: unknown): unknown => (typeof body === "object" && body !== null ? (body as { result?: unknown }).result : undefined)
const totalPages = (body: unknown): number | undefined => {
  const info = typeof body === "object" && body !== null ? (body as { result_info?: { total_pages?: unknown } }).result_info : undefined
  return typeof info?.total_pages === "number" ? info.total_pages : undefined
}

/** Every zone the token can see. */
export const listZones = (http: Pipeline): Stream.Stream<Zone, ConnectorError.ConnectorError> =>
  Pagination.pageNumber({
    perPage: 50,
    path: "GET /zones",
    key: (z: Zone) => z.id,
    fetch: (page) =>
      Effect.gen(function* () {
        const response = yield* http.get("/zones", { page, per_page: 50 })
        const items = yield* decode(Schema.Array(Zone), resultOf(response.body), "zones")
        return { items, totalPages: totalPages(response.body) }
      })
  })

/** The rules of a zone's entry point ruleset for `phase`; none when the phase is not configured (404/10003). */
const phaseRules = (http: Pipeline, resource: string, scope: Scope.Scope, phase: string): Stream.Stream<PhaseRule, ConnectorError.ConnectorError> =>
  Stream.unwrap(
    http.get(`/zones/${scope.id}/rulesets/phases/${phase}/entrypoint`).pipe(
      Effect.flatMap((response) => decode(Entrypoint, resultOf(response.body), resource, scope.key)),
      Effect.map((rs) =>
        Stream.fromIterable(
          rs.rules.map((r) => ({
            ruleset_id: rs.id,
            id: r.id,
            action: r.action,
            expression: r.expression,
            description: r.description,
            enabled: r.enabled,
            ...(r.ratelimit === undefined ? {} : { ratelimit: r.ratelimit })
          }))
        )
      ),
      Effect.catchIf(
        (e): e is ConnectorError.RequestRejected => e._tag === "RequestRejected" && e.status === 404,
        () => Effect.succeed(Stream.empty)
      ),
      Effect.mapError((e) => (e._tag === "PermissionMissing" ? new ConnectorError.PermissionMissing({ ...e, permission: PERMISSIONS.waf, resource, scope: scope.label }) : e))
    )
  )

/** The connector for one credential's pipeline. */
export const connector = (http: Pipeline, verify: Effect.Effect<Credential.Verification, ConnectorError.ConnectorError>) =>
  Connector.make<never>({
    id: "cloudflare",
    version: "0.0.0-interim",
    schemaVersion: 1,
    credentialKind: CREDENTIAL_KIND,
    scopes: [Scope.rootKind, "zone"],
    verify,
    resources: [
      Resource.make({
        name: "zones",
        description: "The zones the token can see",
        scope: Scope.rootKind,
        schema: Zone,
        identity: (z) => z.id,
        permissions: [PERMISSIONS.zone],
        list: () =>
          Stream.mapError(listZones(http), (e) =>
            e._tag === "PermissionMissing" ? new ConnectorError.PermissionMissing({ ...e, permission: PERMISSIONS.zone, resource: "zones" }) : e
          ),
        produces: {
          scope: "zone",
          fromRecord: (z) =>
            new Scope.Scope({
              kind: "zone",
              id: z.id,
              name: z.name,
              attributes: { plan: z.plan?.legacy_id ?? z.plan?.name ?? "unknown" }
            })
        }
      }),
      Resource.make({
        name: "rulesets.http_ratelimit",
        description: "Rate limiting rules of the zone",
        scope: "zone",
        schema: PhaseRule,
        identity: (r) => r.id,
        permissions: [PERMISSIONS.waf],
        list: (scope) => phaseRules(http, "rulesets.http_ratelimit", scope, "http_ratelimit")
      }),
      Resource.make({
        name: "rulesets.http_request_firewall_custom",
        description: "Custom WAF rules of the zone",
        scope: "zone",
        schema: PhaseRule,
        identity: (r) => r.id,
        permissions: [PERMISSIONS.waf],
        list: (scope) => phaseRules(http, "rulesets.http_request_firewall_custom", scope, "http_request_firewall_custom")
      })
    ]
  })

const TokenStatus = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  expires_on: Schema.optional(Schema.String)
})

/**
 * Verifies the token and discovers its grants by probing: `GET /zones` for Zone Read, and the
 * rate-limiting entry point of the first zone for Zone WAF Read.
 */
export const verify = (http: Pipeline): Effect.Effect<{ verification: Credential.Verification; zones: ReadonlyArray<Zone> }, ConnectorError.ConnectorError> =>
  Effect.gen(function* () {
    const response = yield* http.get("/user/tokens/verify")
    const token = yield* decode(TokenStatus, resultOf(response.body), "token")
    const status = token.status === "active" ? "active" : token.status === "expired" ? "expired" : "disabled"
    if (status !== "active") return yield* Effect.fail(new ConnectorError.CredentialInvalid({ reason: status }))
    const zones = yield* Stream.runCollect(listZones(http)).pipe(
      Effect.map((c) => Array.from(c)),
      Effect.catchTag("PermissionMissing", () => Effect.succeed(undefined))
    )
    const first = zones?.[0]
    const waf =
      first === undefined
        ? "unknown"
        : yield* http.get(`/zones/${first.id}/rulesets/phases/http_ratelimit/entrypoint`).pipe(
            Effect.as("granted" as const),
            Effect.catchAll((e) =>
              e._tag === "PermissionMissing"
                ? Effect.succeed("missing" as const)
                : e._tag === "RequestRejected" && e.status === 404
                  ? Effect.succeed("granted" as const)
                  : Effect.fail(e)
            )
          )
    const grants = [
      new Credential.Grant({ resource: "zones", status: zones === undefined ? "missing" : "granted", permissions: [PERMISSIONS.zone] }),
      new Credential.Grant({ resource: "rulesets.http_ratelimit", status: waf, permissions: [PERMISSIONS.waf] }),
      new Credential.Grant({ resource: "rulesets.http_request_firewall_custom", status: waf, permissions: [PERMISSIONS.waf] })
    ]
    return {
      verification: new Credential.Verification({
        subject: token.id,
        status: "active",
        ...(token.expires_on === undefined ? {} : { expiresAt: token.expires_on }),
        grants
      }),
      zones: zones ?? []
    }
  })

/** What the connector needs from the app. */
export type Requirements = HttpClient.HttpClient | RequestBudget.RequestBudget
