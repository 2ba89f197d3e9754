/**
 * When and how long to retry a provider request. The decisions are small pure functions
 * (`isRetryableStatus`, `retryAfterMillis`, `backoffMillis`) so they are tested directly; `schedule`
 * assembles them into the Effect `Schedule` the HTTP pipeline retries with.
 *
 * - 408, 409, 429, 5xx and transport failures are retried; 400, 401, 403, 404 never are.
 * - A `Retry-After` (seconds or an HTTP date) or `retry-after-ms` header is honoured exactly.
 *   A provider asking for longer than `maxRetryAfter` is not waited for: the request fails at once
 *   with the provider's wait attached, so callers (the scheduler) can come back later.
 * - Otherwise the wait is exponential with full jitter, capped at `maxDelay`.
 * - Every retry is logged with its reason and the wait.
 */
import { Duration, Effect, Random, Schedule } from "effect"

/** Tunables of the retry schedule. */
export interface RetryPolicy {
  /** Retries after the first attempt. */
  readonly maxRetries: number
  /** First backoff step. */
  readonly baseDelay: Duration.Duration
  /** Cap of one backoff wait. */
  readonly maxDelay: Duration.Duration
  /** The longest `Retry-After` the pipeline waits for before giving up. */
  readonly maxRetryAfter: Duration.Duration
}

/** Defaults suited to Cloudflare-like APIs. */
export const defaults: RetryPolicy = {
  maxRetries: 5,
  baseDelay: Duration.millis(500),
  maxDelay: Duration.seconds(30),
  maxRetryAfter: Duration.seconds(120)
}

/** Fills a partial policy with the defaults. */
export const make = (overrides: Partial<RetryPolicy> = {}): RetryPolicy => ({ ...defaults, ...overrides })

/** Statuses worth another try: timeouts, conflicts, rate limits and server errors. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 409 || status === 429 || status >= 500

/**
 * The wait a response asks for, in milliseconds: `retry-after-ms` first, then `Retry-After` as
 * seconds or as an HTTP date (relative to `nowMillis`). Unparseable or negative values count as absent.
 */
export const retryAfterMillis = (
  headers: { readonly [name: string]: string | undefined },
  nowMillis: number
): number | undefined => {
  const ms = headers["retry-after-ms"]
  if (ms !== undefined) {
    const value = Number(ms.trim())
    if (ms.trim() !== "" && Number.isFinite(value) && value >= 0) return Math.ceil(value)
  }
  const header = headers["retry-after"]?.trim()
  if (header === undefined || header === "") return undefined
  if (/^\d+(\.\d+)?$/.test(header)) return Math.ceil(Number(header) * 1000)
  // An HTTP date always names its day or month; this also keeps "-5" from parsing as a year.
  if (!/[a-z]/i.test(header)) return undefined
  const date = Date.parse(header)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - nowMillis)
}

/** Exponential backoff with full jitter: a wait in [0, min(maxDelay, base·2^attempt)). `random` ∈ [0, 1). */
export const backoffMillis = (policy: RetryPolicy, attempt: number, random: number): number => {
  const ceiling = Math.min(Duration.toMillis(policy.maxDelay), Duration.toMillis(policy.baseDelay) * 2 ** attempt)
  return Math.floor(ceiling * random)
}

/** What a failed attempt tells the schedule. */
export interface RetryInput {
  /** Why the attempt failed, for the log ("HTTP 503", "timeout", …). */
  readonly reason: string
  /** Whether this failure may be retried at all. */
  readonly retryable: boolean
  /** The provider's requested wait, if it sent one. */
  readonly retryAfterMillis?: number | undefined
}

/** Decides whether one more attempt is worth making after `retries` retries. */
export const shouldRetry = (policy: RetryPolicy, input: RetryInput, retries: number): boolean =>
  input.retryable &&
  retries < policy.maxRetries &&
  (input.retryAfterMillis === undefined || input.retryAfterMillis <= Duration.toMillis(policy.maxRetryAfter))

/**
 * The retry schedule over failures of type `E`, read through `describe`. Its output is the number of
 * retries made. `label` names the request in the log.
 */
export const schedule = <E>(
  policy: RetryPolicy,
  describe: (error: E) => RetryInput,
  label: string
): Schedule.Schedule<number, E> =>
  Schedule.identity<E>().pipe(
    Schedule.zipWith(Schedule.count, (error, retries) => [error, retries] as const),
    Schedule.whileOutput(([error, retries]) => shouldRetry(policy, describe(error), retries)),
    Schedule.modifyDelayEffect(([error, retries]) =>
      Effect.gen(function* () {
        const input = describe(error)
        const wait = input.retryAfterMillis ?? backoffMillis(policy, retries, yield* Random.next)
        yield* Effect.logWarning(`Retrying ${label} after ${input.reason}`).pipe(
          Effect.annotateLogs({ retry: retries + 1, waitMillis: wait, retryAfter: input.retryAfterMillis !== undefined })
        )
        return Duration.millis(wait)
      })
    ),
    Schedule.map(([, retries]) => retries + 1)
  )
