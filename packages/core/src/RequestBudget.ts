/**
 * A request budget per credential: at most `limit` requests in any window of `window`, shared by
 * every fibre and every snapshot that uses the same credential in this process. Core knows no
 * provider, so it has no default limits: each connector states its provider's (see
 * `HttpPipeline.Options.budget`). Requests wait their turn in order instead of being refused, and a
 * 429 that comes anyway pauses everyone sharing the credential for the provider's requested wait.
 *
 * The budget is a sliding log: the time of each of the last `limit` requests is kept in a ring, and
 * request n may start only once request n − limit is at least one window old. That bound holds for
 * every window, whatever the provider's window alignment.
 */
import { Clock, Context, Duration, Effect, Layer, Ref, SynchronizedRef } from "effect"
import * as Permits from "./internal/permits.js"

/** Limits of one budget. `margin` widens the window, to absorb clock skew and latency jitter. */
export interface Limits {
  readonly limit: number
  readonly window: Duration.Duration
  readonly margin?: Duration.Duration
}

/** The budget of one credential. */
export interface Budget {
  /** Waits until one more request fits in the budget, then takes it. */
  readonly acquire: Effect.Effect<void>
  /** Holds every request of this credential back for `millis` (after a 429). */
  readonly pause: (millis: number) => Effect.Effect<void>
  /** Requests taken so far. */
  readonly taken: Effect.Effect<number>
}

/** Makes a standalone budget (most code gets one through the `RequestBudget` service instead). */
export const makeBudget = (limits: Limits): Effect.Effect<Budget> =>
  Effect.gen(function* () {
    if (!Number.isInteger(limits.limit) || limits.limit < 1) {
      return yield* Effect.dieMessage(`RequestBudget: limit must be a positive integer, got ${limits.limit}`)
    }
    const windowMillis = Duration.toMillis(limits.window) + Duration.toMillis(limits.margin ?? Duration.zero)
    // ring[next] is the start time of the request made `limit` requests ago.
    const ring = new Array<number>(limits.limit).fill(Number.NEGATIVE_INFINITY)
    let next = 0
    let taken = 0
    const pausedUntil = yield* Ref.make(0)
    const turn = yield* Permits.make(1)

    const waitUntil = (at: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => (at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void))

    const acquire = turn.withPermit(
      Effect.gen(function* () {
        // A pause may be extended while we wait, so look again after each wait.
        for (;;) {
          const until = yield* Ref.get(pausedUntil)
          const now = yield* Clock.currentTimeMillis
          if (until <= now) break
          yield* waitUntil(until)
        }
        yield* waitUntil((ring[next] ?? Number.NEGATIVE_INFINITY) + windowMillis)
        ring[next] = yield* Clock.currentTimeMillis
        next = (next + 1) % limits.limit
        taken++
      })
    )

    const pause = (millis: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(pausedUntil, (until) => Math.max(until, now + millis)))

    return { acquire, pause, taken: Effect.sync(() => taken) }
  })

/** The budgets of every credential in this process, by key (a credential fingerprint). */
export class RequestBudget extends Context.Tag("@plumbline/core/RequestBudget")<
  RequestBudget,
  {
    /** The budget for `key`, made with `limits` the first time the key is seen. */
    readonly forKey: (key: string, limits: Limits) => Effect.Effect<Budget>
  }
>() {}

/** An in-process registry of budgets. */
export const make: Effect.Effect<RequestBudget["Type"]> = Effect.map(
  SynchronizedRef.make(new Map<string, Budget>()),
  (budgets) => ({
    forKey: (key, limits) =>
      SynchronizedRef.modifyEffect(budgets, (map) => {
        const existing = map.get(key)
        if (existing !== undefined) return Effect.succeed([existing, map] as const)
        return Effect.map(makeBudget(limits), (budget) => [budget, new Map(map).set(key, budget)] as const)
      })
  })
)

/** The in-process registry as a Layer: share one instance across the whole app. */
export const layer: Layer.Layer<RequestBudget> = Layer.effect(RequestBudget, make)
