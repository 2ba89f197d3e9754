import { assert, it } from "@effect/vitest"
import { Store } from "@plumbline/core"
import { Keyring } from "@plumbline/store-sql"
import { Context, Deferred, Duration, Effect, Either, Layer, Redacted } from "effect"
import type { Database } from "../src/Db.js"
import * as Scheduler from "../src/Scheduler.js"
import * as Fake from "./fixtures/FakeProvider.js"
import { describeWithPostgres, freshDatabase } from "./fixtures/Postgres.js"

/** One "process": its own pool, provider, webhooks and scheduler on the shared database. */
const process = (database: Database, s: Fake.FakeState, keys: string, instance: string) =>
  Effect.map(
    Layer.build(
      Layer.provideMerge(
        Scheduler.layer({ ...Fake.schedulerSettings, instance, concurrency: 1, lease: Duration.seconds(2), pollEvery: Duration.millis(100) }),
        Fake.servicesOn(database, s, keys)
      )
    ),
    (context) => ({ scheduler: Context.get(context, Scheduler.Scheduler), store: Context.get(context, Store.Store) })
  )

describeWithPostgres("Scheduler on a shared database", (server) => {
  it.live("answers a re-check asked of a busy process with the run another process made", () =>
    Effect.gen(function* () {
      const { url } = yield* freshDatabase(server)
      const database: Database = { _tag: "pg", url: Redacted.make(url) }
      const keys = Keyring.generate("k1")
      const busy = Fake.state()
      busy.latch = yield* Deferred.make<void>()
      const b = yield* process(database, busy, keys, "b")
      // b's only slot is taken by a run that waits on the latch.
      const first = yield* b.store.createConnection({ connectorId: "fake", name: "first", credential: Fake.credential })
      yield* b.scheduler.add(first.id)
      yield* Fake.entered(busy)
      yield* b.scheduler.settled(1)

      const idle = Fake.state()
      const a = yield* process(database, idle, keys, "a")
      const second = yield* a.store.createConnection({ connectorId: "fake", name: "second", credential: Fake.credential })
      // Answered by polling the shared schedule (nothing tells b when a runs it): no deadline but the test's.
      const result = yield* b.scheduler.recheckAndWait(second.id)
      assert.isTrue(Either.isRight(result) && result.right._tag === "Committed", JSON.stringify(result))
      assert.strictEqual(idle.runs, 1, "the idle process ran it")
      assert.strictEqual(busy.runs, 1, "the busy process ran only its first connection")
      const schedule = yield* a.scheduler.schedule(first.id)
      assert.isTrue(schedule._tag === "Some" && schedule.value.running && schedule.value.owner === "b", "b still holds its lease")
      yield* Deferred.succeed(busy.latch, undefined)
    }).pipe(Effect.scoped),
    60_000
  )
})
