/**
 * Runnable example: start the Cloudflare simulator on 127.0.0.1, then use the Promise facade as a
 * backend would — verify the token, list zones, snapshot one zone and print what it found.
 *
 *   npx tsx examples/snapshot-simulator.ts
 */
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Snapshot } from "@plumbline/core"
import { createCloudflareConnector, isConnectorError } from "../src/index.js"

const sim = Simulator.make({ scenario: "redpine" })
const server = await serve(sim, { port: 0 })
const cf = createCloudflareConnector({ token: sim.tokens["scoped"]!, baseUrl: server.baseUrl })
try {
  const verification = await cf.verify()
  console.log(`token ${verification.subject}: ${verification.status}`)
  for (const grant of verification.grants.filter((g) => g.status === "missing")) {
    console.log(`  ${grant.resource}: add "${grant.permissions.join(", ")}"`)
  }
  console.log("zones:", (await cf.zones.list()).map((z) => `${z.name} (${z.plan})`).join(", "))
  const snapshot = await cf.snapshot({ zones: ["redpine.io"] })
  console.log(`snapshot: ${snapshot.outcome}, ${snapshot.requestCount} requests`)
  for (const result of snapshot.results) {
    const status = result.status
    const detail =
      status._tag === "ok" ? `${status.records.length} records` : status._tag === "partial" ? `${status.records.length} records, ${status.problems.length} undecodable` : status._tag === "forbidden" ? `grant ${status.permissions.join(", ")}` : status._tag === "skipped" ? status.detail : status.error.message
    console.log(`  ${result.resource} @ ${result.scope.label}: ${status._tag} (${detail})`)
  }
  console.log(`WAF rules: ${Snapshot.recordsOf(snapshot, "waf_custom_rules").length}`)
} catch (error) {
  if (isConnectorError(error)) console.error(`${error._tag}: ${error.message}`)
  else throw error
} finally {
  await cf.close()
  await server.close()
}
