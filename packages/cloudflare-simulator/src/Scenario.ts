/**
 * Scenarios: a seeded generator of accounts, zones, records and rules, and the two named worlds
 * the project relies on — `redpine` (the onboarding story) and `large` (1,000 zones, 100,000 DNS
 * records). The same seed always yields the same ids, tokens and bytes.
 */
import { Data } from "effect"
import { generate } from "./internal/scenario/generate.js"
import { enterprise } from "./internal/scenario/enterprise.js"
import { redpine } from "./internal/scenario/redpine.js"
import type { PlanId, State } from "./State.js"

/** Rule-count limits per plan and phase; kept here for existing importers, the limits live in `Plans`. */
export { phaseRuleLimit } from "./Plans.js"

/** Options of the seeded generator. */
export interface ScenarioConfig {
  readonly seed: number
  readonly accounts: number
  readonly zonesPerAccount: number
  readonly recordsPerZone: number
  /** Rules per configured phase (capped by the zone's plan). Default 3. */
  readonly rulesPerPhase?: number
  /** Share of zones that get rulesets, 0–1. Default 0.8. */
  readonly ruleCoverage?: number
  /** Plans to draw zones from (uniformly). Default all four. */
  readonly plans?: ReadonlyArray<PlanId>
}

/**
 * A scenario: a name or a generator config. `enterprise` is the account-level rulesets world
 * (account entry points executing custom rulesets, scoped to zones; a non-Enterprise account).
 */
export type ScenarioInput = "redpine" | "large" | "enterprise" | ScenarioConfig

/** A scenario was asked for that cannot be built. */
export class ScenarioError extends Data.TaggedError("ScenarioError")<{
  readonly reason: "UnknownScenario" | "InvalidConfig"
  readonly detail: string
}> {
  override get message(): string {
    return `${this.reason}: ${this.detail}`
  }
}

/** The `large` scenario's parameters: 4 accounts × 250 zones × 100 records. */
export const LARGE: ScenarioConfig = { seed: 1000, accounts: 4, zonesPerAccount: 250, recordsPerZone: 100, rulesPerPhase: 3, ruleCoverage: 0.9 }

const validateConfig = (config: ScenarioConfig): void => {
  const ints: ReadonlyArray<[string, number]> = [
    ["accounts", config.accounts],
    ["zonesPerAccount", config.zonesPerAccount],
    ["recordsPerZone", config.recordsPerZone]
  ]
  for (const [name, value] of ints) {
    if (!Number.isInteger(value) || value < 0) throw new ScenarioError({ reason: "InvalidConfig", detail: `${name} must be a non-negative integer` })
  }
  if (config.accounts < 1 || config.zonesPerAccount < 1) {
    throw new ScenarioError({ reason: "InvalidConfig", detail: "a scenario needs at least one account with one zone" })
  }
}

/** A generated world, once its config is known to be valid. */
const validated = (config: ScenarioConfig): State => {
  validateConfig(config)
  return generate(config)
}

/** Builds the state of a scenario. `seed` overrides the config's seed (or redpine's default 1). */
export const buildScenario = (input: ScenarioInput, seed?: number): State => {
  if (input === "redpine") return redpine(seed ?? 1)
  if (input === "enterprise") return enterprise(seed ?? 1)
  if (input === "large") return validated(seed === undefined ? LARGE : { ...LARGE, seed })
  if (typeof input === "object" && input !== null) return validated(seed === undefined ? input : { ...input, seed })
  throw new ScenarioError({ reason: "UnknownScenario", detail: String(input) })
}
