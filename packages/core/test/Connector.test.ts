import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Schema, Stream } from "effect"
import * as Connector from "../src/Connector.js"
import { PermissionMissing } from "../src/ConnectorError.js"
import * as Credential from "../src/Credential.js"
import * as Resource from "../src/Resource.js"
import { Scope } from "../src/Scope.js"
import * as Toy from "./fixtures/ToyConnector.js"

const Thing = Schema.Struct({ id: Schema.String })

const thing = (name: string, scope: string, produces?: string) =>
  Resource.make<typeof Thing.Type, typeof Thing.Encoded, never>({
    name,
    description: name,
    scope,
    schema: Thing,
    identity: (r) => r.id,
    permissions: [],
    list: () => Stream.empty,
    ...(produces === undefined ? {} : { produces: { scope: produces, fromRecord: (r) => new Scope({ kind: produces, id: r.id }) } })
  })

const declare = (scopes: Array<string>, resources: Array<Resource.Any>) =>
  Connector.make({
    id: "bad",
    version: "0.0.0",
    schemaVersion: 1,
    credentialKind: "token",
    scopes,
    resources,
    verify: Effect.die("unused")
  })

describe("Connector", () => {
  it("accepts a well-formed contract", () => {
    assert.strictEqual(Toy.connector.id, "toy")
    assert.deepStrictEqual(Connector.resourcesIn(Toy.connector, "zone").map((r) => r.name), ["records", "firewall", "analytics", "audit"])
    assert.deepStrictEqual(Connector.volatileFields(Toy.connector).get("zones"), ["/modified_on"])
  })

  it("refuses a scope no resource produces, an undeclared scope and a duplicate name", () => {
    assert.throws(() => declare(["connection", "zone"], [thing("a", "connection")]), /no resource produces scope "zone"/)
    assert.throws(() => declare(["connection"], [thing("a", "zone")]), /lives in undeclared scope "zone"/)
    assert.throws(() => declare(["connection"], [thing("a", "connection"), thing("a", "connection")]), /declared twice/)
    assert.throws(() => declare(["account"], [thing("a", "account")]), /first scope kind must be "connection"/)
  })
})

describe("Credential", () => {
  it("keeps the secret out of logs, JSON and strings", () => {
    const credential = Credential.make("cloudflare-api-token", "cfut_do-not-leak")
    assert.isTrue(Redacted.isRedacted(credential.secret))
    assert.notInclude(JSON.stringify(credential), "do-not-leak")
    assert.notInclude(String(credential.secret), "do-not-leak")
    assert.notInclude(Credential.fingerprint(credential), "do-not-leak")
  })

  it("fingerprints a credential stably, and differently per secret and kind", () => {
    const a = Credential.fingerprint(Credential.make("t", "secret-a"))
    assert.strictEqual(a, Credential.fingerprint(Credential.make("t", Redacted.make("secret-a"))))
    assert.match(a, /^[0-9a-f]{16}$/)
    assert.notStrictEqual(a, Credential.fingerprint(Credential.make("t", "secret-b")))
    assert.notStrictEqual(a, Credential.fingerprint(Credential.make("u", "secret-a")))
  })
})

describe("Resource.make", () => {
  const scope = new Scope({ kind: "zone", id: "z1" })
  const records = [{ id: "a" }, { id: "b" }, { id: "c" }]
  const base = { name: "things", description: "things", scope: "zone", schema: Thing, identity: (r: typeof Thing.Type) => r.id, permissions: [] }

  it.effect("derives the whole read from a resource that only streams", () =>
    Effect.gen(function* () {
      const streamed = Resource.make({ ...base, list: () => Stream.fromIterable(records) })
      assert.deepStrictEqual(yield* streamed.read(scope), records)
    }))

  it.effect("derives the stream from a resource that only reads whole, failures included", () =>
    Effect.gen(function* () {
      const whole = Resource.make({ ...base, read: () => Effect.succeed(records) })
      assert.deepStrictEqual([...(yield* Stream.runCollect(whole.list(scope)))], records)
      const refused = new PermissionMissing({ status: 403, codes: [] })
      const failing = Resource.make({ ...base, read: () => Effect.fail(refused) })
      assert.strictEqual(yield* Effect.flip(Stream.runCollect(failing.list(scope))), refused)
    }))

  it.effect("keeps both when a resource gives both", () =>
    Effect.gen(function* () {
      const both = Resource.make({ ...base, read: () => Effect.succeed(records.slice(0, 1)), list: () => Stream.fromIterable(records) })
      assert.strictEqual((yield* both.read(scope)).length, 1)
      assert.strictEqual((yield* Stream.runCollect(both.list(scope))).length, 3)
    }))

  it("refuses, by name, a resource that gives neither (a caller without the types)", () => {
    assert.throws(() => Resource.make({ ...base } as never), /resource things gives neither read nor list/)
  })
})
