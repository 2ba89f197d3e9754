import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { defaultWebhooks } from "../src/Config.js"
import * as Db from "../src/Db.js"
import type * as Events from "../src/Events.js"
import * as Main from "../src/Main.js"
import * as Webhooks from "../src/Webhooks.js"
import * as WebhookTransport from "../src/WebhookTransport.js"
import * as Harness from "./fixtures/Harness.js"

/** The app against the simulator; `allowedHosts` as the setting. */
const app = (allowedHosts: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const dir = yield* Harness.tempDir
    const { sim, baseUrl, origin } = yield* Harness.simulator
    const started = yield* Main.start(Harness.config(dir, baseUrl, undefined, allowedHosts))
    return { sim, origin, api: Harness.client(started.baseUrl) }
  })

/**
 * A loopback receiver: records each request's headers, answers `answer`; `big` streams that many
 * bytes (with backpressure) and counts what the socket accepted before it closed.
 */
const receiver = (options: { readonly big?: number } = {}) =>
  Effect.gen(function* () {
    const requests: Array<IncomingHttpHeaders> = []
    let written = 0
    let onClosed: (() => void) | undefined
    const closed = new Promise<void>((resolve) => (onClosed = resolve))
    const server = createServer((req, res) => {
      req.resume()
      req.on("end", () => {
        requests.push(req.headers)
        if (options.big === undefined) return void res.writeHead(204).end()
        res.writeHead(200, { "content-type": "application/octet-stream" })
        const chunk = Buffer.alloc(64 * 1024, 120)
        const pump = () => {
          while (written < (options.big ?? 0)) {
            written += chunk.length
            if (!res.write(chunk)) return void res.once("drain", pump)
          }
          res.end()
        }
        res.on("close", () => onClosed?.())
        pump()
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
      () =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as AddressInfo).port
    return { url: `http://127.0.0.1:${port}/hooks`, host: `127.0.0.1:${port}`, requests, written: () => written, closed }
  })

/** A port nothing listens on (a server opened and closed). */
const closedPort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

const event = (id: string): Events.DomainEvent => ({
  id,
  type: "finding.changed",
  connectionId: "conn-1",
  timestamp: "2026-01-01T00:00:00.000Z",
  data: { checkId: "c", before: "fail", after: "pass" }
})

/** The webhooks over a SQLite file with the real Node transport (`allowlist`, `resolver`). */
const withTransport = <A, E>(
  allowlist: ReadonlyArray<string>,
  resolver: WebhookTransport.Resolver | undefined,
  body: Effect.Effect<A, E, Webhooks.Webhooks>
) =>
  Effect.gen(function* () {
    const dir = yield* Harness.tempDir
    const layer = Webhooks.layerManual({ ...defaultWebhooks, allowedHosts: allowlist }).pipe(
      Layer.provide(Layer.merge(Db.layer({ _tag: "sqlite", filename: join(dir, "hooks.db") }), WebhookTransport.layer(allowlist, resolver))),
      Layer.orDie
    )
    return yield* Effect.provide(body, layer)
  })

const lastDelivery = Effect.flatMap(Webhooks.Webhooks, (w) => Effect.map(w.deliveries({}), (page) => page.items[0]))

describe("HostileWebhooks", () => {
  it.scopedLive("refuses webhook URLs that reach inside the network: 400 with a JSON body, whatever the spelling", () =>
    Effect.gen(function* () {
      const { api, origin } = yield* app()
      const refused = [
        `${origin}/__admin/tokens`, // the simulator's admin routes
        "http://localhost:9/hooks", // a name resolving to loopback
        "http://127.0.0.1/",
        "http://2130706433/", // decimal 127.0.0.1
        "http://0x7f.0.0.1/", // hex
        "http://0177.0.0.1/", // octal
        "http://127.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[64:ff9b::7f00:1]/", // NAT64 of loopback
        "http://[2002:7f00:1::]/", // 6to4 of loopback
        "http://169.254.169.254/latest/meta-data/", // cloud metadata
        "http://[fd00:ec2::254]/", // EC2 metadata over IPv6
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/", // CGNAT
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/", // multicast
        "http://[ff02::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://255.255.255.255/",
        "http://user:s3cr3tpw@93.184.216.34/", // userinfo
        "ftp://93.184.216.34/",
        "file:///etc/passwd",
        `https://93.184.216.34/${"a".repeat(2048)}` // over 2,048 characters
      ]
      for (const url of refused) {
        const answer = yield* api.call("POST", "/api/webhooks", { url })
        assert.strictEqual(answer.status, 400, url)
        assert.strictEqual(answer.body._tag, "BadRequest", url)
        assert.isString(answer.body.message)
        assert.notInclude(answer.body.message, "s3cr3tpw", "the message never quotes the URL")
      }
      const list = yield* api.call("GET", "/api/webhooks")
      assert.deepStrictEqual(list.body, [])
      // A public address is accepted (nothing is sent until an event).
      const ok = yield* api.call("POST", "/api/webhooks", { url: "https://93.184.216.34/hooks" })
      assert.strictEqual(ok.status, 201)
    })
  )

  it.scopedLive("an allowlisted host:port gets through; everything else on loopback does not; rotation routes answer", () =>
    Effect.gen(function* () {
      const hooks = yield* receiver()
      const { api, origin } = yield* app([hooks.host])
      const ok = yield* api.call("POST", "/api/webhooks", { url: hooks.url })
      assert.strictEqual(ok.status, 201)
      const admin = yield* api.call("POST", "/api/webhooks", { url: `${origin}/__admin/faults` })
      assert.strictEqual(admin.status, 400, "another port on the same host is not allowlisted")
      const rotated = yield* api.call("POST", `/api/webhooks/${ok.body.endpoint.id}/rotate-secret`)
      assert.strictEqual(rotated.status, 200)
      assert.match(rotated.body.secret, /^whsec_/)
      assert.notStrictEqual(rotated.body.secret, ok.body.secret)
      assert.strictEqual(Date.parse(rotated.body.previousValidUntil) > Date.now(), true)
      const dropped = yield* api.call("DELETE", `/api/webhooks/${ok.body.endpoint.id}/previous-secret`)
      assert.strictEqual(dropped.status, 204)
      const missing = yield* api.call("POST", "/api/webhooks/ep_nope/rotate-secret")
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.body._tag, "NotFound")
      const spec = yield* api.call("GET", "/api/openapi.json")
      assert.property(spec.body.paths, "/api/webhooks/{id}/rotate-secret")
      assert.property(spec.body.paths, "/api/webhooks/{id}/previous-secret")
    })
  )

  it.scopedLive("DNS rebinding: a name public at creation and loopback at send is refused at send, and nothing is sent", () =>
    Effect.gen(function* () {
      const hooks = yield* receiver()
      const port = new URL(hooks.url).port
      let answers = 0
      // First answer public, then 127.0.0.1 (where the receiver listens).
      const resolver: WebhookTransport.Resolver = () =>
        Promise.resolve(answers++ === 0 ? [{ address: "93.184.216.34", family: 4 }] : [{ address: "127.0.0.1", family: 4 }])
      yield* withTransport(
        [],
        resolver,
        Effect.gen(function* () {
          const webhooks = yield* Webhooks.Webhooks
          yield* webhooks.createEndpoint({ url: `http://rebind.test:${port}/hooks` })
          yield* webhooks.enqueue([event("evt-rebind")])
          assert.strictEqual(yield* webhooks.dispatchDue, 1)
          const delivery = yield* lastDelivery
          assert.strictEqual(delivery?.lastError, "blocked-address")
          assert.isNull(delivery?.lastStatus ?? null)
          assert.strictEqual(hooks.requests.length, 0)
          assert.isAtLeast(answers, 2, "resolved again at send time")
          // A name that resolves to loopback at creation is refused there.
          const refused = yield* Effect.either(webhooks.createEndpoint({ url: `http://rebind.test:${port}/hooks` }))
          assert.strictEqual(refused._tag === "Left" ? refused.left.reason : "accepted", "invalid")
        })
      )
    })
  )

  it.scopedLive("delivery errors are a class, never a transport message; no tracing headers are sent", () =>
    Effect.gen(function* () {
      const hooks = yield* receiver()
      const port = yield* closedPort
      yield* withTransport(
        [hooks.host, `127.0.0.1:${port}`],
        undefined,
        Effect.gen(function* () {
          const webhooks = yield* Webhooks.Webhooks
          const dead = yield* webhooks.createEndpoint({ url: `http://127.0.0.1:${port}/hooks` })
          const live = yield* webhooks.createEndpoint({ url: hooks.url })
          yield* webhooks.enqueue([event("evt-class")])
          yield* Effect.withSpan(webhooks.dispatchDue, "dispatch")
          const log = yield* webhooks.deliveries({})
          const byEndpoint = (id: string) => log.items.find((d) => d.endpointId === id)
          assert.strictEqual(byEndpoint(dead.endpoint.id)?.lastError, "refused")
          assert.strictEqual(byEndpoint(live.endpoint.id)?.status, "delivered")
          assert.strictEqual(hooks.requests.length, 1)
          for (const header of ["traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid"]) {
            assert.notProperty(hooks.requests[0], header)
          }
        })
      )
    })
  )

  it.scopedLive(
    "reads at most 64 KB of a receiver's answer: a 256 MB answer is cut off with the socket, and the delivery is recorded",
    () =>
      Effect.gen(function* () {
        const big = 256 * 1024 * 1024
        const hooks = yield* receiver({ big })
        yield* withTransport(
          [hooks.host],
          undefined,
          Effect.gen(function* () {
            const webhooks = yield* Webhooks.Webhooks
            yield* webhooks.createEndpoint({ url: hooks.url })
            yield* webhooks.enqueue([event("evt-big")])
            yield* webhooks.dispatchDue
            const delivery = yield* lastDelivery
            assert.strictEqual(delivery?.status, "delivered")
            assert.strictEqual(delivery?.lastStatus, 200)
            // The receiver's socket was closed under it: it could write no more than socket buffers hold.
            yield* Effect.promise(() => hooks.closed)
            assert.isBelow(hooks.written(), 32 * 1024 * 1024, "the answer was not read to its end")
          })
        )
      }),
    { timeout: 120_000 }
  )

  it.scopedLive("refuses webhook descriptions with control characters, bidi overrides or over 200 characters", () =>
    Effect.gen(function* () {
      const hooks = yield* Harness.receiver()
      const { api } = yield* app([hooks.host])
      for (const description of ["evil\u202Egnp.exe", "line\nbreak", "nul\u0000", "d".repeat(201)]) {
        const answer = yield* api.call("POST", "/api/webhooks", { url: hooks.url, description })
        assert.strictEqual(answer.status, 400, JSON.stringify(description))
        assert.isString(answer.body.message)
      }
      const fine = yield* api.call("POST", "/api/webhooks", { url: hooks.url, description: "product backend" })
      assert.strictEqual(fine.status, 201)
    })
  )
})
