import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber } from "effect"
import * as Deadline from "../src/internal/deadline.js"

class TimedOut {
  readonly _tag = "TimedOut"
}

describe("Deadline.failAfter on the live clock", () => {
  it.live("fails a hanging effect with its own error and interrupts it", () =>
    Effect.gen(function* () {
      const interrupted = yield* Deferred.make<void>()
      const hanging = Effect.never.pipe(Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined)))
      const exit = yield* Effect.exit(hanging.pipe(Deadline.failAfter(Duration.millis(20), () => new TimedOut())))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") assert.instanceOf(exit.cause.error, TimedOut)
      // The abandoned effect is interrupted, not left running.
      yield* Deferred.await(interrupted)
    }))

  it.live("passes an effect that finishes in time through, success and failure alike", () =>
    Effect.gen(function* () {
      const ok = yield* Effect.succeed(42).pipe(Deadline.failAfter(Duration.seconds(30), () => new TimedOut()))
      assert.strictEqual(ok, 42)
      const failed = yield* Effect.flip(Effect.fail("refused" as const).pipe(Deadline.failAfter(Duration.seconds(30), () => new TimedOut())))
      assert.strictEqual(failed, "refused")
    }))

  it.live("interrupts the effect when its caller is interrupted", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const interrupted = yield* Deferred.make<void>()
      const hanging = Deferred.succeed(started, undefined).pipe(
        Effect.zipRight(Effect.never),
        Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
      )
      const caller = yield* Effect.fork(hanging.pipe(Deadline.failAfter(Duration.seconds(30), () => new TimedOut())))
      yield* Deferred.await(started)
      yield* Fiber.interrupt(caller)
      yield* Deferred.await(interrupted)
    }))
})
