import * as SqlClient from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { join } from "node:path"
import { Effect, Layer } from "effect"
import * as ConnectionState from "../src/ConnectionState.js"
import * as Db from "../src/Db.js"
import * as Harness from "./fixtures/Harness.js"

const withDatabase = <A, E>(body: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.flatMap(Harness.tempDir, (dir) => Effect.provide(body, Layer.orDie(Db.layer({ _tag: "sqlite", filename: join(dir, "state.db") })))).pipe(
    Effect.scoped
  )

describe("ConnectionState", () => {
  it.effect("keeps an alert, the last run and the failures; a success clears a failing alert", () =>
    withDatabase(
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* ConnectionState.get("c1"), { alert: null, lastRunAt: null, lastError: null, failures: 0 })
        assert.strictEqual(yield* ConnectionState.failed("c1", 1_000, "down"), 1)
        assert.strictEqual(yield* ConnectionState.failed("c1", 2_000, "down"), 2)
        yield* ConnectionState.raise("c1", "failing", "down", 2_000)
        yield* ConnectionState.raise("c1", "failing", "still down", 3_000)
        const failing = yield* ConnectionState.get("c1")
        assert.deepStrictEqual(
          { ...failing, alert: failing.alert === null ? null : { ...failing.alert } },
          {
            alert: { kind: "failing", since: new Date(2_000).toISOString(), message: "still down" },
            lastRunAt: new Date(2_000).toISOString(),
            lastError: "down",
            failures: 2
          }
        )
        yield* ConnectionState.succeeded("c1", 4_000)
        assert.deepStrictEqual(yield* ConnectionState.get("c1"), { alert: null, lastRunAt: new Date(4_000).toISOString(), lastError: null, failures: 0 })
      })
    )
  )

  it.effect("a stored state that does not decode is a corrupt failure, not a wrong alert", () =>
    withDatabase(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* ConnectionState.raise("c1", "credential_expired", "revoked", 1_000)
        yield* sql`update drift_monitor_connection_state set alert = 'on_fire' where connection_id = 'c1'`
        const error = yield* Effect.flip(ConnectionState.get("c1"))
        assert.strictEqual(error._tag, "ConnectionStateError")
        assert.strictEqual(error._tag === "ConnectionStateError" && error.reason, "corrupt")
        assert.include(error.message, "alert")
        assert.notInclude(error.message, "on_fire", "the stored value is not quoted")
      })
    )
  )
})
