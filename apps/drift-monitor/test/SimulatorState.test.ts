import { type ChildProcess, spawn } from "node:child_process"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@plumbline/cloudflare-simulator"
import { Effect } from "effect"
import * as SimulatorState from "../src/SimulatorState.js"
import * as Harness from "./fixtures/Harness.js"

const BASE = "https://api.cloudflare.com/client/v4"

const call = (sim: Simulator.Simulator, token: string, method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await sim.handle(
      new Request(`${BASE}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
    )
    return { status: response.status, body: (await response.json()) as { result: { rules: Array<{ expression: string }> } } }
  })

describe("SimulatorState", () => {
  it.scoped("keeps the simulated account across a restart: added rules, revoked tokens", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const first = Simulator.make({ scenario: "redpine", rateLimit: false })
      const customer = first.tokens["customer"] as string
      const zone = first.state.zones.find((z) => z.name === "redpine.io")?.id as string
      const path = `/zones/${zone}/rulesets/phases/http_ratelimit/entrypoint`
      const before = yield* call(first, customer, "GET", path)
      const expression = '(http.request.method eq "POST" and http.request.uri.path eq "/login")'
      const rule = { action: "block", expression, ratelimit: { characteristics: ["ip.src", "cf.colo.id"], period: 60, requests_per_period: 5, mitigation_timeout: 600 } }
      const put = yield* call(first, customer, "PUT", path, { rules: [...before.body.result.rules, rule] })
      assert.strictEqual(put.status, 200)
      first.revokeToken("scoped")
      assert.isFalse(SimulatorState.load(first.state, dir), "nothing saved yet")
      SimulatorState.save(first.state, dir)

      const second = Simulator.make({ scenario: "redpine", rateLimit: false })
      assert.isTrue(SimulatorState.load(second.state, dir))
      const after = yield* call(second, customer, "GET", path)
      assert.deepStrictEqual(after.body.result.rules.map((r) => r.expression), [...before.body.result.rules.map((r) => r.expression), expression])
      const revoked = yield* call(second, second.tokens["scoped"] as string, "GET", "/zones")
      assert.strictEqual(revoked.status, 401)
      assert.strictEqual(SimulatorState.serialize(second.state), SimulatorState.serialize(first.state))
    })
  )

  it.scoped("saves every change before it is acknowledged, atomically", () =>
    Effect.gen(function* () {
      const dir = yield* Harness.tempDir
      const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
      const saving = SimulatorState.savingOnChange(sim, dir)
      const customer = sim.tokens["customer"] as string
      const zone = sim.state.zones.find((z) => z.name === "redpine.io")?.id as string
      const path = `/zones/${zone}/rulesets/phases/http_ratelimit/entrypoint`
      yield* call(saving, customer, "GET", path)
      assert.isFalse(SimulatorState.load(Simulator.make({ scenario: "redpine" }).state, dir), "a read saves nothing")
      const before = yield* call(saving, customer, "GET", path)
      const rule = { action: "block", expression: 'http.request.uri.path eq "/x"', ratelimit: { characteristics: ["ip.src", "cf.colo.id"], period: 60, requests_per_period: 5, mitigation_timeout: 600 } }
      const put = yield* call(saving, customer, "PUT", path, { rules: [...before.body.result.rules, rule] })
      assert.strictEqual(put.status, 200)
      const restored = Simulator.make({ scenario: "redpine" })
      assert.isTrue(SimulatorState.load(restored.state, dir), "saved when the PUT was answered")
      assert.strictEqual(SimulatorState.serialize(restored.state), SimulatorState.serialize(sim.state))
      saving.revokeToken("scoped")
      const again = Simulator.make({ scenario: "redpine" })
      SimulatorState.load(again.state, dir)
      assert.strictEqual(SimulatorState.serialize(again.state), SimulatorState.serialize(sim.state))
    })
  )

  it.live(
    "the demo keeps the customer's change through kill -9, with no false removed drift",
    () =>
      Effect.gen(function* () {
        const dir = yield* Harness.tempDir
        const first = yield* demo(dir)
        const app = Harness.client(first.line.apiUrl.replace(/\/api$/, ""), first.line.apiKey)
        const created = yield* app.call("POST", "/api/connections", { name: "Redpine", token: first.line.simulator.tokens["scoped"] })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        const id: string = created.body.id
        const committed = yield* app.call("POST", `/api/connections/${id}/recheck?wait=true`)
        assert.strictEqual(committed.body.outcome, "committed", JSON.stringify(committed.body))

        // The customer changes their account through the simulator's API; once answered, kill -9.
        const customer = first.line.simulator.tokens["customer"] as string
        const zones = yield* http(first.line.simulator.baseUrl, customer, "GET", "/zones")
        const zone = (zones.body.result as Array<{ id: string; name: string }>).find((z) => z.name === "redpine.io")?.id as string
        const path = `/zones/${zone}/rulesets/phases/http_ratelimit/entrypoint`
        const before = yield* http(first.line.simulator.baseUrl, customer, "GET", path)
        const rules = (before.body.result as { rules: Array<unknown> }).rules
        const expression = 'http.request.uri.path eq "/kill-9"'
        const rule = { action: "block", expression, ratelimit: { characteristics: ["ip.src", "cf.colo.id"], period: 60, requests_per_period: 5, mitigation_timeout: 600 } }
        const put = yield* http(first.line.simulator.baseUrl, customer, "PUT", path, { rules: [...rules, rule] })
        assert.strictEqual(put.status, 200)
        yield* first.kill

        const second = yield* demo(dir)
        assert.isTrue(second.text.includes("simulator state restored"), second.text)
        const app2 = Harness.client(second.line.apiUrl.replace(/\/api$/, ""), second.line.apiKey)
        const after = yield* http(second.line.simulator.baseUrl, customer, "GET", path)
        assert.include((after.body.result as { rules: Array<{ expression: string }> }).rules.map((r) => r.expression), expression)
        const recheck = yield* app2.call("POST", `/api/connections/${id}/recheck?wait=true`)
        assert.strictEqual(recheck.body.outcome, "committed", JSON.stringify(recheck.body))
        const events = yield* app2.call("GET", `/api/drift-events?connectionId=${encodeURIComponent(id)}`)
        assert.strictEqual(events.status, 200)
        const kinds = (events.body.items as Array<{ kind: string }>).map((e) => e.kind)
        assert.notInclude(kinds, "removed", JSON.stringify(events.body.items))
        yield* second.kill
      }).pipe(Effect.scoped),
    // Two cold starts of the demo on a loaded two-core machine.
    120_000
  )
})

const http = (baseUrl: string, token: string, method: string, path: string, body?: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: response.status, body: (await response.json()) as { result: unknown } }
  })

interface DemoLine {
  readonly apiUrl: string
  readonly apiKey: string
  readonly simulator: { readonly baseUrl: string; readonly tokens: Record<string, string> }
}

/**
 * `node dist/bin/demo.js` on `dataDir`; resolves with its JSON line once printed (no deadline but
 * the test's). `kill` sends SIGKILL and waits for the exit; the scope kills it too.
 */
const demo = (dataDir: string) =>
  Effect.gen(function* () {
    const child: ChildProcess = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, [join(import.meta.dirname, "..", "dist", "bin", "demo.js")], {
          env: { ...process.env, DRIFT_MONITOR_DATA_DIR: dataDir },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (c) => Effect.sync(() => c.exitCode === null && c.signalCode === null && c.kill("SIGKILL"))
    )
    const exited = new Promise<void>((done) => child.on("exit", () => done()))
    const { line, text } = yield* Effect.promise(
      () =>
        new Promise<{ line: DemoLine; text: string }>((resolve, reject) => {
          let seen = ""
          child.stdout?.on("data", (chunk: Buffer) => {
            seen += chunk.toString("utf8")
            const end = seen.indexOf("Ctrl-C")
            if (end >= 0) resolve({ line: JSON.parse(seen.slice(0, seen.indexOf("\n"))) as DemoLine, text: seen })
          })
          child.stderr?.on("data", (chunk: Buffer) => {
            seen += chunk.toString("utf8")
          })
          child.on("exit", (code) => reject(new Error(`demo exited with ${code} before it was ready:\n${seen}`)))
        })
    )
    const kill = Effect.promise(() => {
      child.kill("SIGKILL")
      return exited
    })
    return { line, text, kill }
  })
