/**
 * Store benchmark: a 100,000-record snapshot committed and read back on SQLite (and PostgreSQL
 * when PGHOST is set), and the bytes an unchanged snapshot adds. Prints the figures and writes
 * them to bench/results.json. Run: `pnpm bench` (or `node --import tsx bench/store.ts`).
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Credential, Store } from "@plumbline/core"
import { Effect, Either, Layer, Redacted } from "effect"
import * as Keyring from "../src/Keyring.js"
import * as PgStore from "../src/PgStore.js"
import * as SqliteStore from "../src/SqliteStore.js"
import * as Snapshots from "../test/fixtures/Snapshots.js"

const RECORDS = 100_000
const RUNS = 5
const UNCHANGED = 50
const keys = Either.getOrThrow(Keyring.parse(Keyring.generate("bench")))

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number) => Math.round(x * 10) / 10
const time = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function* () {
    const start = performance.now()
    const value = yield* effect
    return [performance.now() - start, value] as const
  })

/** Median commit and load times of a 100k-record snapshot: each run a new connection with all-new content. */
const timings = Effect.gen(function* () {
  const store = yield* Store.Store
  const commit: Array<number> = []
  const commitUnchanged: Array<number> = []
  const load: Array<number> = []
  for (let run = 0; run < RUNS; run++) {
    const connectionId = `bench-${run}`
    yield* store.createConnection({ id: connectionId, connectorId: "cloudflare", name: "Bench", credential: Credential.make("api_token", "t") })
    // Every record of the run is new to the store (a distinct revision), so the commit writes all of it.
    const content = { connectionId, records: RECORDS, changed: RECORDS, revision: run + 1 }
    const fresh = Snapshots.make({ ...content, at: 1_000_000 })
    commit.push((yield* time(store.commit({ snapshot: fresh, findings: [] })))[0])
    const unchanged = Snapshots.make({ ...content, at: 2_000_000 })
    commitUnchanged.push((yield* time(store.commit({ snapshot: unchanged, findings: [] })))[0])
    load.push((yield* time(store.latestSnapshot(connectionId)))[0])
  }
  return { commitMs: round(median(commit)), commitUnchangedMs: round(median(commitUnchanged)), loadMs: round(median(load)) }
})

/** Commits `count` snapshots of `connectionId` made by `make(i)`. */
const commitMany = (connectionId: string, count: number, make: (i: number) => Snapshots.Options) =>
  Effect.flatMap(Store.Store, (store) =>
    Effect.forEach(Array.from({ length: count }, (_, i) => i), (i) =>
      store.commit({ snapshot: Snapshots.make({ ...make(i), connectionId }), findings: [] })
    )
  )

const sqlite = Effect.gen(function* () {
  const dir = mkdtempSync(join(tmpdir(), "plumbline-bench-"))
  try {
    const filename = join(dir, "store.db")
    const open = SqliteStore.layer({ filename }).pipe(Layer.provide(Keyring.layer(keys)))
    const times = yield* Effect.provide(timings, open)
    // Bytes: the file after every connection closed (the WAL is checkpointed into it on close).
    const size = () => statSync(filename).size
    yield* Effect.provide(
      Effect.flatMap(Store.Store, (s) =>
        s.createConnection({ id: "bytes", connectorId: "cloudflare", name: "Bytes", credential: Credential.make("api_token", "t") })
      ),
      open
    )
    const empty = size()
    yield* Effect.provide(commitMany("bytes", 1, () => ({ connectionId: "bytes", records: RECORDS, at: 1 })), open)
    const first = size()
    yield* Effect.provide(commitMany("bytes", UNCHANGED, (i) => ({ connectionId: "bytes", records: RECORDS, at: 10 + i })), open)
    const unchanged = size()
    yield* Effect.provide(
      commitMany("bytes", UNCHANGED, (i) => ({ connectionId: "bytes", records: RECORDS, at: 1_000 + i, changed: 1, revision: i + 1 })),
      open
    )
    const oneChanged = size()
    return {
      ...times,
      firstSnapshotBytes: first - empty,
      bytesPerUnchangedSnapshot: Math.round((unchanged - first) / UNCHANGED),
      bytesPerSnapshotWithOneChangedRecord: Math.round((oneChanged - unchanged) / UNCHANGED)
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

const pg = (server: PgClient.PgClientConfig) =>
  Effect.gen(function* () {
    const name = `plumbline_bench_${Date.now()}`
    const admin = <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>) =>
      Effect.provide(Effect.flatMap(SqlClient.SqlClient, f), PgClient.layer(server))
    yield* admin((sql) => sql.unsafe(`create database ${name}`))
    try {
      const open = PgStore.layer({ ...server, database: name }).pipe(Layer.provide(Keyring.layer(keys)))
      const times = yield* Effect.provide(timings, open)
      const size = admin((sql) =>
        Effect.map(sql.unsafe<{ n: unknown }>(`select pg_database_size('${name}') as n`), (r) => Number(r[0]?.n))
      )
      yield* Effect.provide(
        Effect.flatMap(Store.Store, (s) =>
          s.createConnection({ id: "bytes", connectorId: "cloudflare", name: "Bytes", credential: Credential.make("api_token", "t") })
        ),
        open
      )
      yield* Effect.provide(commitMany("bytes", 1, () => ({ connectionId: "bytes", records: RECORDS, at: 1 })), open)
      const before = yield* size
      yield* Effect.provide(commitMany("bytes", UNCHANGED, (i) => ({ connectionId: "bytes", records: RECORDS, at: 10 + i })), open)
      const after = yield* size
      return { ...times, bytesPerUnchangedSnapshot: Math.round((after - before) / UNCHANGED) }
    } finally {
      yield* admin((sql) => sql.unsafe(`drop database if exists ${name} with (force)`))
    }
  })

const program = Effect.gen(function* () {
  const results: Record<string, unknown> = {
    records: RECORDS,
    runs: RUNS,
    node: process.version,
    sqlite: yield* sqlite
  }
  if (process.env.PGHOST !== undefined && process.env.PGHOST !== "") {
    results.postgresql = yield* pg({
      host: process.env.PGHOST,
      port: process.env.PGPORT === undefined ? undefined : Number(process.env.PGPORT),
      username: process.env.PGUSER,
      password: process.env.PGPASSWORD === undefined ? undefined : Redacted.make(process.env.PGPASSWORD),
      database: process.env.PGDATABASE
    })
  }
  return results
})

Effect.runPromise(program).then(
  (results) => {
    console.log(JSON.stringify(results, null, 2))
    writeFileSync(new URL("./results.json", import.meta.url), `${JSON.stringify(results, null, 2)}\n`)
  },
  (error: unknown) => {
    console.error(error)
    process.exit(1)
  }
)
