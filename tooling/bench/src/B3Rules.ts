/**
 * B3 — the rules engine (`@plumbline/cloudflare-rules`): compiled evaluations per second over the
 * package's conformance corpus (`test/fixtures/rules-cases.json`, every case with an expected
 * result), and the time to parse one expression. The same measurement as the package's own
 * `bench/evaluate.mjs`, kept in step with it:
 *
 * - evaluations: every case's rule compiled once, then evaluated round-robin over the corpus (as an
 *   engine deciding a stream of requests would), after a warm-up; each result is checked first;
 * - parse: parse + type-check of every expression of the corpus, repeated, per expression;
 * - compile: parse + check + compile, per expression.
 *
 * Each timed loop runs 5 times and the median is reported, so one descheduled slice on a shared
 * machine does not decide the figure.
 */
import { Expression, type Facts, NamedLists, Request, Rule } from "@plumbline/cloudflare-rules"
import { Effect, Either } from "effect"
import { readFileSync } from "node:fs"
import type { BenchmarkResult } from "./Figures.js"
import { figure, median, round } from "./Figures.js"

interface Case {
  readonly id: string
  readonly expression: string
  readonly request: Request.RequestDescription
  readonly lists?: NamedLists.ListsInput
  readonly expected?: boolean
}

/** The corpus file of the installed package (the workspace's source tree). */
export const corpusUrl = (): URL => new URL("./test/fixtures/rules-cases.json", import.meta.resolve("@plumbline/cloudflare-rules/package.json"))

const REPEATS = 5
const EVAL_ROUNDS = 100_000
const PARSE_ROUNDS = 2_000
const COMPILE_ROUNDS = 1_000

/** Median wall time of `body(rounds)` over `REPEATS` runs, after one warm-up run. */
const timeIt = (rounds: number, body: (rounds: number) => number): { readonly ms: number; readonly runs: ReadonlyArray<number> } => {
  body(Math.min(rounds, 10_000))
  const runs: Array<number> = []
  let sink = 0
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now()
    sink += body(rounds)
    runs.push(performance.now() - started)
  }
  // The sink keeps the loops from being optimised away.
  if (sink < 0) runs.push(0)
  return { ms: median(runs), runs }
}

/** Runs B3. */
export const run = Effect.gen(function* () {
  const fixture = JSON.parse(readFileSync(corpusUrl(), "utf8")) as { readonly cases: ReadonlyArray<Case> }
  const cases = fixture.cases.filter((c) => c.expected !== undefined)
  const prepared: Array<{ readonly rule: Rule.Rule; readonly facts: Facts.Facts; readonly lists: NamedLists.NamedLists; readonly expected: boolean }> = []
  for (const c of cases) {
    const rule = Rule.compileEither(c.expression)
    if (Either.isLeft(rule)) return yield* Effect.dieMessage(`B3: ${c.id} does not compile: ${rule.left.message}`)
    prepared.push({ rule: rule.right, facts: Request.make(c.request), lists: NamedLists.make(c.lists ?? {}), expected: c.expected === true })
  }
  for (const p of prepared) {
    if (p.rule.test(p.facts, p.lists) !== p.expected) return yield* Effect.dieMessage(`B3: wrong result for ${p.rule.source}`)
  }

  const evaluation = timeIt(EVAL_ROUNDS, (rounds) => {
    let hits = 0
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < prepared.length; i++) {
        const p = prepared[i]!
        if (p.rule.test(p.facts, p.lists)) hits++
      }
    }
    return hits
  })
  const evaluations = EVAL_ROUNDS * prepared.length
  const perSecond = evaluations / (evaluation.ms / 1000)

  const sources = cases.map((c) => c.expression)
  const parsing = timeIt(PARSE_ROUNDS, (rounds) => {
    let n = 0
    for (let r = 0; r < rounds; r++) for (const s of sources) if (Either.isRight(Expression.parseEither(s))) n++
    return n
  })
  const compiling = timeIt(COMPILE_ROUNDS, (rounds) => {
    let n = 0
    for (let r = 0; r < rounds; r++) for (const s of sources) if (Either.isRight(Rule.compileEither(s))) n++
    return n
  })
  const parseUs = (parsing.ms * 1000) / (PARSE_ROUNDS * sources.length)
  const compileUs = (compiling.ms * 1000) / (COMPILE_ROUNDS * sources.length)

  const result: BenchmarkResult = {
    id: "B3",
    title: "Rules engine: compiled evaluations per second over the rules-cases corpus; parse time",
    figures: [
      figure({
        benchmark: "B3",
        name: "compiled evaluations per second",
        value: Math.round(perSecond),
        unit: "evaluations/s",
        target: { op: ">=", value: 1_000_000, text: "≥ 1,000,000/s" },
        note: `${prepared.length} cases round-robin, ${round((evaluation.ms * 1e6) / evaluations, 0)} ns each`
      }),
      figure({ benchmark: "B3", name: "parse time per expression", value: round(parseUs, 2), unit: "µs", note: "parse + type-check" }),
      figure({ benchmark: "B3", name: "compile time per expression", value: round(compileUs, 2), unit: "µs", note: "parse + check + compile" })
    ],
    details: {
      corpus: prepared.length,
      evaluations,
      evaluateRunsMs: evaluation.runs.map((x) => round(x, 1)),
      parseRunsMs: parsing.runs.map((x) => round(x, 1)),
      compileRunsMs: compiling.runs.map((x) => round(x, 1))
    }
  }
  return result
})
