/**
 * The standalone Cloudflare simulator as a child process, the way a customer's tools would meet
 * the real API: over loopback HTTP, in another process, so the simulator's work does not share the
 * benchmarked process's event loop. Started from its built `bin` (no TypeScript loader), stopped
 * with the scope. Also the two admin calls B1 needs: request counts and a rate-limit reset.
 */
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

/** How to start it (see the simulator's `bin` for the flags). */
export interface Options {
  readonly scenario: string
  /** `LIMIT/WINDOW_MS` or `off`. */
  readonly rateLimit: string
  /** Requests per second per client IP (the simulator's default is Cloudflare's 200). */
  readonly ipRateLimit?: number
  readonly faults?: unknown
}

/** A running simulator. */
export interface Running {
  /** `http://127.0.0.1:<port>/client/v4` */
  readonly baseUrl: string
  readonly tokens: Readonly<Record<string, string>>
  /** Requests the simulator has seen so far, per token name (429s included). */
  readonly requestCounts: Effect.Effect<Readonly<Record<string, number>>>
  /** Forgets every rate-limit window, so the next client starts with a full budget. */
  readonly resetRateLimits: Effect.Effect<void>
}

const adminCall = (baseUrl: string, path: string, method: "GET" | "DELETE") =>
  Effect.tryPromise(async () => {
    const response = await fetch(new URL(path, baseUrl), { method })
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status}`)
    return (await response.json()) as unknown
  }).pipe(Effect.orDie)

/** Starts the simulator for the current scope. */
export const start = (options: Options) =>
  Effect.gen(function* () {
    const bin = fileURLToPath(import.meta.resolve("@plumbline/cloudflare-simulator/bin"))
    const args = [bin, "--scenario", options.scenario, "--port", "0", "--rate-limit", options.rateLimit]
    if (options.ipRateLimit !== undefined) args.push("--ip-rate-limit", String(options.ipRateLimit))
    if (options.faults !== undefined) args.push("--faults", JSON.stringify(options.faults))
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGTERM")
        })
    )
    const line = yield* Effect.async<string, Error>((resume) => {
      const lines = createInterface({ input: child.stdout })
      const onExit = (code: number | null) => resume(Effect.fail(new Error(`the simulator exited with code ${code} before listening`)))
      lines.once("line", (text) => {
        child.off("exit", onExit)
        resume(Effect.succeed(text))
      })
      child.once("exit", onExit)
    }).pipe(Effect.orDie)
    const { baseUrl, tokens } = JSON.parse(line) as { baseUrl: string; tokens: Record<string, string> }
    return {
      baseUrl,
      tokens,
      requestCounts: Effect.map(adminCall(baseUrl, "/__admin/requests", "GET"), (body) => (body as { counts: Record<string, number> }).counts),
      resetRateLimits: Effect.asVoid(adminCall(baseUrl, "/__admin/rate-limits", "DELETE"))
    } satisfies Running
  })
