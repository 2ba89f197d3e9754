/**
 * The benchmark suite: runs B1–B5, each in a fresh Node process (so one benchmark's heap, JIT
 * state and open handles cannot colour another's figures), then writes every figure to
 * `results/bench.json` and a Markdown table to `results/bench.md`.
 *
 *   pnpm bench                                   # all five
 *   pnpm bench -- --only B5 --b5-cycles 3 --b5-mode audit_log
 *   pnpm bench -- --only B2,B3                   # some; the others keep their last results
 *   pnpm bench -- --sdk-zones all                # B1's SDK baseline over every zone (+5 minutes)
 *   pnpm bench -- --concurrency 16 --b4-seconds 40 --b4-connections 10000 --b4-interval 30
 *
 * The process exits 1 when a benchmark fails to run; a missed target is a figure, not a failure.
 */
import { NodeRuntime } from "@effect/platform-node"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { cpus, tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Console, Effect } from "effect"
import * as B1Snapshot from "./B1Snapshot.js"
import * as B2Drift from "./B2Drift.js"
import * as B3Rules from "./B3Rules.js"
import * as B4Scheduler from "./B4Scheduler.js"
import * as B5ChangeFeed from "./B5ChangeFeed.js"
import type { BenchmarkResult } from "./Figures.js"
import { markdownTable } from "./Figures.js"

const ALL = ["B1", "B2", "B3", "B4", "B5"] as const
type Id = (typeof ALL)[number]

/** Parsed command line. */
interface Args {
  readonly only: ReadonlyArray<Id>
  readonly child: Id | undefined
  readonly out: string | undefined
  readonly b1: B1Snapshot.Options
  readonly b4: B4Scheduler.Options
  readonly b5: B5ChangeFeed.Options
  /** The flags a child gets again (everything but --only, --child and --out). */
  readonly passThrough: ReadonlyArray<string>
}

const usage =
  "usage: main.ts [--only B1,B2,B3,B4] [--concurrency N] [--margin MS] [--sdk-zones N|all] [--b4-connections N] [--b4-interval SECONDS] [--b4-seconds SECONDS] [--b5-cycles N] [--b5-mode audit_log|probes|both]"

const parseArgs = (argv: ReadonlyArray<string>): Effect.Effect<Args> =>
  Effect.gen(function* () {
    const values = new Map<string, string>()
    const passThrough: Array<string> = []
    for (let i = 0; i < argv.length; i++) {
      const arg = argv[i] ?? ""
      if (arg === "--") continue
      if (!arg.startsWith("--")) return yield* Effect.dieMessage(`unexpected argument ${arg}\n${usage}`)
      const [key, inline] = arg.slice(2).split("=", 2) as [string, string | undefined]
      const value = inline ?? argv[++i]
      if (value === undefined) return yield* Effect.dieMessage(`--${key} needs a value\n${usage}`)
      values.set(key, value)
      if (key !== "only" && key !== "child" && key !== "out") passThrough.push(`--${key}`, value)
    }
    const known = new Set(["only", "child", "out", "concurrency", "margin", "sdk-zones", "b4-connections", "b4-interval", "b4-seconds", "b5-cycles", "b5-mode"])
    for (const key of values.keys()) if (!known.has(key)) return yield* Effect.dieMessage(`unknown option --${key}\n${usage}`)
    const int = (key: string, fallback: number) => {
      const raw = values.get(key)
      const n = raw === undefined ? fallback : Number(raw)
      return Number.isInteger(n) && n > 0 ? Effect.succeed(n) : Effect.dieMessage(`--${key} must be a positive integer\n${usage}`)
    }
    const ids = (values.get("only") ?? ALL.join(",")).split(",").map((s) => s.trim().toUpperCase())
    for (const id of ids) if (!(ALL as ReadonlyArray<string>).includes(id)) return yield* Effect.dieMessage(`unknown benchmark ${id}\n${usage}`)
    const child = values.get("child")?.toUpperCase()
    const sdkZones = values.get("sdk-zones")
    const b5Mode = values.get("b5-mode") ?? B5ChangeFeed.defaults.mode
    if (b5Mode !== "audit_log" && b5Mode !== "probes" && b5Mode !== "both") return yield* Effect.dieMessage(`--b5-mode must be audit_log, probes or both\n${usage}`)
    return {
      only: ALL.filter((id) => ids.includes(id)),
      child: child === undefined ? undefined : (child as Id),
      out: values.get("out"),
      b1: {
        concurrency: yield* int("concurrency", B1Snapshot.defaults.concurrency),
        marginMs: yield* int("margin", B1Snapshot.defaults.marginMs),
        sdkZones: sdkZones === "all" ? "all" : yield* int("sdk-zones", Number(B1Snapshot.defaults.sdkZones))
      },
      b4: {
        connections: yield* int("b4-connections", B4Scheduler.defaults.connections),
        intervalSeconds: yield* int("b4-interval", B4Scheduler.defaults.intervalSeconds),
        seconds: yield* int("b4-seconds", B4Scheduler.defaults.seconds)
      },
      b5: { cycles: yield* int("b5-cycles", B5ChangeFeed.defaults.cycles), mode: b5Mode },
      passThrough
    }
  })

const benchmark = (id: Id, args: Args): Effect.Effect<BenchmarkResult> => {
  switch (id) {
    case "B1":
      return B1Snapshot.run(args.b1)
    case "B2":
      return B2Drift.run
    case "B3":
      return B3Rules.run
    case "B4":
      return B4Scheduler.run(args.b4)
    case "B5":
      return B5ChangeFeed.run(args.b5)
  }
}

/** In a child: run one benchmark and write its result to `out`. */
const runChild = (id: Id, out: string, args: Args) =>
  Effect.gen(function* () {
    const result = yield* benchmark(id, args)
    yield* Effect.sync(() => writeFileSync(out, JSON.stringify({ ...result, ranAt: new Date().toISOString() })))
  })

const self = fileURLToPath(import.meta.url)
const resultsDir = fileURLToPath(new URL("../results/", import.meta.url))

/**
 * V8's young generation for every benchmark process, as the drift monitor's start command sets it: a
 * snapshot keeps thousands of requests' objects alive across scavenges, and with the default semi-space
 * they are promoted and collected again in the old generation (B1: about 30 % of the reading
 * process's CPU; see the README's findings).
 */
const SEMI_SPACE_MB = 64

/** Runs one benchmark in a fresh process (with `--expose-gc`, for B2's memory figures). */
const runInChild = (id: Id, args: Args) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "plumbline-bench-"))),
    (dir) =>
      Effect.gen(function* () {
        const out = join(dir, `${id}.json`)
        const started = Date.now()
        yield* Console.log(`— ${id} —`)
        const code = yield* Effect.async<number>((resume) => {
          const child = spawn(
            process.execPath,
            ["--expose-gc", `--max-semi-space-size=${SEMI_SPACE_MB}`, "--import", "tsx", self, "--child", id, "--out", out, ...args.passThrough],
            { stdio: "inherit" }
          )
          child.once("exit", (exitCode, signal) => resume(Effect.succeed(exitCode ?? (signal === null ? 1 : 128))))
        })
        if (code !== 0 || !existsSync(out)) {
          yield* Console.error(`${id} failed (exit code ${code})`)
          return undefined
        }
        const result = JSON.parse(readFileSync(out, "utf8")) as BenchmarkResult
        yield* Console.log(`${id} done in ${((Date.now() - started) / 1000).toFixed(1)} s`)
        return result
      }),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

const gitCommit = (): string | undefined => {
  const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" })
  return git.status === 0 ? git.stdout.trim() : undefined
}

interface Results {
  readonly generatedAt: string
  readonly environment: Record<string, unknown>
  readonly benchmarks: ReadonlyArray<BenchmarkResult & { readonly ranAt?: string }>
}

const markdown = (results: Results): string => {
  const env = results.environment
  const lines = [
    "# Plumbline benchmarks",
    "",
    `Generated ${results.generatedAt} by \`pnpm bench\` in \`tooling/bench\` (commit ${String(env["commit"] ?? "?")}, Node ${String(env["node"])}, ${String(env["cpus"])} × ${String(env["cpu"])}).`,
    "Definitions, method and how to reach missed targets: `tooling/bench/README.md`.",
    "",
    markdownTable(results.benchmarks.flatMap((b) => b.figures)),
    ""
  ]
  for (const b of results.benchmarks) lines.push(`- **${b.id}** ${b.title}${b.ranAt === undefined ? "" : ` (run ${b.ranAt})`}`)
  return `${lines.join("\n")}\n`
}

const program = Effect.gen(function* () {
  const args = yield* parseArgs(process.argv.slice(2))
  if (args.child !== undefined) {
    if (args.out === undefined) return yield* Effect.dieMessage("--child needs --out")
    return yield* runChild(args.child, args.out, args)
  }
  const fresh: Array<BenchmarkResult> = []
  let failed = 0
  for (const id of args.only) {
    const result = yield* runInChild(id, args)
    if (result === undefined) failed++
    else fresh.push(result)
  }
  // Benchmarks not run this time keep their previous results.
  const jsonPath = join(resultsDir, "bench.json")
  const previous = existsSync(jsonPath) ? (JSON.parse(readFileSync(jsonPath, "utf8")) as Results).benchmarks : []
  const benchmarks = ALL.flatMap((id) => {
    const result = fresh.find((b) => b.id === id) ?? previous.find((b) => b.id === id)
    return result === undefined ? [] : [result]
  })
  const cpuList = cpus()
  const results: Results = {
    generatedAt: new Date().toISOString(),
    environment: { node: process.version, platform: `${process.platform} ${process.arch}`, cpus: cpuList.length, cpu: cpuList[0]?.model ?? "?", commit: gitCommit() },
    benchmarks
  }
  mkdirSync(resultsDir, { recursive: true })
  writeFileSync(jsonPath, `${JSON.stringify(results, null, 2)}\n`)
  const table = markdown(results)
  writeFileSync(join(resultsDir, "bench.md"), table)
  yield* Console.log(`\n${table}`)
  yield* Console.log(`Wrote ${jsonPath} and bench.md`)
  if (failed > 0) return yield* Effect.dieMessage(`${failed} benchmark(s) failed to run`)
})

NodeRuntime.runMain(program)
