/**
 * `pnpm demo`: the drift monitor with embedded defaults — SQLite in `.data/drift-monitor`, and the
 * Cloudflare simulator with the `redpine` scenario on a free loopback port — then one JSON line
 * with everything a person or a script needs, and a hint for humans. Environment variables
 * (`DRIFT_MONITOR_*`) still apply; `DRIFT_MONITOR_PORT` defaults to a free port here.
 *
 * It also starts a sample product (`sample/SampleProduct`) on its own port, the way a product would
 * use Plumbline: its page opens the hosted connect flow, its backend opens the session with the API
 * key and receives the webhooks. Webhooks may reach that receiver only
 * (`DRIFT_MONITOR_WEBHOOK_ALLOWED_HOSTS` defaults to its `host:port`).
 */
import { NodeRuntime } from "@effect/platform-node"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Config as EffectConfig, ConfigProvider, Effect, Redacted } from "effect"
import * as Config from "../Config.js"
import * as Main from "../Main.js"
import * as SampleProduct from "../sample/SampleProduct.js"
import * as SimulatorState from "../SimulatorState.js"

const program = Effect.gen(function* () {
  const dataDir = yield* EffectConfig.string("DRIFT_MONITOR_DATA_DIR").pipe(EffectConfig.withDefault(".data/drift-monitor"))
  const simulator = Simulator.make({ scenario: "redpine" })
  // The simulated account outlives a restart, even `kill -9`, like a real one: restore it now, save
  // it after every change, before the change is acknowledged.
  const restored = yield* Effect.sync(() => SimulatorState.load(simulator.state, dataDir))
  const saving = SimulatorState.savingOnChange(simulator, dataDir)
  const running = yield* Effect.acquireRelease(
    Effect.promise(() => serve(saving, { port: 0, host: "127.0.0.1", cors: true })),
    (r) => Effect.promise(() => r.close())
  )
  const product = yield* SampleProduct.start()
  const defaults = ConfigProvider.fromMap(
    new Map([
      ["DRIFT_MONITOR_PORT", "0"],
      ["DRIFT_MONITOR_WEBHOOK_ALLOWED_HOSTS", product.hostPort],
      ["DRIFT_MONITOR_CLOUDFLARE_BASE_URL", running.baseUrl],
      ["DRIFT_MONITOR_SCHEDULER_INTERVAL_SECONDS", "300"]
    ])
  )
  const config = yield* Config.load.pipe(Effect.withConfigProvider(ConfigProvider.orElse(ConfigProvider.fromEnv(), () => defaults)))
  const started = yield* Main.start(config)
  yield* product.attach({ baseUrl: started.baseUrl, apiKey: Redacted.value(config.apiKey) })
  const line = {
    dashboardUrl: `${started.baseUrl}/`,
    productUrl: product.url,
    apiUrl: `${started.baseUrl}/api`,
    apiKey: Redacted.value(config.apiKey),
    simulator: { baseUrl: running.baseUrl, tokens: simulator.tokens }
  }
  const hint = [
    `Drift monitor ready: dashboard ${line.dashboardUrl}, API ${line.apiUrl} (OpenAPI: ${line.apiUrl}/openapi.json).`,
    `Connect flow: open the sample product ${line.productUrl}, click "Connect Cloudflare", paste ${simulator.tokens["scoped"] ?? ""} in Plumbline's page.`,
    `Or the API directly: curl -s -X POST ${line.apiUrl}/connections -H 'authorization: Bearer ${line.apiKey}' -H 'content-type: application/json' \\`,
    `       -d '{"name":"Redpine","token":"${simulator.tokens["scoped"] ?? ""}"}'`,
    `Data lives in ${config.dataDir}${restored ? " (simulator state restored)" : ""}; Ctrl-C stops (a restart keeps everything, the simulated account included).`
  ]
  yield* Effect.sync(() => process.stdout.write(`${JSON.stringify(line)}\n${hint.join("\n")}\n`))
  return yield* Effect.never
}).pipe(Effect.scoped)

NodeRuntime.runMain(program)
