/**
 * The production entry point: reads the configuration (see the README) and serves until SIGINT or
 * SIGTERM, then shuts down gracefully.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import * as Config from "../Config.js"
import * as Main from "../Main.js"

const program = Effect.gen(function* () {
  const config = yield* Config.load
  const started = yield* Main.start(config)
  yield* Effect.logInfo(`drift monitor listening on ${started.baseUrl} (API at ${started.baseUrl}/api, OpenAPI at ${started.baseUrl}/api/openapi.json)`)
  return yield* Effect.never
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
