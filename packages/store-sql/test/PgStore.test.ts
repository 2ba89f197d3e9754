import { assert, describe, it } from "@effect/vitest"
import { pgConfig, pgHarness } from "./fixtures/Databases.js"
import { contract } from "./StoreContract.js"

const server = pgConfig()
if (server !== undefined) {
  contract("PostgreSQL", pgHarness(server))
} else if (process.env.CI !== undefined && process.env.CI !== "") {
  describe("PostgreSQL store contract", () => {
    it("has a PostgreSQL server to run against", () => {
      assert.fail("CI is set but PGHOST is not: .ci/run starts PostgreSQL and exports PGHOST, PGPORT, PGUSER, PGDATABASE")
    })
  })
} else {
  describe.skip("PostgreSQL store contract (skipped: no PGHOST; start PostgreSQL and export PG* to run it)", () => {
    it("runs the contract against PostgreSQL", () => {})
  })
}
