import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { layer, program } from "../examples/quickstart.js"

describe("Examples", () => {
  it.scopedLive("runs the README quick start with the documented results", () =>
    Effect.gen(function* () {
      const directory = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "plumbline-example-"))),
        (d) => Effect.sync(() => rmSync(d, { recursive: true, force: true }))
      )
      const result = yield* Effect.provide(program, layer(directory))
      assert.strictEqual(result.connection.status, "active")
      assert.match(result.connection.fingerprint, /^[0-9a-f]{16}$/)
      assert.isTrue(result.latestIsCommitted)
      assert.deepStrictEqual(result.drift, ["changed dns_records www zone:023e105f"])
      assert.deepStrictEqual(result.findings, ["fail"])
      assert.isTrue(result.secretRoundTrips)
    })
  )
})
