import { spawn } from "node:child_process"
import { assert, describe, it } from "@effect/vitest"
import { Credential, Snapshot, Store } from "@plumbline/core"
import { Effect, Either, Option } from "effect"
import * as Keyring from "../src/Keyring.js"
import { pgConfig, pgHarness, sqliteHarness } from "./fixtures/Databases.js"
import * as Snapshots from "./fixtures/Snapshots.js"
import type { Harness } from "./StoreContract.js"

const keySpec = Keyring.generate("crash")
const keys = Either.getOrThrow(Keyring.parse(keySpec))

interface Child {
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly output: () => string
  readonly kill: () => void
}

const startChild = (env: Record<string, string>, records: number): Child => {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/fixtures/commit-large.ts", "c1", String(records), "5000000"],
    { env: { ...process.env, ...env, PLUMBLINE_STORE_KEYS: keySpec }, stdio: ["ignore", "pipe", "pipe"] }
  )
  let out = ""
  child.stdout.on("data", (d: Buffer) => (out += d.toString()))
  child.stderr.on("data", (d: Buffer) => (out += d.toString()))
  return {
    exit: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    output: () => out,
    kill: () => child.kill("SIGKILL")
  }
}

/**
 * Commits a complete snapshot, then lets a child process commit a much larger one and kills it
 * with SIGKILL while that commit is being written. The store must open again, still hold the
 * first snapshot as the latest, intact, and accept new commits.
 */
const survivesKill = (harness: Harness) =>
  Effect.scoped(
    Effect.gen(function* () {
      const db = yield* harness
      const first = Snapshots.make({ connectionId: "c1", records: 20_000, at: 1_000_000 })
      const firstId = yield* Effect.flatMap(Store.Store, (store) =>
        Effect.zipRight(
          store.createConnection({ id: "c1", connectorId: "cloudflare", name: "Acme", credential: Credential.make("api_token", "t") }),
          store.commit({ snapshot: first, findings: [] })
        )
      ).pipe(Effect.provide(db.open(keys)))

      assert.isFalse(yield* db.writeInProgress)
      const child = startChild(db.env, 200_000)
      let killed = false
      const deadline = Date.now() + 30_000
      while (!killed && Date.now() < deadline) {
        if (child.output().includes("committed") || child.output().includes("Error")) break
        if (yield* db.writeInProgress) {
          child.kill()
          killed = true
        } else {
          yield* Effect.sleep(5)
        }
      }
      const exit = yield* Effect.promise(() => child.exit)
      assert.isTrue(killed, `the child was not caught mid-write: ${child.output()}`)
      assert.strictEqual(exit.signal, "SIGKILL")
      assert.include(child.output(), "writing")
      assert.notInclude(child.output(), "committed")

      yield* Effect.flatMap(Store.Store, (store) =>
        Effect.gen(function* () {
          const latest = Option.getOrThrow(yield* store.latestSnapshot("c1"))
          assert.strictEqual(latest.id, firstId)
          assert.strictEqual(Snapshot.toJson(latest.snapshot), Snapshot.toJson(first))
          assert.strictEqual((yield* store.listSnapshots("c1")).items.length, 1)
          const next = Snapshots.make({ connectionId: "c1", records: 20_000, at: 6_000_000, changed: 100, revision: 1 })
          const nextId = yield* store.commit({ snapshot: next, findings: [] })
          assert.strictEqual(Option.getOrThrow(yield* store.latestSnapshot("c1")).id, nextId)
        })
      ).pipe(Effect.provide(db.open(keys)))
      assert.strictEqual(yield* db.count("plumbline_snapshots"), 2)
    })
  )

describe("Crash safety", () => {
  it.live("SQLite: a process killed mid-commit leaves the previous snapshot intact and the store writable", () =>
    survivesKill(sqliteHarness)
  )
  const server = pgConfig()
  it.live.skipIf(server === undefined)(
    "PostgreSQL: a process killed mid-commit leaves the previous snapshot intact and the store writable",
    () => survivesKill(pgHarness(server!))
  )
})
