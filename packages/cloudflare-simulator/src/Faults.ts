/**
 * Fault injection: rules that make chosen requests slow, fail, hang, drop the connection or
 * return damaged bodies, so connectors can be tested against a misbehaving edge. Every random
 * choice comes from a PRNG seeded by the simulator's seed, so a run replays exactly.
 */
import { Schema } from "effect"

/** How long to delay a response. */
export const LatencyDistribution = Schema.Union(
  Schema.Struct({ type: Schema.Literal("fixed"), ms: Schema.NonNegative }),
  Schema.Struct({ type: Schema.Literal("uniform"), minMs: Schema.NonNegative, maxMs: Schema.NonNegative }),
  Schema.Struct({ type: Schema.Literal("exponential"), meanMs: Schema.NonNegative, maxMs: Schema.optional(Schema.NonNegative) })
)
/** How long to delay a response. */
export type LatencyDistribution = typeof LatencyDistribution.Type

/** What a fault does to a matching request. */
export const FaultEffect = Schema.Union(
  /** Delay the response by a duration drawn from a distribution. */
  Schema.Struct({ kind: Schema.Literal("latency"), distribution: LatencyDistribution }),
  /** Answer with a 5xx. `html: true` sends Cloudflare's edge HTML error page instead of JSON. */
  Schema.Struct({ kind: Schema.Literal("status"), status: Schema.Int.pipe(Schema.between(500, 599)), html: Schema.optional(Schema.Boolean) }),
  /** Drop the connection without a response (a network error for fetch). */
  Schema.Struct({ kind: Schema.Literal("reset") }),
  /** Never answer (until the client aborts, or `ms` passes if given, then reset). */
  Schema.Struct({ kind: Schema.Literal("hang"), ms: Schema.optional(Schema.NonNegative) }),
  /** Send only the first half of the JSON body. */
  Schema.Struct({ kind: Schema.Literal("truncate") }),
  /** Send a body that is not JSON at all. */
  Schema.Struct({ kind: Schema.Literal("malformed") }),
  /** Answer 200 with `success: false` and an error. */
  Schema.Struct({ kind: Schema.Literal("successFalse"), code: Schema.optional(Schema.Int) }),
  /** Add unknown fields to the envelope and every result object. */
  Schema.Struct({ kind: Schema.Literal("extraFields") }),
  /**
   * 403 with Cloudflare's entitlement refusal (code 10010, `<product>.api.not_entitled`): the plan lacks
   * the product (observed: github.com/xiaotianxt/bypass-cloudflare-for-github-action/issues/6).
   */
  Schema.Struct({ kind: Schema.Literal("notEntitled"), product: Schema.optional(Schema.String) }),
  /**
   * 403 for a suspended or locked account: Cloudflare's generic refusal code 10000 with a message
   * naming the account's state. Cloudflare publishes no dedicated code for it (see the connector's
   * API-NOTES.md, "Suspended or locked accounts"); use `route: "GET *"` to refuse every read.
   */
  Schema.Struct({ kind: Schema.Literal("accountUnavailable"), state: Schema.Literal("suspended", "locked") }),
  /**
   * The rest of the quota's current window is spent at once by someone the client cannot see (the
   * customer's own script, another tool of the same user): this request and every other of that quota
   * get Cloudflare's 429 until the window ends. Without a rate limit (`rateLimit: false`), no effect.
   */
  Schema.Struct({ kind: Schema.Literal("quotaSpent") }),
  /** Remove fields from the envelope and from every result object. */
  Schema.Struct({ kind: Schema.Literal("missingFields"), fields: Schema.Array(Schema.String) }),
  /**
   * A rulesets listing that leaves out the entry points (`kind: "zone"` or `"root"`) of `phases`,
   * while the entry points themselves still answer. Cloudflare documents neither whether a listing
   * shows the rulesets of phases a token cannot read nor how its cursor pages behave while rulesets
   * change, so a client must not take the listing as proof that an entry point does not exist.
   */
  Schema.Struct({ kind: Schema.Literal("unlisted"), phases: Schema.Array(Schema.String) })
)
/** What a fault does to a matching request. */
export type FaultEffect = typeof FaultEffect.Type

/**
 * A fault rule. `route` selects requests: omitted or `"*"` for all, otherwise
 * `"<METHOD> <path template>"` such as `"GET /zones/:zone_id/dns_records"` (method may be `*`,
 * and a trailing `*` in the path matches any suffix). Of the matching requests, the first
 * `after` pass untouched, then each is hit with `probability` (default 1), at most `count` times
 * (a burst; default unlimited).
 */
export const FaultRule = Schema.extend(
  Schema.Struct({
    route: Schema.optional(Schema.String),
    probability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
    count: Schema.optional(Schema.NonNegativeInt),
    after: Schema.optional(Schema.NonNegativeInt)
  }),
  Schema.Struct({ effect: FaultEffect })
)
/** A fault rule. */
export type FaultRule = typeof FaultRule.Type

/** Revoke a named token when the simulator's clock reaches `at` (ms since epoch). */
export const ScheduledRevocation = Schema.Struct({ token: Schema.String, at: Schema.Number })
/** Revoke a named token at a moment. */
export type ScheduledRevocation = typeof ScheduledRevocation.Type

/** All fault settings of a simulator. */
export const FaultOptions = Schema.Struct({
  rules: Schema.optional(Schema.Array(FaultRule)),
  revocations: Schema.optional(Schema.Array(ScheduledRevocation))
})
/** All fault settings of a simulator. */
export type FaultOptions = typeof FaultOptions.Type

/** Decodes fault options from untrusted JSON (the admin endpoint, the bin's `--faults`). */
export const decodeFaultOptions = Schema.decodeUnknownEither(FaultOptions)

/** The HTML page Cloudflare's edge returns for 5xx errors (trimmed, same structure). */
export const edgeErrorPage = (status: number, host: string, rayId: string): string => {
  const titles: Record<number, string> = {
    500: "Internal server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway time-out",
    520: "Web server is returning an unknown error",
    521: "Web server is down",
    522: "Connection timed out",
    523: "Origin is unreachable",
    524: "A timeout occurred"
  }
  const title = titles[status] ?? "Error"
  return `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<!--[if gt IE 8]><!--> <html class="no-js" lang="en-US"> <!--<![endif]-->
<head>
<title>${host} | ${status}: ${title}</title>
<meta charset="UTF-8" />
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="robots" content="noindex, nofollow" />
<link rel="stylesheet" id="cf_styles-css" href="/cdn-cgi/styles/main.css" />
</head>
<body>
<div id="cf-wrapper">
  <div id="cf-error-details" class="p-0">
    <header class="mx-auto pt-10 lg:pt-6 lg:px-8 w-240 lg:w-full mb-8">
      <h1 class="inline-block sm:block sm:mb-2 font-light text-60 lg:text-4xl text-black-dark leading-tight mr-2">
        <span class="inline-block">${title}</span>
        <span class="code-label">Error code ${status}</span>
      </h1>
    </header>
    <div class="cf-error-footer cf-wrapper w-240 lg:w-full py-10 sm:py-4 sm:px-8 mx-auto text-center sm:text-left border-solid border-0 border-t border-gray-300">
      <p class="text-13">
        <span class="cf-footer-item sm:block sm:mb-1">Cloudflare Ray ID: <strong class="font-semibold">${rayId}</strong></span>
        <span class="cf-footer-separator sm:hidden">&bull;</span>
        <span class="cf-footer-item sm:block sm:mb-1">Performance &amp; security by <a rel="noopener noreferrer" href="https://www.cloudflare.com/5xx-error-landing" target="_blank">Cloudflare</a></span>
      </p>
    </div>
  </div>
</div>
</body>
</html>
`
}
