/* global URL, console, process */
// Benchmark: compiled evaluations per second over the conformance corpus, plus parse and
// compile time. Run `npm run build` first; this imports the built package from ../dist.
import { readFileSync } from "node:fs"
import { performance } from "node:perf_hooks"
import { Either } from "effect"
import { Expression, NamedLists, Request, Rule } from "../dist/index.js"

const fixture = JSON.parse(readFileSync(new URL("../test/fixtures/rules-cases.json", import.meta.url), "utf8"))
const cases = fixture.cases.filter((c) => "expected" in c)

const prepared = cases.map((c) => {
  const rule = Rule.compileEither(c.expression)
  if (Either.isLeft(rule)) throw new Error(`${c.id}: ${rule.left.message}`)
  return { rule: rule.right, facts: Request.make(c.request), lists: NamedLists.make(c.lists ?? {}), expected: c.expected }
})

for (const p of prepared) {
  if (p.rule.test(p.facts, p.lists) !== p.expected) throw new Error(`wrong result for ${p.rule.source}`)
}

const time = (label, iterations, body) => {
  body(Math.min(iterations, 10_000)) // warm up
  const start = performance.now()
  const sink = body(iterations)
  const ms = performance.now() - start
  return { label, ms, sink }
}

// Evaluations: round-robin over every case, as a rule engine deciding a stream of requests would.
const evalRounds = 100_000
const evaluation = time("evaluate", evalRounds, (rounds) => {
  let hits = 0
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < prepared.length; i++) {
      const p = prepared[i]
      if (p.rule.test(p.facts, p.lists)) hits++
    }
  }
  return hits
})
const evaluations = evalRounds * prepared.length
const perSecond = evaluations / (evaluation.ms / 1000)

const sources = cases.map((c) => c.expression)
const parseRounds = 2_000
const parsing = time("parse", parseRounds, (rounds) => {
  let n = 0
  for (let r = 0; r < rounds; r++) for (const s of sources) if (Either.isRight(Expression.parseEither(s))) n++
  return n
})
const compileRounds = 1_000
const compiling = time("compile", compileRounds, (rounds) => {
  let n = 0
  for (let r = 0; r < rounds; r++) for (const s of sources) if (Either.isRight(Rule.compileEither(s))) n++
  return n
})
const requestRounds = 2_000
const building = time("request", requestRounds, (rounds) => {
  let n = 0
  for (let r = 0; r < rounds; r++) for (const c of cases) n += Request.make(c.request).values["http.host"].length
  return n
})

const fmt = (n) => Math.round(n).toLocaleString("en-US")
console.log(`corpus: ${prepared.length} valid rules-cases (node ${process.version})`)
console.log(`evaluate: ${fmt(perSecond)} evaluations/s (${fmt(evaluations)} in ${evaluation.ms.toFixed(0)} ms, ${((evaluation.ms * 1e6) / evaluations).toFixed(0)} ns each)`)
console.log(`parse:    ${((parsing.ms * 1000) / (parseRounds * sources.length)).toFixed(1)} µs per expression (parse + type-check)`)
console.log(`compile:  ${((compiling.ms * 1000) / (compileRounds * sources.length)).toFixed(1)} µs per expression (parse + check + compile)`)
console.log(`request:  ${((building.ms * 1000) / (requestRounds * cases.length)).toFixed(1)} µs per Request.make`)
