import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { Snapshot } from "@plumbline/core"
import { createCloudflareConnector, isConnectorError } from "../src/index.js"

/** The facade over real HTTP, against the standalone simulator on 127.0.0.1. */
describe("Facade", () => {
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
  let server: Awaited<ReturnType<typeof serve>>
  beforeAll(async () => {
    server = await serve(sim, { port: 0 })
  })
  afterAll(() => server.close())

  it("verifies, lists zones and takes a snapshot of one zone", async () => {
    const cf = createCloudflareConnector({ token: sim.tokens["account"]!, baseUrl: server.baseUrl })
    try {
      const verification = await cf.verify()
      assert.strictEqual(verification.status, "active")
      assert.isTrue(verification.grants.every((g) => g.status === "granted"))
      const zones = await cf.zones.list()
      assert.deepStrictEqual(zones.map((z) => `${z.name}:${z.plan}`), ["redpine.dev:free", "redpine.io:pro"])
      const snapshot = await cf.snapshot({ zones: ["redpine.io"] })
      assert.strictEqual(snapshot.outcome, "complete")
      assert.isFalse(snapshot.results.some((r) => r.scope.name === "redpine.dev"))
      assert.isAbove(Snapshot.recordsOf(snapshot, "waf_custom_rules").length, 0)
    } finally {
      await cf.close()
    }
  })

  it("uses the fetch it is given", async () => {
    let calls = 0
    const counting: typeof globalThis.fetch = (input, init) => {
      calls++
      return globalThis.fetch(input, init)
    }
    const cf = createCloudflareConnector({ token: sim.tokens["account"]!, baseUrl: server.baseUrl, fetch: counting })
    try {
      await cf.zones.list()
      assert.strictEqual(calls, 1)
    } finally {
      await cf.close()
    }
  })

  it("rejects with the typed error itself", async () => {
    const cf = createCloudflareConnector({ token: sim.tokens["revoked"]!, baseUrl: server.baseUrl })
    try {
      const error: unknown = await cf.verify().then(
        () => undefined,
        (e: unknown) => e
      )
      assert.isTrue(isConnectorError(error))
      assert.instanceOf(error, Error)
      if (isConnectorError(error)) {
        assert.strictEqual(error._tag, "CredentialInvalid")
        assert.include(error.message, "1000")
      }
      const snapshot = await cf.snapshot()
      assert.strictEqual(snapshot.outcome, "credential-invalid")
    } finally {
      await cf.close()
    }
  })

  it("a token without Zone Read rejects zones.list with PermissionMissing naming it", async () => {
    const base = sim.state.tokens.find((t) => t.name === "account")!
    sim.state.tokens.push({
      ...base,
      name: "no-zone-read",
      id: "e".repeat(32),
      value: "cfut_no_zone_read",
      policies: base.policies.map((p) => ({ ...p, permissionGroups: p.permissionGroups.filter((g) => g !== "Zone Read") }))
    })
    const cf = createCloudflareConnector({ token: "cfut_no_zone_read", baseUrl: server.baseUrl })
    try {
      const error: unknown = await cf.zones.list().then(
        () => undefined,
        (e: unknown) => e
      )
      assert.isTrue(isConnectorError(error) && error._tag === "PermissionMissing" && error.permission === "Zone Read")
    } finally {
      await cf.close()
    }
  })
})
