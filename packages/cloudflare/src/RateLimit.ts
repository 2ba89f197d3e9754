/**
 * Cloudflare's API rate limit, as the request budget the connector keeps to. Cloudflare documents a
 * global limit of 1,200 requests per five minutes for each user or account token
 * (https://developers.cloudflare.com/fundamentals/api/reference/limits/); going over blocks every
 * call of the token for the next five minutes, so the budget must never overrun it. Core knows no
 * provider's limits: this module is where Cloudflare's live.
 */
import type { RequestBudget } from "@plumbline/core"
import { Duration } from "effect"

/**
 * Cloudflare's documented global limit for one token, with a second of margin: requests are counted
 * when they arrive, and one that travelled slower than the request 1,200 before it must not land in
 * the same window (an overrun blocks the token for five minutes). The client's default budget.
 */
export const budget: RequestBudget.Limits = { limit: 1200, window: Duration.minutes(5), margin: Duration.seconds(1) }
