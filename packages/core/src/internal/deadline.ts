/**
 * A per-attempt timeout that costs less than `Effect.timeoutFail`, for the HTTP pipeline's every
 * request. `timeoutFail` races the effect against a sleep: two forked fibres, whose fibre refs are
 * copied at the fork and joined back at the end. Here, on the live clock, the effect runs in one
 * forked fibre, a timer interrupts it, and nothing is joined (the exchange sets no fibre ref the
 * caller reads). Under another clock (a `TestClock`) it is `Effect.timeoutFail` itself, so tests
 * drive it with the clock as before.
 */
import { Clock, Context, DefaultServices, Duration, Effect, Fiber, FiberId } from "effect"

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/** `self`, or the failure `onTimeout()` when it has not finished within `duration`. */
export const failAfter =
  <E2>(duration: Duration.Duration, onTimeout: () => E2) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | E2, R> =>
    Effect.clockWith((clock) => {
      if (clock !== liveClock) return Effect.timeoutFail(self, { duration, onTimeout })
      const millis = Duration.toMillis(duration)
      return Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.fork(restore(self)), (child) =>
          restore(
            Effect.async<A, E | E2>((resume) => {
              let settled = false
              const timer = setTimeout(() => {
                if (settled) return
                settled = true
                child.unsafeInterruptAsFork(FiberId.none)
                resume(Effect.fail(onTimeout()))
              }, millis)
              child.addObserver((exit) => {
                if (settled) return
                settled = true
                clearTimeout(timer)
                resume(exit)
              })
              // The caller was interrupted: so is the exchange.
              return Effect.suspend(() => {
                settled = true
                clearTimeout(timer)
                return Fiber.interrupt(child)
              })
            })
          )
        )
      )
    })

