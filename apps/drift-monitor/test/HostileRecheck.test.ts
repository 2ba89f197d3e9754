/**
 * Issue #16 item 8a against the real server: a flood of 33 parallel `POST /recheck` on one
 * connection runs exactly one snapshot. The simulator is held (every request waits on a gate) until
 * all 33 callers have joined the shared re-check, so none can arrive after the run ended; snapshots
 * are counted as provider requests: the flood sends exactly as many as one lone re-check.
 */
import { createServer } from "node:http"
import { assert, describe, it } from "@effect/vitest"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Context, Deferred, Effect, Fiber, Layer, Stream } from "effect"
import { Connections } from "../src/Connections.js"
import * as Http from "../src/Http.js"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

const sent = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0)

describe("HostileRecheck", () => {
  it.scopedLive(
    "33 parallel re-checks of one connection over HTTP run one snapshot",
    () =>
      Effect.gen(function* () {
        const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
        // While `gate` is set, every provider request waits for it: the run stays in flight.
        let gate: Promise<void> | undefined
        const held: Simulator.Simulator = { ...sim, handle: (request) => (gate ?? Promise.resolve()).then(() => sim.handle(request)) }
        const running = yield* Effect.acquireRelease(
          Effect.promise(() => serve(held, { port: 0 })),
          (r) => Effect.promise(() => r.close())
        )
        const dir = yield* Harness.tempDir
        const config = Harness.config(dir, running.baseUrl)
        // Main.layer, with the services kept in the output so the test sees the flood join.
        const context = yield* Layer.build(
          Http.layer(config).pipe(
            Layer.provideMerge(Main.layerServices(config)),
            Layer.provideMerge(NodeHttpServer.layer(createServer, { port: config.port, host: config.host }))
          )
        )
        const connections = Context.get(context, Connections)
        const address = Context.get(context, HttpServer.HttpServer).address
        assert(address._tag === "TcpAddress")
        const api = Harness.client(`http://${config.host}:${address.port}`)

        const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token: sim.tokens["scoped"]! })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        const path = `/api/connections/${created.body.id}/recheck?wait=true`
        // The first snapshot, then one lone re-check to learn what one snapshot sends.
        assert.strictEqual((yield* api.call("POST", path)).body.outcome, "committed")
        const before = sent(sim.requestCounts())
        assert.strictEqual((yield* api.call("POST", path)).body.outcome, "committed")
        const one = sent(sim.requestCounts()) - before
        assert.isAbove(one, 0)

        const release = yield* Deferred.make<void>()
        gate = new Promise((resolve) => void Effect.runFork(Effect.andThen(Deferred.await(release), () => resolve())))
        const flood = yield* Effect.fork(Effect.all(Array.from({ length: 33 }, () => api.call("POST", path)), { concurrency: "unbounded" }))
        yield* Stream.runDrain(Stream.takeUntil(connections.recheckWaiters, (n) => n >= 33))
        gate = undefined
        yield* Deferred.succeed(release, undefined)
        const answers = yield* Fiber.join(flood)
        for (const answer of answers) assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
        assert.strictEqual(sent(sim.requestCounts()) - before - one, one, "the 33 re-checks ran one snapshot")
      }),
    { timeout: 120_000 }
  )
})
