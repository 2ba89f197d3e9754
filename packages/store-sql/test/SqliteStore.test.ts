import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as SqliteStore from "../src/SqliteStore.js"
import { sqliteHarness } from "./fixtures/Databases.js"
import { contract } from "./StoreContract.js"

contract("SQLite", sqliteHarness)

describe("SqliteStore.configureConnection", () => {
  /** The three pragmas as a fresh client on a new file reports them, after `setup`. */
  const pragmasAfter = <E>(setup: Effect.Effect<void, E, SqlClient.SqlClient>) =>
    Effect.gen(function* () {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "plumbline-pragmas-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      return yield* Effect.gen(function* () {
        yield* setup
        const sql = yield* SqlClient.SqlClient
        const one = (pragma: string) => Effect.map(sql.unsafe<Record<string, unknown>>(`pragma ${pragma}`), (rows) => Number(Object.values(rows[0] ?? {})[0]))
        return {
          foreignKeys: yield* one("foreign_keys"),
          busyTimeout: yield* one("busy_timeout"),
          synchronous: yield* one("synchronous")
        }
      }).pipe(Effect.provide(SqliteClient.layer({ filename: join(directory, "pragmas.db") })))
    })

  it.scopedLive("sets foreign keys on, the busy timeout (5 s by default) and synchronous = normal", () =>
    Effect.gen(function* () {
      // synchronous: 1 is NORMAL (2 is FULL, SQLite's default).
      assert.deepStrictEqual(yield* pragmasAfter(SqliteStore.configureConnection()), {
        foreignKeys: 1,
        busyTimeout: 5000,
        synchronous: 1
      })
      assert.deepStrictEqual(yield* pragmasAfter(SqliteStore.configureConnection({ busyTimeout: "250 millis" })), {
        foreignKeys: 1,
        busyTimeout: 250,
        synchronous: 1
      })
    })
  )
})
