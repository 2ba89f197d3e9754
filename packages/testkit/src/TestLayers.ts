/**
 * Test layers and harness helpers connectors share: a `RequestBudget` with test limits, a logger
 * that captures every line (all levels, with annotations and causes) so tests can grep it, and a
 * runner that drives an effect's retries and waits with the TestClock.
 */
import { RequestBudget } from "@plumbline/core"
import * as FakeHttp from "./FakeHttp.js"
import { Cause, Chunk, Clock, Duration, Effect, Fiber, HashMap, Layer, List, Logger, LogLevel, Option, TestClock } from "effect"

/**
 * A `RequestBudget` whose every credential gets `limits`, whatever the connector asks for, so a
 * test can exhaust a budget in a few requests.
 */
export const budget = (limits: RequestBudget.Limits): Layer.Layer<RequestBudget.RequestBudget> =>
  Layer.effect(
    RequestBudget.RequestBudget,
    Effect.map(RequestBudget.make, (registry) => ({ forKey: (key: string) => registry.forKey(key, limits) }))
  )

/** The in-process budget registry with the connector's own limits (a fresh one per test). */
export const defaultBudget: Layer.Layer<RequestBudget.RequestBudget> = RequestBudget.layer

/** Log lines captured by `captureLogs`: level, message, annotations, spans and cause, as text. */
export interface LogCapture {
  readonly lines: ReadonlyArray<string>
  /** Every line joined, to search for a secret. */
  readonly text: () => string
}

const render = (value: unknown): string => {
  if (typeof value === "string") return value
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * Runs `effect` with a logger that records every line at every level (replacing the default
 * logger), and returns its result with the capture.
 */
export const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<[A, LogCapture], E, R> => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, cause, logLevel, message, spans }) => {
    const messages = Array.isArray(message) ? message.map(render) : [render(message)]
    const annotated = HashMap.toEntries(annotations).map(([key, value]) => `${key}=${render(value)}`)
    const spanNames = List.toArray(spans).map((span) => span.label)
    const failure = Cause.isEmpty(cause) ? "" : ` cause=${Cause.pretty(cause, { renderErrorCause: true })}`
    lines.push(`[${logLevel.label}] ${messages.join(" ")} ${annotated.join(" ")} ${spanNames.join(">")}${failure}`)
  })
  return effect.pipe(
    Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.map((a): [A, LogCapture] => [a, { lines, text: () => lines.join("\n") }])
  )
}

/** Options of `runOnTestClock`. */
export interface ClockOptions {
  /** How far the clock may move at most before giving up (default 1 hour of test time). */
  readonly limit?: Duration.DurationInput
}

/**
 * Runs `effect` in a fibre and, whenever it is blocked on a timer, moves the TestClock to the
 * earliest pending wake-up, so retries, backoff and `Retry-After` waits elapse exactly, without
 * real time. Between timers it yields, and it never moves the clock while a fake client's
 * asynchronous answer (a simulator behind a Promise) is pending. Dies if the effect
 * still runs after `limit` of test time (a connector that never stops).
 */
export const runOnTestClock = <A, E, R>(effect: Effect.Effect<A, E, R>, options: ClockOptions = {}): Effect.Effect<A, E, R> =>
  Effect.gen(function* () {
    const start = yield* Clock.currentTimeMillis
    const limit = start + Duration.toMillis(options.limit ?? Duration.hours(1))
    const fiber = yield* Effect.fork(effect)
    const tick = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
    for (let idle = 0; ; ) {
      const done = yield* Fiber.poll(fiber)
      if (Option.isSome(done)) return yield* done.value
      if (FakeHttp.pendingAnswers() > 0) {
        // Real I/O in flight: let it land before time may move.
        idle = 0
        yield* tick
        continue
      }
      const sleeps = yield* TestClock.sleeps()
      const now = yield* Clock.currentTimeMillis
      const next = Chunk.reduce(sleeps, Number.POSITIVE_INFINITY, (min, at) => Math.min(min, at))
      if ((Number.isFinite(next) && next > limit) || (!Number.isFinite(next) && idle > 10_000)) {
        yield* Fiber.interrupt(fiber)
        return yield* Effect.dieMessage(`still running after ${Duration.format(Duration.millis(now - start))} of test time`)
      }
      // Let runnable work finish before moving time, so the clock only moves when it must.
      if (idle < 20 || !Number.isFinite(next)) {
        idle++
        yield* idle < 20 ? Effect.yieldNow() : tick
        continue
      }
      idle = 0
      yield* TestClock.adjust(Duration.millis(Math.max(0, next - now)))
    }
  })
