#!/usr/bin/env node
/**
 * Starts the standalone simulator and prints one JSON line once listening:
 * `{"baseUrl": "...", "tokens": {...}}`.
 *
 *   pnpm simulator --scenario redpine --port 8787 [--seed N] [--rate-limit 1200/300000]
 *                  [--ip-rate-limit 200] [--faults '{"rules":[...]}'] [--legacy-rate-limits serve] [--cors]
 */
import { Either } from "effect"
import { decodeFaultOptions } from "./Faults.js"
import type { ScenarioInput } from "./Scenario.js"
import { serve } from "./Server.js"
import type { SimulatorOptions } from "./Simulator.js"
import { make } from "./Simulator.js"

const usage = "usage: simulator [--scenario redpine|large|<json config>] [--port 8787] [--host 127.0.0.1] [--seed N] [--rate-limit LIMIT/WINDOW_MS|off] [--ip-rate-limit PER_SECOND|off] [--customer-use SHARE] [--faults JSON] [--legacy-rate-limits gone|serve] [--cors]"

const die = (message: string): never => {
  process.stderr.write(`${message}\n${usage}\n`)
  process.exit(2)
}

const parseArgs = (argv: ReadonlyArray<string>): Map<string, string> => {
  const args = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? ""
    if (arg === "--") continue
    if (!arg.startsWith("--")) die(`unexpected argument ${arg}`)
    const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined]
    if (key === "cors" && inline === undefined) {
      args.set(key, "true")
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) die(`--${key} needs a value`)
    args.set(key, value ?? "")
  }
  return args
}

const main = async (): Promise<void> => {
  const args = parseArgs(process.argv.slice(2))
  const scenarioArg = args.get("scenario") ?? "redpine"
  let scenario: ScenarioInput
  if (scenarioArg === "redpine" || scenarioArg === "large") scenario = scenarioArg
  else {
    try {
      scenario = JSON.parse(scenarioArg) as ScenarioInput
    } catch {
      return die(`unknown scenario ${scenarioArg}`)
    }
  }
  const options: { -readonly [K in keyof SimulatorOptions]: SimulatorOptions[K] } = { scenario }
  const seed = args.get("seed")
  if (seed !== undefined) options.seed = Number(seed)
  const rl = args.get("rate-limit")
  if (rl !== undefined) {
    if (rl === "off") options.rateLimit = false
    else {
      const [limit, windowMs] = rl.split("/").map(Number)
      if (limit === undefined || windowMs === undefined || !Number.isFinite(limit) || !Number.isFinite(windowMs)) die("bad --rate-limit")
      options.rateLimit = { limit: limit ?? 1200, windowMs: windowMs ?? 300_000 }
    }
  }
  const ipRl = args.get("ip-rate-limit")
  if (ipRl !== undefined) {
    if (ipRl === "off") options.ipRateLimit = false
    else {
      const perSecond = Number(ipRl)
      if (!Number.isInteger(perSecond) || perSecond < 1) die("bad --ip-rate-limit (requests per second, a positive integer, or off)")
      options.ipRateLimit = perSecond
    }
  }
  const customerUse = args.get("customer-use")
  if (customerUse !== undefined) {
    const share = Number(customerUse)
    if (!(share >= 0 && share <= 1)) die("bad --customer-use (a share between 0 and 1)")
    options.customerUse = { share }
  }
  const faults = args.get("faults")
  if (faults !== undefined) {
    const decoded = decodeFaultOptions(JSON.parse(faults))
    if (Either.isLeft(decoded)) die(`bad --faults: ${String(decoded.left)}`)
    else options.faults = decoded.right
  }
  const legacy = args.get("legacy-rate-limits")
  if (legacy === "gone" || legacy === "serve") options.legacyRateLimits = legacy
  const sim = make(options)
  const server = await serve(sim, {
    port: Number(args.get("port") ?? 8787),
    host: args.get("host") ?? "127.0.0.1",
    cors: args.get("cors") === "true"
  })
  process.stdout.write(`${JSON.stringify({ baseUrl: server.baseUrl, tokens: sim.tokens })}\n`)
  const stop = () => void server.close().then(() => process.exit(0))
  process.on("SIGINT", stop)
  process.on("SIGTERM", stop)
}

main().catch((e: unknown) => die(String(e)))
