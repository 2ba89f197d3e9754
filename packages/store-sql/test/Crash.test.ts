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

/**
 * Records the child commits: about 22 MB of new pages, more than SQLite's 16 MB page cache (the
 * better-sqlite3 default), so SQLite spills uncommitted pages into the write-ahead log before the
 * child stops, and the crash leaves them on disk for recovery to discard.
 */
const CHILD_RECORDS = 100_000

interface Child {
  /** Resolves true when the child printed `writing` (it is then holding its commit open), false if it exited first. */
  readonly writing: Promise<boolean>
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  readonly output: () => string
  readonly kill: () => void
}

/** Starts the child committing with `--hold`; closing the scope kills it if it still runs. */
const startChild = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "test/fixtures/commit-large.ts", "c1", String(CHILD_RECORDS), "5000000", "--hold"],
        { env: { ...process.env, ...env, PLUMBLINE_STORE_KEYS: keySpec }, stdio: ["ignore", "pipe", "pipe"] }
      )
      let out = ""
      // "close", not "exit": by then all of the child's output has been read.
      const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.on("close", (code, signal) => resolve({ code, signal }))
      )
      const writing = new Promise<boolean>((resolve) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString()
          if (out.includes("writing\n")) resolve(true)
        })
        void exit.then(() => resolve(false))
      })
      child.stderr.on("data", (d: Buffer) => (out += d.toString()))
      return { writing, exit, output: () => out, kill: () => child.kill("SIGKILL") }
    }),
    (child) =>
      Effect.promise(() => {
        child.kill()
        return child.exit
      })
  )

/**
 * Commits a complete snapshot, then lets a child process commit a larger one and kills it with
 * SIGKILL while it holds that commit open: chunks, manifests and the snapshot row written, result
 * rows not yet. The store must open again, still hold the first snapshot as the latest, intact,
 * and accept new commits. A store whose commit was not one transaction would show the child's
 * snapshot row (newer than the first) as the latest, without its results.
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
      const child = yield* startChild(db.env)
      // An event, not a deadline: the child says when it is holding its commit open mid-write.
      const reached = yield* Effect.promise(() => child.writing)
      assert.isTrue(reached, `the child exited before it started writing: ${child.output()}`)
      assert.isTrue(yield* db.writeInProgress, "the child holds no open write transaction")
      child.kill()
      const exit = yield* Effect.promise(() => child.exit)
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

/**
 * Each test builds and commits 20,000 records, has a child process start up (tsx) and build
 * 100,000 more, then reopens the store and commits again: about 5 s alone, but several times that
 * when `turbo run build typecheck lint test` shares two cores between all packages. Nothing in it
 * waits on time, so this bound only catches a hang; it is generous on purpose.
 */
const HEAVY_TIMEOUT = 180_000

describe("Crash safety", () => {
  it.live("SQLite: a process killed mid-commit leaves the previous snapshot intact and the store writable", () =>
    survivesKill(sqliteHarness), HEAVY_TIMEOUT
  )
  const server = pgConfig()
  it.live.skipIf(server === undefined)(
    "PostgreSQL: a process killed mid-commit leaves the previous snapshot intact and the store writable",
    () => survivesKill(pgHarness(server!)),
    HEAVY_TIMEOUT
  )
})
