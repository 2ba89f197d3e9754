/**
 * Quick start: a SQLite store, a connection with an encrypted credential, two snapshots with the
 * drift between them and a finding, then the queries the drift monitor asks.
 * Run: `node --import tsx examples/quickstart.ts` (prints the result).
 */
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { Check, Credential, Drift, Scope, Snapshot, Store } from "@plumbline/core"
import { ConfigProvider, DateTime, Effect, Layer, Option, Redacted } from "effect"
import { Keyring, SqliteStore } from "../src/index.js"

const zone = new Scope.Scope({ kind: "zone", id: "023e105f", name: "redpine.io" })

const snapshotAt = (at: number, ttl: number) =>
  new Snapshot.Snapshot({
    connectionId: "acme",
    connector: { id: "cloudflare", version: "0.1.0" },
    schemaVersion: 1,
    startedAt: DateTime.unsafeMake(at - 1_000),
    finishedAt: DateTime.unsafeMake(at),
    requestCount: 2,
    outcome: "complete",
    results: [
      new Snapshot.ResourceResult({
        resource: "dns_records",
        scope: zone,
        status: new Snapshot.Ok({
          records: [new Snapshot.SnapshotRecord({ key: "www", value: { type: "A", content: "192.0.2.1", ttl } })]
        })
      })
    ]
  })

export const program = Effect.gen(function* () {
  const store = yield* Store.Store
  const connection = yield* store.createConnection({
    id: "acme",
    connectorId: "cloudflare",
    name: "Acme",
    settings: { intervalMinutes: 15 },
    credential: Credential.make("api_token", "cf-secret-token")
  })

  const before = snapshotAt(Date.parse("2026-11-01T10:00:00Z"), 300)
  yield* store.commit({ snapshot: before, findings: [] })
  const after = snapshotAt(Date.parse("2026-11-01T10:15:00Z"), 60)
  const finding = new Check.Finding({
    checkId: "dns.low-ttl",
    title: "TTL of at least 5 minutes",
    severity: "low",
    connectionId: "acme",
    scope: zone,
    verdict: new Check.Fail({ evidence: { ttl: 60 }, remediation: new Check.Remediation({ summary: "Raise the TTL" }) }),
    evaluatedAt: after.finishedAt
  })
  // Snapshot, drift events and findings commit together.
  const id = yield* store.commit({ snapshot: after, drift: Drift.diff(before, after), findings: [finding] })

  const events = yield* store.driftEvents({ since: new Date("2026-11-01T00:00:00Z"), connectionId: "acme", limit: 50 })
  const latest = yield* store.latestSnapshot("acme")
  const history = yield* store.findingHistory({ connectionId: "acme", checkId: "dns.low-ttl" })
  const credential = yield* store.credentialOf("acme") // for the scheduler only

  return {
    connection: { id: connection.id, status: connection.status, fingerprint: connection.credentialFingerprint },
    latestIsCommitted: Option.exists(latest, (s) => s.id === id),
    drift: events.items.map((e) => `${e.kind} ${e.resource} ${e.key} ${e.scope.key}`),
    findings: history.map((h) => h.finding.verdict._tag),
    secretRoundTrips: Redacted.value(credential.secret) === "cf-secret-token"
  }
})

/** The store on a SQLite file, the key from PLUMBLINE_STORE_KEYS (here a fresh one, for the example). */
export const layer = (directory = mkdtempSync(join(tmpdir(), "plumbline-example-"))) =>
  SqliteStore.layerConfig().pipe(
    Layer.provide(
      Layer.setConfigProvider(
        ConfigProvider.fromMap(
          new Map([
            ["PLUMBLINE_STORE_SQLITE_PATH", join(directory, "plumbline.db")],
            ["PLUMBLINE_STORE_KEYS", Keyring.generate("2026-11")]
          ])
        )
      )
    )
  )

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(Effect.provide(program, layer())).then((result) => console.log(result))
}
// {
//   connection: { id: 'acme', status: 'active', fingerprint: '…16 hex…' },
//   latestIsCommitted: true,
//   drift: [ 'changed dns_records www zone:023e105f' ],
//   findings: [ 'fail' ],
//   secretRoundTrips: true
// }
