/**
 * Issue #16, careless and hostile tokens, zones and floods against the real server (on a SQLite file,
 * with the Cloudflare simulator): a token no Cloudflare token could be is refused at once with no
 * request sent; surrounding whitespace is trimmed, and the answer says so.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

/** The app on a temp folder against the simulator. */
const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { sim, baseUrl } = yield* Harness.simulator
  const started = yield* Main.start(Harness.config(dir, baseUrl))
  return { sim, api: Harness.client(started.baseUrl) }
})

const sent = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0)

describe("HostileTokens", () => {
  it.scopedLive("refuses a token with invisible or illegal characters at once, naming the position, sending nothing", () =>
    Effect.gen(function* () {
      const { sim, api } = yield* app
      const token = sim.tokens["scoped"]!
      const hostile: ReadonlyArray<readonly [string, number]> = [
        [`${token.slice(0, 4)}\u200b${token.slice(4)}`, 5], // zero-width space
        [`\u201c${token}\u201d`, 1], // curly quotes
        [`${token.slice(0, 6)}\u0000${token.slice(6)}`, 7], // NUL
        [`${token}\u007f`, token.length + 1], // DEL
        [`${token.slice(0, 3)}\ud800${token.slice(3)}`, 4] // a lone surrogate
      ]
      for (const [raw, position] of hostile) {
        const message = `token: the token contains characters a Cloudflare token never has (position ${position})`
        for (const [method, path] of [
          ["POST", "/api/connections/verify"],
          ["POST", "/api/connections"]
        ] as const) {
          const refused = yield* api.call(method, path, { name: "Redpine", token: raw })
          assert.strictEqual(refused.status, 400, `${path}: ${JSON.stringify(refused.body)}`)
          assert.deepStrictEqual(refused.body, { _tag: "BadRequest", message })
        }
      }
      // Whitespace inside is refused by the payload's schema, as before.
      const spaced = yield* api.call("POST", "/api/connections/verify", { token: `${token.slice(0, 8)}\u00a0${token.slice(8)}` })
      assert.strictEqual(spaced.status, 400)
      assert.include(spaced.body.message, "token: expected a non-empty token without spaces")
      assert.strictEqual(sent(sim.requestCounts()), 0, "no request reached the provider")
      const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token })
      assert.strictEqual(created.status, 201)
      // Its first snapshot done, nothing else is sent until the next interval (an hour).
      const first = yield* api.call("POST", `/api/connections/${created.body.id}/recheck?wait=true`)
      assert.strictEqual(first.body.outcome, "committed")
      const before = sent(sim.requestCounts())
      const replaced = yield* api.call("PUT", `/api/connections/${created.body.id}/credential`, { token: `\u2018${token}` })
      assert.strictEqual(replaced.status, 400)
      assert.deepStrictEqual(replaced.body, {
        _tag: "BadRequest",
        message: "token: the token contains characters a Cloudflare token never has (position 1)"
      })
      assert.strictEqual(sent(sim.requestCounts()), before, "the replacement sent no request")
      for (const body of api.bodies) assert.notInclude(body, token.slice(0, 12))
    })
  )

  it.scopedLive("trims whitespace around a pasted token and says so", () =>
    Effect.gen(function* () {
      const { sim, api } = yield* app
      const token = sim.tokens["scoped"]!
      const verified = yield* api.call("POST", "/api/connections/verify", { token: `  ${token}\n` })
      assert.strictEqual(verified.status, 200, JSON.stringify(verified.body))
      assert.deepStrictEqual(verified.body.notes, ["whitespace around the token was removed"])
      const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token: `${token}\t` })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body))
      assert.deepStrictEqual(created.body.notes, ["whitespace around the token was removed"])
      const plain = yield* api.call("PUT", `/api/connections/${created.body.id}/credential`, { token })
      assert.strictEqual(plain.status, 200, JSON.stringify(plain.body))
      assert.isUndefined(plain.body.notes)
      const listed = yield* api.call("GET", `/api/connections/${created.body.id}`)
      assert.isUndefined(listed.body.notes)
    })
  )

  it.scopedLive("PATCH and a credential replacement refuse zones the token cannot see, naming them", () =>
    Effect.gen(function* () {
      const { sim, api } = yield* app
      const all = yield* api.call("POST", "/api/connections/verify", { token: sim.tokens["account"] })
      const zoneId = (name: string): string => all.body.zones.find((z: { name: string }) => z.name === name).id
      const [io, dev] = [zoneId("redpine.io"), zoneId("redpine.dev")]

      const scoped = yield* api.call("POST", "/api/connections", { name: "Scoped", token: sim.tokens["scoped"] })
      assert.strictEqual(scoped.status, 201, JSON.stringify(scoped.body))
      const patched = yield* api.call("PATCH", `/api/connections/${scoped.body.id}`, { zones: [io, dev, "nope"] })
      assert.strictEqual(patched.status, 400, JSON.stringify(patched.body))
      assert.deepStrictEqual(patched.body, { _tag: "BadRequest", message: `zones: the token cannot see ${dev}, nope` })
      const unchanged = yield* api.call("GET", `/api/connections/${scoped.body.id}`)
      assert.isNull(unchanged.body.zones)
      const visible = yield* api.call("PATCH", `/api/connections/${scoped.body.id}`, { zones: [io] })
      assert.strictEqual(visible.status, 200, JSON.stringify(visible.body))
      assert.deepStrictEqual(visible.body.zones, [io])

      const both = yield* api.call("POST", "/api/connections", { name: "Both", token: sim.tokens["account"], zones: [io, dev] })
      assert.strictEqual(both.status, 201, JSON.stringify(both.body))
      const narrower = yield* api.call("PUT", `/api/connections/${both.body.id}/credential`, { token: sim.tokens["scoped"] })
      assert.strictEqual(narrower.status, 400, JSON.stringify(narrower.body))
      assert.deepStrictEqual(narrower.body, { _tag: "BadRequest", message: `zones: the new token cannot see ${dev}` })
      const kept = yield* api.call("GET", `/api/connections/${both.body.id}`)
      assert.strictEqual(kept.body.credentialFingerprint, both.body.credentialFingerprint)
    })
  )
})
