import { randomBytes } from "node:crypto"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as Keyring from "../src/Keyring.js"
import * as PgStore from "../src/PgStore.js"
import { contract, type Database, type Harness, type Keys } from "./StoreContract.js"

/** The server from the PG* variables `.ci/run` (or `pg_virtualenv`) exports; undefined without PGHOST. */
export const pgConfig = (): PgClient.PgClientConfig | undefined => {
  const env = process.env
  if (env.PGHOST === undefined || env.PGHOST === "") return undefined
  return {
    host: env.PGHOST,
    port: env.PGPORT === undefined ? undefined : Number(env.PGPORT),
    username: env.PGUSER,
    password: env.PGPASSWORD === undefined ? undefined : Redacted.make(env.PGPASSWORD),
    database: env.PGDATABASE,
    maxConnections: 4
  }
}

/** A fresh database on the server for one test, dropped with the scope. */
export const pgHarness = (server: PgClient.PgClientConfig): Harness =>
  Effect.gen(function* () {
    const name = `plumbline_t_${randomBytes(6).toString("hex")}`
    const admin = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
      Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(PgClient.layer({ ...server, maxConnections: 1 })))
    yield* Effect.acquireRelease(
      admin((sql) => sql.unsafe(`create database ${name}`)),
      () => admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`)).pipe(Effect.orDie)
    )
    const config = { ...server, database: name }
    const raw = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
      Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(PgClient.layer({ ...config, maxConnections: 1 })))
    const database: Database = {
      open: (keys: Keys) => PgStore.layer(config).pipe(Layer.provide(Keyring.layer(keys)), Layer.orDie),
      count: (table) =>
        raw((sql) => Effect.map(sql.unsafe<{ n: unknown }>(`select count(*) as n from ${table}`), (r) => Number(r[0]?.n))),
      exec: (statement) => raw((sql) => Effect.asVoid(sql.unsafe(statement))),
      // Every value of every connection row, as the server returns it (bytea as raw bytes).
      contents: raw((sql) =>
        Effect.map(sql.unsafe<Record<string, unknown>>("select * from plumbline_connections"), (rows) =>
          Buffer.concat(
            rows.flatMap((row) =>
              Object.values(row).map((v) => (Buffer.isBuffer(v) ? v : Buffer.from(String(v), "utf8")))
            )
          )
        )
      )
    }
    return database
  })

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
