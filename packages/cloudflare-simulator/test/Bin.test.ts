import type { ChildProcess } from "node:child_process"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { afterEach, assert, describe, it } from "@effect/vitest"
import { Option, Schema } from "effect"

const packageDir = fileURLToPath(new URL("..", import.meta.url))

// Starting node, compiling the simulator with tsx and building the scenario takes a few seconds
// alone and far longer on a loaded two-core machine; the test waits for the ready line, and this
// bound only stops a child that never prints it from blocking the run.
const STARTUP_BUDGET_MS = 120_000

/** The one JSON line the bin prints once it is listening. */
const ReadyLine = Schema.parseJson(
  Schema.Struct({ baseUrl: Schema.String, tokens: Schema.Record({ key: Schema.String, value: Schema.String }) })
)

const hasExited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null

/** Resolves when the child has exited (at once if it already has). */
const exited = (child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> =>
  hasExited(child)
    ? Promise.resolve({ code: child.exitCode, signal: child.signalCode })
    : new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })))

/**
 * Resolves with the ready line as soon as the child prints it; rejects, with what the child wrote
 * to stderr, if it exits or cannot be started first.
 */
const readyLine = (child: ChildProcess, stderr: () => string): Promise<{ readonly line: string; readonly ready: typeof ReadyLine.Type }> =>
  new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    lines.on("line", (line) => {
      const ready = Schema.decodeUnknownOption(ReadyLine)(line)
      if (Option.isSome(ready)) {
        lines.close()
        resolve({ line, ready: ready.value })
      }
    })
    child.once("error", reject)
    child.once("exit", (code, signal) =>
      reject(new Error(`the simulator exited (code ${code}, signal ${signal}) before printing its ready line; stderr:\n${stderr()}`))
    )
  })

const children: Array<ChildProcess> = []

// Whatever happened in the test (a failed assertion, a timeout), no child outlives it.
afterEach(async () => {
  for (const child of children.splice(0)) {
    if (!hasExited(child)) child.kill("SIGKILL")
    await exited(child)
  }
})

describe("Bin", () => {
  it(
    "starts the standalone server, prints one JSON line with the base URL and tokens, and stops on SIGTERM",
    async () => {
      const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "--scenario", "redpine", "--port", "0"], {
        cwd: packageDir,
        stdio: ["ignore", "pipe", "pipe"]
      })
      children.push(child)
      let stderr = ""
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))

      const { line, ready: printed } = await readyLine(child, () => stderr)
      // Only the raw line shows the printed key order and any key the decoded value drops.
      assert.deepStrictEqual(Object.keys(JSON.parse(line)), ["baseUrl", "tokens"])
      assert.match(printed.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/)
      assert.deepStrictEqual(Object.keys(printed.tokens), ["scoped", "account", "accountOwned", "revoked", "expired", "customer"])
      const res = await fetch(`${printed.baseUrl}/user/tokens/verify`, { headers: { authorization: `Bearer ${printed.tokens["scoped"]}` } })
      assert.strictEqual(res.status, 200)

      child.kill("SIGTERM")
      assert.deepStrictEqual(await exited(child), { code: 0, signal: null }, stderr)
    },
    STARTUP_BUDGET_MS
  )

  it(
    "enforces --ip-rate-limit per client IP per second, and refuses a value that is not a positive integer",
    async () => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "src/bin.ts", "--scenario", "redpine", "--port", "0", "--rate-limit", "100000/1000", "--ip-rate-limit", "1"],
        { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] }
      )
      children.push(child)
      let stderr = ""
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
      const { ready } = await readyLine(child, () => stderr)
      // Twenty requests at once: one a second passes, so whatever seconds they straddle, most are refused.
      const statuses = await Promise.all(
        Array.from({ length: 20 }, () =>
          fetch(`${ready.baseUrl}/user/tokens/verify`, { headers: { authorization: `Bearer ${ready.tokens["scoped"]}` } }).then((r) => r.status)
        )
      )
      assert.isAbove(statuses.filter((s) => s === 429).length, 0, JSON.stringify(statuses))
      assert.isAbove(statuses.filter((s) => s === 200).length, 0, JSON.stringify(statuses))
      child.kill("SIGTERM")
      await exited(child)

      const bad = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "--ip-rate-limit", "fast"], { cwd: packageDir, stdio: ["ignore", "pipe", "pipe"] })
      children.push(bad)
      let badErr = ""
      bad.stderr.setEncoding("utf8").on("data", (chunk: string) => (badErr += chunk))
      assert.deepStrictEqual(await exited(bad), { code: 2, signal: null })
      assert.include(badErr, "bad --ip-rate-limit")
    },
    STARTUP_BUDGET_MS
  )
})
