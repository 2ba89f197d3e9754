import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Effect, Layer } from "effect"
import * as Keyring from "../src/Keyring.js"
import * as SqliteStore from "../src/SqliteStore.js"
import { contract, type Database, type Harness, type Keys } from "./StoreContract.js"

/** A fresh database file in its own temporary directory, removed with the scope. */
export const sqliteHarness: Harness = Effect.gen(function* () {
  const dir = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "plumbline-store-"))),
    (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
  )
  const filename = join(dir, "store.db")
  const raw = <A>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
    Effect.flatMap(SqlClient.SqlClient, f).pipe(Effect.provide(SqliteClient.layer({ filename })))
  const database: Database = {
    open: (keys: Keys) => SqliteStore.layer({ filename }).pipe(Layer.provide(Keyring.layer(keys)), Layer.orDie),
    count: (table) => raw((sql) => Effect.map(sql.unsafe<{ n: number }>(`select count(*) as n from ${table}`), (r) => Number(r[0]?.n))),
    exec: (statement) => raw((sql) => Effect.asVoid(sql.unsafe(statement))),
    contents: Effect.sync(() =>
      Buffer.concat(
        [filename, `${filename}-wal`, `${filename}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f))
      )
    )
  }
  return database
})

contract("SQLite", sqliteHarness)
