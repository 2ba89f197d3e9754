import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "../src/index.js"
import { crawl } from "./Crawl.js"
import { shape, specPathOf, specPaths, validate } from "./OpenApi.js"

const check = async (sim: Simulator.Simulator) => {
  const seen = await crawl(sim, { maxRecordGets: 5 })
  const failures: Array<string> = []
  for (const s of seen) {
    if (s.status !== 200) failures.push(`${s.path}: HTTP ${s.status} ${JSON.stringify(s.body).slice(0, 200)}`)
    const error = validate(s.path, s.body)
    if (error !== undefined) failures.push(`${s.path}: ${error.split("\n").slice(0, 5).join("; ")}`)
  }
  const covered = new Set(seen.map((s) => specPathOf(s.path)).filter((p) => p !== undefined).map(shape))
  const missing = specPaths.filter((p) => !covered.has(shape(p)))
  return { failures: [...new Set(failures)], missing, count: seen.length }
}

describe("OpenApiConformance", () => {
  it("every GET response of the redpine scenario validates against the lenient schema", async () => {
    const sim = Simulator.make({ scenario: "redpine", rateLimit: false, legacyRateLimits: "serve" })
    const { failures, missing, count } = await check(sim)
    assert.deepStrictEqual(failures.slice(0, 40), [])
    assert.deepStrictEqual(missing, [])
    assert.isAbove(count, 80)
  })

  it("every GET response of a random seeded scenario validates against the lenient schema", async () => {
    const sim = Simulator.make({
      scenario: { seed: 4242, accounts: 2, zonesPerAccount: 7, recordsPerZone: 40, rulesPerPhase: 4 },
      rateLimit: false,
      legacyRateLimits: "serve"
    })
    const { failures, count } = await check(sim)
    assert.deepStrictEqual(failures.slice(0, 40), [])
    assert.isAbove(count, 200)
  })

  it("the validator rejects a response that breaks the schema", async () => {
    const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
    const zone = sim.state.zones[0]!
    ;(zone as { name: unknown }).name = 42
    const res = await sim.handle(
      new Request(`https://api.cloudflare.com/client/v4/zones/${zone.id}`, { headers: { authorization: `Bearer ${sim.tokens["customer"]}` } })
    )
    const error = validate(`/zones/${zone.id}`, await res.json())
    assert.isDefined(error)
    assert.include(error!, "name")
  })
})
