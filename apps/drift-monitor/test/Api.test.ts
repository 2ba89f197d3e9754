import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { Api } from "../src/Api.js"
import { databaseFile } from "../src/Config.js"
import * as Main from "../src/Main.js"
import * as Harness from "./fixtures/Harness.js"

/** The app on a temp folder against the simulator. */
const app = Effect.gen(function* () {
  const dir = yield* Harness.tempDir
  const { sim, baseUrl, origin } = yield* Harness.simulator
  const config = Harness.config(dir, baseUrl)
  const started = yield* Main.start(config)
  return { sim, origin, config, started, api: Harness.client(started.baseUrl) }
})

/** A connection to redpine.io with the scoped token, its first snapshot committed. */
const connected = (api: ReturnType<typeof Harness.client>, token: string) =>
  Effect.gen(function* () {
    const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token })
    assert.strictEqual(created.status, 201, JSON.stringify(created.body))
    const id: string = created.body.id
    const first = yield* api.call("POST", `/api/connections/${id}/recheck?wait=true`)
    assert.strictEqual(first.body.outcome, "committed")
    return id
  })

const raw = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    return { status: response.status, type: response.headers.get("content-type") ?? "", text: await response.text() }
  })

describe("Api", () => {
  it.scopedLive("requires the API key as a bearer token or x-api-key, except for health", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const none = yield* raw(`${started.baseUrl}/api/connections`)
      assert.strictEqual(none.status, 401)
      assert.include(JSON.parse(none.text).message, "API key")
      const wrong = yield* raw(`${started.baseUrl}/api/connections`, { headers: { authorization: "Bearer nope" } })
      assert.strictEqual(wrong.status, 401)
      const header = yield* raw(`${started.baseUrl}/api/connections`, { headers: { "x-api-key": "test-api-key-0123456789" } })
      assert.strictEqual(header.status, 200)
      assert.strictEqual(header.text, "[]")
      const health = yield* raw(`${started.baseUrl}/api/health`)
      assert.strictEqual(health.status, 200)
    })
  )

  it.scopedLive("serves its OpenAPI description with every group and both security schemes", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const spec = yield* raw(`${started.baseUrl}/api/openapi.json`)
      assert.strictEqual(spec.status, 200)
      const doc = JSON.parse(spec.text) as { paths: Record<string, unknown>; components: { securitySchemes: Record<string, unknown> } }
      for (const path of [
        "/api/connections",
        "/api/connections/verify",
        "/api/connections/{id}/credential",
        "/api/connections/{id}/recheck",
        "/api/connections/{id}/checklist",
        "/api/connections/{id}/snapshots/latest",
        "/api/drift-events",
        "/api/webhooks",
        "/api/webhooks/deliveries",
        "/api/events"
      ]) {
        assert.property(doc.paths, path)
      }
      // The API key (bearer or x-api-key), and the connect session token of the headless /connect/api routes.
      assert.hasAllKeys(doc.components.securitySchemes, ["bearer", "apiKey", "connectSession"])
      assert.notInclude(spec.text, '"token":{"type":"string"')
    })
  )

  it.scopedLive("answers bad input with a 4xx and a clear message, without echoing a token", () =>
    Effect.gen(function* () {
      const { api, sim, started } = yield* app
      const missing = yield* api.call("POST", "/api/connections", { name: "x" })
      assert.strictEqual(missing.status, 400)
      assert.include(missing.body.message, "token")

      const spaced = `${sim.tokens["scoped"]} extra`
      const malformed = yield* api.call("POST", "/api/connections/verify", { token: spaced })
      assert.strictEqual(malformed.status, 400)
      assert.include(malformed.body.message, "token: expected a non-empty token without spaces")
      assert.notInclude(JSON.stringify(malformed.body), sim.tokens["scoped"] as string)

      // A token sent as the wrong type, or as a bare body, is not quoted back either.
      const asArray = yield* api.call("POST", "/api/connections/verify", { token: [sim.tokens["scoped"]] })
      assert.strictEqual(asArray.status, 400)
      assert.include(asArray.body.message, "token")
      const asText = yield* raw(`${started.baseUrl}/api/connections/verify`, {
        method: "POST",
        headers: { "x-api-key": "test-api-key-0123456789", "content-type": "text/plain" },
        body: sim.tokens["scoped"] as string
      })
      assert.strictEqual(asText.status, 400)
      for (const text of [JSON.stringify(asArray.body), asText.text]) assert.notInclude(text, sim.tokens["scoped"] as string)

      const unknownZone = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["scoped"], zones: ["nope"] })
      assert.strictEqual(unknownZone.status, 400)
      assert.strictEqual(unknownZone.body.message, "zones: the token cannot see nope")

      const interval = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["scoped"], intervalSeconds: 5 })
      assert.strictEqual(interval.status, 400)

      const revoked = yield* api.call("POST", "/api/connections", { name: "x", token: sim.tokens["revoked"] })
      assert.strictEqual(revoked.status, 422)
      assert.include(revoked.body.message, "credential")
      assert.notInclude(JSON.stringify(revoked.body), sim.tokens["revoked"] as string)

      const notFound = yield* api.call("GET", "/api/connections/does-not-exist")
      assert.strictEqual(notFound.status, 404)
      assert.strictEqual(notFound.body._tag, "NotFound")
      assert.include(notFound.body.message, "does-not-exist")

      const cursor = yield* api.call("GET", "/api/drift-events?cursor=garbage")
      assert.strictEqual(cursor.status, 400)
      const limit = yield* api.call("GET", "/api/drift-events?limit=0")
      assert.strictEqual(limit.status, 400)
      const url = yield* api.call("POST", "/api/webhooks", { url: "not a url" })
      assert.strictEqual(url.status, 400)
      assert.include(url.body.message, "url")
      const types = yield* api.call("POST", "/api/webhooks", { url: "https://x.example", eventTypes: ["nope"] })
      assert.strictEqual(types.status, 400)
    })
  )

  it.scopedLive("serves the dashboard at / and unknown API paths as JSON 404s", () =>
    Effect.gen(function* () {
      const { started } = yield* app
      const index = yield* raw(`${started.baseUrl}/`)
      assert.strictEqual(index.status, 200)
      assert.include(index.type, "text/html")
      assert.include(index.text, "drift monitor")
      const deep = yield* raw(`${started.baseUrl}/connections/123`)
      assert.include(deep.text, "drift monitor")
      const escape = yield* raw(`${started.baseUrl}/..%2f..%2fpackage.json`)
      assert.notInclude(escape.text, "@plumbline/drift-monitor")
      const api = yield* raw(`${started.baseUrl}/api/nope`, { headers: { "x-api-key": "test-api-key-0123456789" } })
      assert.strictEqual(api.status, 404)
    })
  )

  it.scopedLive("streams snapshot progress and status changes as Server-Sent Events", () =>
    Effect.gen(function* () {
      const { started, api, sim } = yield* app
      const controller = new AbortController()
      yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
      const unauthorized = yield* raw(`${started.baseUrl}/api/stream`)
      assert.strictEqual(unauthorized.status, 401)
      const response = yield* Effect.promise(() =>
        fetch(`${started.baseUrl}/api/stream?access_token=test-api-key-0123456789`, { signal: controller.signal })
      )
      assert.strictEqual(response.headers.get("content-type"), "text/event-stream")
      const reader = (response.body as ReadableStream<Uint8Array>).getReader()
      const created = yield* api.call("POST", "/api/connections", { name: "Redpine", token: sim.tokens["scoped"] })
      assert.strictEqual(created.status, 201)
      const text = yield* Effect.promise(async () => {
        let text = ""
        const decoder = new TextDecoder()
        while (!text.includes("event: snapshot.finished")) {
          const { done, value } = await reader.read()
          if (done) break
          text += decoder.decode(value)
        }
        return text
      })
      assert.include(text, "event: snapshot.started")
      assert.include(text, "event: progress")
      assert.include(text, '"_tag":"ResourceFinished"')
      assert.include(text, '"outcome":"committed"')
      assert.notInclude(text, sim.tokens["scoped"] as string)
    })
  )

  it.scopedLive("is usable as a typed HttpApiClient (what the CLI builds on)", () =>
    Effect.gen(function* () {
      const { started, sim } = yield* app
      const client = yield* HttpApiClient.make(Api, {
        baseUrl: started.baseUrl,
        transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken("test-api-key-0123456789"))
      })
      const verification = yield* client.connections.verify({ payload: { token: sim.tokens["scoped"] as string } })
      assert.deepStrictEqual(verification.zones.map((z) => z.name), ["redpine.io"])
      const connection = yield* client.connections.create({ payload: { name: "Redpine", token: sim.tokens["scoped"] as string } })
      assert.strictEqual(connection.status, "active")
      const missing = yield* Effect.flip(client.connections.get({ path: { id: "nope" } }))
      assert.strictEqual(missing._tag, "NotFound")
    }).pipe(Effect.provide(FetchHttpClient.layer))
  )

  it.live(
    "shuts down even with an event stream open (a server waiting for the client would never close: the test's timeout fails it)",
    () =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const { started } = yield* app.pipe(Scope.extend(scope))
        const controller = new AbortController()
        yield* Effect.addFinalizer(() => Effect.sync(() => controller.abort()))
        const response = yield* Effect.promise(() =>
          fetch(`${started.baseUrl}/api/stream?access_token=test-api-key-0123456789`, { signal: controller.signal })
        )
        assert.strictEqual(response.status, 200)
        // The client keeps the stream open throughout: closing must not wait for it.
        const closed = yield* Effect.exit(Scope.close(scope, Exit.void))
        assert.isTrue(Exit.isSuccess(closed), "the server closed without waiting for the stream's client")
      }).pipe(Effect.scoped),
    30_000
  )

  it.scopedLive("PATCH renames, sets and resets the interval, pauses and resumes; an expired credential is resumed only by a new token", () =>
    Effect.gen(function* () {
      const { api, sim } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)

      const renamed = yield* api.call("PATCH", `/api/connections/${id}`, { name: "Redpine EU", intervalSeconds: 120 })
      assert.strictEqual(renamed.status, 200)
      assert.strictEqual(renamed.body.name, "Redpine EU")
      assert.strictEqual(renamed.body.intervalSeconds, 120)
      const reset = yield* api.call("PATCH", `/api/connections/${id}`, { intervalSeconds: null })
      assert.strictEqual(reset.body.intervalSeconds, 3600, "the default again")
      assert.strictEqual(reset.body.name, "Redpine EU")

      const paused = yield* api.call("PATCH", `/api/connections/${id}`, { paused: true })
      assert.strictEqual(paused.status, 200)
      assert.strictEqual(paused.body.status, "paused")
      const queued = yield* api.call("POST", `/api/connections/${id}/recheck`)
      assert.strictEqual(queued.body.outcome, "paused")
      const resumed = yield* api.call("PATCH", `/api/connections/${id}`, { paused: false })
      assert.strictEqual(resumed.body.status, "active")
      assert.isNotNull(resumed.body.schedule.nextRunAt, "re-checked: due now")

      sim.revokeToken("scoped")
      const expired = yield* api.call("POST", `/api/connections/${id}/recheck?wait=true`)
      assert.strictEqual(expired.body.outcome, "credential_expired")
      const refused = yield* api.call("PATCH", `/api/connections/${id}`, { paused: false })
      assert.strictEqual(refused.status, 400)
      assert.strictEqual(refused.body._tag, "BadRequest")
      assert.include(refused.body.message, "supply a new token with PUT /connections/{id}/credential")
      const stillExpired = yield* api.call("PATCH", `/api/connections/${id}`, { paused: true })
      assert.strictEqual(stillExpired.status, 200)
      assert.strictEqual(stillExpired.body.status, "credential_expired")
      assert.strictEqual(stillExpired.body.alert.kind, "credential_expired")
      const missing = yield* api.call("PATCH", "/api/connections/nope", { paused: true })
      assert.strictEqual(missing.status, 404)
    })
  )

  it.scopedLive("shows each connection's change detection and the kind of each snapshot; PATCH sets the slower cadence", () =>
    Effect.gen(function* () {
      const { api, sim } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)
      const got = yield* api.call("GET", `/api/connections/${id}`)
      assert.strictEqual(got.body.changeDetection.missedByFeed, 0)
      assert.include(["audit_log", "probes", "full"], got.body.changeDetection.mode)
      assert.strictEqual(got.body.changeDetection.slowCadenceSeconds, 3600, "the default")
      assert.isNotNull(got.body.changeDetection.lastFullAt, "the first snapshot is full")
      const listed = yield* api.call("GET", `/api/connections/${id}/snapshots`)
      // Newest first: the first snapshot is full; scheduled ones may be incremental once the feed
      // has a position; a requested re-check reads everything.
      const kinds: Array<string> = listed.body.items.map((s: { kind: string }) => s.kind)
      assert.isAbove(kinds.length, 0)
      assert.strictEqual(kinds[kinds.length - 1], "full", kinds.join())
      assert.isTrue(kinds.every((kind) => kind === "full" || kind === "incremental"), kinds.join())
      const rechecked = yield* api.call("POST", `/api/connections/${id}/recheck?wait=true`)
      assert.strictEqual(rechecked.status, 200, JSON.stringify(rechecked.body))
      const latest = yield* api.call("GET", `/api/connections/${id}/snapshots/latest`)
      assert.strictEqual(latest.body.kind, "full")
      assert.isTrue(latest.body.results.every((r: { obtained: string; carriedFrom: string | null }) => r.obtained === "read" && r.carriedFrom === null))
      const set = yield* api.call("PATCH", `/api/connections/${id}`, { slowCadenceSeconds: 600 })
      assert.strictEqual(set.body.changeDetection.slowCadenceSeconds, 600)
      const reset = yield* api.call("PATCH", `/api/connections/${id}`, { slowCadenceSeconds: null })
      assert.strictEqual(reset.body.changeDetection.slowCadenceSeconds, 3600)
      const tooShort = yield* api.call("PATCH", `/api/connections/${id}`, { slowCadenceSeconds: 5 })
      assert.strictEqual(tooShort.status, 400)
    })
  )

  it.scopedLive("DELETE removes a connection and everything stored for it", () =>
    Effect.gen(function* () {
      const { api, sim } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)
      const deleted = yield* api.call("DELETE", `/api/connections/${id}`)
      assert.strictEqual(deleted.status, 204)
      for (const path of [`/api/connections/${id}`, `/api/connections/${id}/snapshots`, `/api/connections/${id}/checklist`]) {
        const gone = yield* api.call("GET", path)
        assert.strictEqual(gone.status, 404, path)
      }
      const list = yield* api.call("GET", "/api/connections")
      assert.deepStrictEqual(list.body, [])
      const again = yield* api.call("DELETE", `/api/connections/${id}`)
      assert.strictEqual(again.status, 404)
    })
  )

  it.scopedLive("GET …/snapshots/latest/records gives one resource's records in one scope; 404 for one the snapshot lacks", () =>
    Effect.gen(function* () {
      const { api, sim } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)
      const latest = yield* api.call("GET", `/api/connections/${id}/snapshots/latest`)
      const result = (latest.body.results as Array<{ resource: string; scope: string; status: string; records: number }>).find(
        (r) => r.status === "ok" && r.records > 0
      )
      assert.isDefined(result)
      const query = `resource=${encodeURIComponent(result?.resource ?? "")}&scope=${encodeURIComponent(result?.scope ?? "")}`
      const records = yield* api.call("GET", `/api/connections/${id}/snapshots/latest/records?${query}`)
      assert.strictEqual(records.status, 200)
      assert.strictEqual(records.body.snapshotId, latest.body.id)
      assert.strictEqual(records.body.resource, result?.resource)
      assert.strictEqual(records.body.scope, result?.scope)
      assert.strictEqual(records.body.status, "ok")
      assert.strictEqual(records.body.records.length, result?.records)
      for (const record of records.body.records) assert.isString(record.key)
      const unknown = yield* api.call("GET", `/api/connections/${id}/snapshots/latest/records?resource=nope&scope=${encodeURIComponent(result?.scope ?? "")}`)
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body.message, `the latest snapshot has no nope in ${result?.scope}`)
      const noScope = yield* api.call("GET", `/api/connections/${id}/snapshots/latest/records?resource=zones`)
      assert.strictEqual(noScope.status, 400, "scope is required")
    })
  )

  it.scopedLive("GET …/findings/{checkId}/history lists every verdict of a check, oldest first", () =>
    Effect.gen(function* () {
      const { api, sim } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)
      const checklist = yield* api.call("GET", `/api/connections/${id}/checklist`)
      const item = checklist.body.items[0] as { checkId: string; scope: string; status: string }
      const path = `/api/connections/${id}/findings/${encodeURIComponent(item.checkId)}/history?scope=${encodeURIComponent(item.scope)}`
      type Verdict = { snapshotId: string; scope: string; status: string; evaluatedAt: string }
      const first = yield* api.call("GET", path)
      assert.strictEqual(first.status, 200)
      const before = first.body as Array<Verdict>
      // One verdict per snapshot so far (the first, and the re-check's if it ran again), the latest last.
      assert.isAtLeast(before.length, 1)
      assert.isTrue(before.every((h) => h.scope === item.scope))
      assert.deepStrictEqual(
        [before.at(-1)?.snapshotId, before.at(-1)?.status],
        [checklist.body.snapshotId, item.status]
      )
      const again = yield* api.call("POST", `/api/connections/${id}/recheck?wait=true`)
      assert.strictEqual(again.body.outcome, "committed")
      const second = yield* api.call("GET", path)
      const after = second.body as Array<Verdict>
      assert.deepStrictEqual(after.slice(0, -1), before, "oldest first: the new verdict comes last")
      assert.strictEqual(after.at(-1)?.snapshotId, again.body.snapshotId)
      const times = after.map((h) => h.evaluatedAt)
      assert.deepStrictEqual(times, [...times].sort())
      const unknown = yield* api.call("GET", `/api/connections/${id}/findings/no.such-check/history`)
      assert.deepStrictEqual(unknown.body, [])
      const missing = yield* api.call("GET", `/api/connections/nope/findings/${encodeURIComponent(item.checkId)}/history`)
      assert.strictEqual(missing.status, 404)
    })
  )

  it.scopedLive("answers 503, not 201, when the schedule cannot be written, and keeps no connection it could not schedule", () =>
    Effect.gen(function* () {
      const { api, sim, config } = yield* app
      const id = yield* connected(api, sim.tokens["scoped"] as string)
      // Another connection to the app's SQLite file makes the database refuse the scheduler's writes.
      const sql = Context.get(yield* Layer.build(Layer.orDie(SqliteClient.layer({ filename: databaseFile(config) }))), SqlClient.SqlClient)
      yield* sql.unsafe("pragma busy_timeout = 10000")
      yield* Harness.refuseScheduleWrites(sql)

      const created = yield* api.call("POST", "/api/connections", { name: "Never scheduled", token: sim.tokens["account"] })
      assert.strictEqual(created.status, 503)
      assert.strictEqual(created.body._tag, "Unavailable")
      assert.include(created.body.message, "the schedule refuses writes")
      for (const path of [`/api/connections/${id}/recheck`, `/api/connections/${id}/recheck?wait=true`]) {
        const recheck = yield* api.call("POST", path)
        assert.strictEqual(recheck.status, 503, path)
        assert.strictEqual(recheck.body._tag, "Unavailable", path)
      }

      yield* Harness.allowScheduleWrites(sql)
      const list = yield* api.call("GET", "/api/connections")
      assert.deepStrictEqual(list.body.map((c: { id: string }) => c.id), [id], "the refused connection was not kept")
      const retried = yield* api.call("POST", "/api/connections", { name: "Scheduled", token: sim.tokens["account"] })
      assert.strictEqual(retried.status, 201)
      assert.isNotNull(retried.body.schedule.nextRunAt)
    })
  )
})
