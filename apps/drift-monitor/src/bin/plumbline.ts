#!/usr/bin/env node
/**
 * `plumbline`: the command for integration engineers (snapshot, diff, check; see `cli/Cli.ts` and
 * the README). Runs on Node with a fetch-based HTTP client that leaves redirects to the connector's
 * pipeline, one in-process request budget, and the process's own stdout and stderr. The exit code is
 * the command's (`CliError` lists them); stdout has taken every byte before `Cli.run` returns.
 */
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { HttpPipeline, RequestBudget } from "@plumbline/core"
import { Cause, Effect, Exit, Layer } from "effect"
import * as Cli from "../cli/Cli.js"
import * as Output from "../cli/Output.js"

const program = Cli.run(process.argv).pipe(
  Effect.provide(Layer.mergeAll(NodeContext.layer, HttpPipeline.layerFetch, RequestBudget.layer, Output.layerProcess))
)

NodeRuntime.runMain(program, {
  disableErrorReporting: true,
  teardown: (exit, onExit) =>
    onExit(
      Exit.isSuccess(exit) && typeof exit.value === "number"
        ? exit.value
        : Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
          ? 130
          : 70
    )
})
