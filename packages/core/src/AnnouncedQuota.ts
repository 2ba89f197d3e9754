/**
 * A provider-announced quota, shared with the credential owner's own use. Some providers announce on
 * every answer how many requests remain in the current window and when it resets (Cloudflare's
 * `Ratelimit` header), and count the customer's dashboard and scripts against the same quota. A
 * `RequestBudget` alone only bounds our own requests; this gate reads the announcements and keeps our
 * spending to a `share` of what remains, so that a snapshot never eats the customer's allowance: within
 * one announced window our requests stay at most `share × (remaining + ours)`, and below a share of 1
 * they are paced over the window (a tenth at once, the rest released evenly) so that the customer's
 * later use still finds room. A share of 1 gives the connector the whole quota: it spends what remains
 * as fast as its `RequestBudget` allows, and waits for the reset once nothing remains. Core knows no
 * header format: each connector parses its provider's into a `Reading`.
 */
import { Clock, Duration, Effect, FiberRef, Option } from "effect"
import * as Permits from "./internal/permits.js"
import { BudgetDeadlineExceeded, currentDeadline } from "./RequestBudget.js"

/** What the provider announced on one answer. */
export interface Announcement {
  /** Requests that remain in the current window, for everyone sharing the quota. */
  readonly remaining: number
  /** Seconds until the window resets. */
  readonly resetSeconds: number
  /** The window's whole quota, when the provider states it. */
  readonly quota?: number | undefined
  /** The window's length in seconds, when the provider states it. */
  readonly windowSeconds?: number | undefined
}

/** A connector's reading of one answer's headers. */
export type Reading =
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Malformed"; readonly reason: string }
  | { readonly _tag: "Announced"; readonly announcement: Announcement }

/** Settings of a gate. */
export interface Options {
  /**
   * The share (0 < share ≤ 1) of what remains that we may spend; the rest is left to the credential's
   * owner. 0.5 leaves the customer at least half of what remains in a window.
   */
  readonly share: number
  /** Parses one answer's headers (lower-case names). */
  readonly read: (headers: Readonly<Record<string, string | undefined>>) => Reading
}

/** The gate of one credential. */
export interface Gate {
  /**
   * Waits until one more request fits in our share of the announced quota, then takes it. Under a
   * caller's deadline (`RequestBudget.withDeadline`) a wait longer than it fails at once instead.
   */
  readonly acquire: Effect.Effect<void, BudgetDeadlineExceeded>
  /** Records an announcement read from an answer. */
  readonly observe: (announcement: Announcement) => Effect.Effect<void>
}

/** The part of a window's allowance available at once, as a fraction of the window. */
const BURST = 0.1

/** Makes a gate; dies on a share outside (0, 1] (a programming error). */
export const make = (share: number): Effect.Effect<Gate> =>
  Effect.gen(function* () {
    if (!(share > 0 && share <= 1)) return yield* Effect.dieMessage(`AnnouncedQuota: share must be in (0, 1], got ${share}`)
    // The latest announcement, what we spent since it, and what we spent in its window.
    let windowEnd = Number.NEGATIVE_INFINITY
    let windowMillis = 1
    let remaining = 0
    let sinceAnnouncement = 0
    let inWindow = 0
    const turn = yield* Permits.make(1)

    /** Sleeps `millis`, or fails when the fibre's deadline does not allow waiting that long. */
    const wait = (millis: number, waited: { total: number }) =>
      Effect.flatMap(FiberRef.get(currentDeadline), (deadline) => {
        waited.total += millis
        return Option.isSome(deadline) && waited.total > Duration.toMillis(deadline.value)
          ? Effect.fail(new BudgetDeadlineExceeded({ reason: "spent", retryAfterMillis: millis }))
          : Effect.sleep(Duration.millis(millis))
      })

    /** How long a request must wait at `now` before it may go (0: at once). */
    const waitAt = (now: number): number => {
      // No announcement for the current window yet: the next answer brings one.
      if (now >= windowEnd) return 0
      const cap = share * (Math.max(0, remaining - sinceAnnouncement) + inWindow)
      // The cap: ours ≤ share × (what remains + ours) in this window; else wait for the reset.
      if (inWindow + 1 > cap) return windowEnd - now
      // At share 1 the whole quota is ours to spend: nothing is kept for the customer's later use,
      // so there is nothing to pace for.
      if (share === 1) return 0
      // The pace: the cap is released over the window (a tenth of it at once), so the customer's
      // later use still finds room.
      const start = windowEnd - windowMillis - BURST * windowMillis
      const at = start + ((inWindow + 1) / cap) * windowMillis
      return at > now ? Math.ceil(at - now) : 0
    }
    const spend = () => {
      sinceAnnouncement++
      inWindow++
    }
    const queued = turn.withPermit(
      Effect.gen(function* () {
        const waited = { total: 0 }
        for (;;) {
          const millis = waitAt(yield* Clock.currentTimeMillis)
          if (millis === 0) break
          yield* wait(millis, waited)
        }
        spend()
      })
    )

    // Nobody in line and nothing to wait for: the request goes in one synchronous step.
    const acquire = Effect.clockWith((clock) => {
      if (turn.idle() && waitAt(clock.unsafeCurrentTimeMillis()) === 0) {
        spend()
        return Effect.void
      }
      return queued
    })

    const observe = (announcement: Announcement) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const end = now + announcement.resetSeconds * 1000
        // `t` is whole seconds, so the same window's end may move by up to a second between answers.
        if (end > windowEnd + 1000) {
          inWindow = 0
          windowMillis = Math.max(1, (announcement.windowSeconds ?? announcement.resetSeconds) * 1000)
        }
        windowEnd = end
        remaining = announcement.remaining
        sinceAnnouncement = 0
      })

    return { acquire, observe }
  })
