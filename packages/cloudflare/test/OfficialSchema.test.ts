/**
 * Property: for every GET the connector issues, bodies generated from Cloudflare's official schema
 * (the copy in fixtures/official-get-responses.json) decode without losing anything — every item of
 * `result` decodes with the connector's wire Schema, so no resource is lost or made partial by a
 * field the official schema allows to be absent, null or of another documented shape. The only
 * field added to what the schema requires is an item's `id`, the identity the connector needs.
 */
import { assert, describe, it } from "@effect/vitest"
import { ItemProblem } from "@plumbline/core"
import { Effect, FastCheck as fc, type Schema } from "effect"
import { CloudflareClient } from "../src/index.js"
import { ListWire, RulesetSummaryWire, RulesetWire } from "../src/internal/shared.js"
import { AccountWire } from "../src/resources/Accounts.js"
import { DnsRecordWire } from "../src/resources/DnsRecords.js"
import { DnssecWire } from "../src/resources/Dnssec.js"
import { AccessRuleWire } from "../src/resources/IpAccessRules.js"
import { ItemWire } from "../src/resources/IpLists.js"
import { FilterWire, FirewallRuleWire } from "../src/resources/LegacyFirewallRules.js"
import { LegacyRateLimitWire } from "../src/resources/LegacyRateLimits.js"
import { PageRuleWire } from "../src/resources/PageRules.js"
import { RouteWire, ScriptWire } from "../src/resources/Workers.js"
import { ZoneWire } from "../src/resources/Zones.js"
import { SettingWire } from "../src/resources/ZoneSettings.js"
import official from "./fixtures/official-get-responses.json" with { type: "json" }
import * as JsonSchemaArbitrary from "./fixtures/JsonSchemaArbitrary.js"

type Wire = Schema.Schema<unknown, unknown>
const list = <A, I>(wire: Schema.Schema<A, I>) => ({ shape: "list" as const, wire: wire as unknown as Wire })
const one = <A, I>(wire: Schema.Schema<A, I>) => ({ shape: "one" as const, wire: wire as unknown as Wire })

/** Every GET the connector reads resources with, and the wire Schema it decodes `result` with. */
export const endpoints: Record<string, ReturnType<typeof list> | ReturnType<typeof one>> = {
  "GET /zones": list(ZoneWire),
  "GET /accounts": list(AccountWire),
  "GET /accounts/{account_id}": one(AccountWire),
  "GET /zones/{zone_id}/settings": list(SettingWire),
  "GET /zones/{zone_id}/dnssec": one(DnssecWire),
  "GET /zones/{zone_id}/dns_records": list(DnsRecordWire),
  "GET /zones/{zone_id}/rulesets": list(RulesetSummaryWire),
  "GET /zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint": one(RulesetWire),
  "GET /zones/{zone_identifier}/firewall/rules": list(FirewallRuleWire),
  "GET /zones/{zone_identifier}/filters": list(FilterWire),
  "GET /zones/{zone_identifier}/rate_limits": list(LegacyRateLimitWire),
  "GET /zones/{zone_id}/firewall/access_rules/rules": list(AccessRuleWire),
  "GET /accounts/{account_identifier}/firewall/access_rules/rules": list(AccessRuleWire),
  "GET /accounts/{account_id}/rules/lists": list(ListWire),
  "GET /accounts/{account_id}/rules/lists/{list_id}/items": list(ItemWire),
  "GET /accounts/{account_id}/workers/scripts": list(ScriptWire),
  "GET /zones/{zone_id}/workers/routes": list(RouteWire),
  "GET /zones/{zone_id}/pagerules": list(PageRuleWire)
}

/**
 * Endpoints whose wire Schema the property still breaks (first counterexample found). Not loosened
 * yet: each needs a decision on what the record keeps when the field is absent (issue #14 §1).
 */
const KNOWN_GAPS: Record<string, string> = {
  "GET /zones": "/account/id missing (zone scopes carry the account id)",
  "GET /accounts": "/name missing",
  "GET /accounts/{account_id}": "/name missing",
  "GET /zones/{zone_id}/settings": "/value missing",
  "GET /zones/{zone_id}/dns_records": "/content of some types is not a string",
  "GET /zones/{zone_id}/rulesets/phases/{ruleset_phase}/entrypoint": "a ruleset or rule field the official schema leaves optional",
  "GET /zones/{zone_identifier}/firewall/rules": "/filter/id missing",
  "GET /zones/{zone_id}/firewall/access_rules/rules": "/configuration/target missing",
  "GET /accounts/{account_identifier}/firewall/access_rules/rules": "/mode missing"
}

const generator = JsonSchemaArbitrary.make(official.components.schemas as Record<string, JsonSchemaArbitrary.JsonSchema>)

/** The identity the connector needs: an item without `id` gets one (unique within the body). */
const withIds = (items: ReadonlyArray<unknown>): Array<unknown> =>
  items.map((item, i) =>
    typeof item === "object" && item !== null && !Array.isArray(item) && typeof (item as { id?: unknown }).id !== "string"
      ? { ...item, id: `generated-${i}` }
      : item
  )

/** Decodes a body's `result` as the client does; returns the problems (and a failure, if the whole read fails). */
const decodeBody = (endpoint: (typeof endpoints)[string], body: unknown) =>
  Effect.gen(function* () {
    const problems = ItemProblem.makeCollector()
    const result = (body as { result?: unknown }).result
    const items = endpoint.shape === "one" ? [result] : result
    if (!Array.isArray(items)) return [`result is not an array: ${JSON.stringify(result)}`]
    yield* Effect.locally(CloudflareClient.decodeEach(withIds(items), endpoint.wire, 0), ItemProblem.currentCollector, problems)
    return problems.problems.map((p) => `#${p.index} ${p.path}: ${p.message}`)
  })

describe("official schema", () => {
  it("the fixture covers every GET the connector reads resources with", () => {
    for (const key of Object.keys(endpoints)) assert.isDefined((official.responses as Record<string, unknown>)[key], key)
  })

  for (const [key, endpoint] of Object.entries(endpoints)) {
    // Known gaps: the wire Schema still requires something the official schema leaves optional.
    // Each is expected to fail until its Schema is loosened; `it.fails` turns red when it is.
    const test = key in KNOWN_GAPS ? it.fails : it
    test(`bodies of ${key} generated from the official schema decode without losing an item`, () => {
      const schema = (official.responses as Record<string, JsonSchemaArbitrary.JsonSchema>)[key]!
      // A body's `result` may be null in the schema's envelope; Cloudflare sends it with data on 200.
      const bodies = generator.arbitrary(schema).filter((b) => {
        const result = (b as { result?: unknown }).result
        return result !== null && result !== undefined
      })
      fc.assert(
        fc.property(bodies, (body) => {
          const problems = Effect.runSync(decodeBody(endpoint, body))
          if (problems.length > 0) throw new Error(`${key}: ${problems.join("; ")}\nbody: ${JSON.stringify(body).slice(0, 600)}`)
        }),
        // A fixed seed: a known gap must fail on every run, not only when the random bodies happen
        // to leave out its field (with a random seed the settings gap passed now and then).
        { numRuns: 60, seed: 1414 }
      )
    })
  }
})
