/**
 * A first-come, first-served permit pool. Effect's `Semaphore` wakes every waiter on each release
 * (they race, and all but one go back to sleep), which is quadratic in the number of waiters: the
 * snapshot runner starts a fibre per resource and scope at once, so a thousand zones means tens of
 * thousands of waiters and minutes of wake-ups. Here waiters queue on a bounded `Queue`, and a
 * release wakes exactly the next one, in arrival order.
 */
import { Effect, Queue } from "effect"

/** A pool of `n` permits. */
export interface Permits {
  /** Runs `self` holding one permit, waiting in line for it. */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Whether no fibre holds a permit or waits for one (a caller may then skip the line safely). */
  readonly idle: () => boolean
}

/** Makes a pool of `n` permits (n ≥ 1). */
export const make = (n: number): Effect.Effect<Permits> =>
  Effect.map(Queue.bounded<void>(Math.max(1, n)), (queue) => {
    /** Fibres in line or holding a permit. */
    let users = 0
    const leave = Effect.sync(() => {
      users--
    })
    return {
      withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.suspend(() => {
            users++
            // Waiting may be interrupted (the waiter leaves the line); once in, the permit is always returned.
            return Effect.ensuring(Effect.zipRight(restore(Queue.offer(queue, undefined)), Effect.ensuring(restore(self), Queue.take(queue))), leave)
          })
        ),
      idle: () => users === 0
    }
  })
