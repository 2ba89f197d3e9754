/**
 * A scoped msw server as an Effect service, for wire-level connector tests (a real `fetch`-based
 * `HttpClient` against msw handlers, such as a provider simulator's). The Layer starts
 * `setupServer` from `msw/node` when it is built and closes it when its scope closes; unhandled
 * requests fail loudly instead of reaching the network.
 *
 * msw answers through real promises, so retries behind it are not driven by the TestClock alone:
 * prefer `FakeHttp`/`FakeProvider.layer` for retry and `Retry-After` tests, and `it.live` here.
 */
import { Context, Effect, Layer } from "effect"
import type { RequestHandler } from "msw"
import { setupServer, type SetupServer } from "msw/node"

/** The running msw server. */
export class MswServer extends Context.Tag("@plumbline/testkit/MswServer")<
  MswServer,
  {
    readonly server: SetupServer
    /** Prepends handlers until the next `reset` (runtime overrides, e.g. one failing route). */
    readonly use: (...handlers: ReadonlyArray<RequestHandler>) => Effect.Effect<void>
    /** Drops runtime handlers, back to those the Layer was built with. */
    readonly reset: Effect.Effect<void>
  }
>() {}

/** Starts msw with `handlers` for the Layer's lifetime. */
export const layer = (...handlers: ReadonlyArray<RequestHandler>): Layer.Layer<MswServer> =>
  Layer.scoped(
    MswServer,
    Effect.map(
      Effect.acquireRelease(
        Effect.sync(() => {
          const server = setupServer(...handlers)
          server.listen({ onUnhandledRequest: "error" })
          return server
        }),
        (server) => Effect.sync(() => server.close())
      ),
      (server) => ({
        server,
        use: (...more: ReadonlyArray<RequestHandler>) => Effect.sync(() => server.use(...more)),
        reset: Effect.sync(() => server.resetHandlers())
      })
    )
  )
