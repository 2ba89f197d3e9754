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
 *
 * Background work waits as long as it takes. An interactive caller (a person waiting on an API
 * answer) sets a deadline with `withDeadline`: a request the budget cannot grant within it fails at
 * once with `BudgetDeadlineExceeded`, carrying the estimated wait, instead of hanging.
 */
import { Clock, Context, Duration, Effect, FiberRef, Layer, Option, Schema, SynchronizedRef } from "effect"
import * as Permits from "./internal/permits.js"

/** Limits of one budget. `margin` widens the window, to absorb clock skew and latency jitter. */
export interface Limits {
  readonly limit: number
  readonly window: Duration.Duration
  readonly margin?: Duration.Duration
}

/**
 * The budget could not grant a request within the caller's deadline. `reason`: the window is full
 * (`spent`), a 429 paused the credential (`paused`), or the budget's own store did not answer
 * (`unavailable`). `retryAfterMillis` estimates when asking again may succeed.
 */
export class BudgetDeadlineExceeded extends Schema.TaggedError<BudgetDeadlineExceeded>("@plumbline/core/BudgetDeadlineExceeded")(
  "BudgetDeadlineExceeded",
  {
    reason: Schema.Literal("spent", "paused", "unavailable"),
    retryAfterMillis: Schema.Number
  }
) {
  override get message(): string {
    const why =
      this.reason === "paused"
        ? "the provider asked to pause this credential's requests"
        : this.reason === "spent"
          ? "this credential's request budget is spent"
          : "the request budget cannot be reached"
    return `${why}; try again in ${Math.max(1, Math.ceil(this.retryAfterMillis / 1000))} s`
  }
}

/** A budget's state, to show: the limit, requests in the current window, and the pause after a 429 (epoch ms; 0 if none). */
export interface State {
  readonly limit: number
  readonly windowMillis: number
  readonly used: number
  readonly pausedUntil: number
}

/** The budget of one credential. */
export interface Budget {
  /** Waits until one more request fits in the budget, then takes it. */
  readonly acquire: Effect.Effect<void>
  /**
   * Takes one request if the budget can grant it within `deadline` (waiting up to that long),
   * or fails at once with the estimated wait. Nothing is taken on failure.
   */
  readonly acquireWithin: (deadline: Duration.DurationInput) => Effect.Effect<void, BudgetDeadlineExceeded>
  /** The budget's current state. */
  readonly state: Effect.Effect<State>
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
    // Read and written only inside synchronous steps of the budget's effects.
    let pausedUntil = 0
    const turn = yield* Permits.make(1)

    const waitUntil = (at: number) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => (at > now ? Effect.sleep(Duration.millis(at - now)) : Effect.void))

    const record = (now: number) => {
      ring[next] = now
      next = (next + 1) % limits.limit
      taken++
    }

    const inTurn = turn.withPermit(
      Effect.gen(function* () {
        // A pause may be extended while we wait, so look again after each wait.
        for (;;) {
          const until = pausedUntil
          const now = yield* Clock.currentTimeMillis
          if (until <= now) break
          yield* waitUntil(until)
        }
        yield* waitUntil((ring[next] ?? Number.NEGATIVE_INFINITY) + windowMillis)
        record(yield* Clock.currentTimeMillis)
      })
    )

    // The common case, with a budget to spare: nobody in line, no pause and the oldest slot free
    // now. Taken in one synchronous step, without the turn: the line only matters when requests wait.
    const acquire = Effect.clockWith((clock) => {
      // The fast path is only for a budget nobody holds or waits on.
      if (turn.idle()) {
        const now = clock.unsafeCurrentTimeMillis()
        if (pausedUntil <= now && (ring[next] ?? Number.NEGATIVE_INFINITY) + windowMillis <= now) {
          record(now)
          return Effect.void
        }
      }
      return inTurn
    })

    const pause = (millis: number) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        pausedUntil = Math.max(pausedUntil, now + millis)
      })

    const acquireWithin = (deadline: Duration.DurationInput) =>
      Effect.gen(function* () {
        const limitMillis = Duration.toMillis(Duration.decode(deadline))
        const started = yield* Clock.currentTimeMillis
        // Waiting for the turn counts against the deadline: the fibres ahead may hold it while they wait.
        const inTurn = turn.withPermit(
          Effect.gen(function* () {
            const now = yield* Clock.currentTimeMillis
            const left = started + limitMillis - now
            const until = pausedUntil
            const pausedWait = until - now
            const slotWait = (ring[next] ?? Number.NEGATIVE_INFINITY) + windowMillis - now
            const wait = Math.max(pausedWait, slotWait, 0)
            if (wait > left) {
              return yield* new BudgetDeadlineExceeded({ reason: pausedWait >= slotWait ? "paused" : "spent", retryAfterMillis: wait })
            }
            if (wait > 0) yield* Effect.sleep(Duration.millis(wait))
            // A pause that came while we slept (a 429 for another request) still holds us back.
            const after = pausedUntil
            const nowAfter = yield* Clock.currentTimeMillis
            if (after > nowAfter) return yield* new BudgetDeadlineExceeded({ reason: "paused", retryAfterMillis: after - nowAfter })
            record(nowAfter)
          })
        )
        const estimate = Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const until = pausedUntil
          const slot = (ring[next] ?? Number.NEGATIVE_INFINITY) + windowMillis - now
          return new BudgetDeadlineExceeded({
            reason: until - now >= slot ? "paused" : "spent",
            retryAfterMillis: Math.max(until - now, slot, 1_000)
          })
        })
        return yield* inTurn.pipe(
          Effect.timeout(Duration.millis(Math.max(0, limitMillis))),
          Effect.catchTag("TimeoutException", () => Effect.flip(estimate))
        )
      })

    const state = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const used = ring.filter((t) => t > now - windowMillis).length
      const until = pausedUntil
      return { limit: limits.limit, windowMillis, used, pausedUntil: until > now ? until : 0 }
    })

    return { acquire, acquireWithin, state, pause, taken: Effect.sync(() => taken) }
  })

/**
 * The deadline of the current fibre's requests (none: wait as long as it takes). Set it with
 * `withDeadline` around work a person is waiting on; forked fibres inherit it.
 */
export const currentDeadline: FiberRef.FiberRef<Option.Option<Duration.Duration>> = FiberRef.unsafeMake(Option.none())

/** Runs `self` with a budget deadline: its requests fail with `BudgetDeadlineExceeded` rather than wait longer. */
export const withDeadline =
  (deadline: Duration.DurationInput) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.locally(self, currentDeadline, Option.some(Duration.decode(deadline)))

/** Takes one request of `budget`, honouring the fibre's deadline when it has one. */
export const take = (budget: Budget): Effect.Effect<void, BudgetDeadlineExceeded> =>
  Effect.flatMap(FiberRef.get(currentDeadline), (deadline) =>
    Option.match(deadline, { onNone: () => budget.acquire, onSome: (d) => budget.acquireWithin(d) })
  )

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
