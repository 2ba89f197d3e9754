import { spawn } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { PostureReport } from "@plumbline/cloudflare"
import { Drift, HttpPipeline, Json, RequestBudget, Scope, Snapshot } from "@plumbline/core"
import { ConfigProvider, DateTime, Effect, Layer } from "effect"
import * as Cli from "../src/cli/Cli.js"
import * as DriftSummary from "../src/cli/DriftSummary.js"
import * as Output from "../src/cli/Output.js"
import * as ProgressBar from "../src/cli/ProgressBar.js"
import * as SnapshotFile from "../src/cli/SnapshotFile.js"
import * as Harness from "./fixtures/Harness.js"

const binary = fileURLToPath(new URL("../dist/bin/plumbline.js", import.meta.url))
/** The timeout of a test that runs the binary or the simulator: a few node processes, slow on a loaded machine. */
const SPAWNS = 120_000
const LOGIN_EXPRESSION = '(http.request.uri.path eq "/login" and http.request.method eq "POST")'

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs the built `plumbline` binary with only `env` (and PATH) in its environment, and checks that
 * no token given to it appears in anything it printed.
 */
const plumbline = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    assert.isTrue(existsSync(binary), `${binary} is missing: build the package first (turbo runs build before test)`)
    const ran = yield* Effect.async<Ran>((resume) => {
      const child = spawn(process.execPath, [binary, ...args], {
        env: { PATH: process.env["PATH"] ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
      child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
      return Effect.sync(() => child.kill())
    })
    const token = env["CLOUDFLARE_API_TOKEN"]
    if (token !== undefined && token.trim().length > 0) {
      assert.notInclude(ran.stdout, token, "the token leaked to stdout")
      assert.notInclude(ran.stderr, token, "the token leaked to stderr")
    }
    return ran
  })

/** The simulator on a loopback port, and the environment that points the CLI at it with `token`. */
const setup = Effect.gen(function* () {
  const { baseUrl, sim } = yield* Harness.simulator
  const dir = yield* Harness.tempDir
  const env = (token: string): Record<string, string> => ({ CLOUDFLARE_API_TOKEN: sim.tokens[token] ?? "", CLOUDFLARE_BASE_URL: baseUrl })
  return { sim, baseUrl, dir, env }
})

const decode = (text: string, name: string) => Effect.runPromise(SnapshotFile.decode(text, name))

const zonesOf = (snapshot: Snapshot.Snapshot) =>
  Snapshot.recordsOf(snapshot, "zones").map(({ record }) => (record.value as { name: string }).name)

/** Runs the command in this process with captured output and `env` as its whole environment. */
const inProcess = (args: ReadonlyArray<string>, env: Record<string, string>, terminal?: { readonly columns: number }) =>
  Effect.gen(function* () {
    const { captured, service } = Output.makeCaptured(terminal === undefined ? {} : { terminal })
    const code = yield* Cli.run(["node", "plumbline", ...args]).pipe(
      Effect.provide(
        Layer.mergeAll(NodeContext.layer, HttpPipeline.layerFetch, RequestBudget.layer, Layer.succeed(Output.Output, service))
      ),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
    )
    return { code, stdout: captured.stdout(), stderr: captured.stderr() }
  })

describe("Cli", () => {
  describe("snapshot", () => {
    it.scopedLive("writes a decodable snapshot of redpine.io with the scoped token, and nothing but JSON on stdout", () =>
      Effect.gen(function* () {
        const { env } = yield* setup
        const ran = yield* plumbline(["snapshot"], env("scoped"))
        assert.strictEqual(ran.code, 0, ran.stderr)
        const snapshot = yield* Effect.promise(() => decode(ran.stdout, "stdout"))
        assert.strictEqual(snapshot.outcome, "complete")
        assert.strictEqual(snapshot.connector.id, "cloudflare")
        assert.deepStrictEqual(zonesOf(snapshot), ["redpine.io"])
        assert.strictEqual(ran.stdout, SnapshotFile.encode(snapshot), "stdout is the canonical encoding")
        // stderr is not a terminal here: a summary line, no progress bar redrawn with \r.
        assert.notInclude(ran.stderr, "\r")
        assert.match(ran.stderr, /snapshot of cloudflare: 1 zone, \d+ results/)
      }),
      SPAWNS
    )

    it.scopedLive("writes --output to a file, and two runs over unchanged data hold the same content", () =>
      Effect.gen(function* () {
        const { dir, env } = yield* setup
        const first = join(dir, "first.json")
        const ran = yield* plumbline(["snapshot", "--zone", "redpine.io", "--output", first], env("account"))
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.strictEqual(ran.stdout, "")
        const again = yield* plumbline(["snapshot", "--zone", "redpine.io"], env("account"))
        const a = yield* Effect.promise(() => decode(readFileSync(first, "utf8"), first))
        const b = yield* Effect.promise(() => decode(again.stdout, "stdout"))
        // The account token sees two zones; --zone keeps one.
        assert.deepStrictEqual(zonesOf(a).sort(), ["redpine.dev", "redpine.io"])
        assert.deepStrictEqual(
          Array.from(new Set(a.results.filter((r) => r.scope.kind === "zone").map((r) => r.scope.name))),
          ["redpine.io"]
        )
        assert.strictEqual(Snapshot.contentJson(a), Snapshot.contentJson(b))
      }),
      SPAWNS
    )

    it.scopedLive("without a token, names CLOUDFLARE_API_TOKEN and exits 2", () =>
      Effect.gen(function* () {
        const { baseUrl } = yield* setup
        const ran = yield* plumbline(["snapshot"], { CLOUDFLARE_BASE_URL: baseUrl })
        assert.strictEqual(ran.code, 2)
        assert.strictEqual(ran.stdout, "")
        assert.include(ran.stderr, "plumbline: CLOUDFLARE_API_TOKEN is not set")
        const empty = yield* plumbline(["snapshot"], { CLOUDFLARE_BASE_URL: baseUrl, CLOUDFLARE_API_TOKEN: " " })
        assert.strictEqual(empty.code, 2)
        assert.include(empty.stderr, "CLOUDFLARE_API_TOKEN is not set")
      }),
      SPAWNS
    )

    it.scopedLive("a token with characters no token has exits 2 naming the position, sending nothing; whitespace around it is trimmed with a warning", () =>
      Effect.gen(function* () {
        const { sim, baseUrl, env } = yield* setup
        const token = sim.tokens["scoped"]!
        for (const [bad, position] of [
          [`${token.slice(0, 5)}\u200b${token.slice(5)}`, 6],
          [`\u201c${token}\u201d`, 1],
          [`${token}\u007f`, token.length + 1]
        ] as const) {
          const ran = yield* plumbline(["snapshot"], { CLOUDFLARE_BASE_URL: baseUrl, CLOUDFLARE_API_TOKEN: bad })
          assert.strictEqual(ran.code, 2, ran.stderr)
          assert.strictEqual(ran.stdout, "")
          assert.include(
            ran.stderr,
            `plumbline: CLOUDFLARE_API_TOKEN: the token contains characters a Cloudflare token never has (position ${position})`
          )
          assert.notInclude(ran.stderr, token.slice(0, 12))
        }
        assert.strictEqual(Object.values(sim.requestCounts()).reduce((a, b) => a + b, 0), 0, "no request was sent")
        const trimmed = yield* plumbline(["snapshot"], { ...env("scoped"), CLOUDFLARE_API_TOKEN: `  ${token}\n` })
        assert.strictEqual(trimmed.code, 0, trimmed.stderr)
        assert.include(trimmed.stderr, "plumbline: warning: whitespace around the token in CLOUDFLARE_API_TOKEN was removed")
      }),
      SPAWNS
    )

    it.scopedLive("with a revoked token, says the credential was refused and exits 3 with nothing on stdout", () =>
      Effect.gen(function* () {
        const { env, sim } = yield* setup
        sim.revokeToken("scoped")
        const ran = yield* plumbline(["snapshot"], env("scoped"))
        assert.strictEqual(ran.code, 3)
        assert.strictEqual(ran.stdout, "")
        assert.match(ran.stderr, /plumbline: cloudflare refused the token in CLOUDFLARE_API_TOKEN: The credential is (invalid|revoked|disabled)/)
        const expired = yield* plumbline(["check"], env("expired"))
        assert.strictEqual(expired.code, 3)
        assert.include(expired.stderr, "refused the token")
      }),
      SPAWNS
    )

    it.scopedLive("a read that fails is a warning and a partial snapshot (exit 0); a snapshot that reads nothing exits 4", () =>
      Effect.gen(function* () {
        const { env, sim } = yield* setup
        sim.setFaults({ rules: [{ route: "GET /zones/:zone_id/dnssec", effect: { kind: "successFalse", code: 1234 } }] })
        const partial = yield* plumbline(["snapshot", "--zone", "redpine.io"], env("account"))
        assert.strictEqual(partial.code, 0, partial.stderr)
        assert.match(partial.stderr, /plumbline: warning: dnssec in zone redpine\.io could not be read: .*1234/)
        assert.include(partial.stderr, 'plumbline: warning: the snapshot is partial: 1 read failed (recorded as "failed" in the snapshot)')
        const snapshot = yield* Effect.promise(() => decode(partial.stdout, "stdout"))
        assert.strictEqual(snapshot.results.find((r) => r.resource === "dnssec")?.status._tag, "failed")

        sim.setFaults({ rules: [{ route: "*", effect: { kind: "successFalse" } }] })
        const failed = yield* plumbline(["snapshot"], env("account"))
        assert.strictEqual(failed.code, 4, failed.stderr)
        assert.strictEqual(failed.stdout, "")
        assert.match(failed.stderr, /plumbline: the snapshot read nothing: \d+ reads? failed \(first: accounts in connection:cloudflare: /)
      }),
      SPAWNS
    )

    it.scopedLive("--base-url wins over CLOUDFLARE_BASE_URL, and a bad one is a usage error", () =>
      Effect.gen(function* () {
        const { baseUrl, sim } = yield* setup
        const env = { CLOUDFLARE_API_TOKEN: sim.tokens["scoped"] ?? "", CLOUDFLARE_BASE_URL: "http://127.0.0.1:9/client/v4" }
        const ran = yield* inProcess(["snapshot", "--base-url", baseUrl], env)
        assert.strictEqual(ran.code, 0, ran.stderr)
        const bad = yield* inProcess(["snapshot", "--base-url", "ftp://example.com"], env)
        assert.strictEqual(bad.code, 2)
        assert.include(bad.stderr, 'the base URL "ftp://example.com" is not an http(s) URL')
      }),
      SPAWNS
    )

    it.scopedLive("draws a progress bar on a terminal's stderr, and stdout stays the snapshot alone", () =>
      Effect.gen(function* () {
        const { env } = yield* setup
        const ran = yield* inProcess(["snapshot"], env("scoped"), { columns: 100 })
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.include(ran.stderr, ProgressBar.clearLine)
        assert.match(ran.stderr, /snapshot \[[█░]+\] \d+\/\d+ resources/)
        // The bar is erased before the summary line.
        assert.include(ran.stderr, `${ProgressBar.clearLine}snapshot of cloudflare: 1 zone`)
        const snapshot = yield* Effect.promise(() => decode(ran.stdout, "stdout"))
        assert.deepStrictEqual(zonesOf(snapshot), ["redpine.io"])
      }),
      SPAWNS
    )
  })

  describe("diff", () => {
    it.scopedLive("two snapshots of an unchanged account: no drift, exit 0", () =>
      Effect.gen(function* () {
        const { dir, env } = yield* setup
        const a = join(dir, "a.json")
        const b = join(dir, "b.json")
        assert.strictEqual((yield* plumbline(["snapshot", "-o", a], env("scoped"))).code, 0)
        assert.strictEqual((yield* plumbline(["snapshot", "-o", b], env("scoped"))).code, 0)
        const ran = yield* plumbline(["diff", a, b])
        assert.strictEqual(ran.code, 0, ran.stderr)
        assert.match(ran.stdout, /^no drift \(connection cloudflare, /)
        const json = yield* plumbline(["diff", "--json", a, b])
        assert.strictEqual(json.code, 0)
        const report = JSON.parse(json.stdout) as { changes: Array<unknown>; coverage: Array<unknown> }
        assert.deepStrictEqual([report.changes, report.coverage], [[], []])
      }),
      SPAWNS
    )

    it.scopedLive("after the customer adds the login rule, shows the added rule and exits 1; check then passes it", () =>
      Effect.gen(function* () {
        const { baseUrl, dir, env, sim } = yield* setup
        const before = join(dir, "before.json")
        const after = join(dir, "after.json")
        assert.strictEqual((yield* plumbline(["snapshot", "-o", before], env("scoped"))).code, 0)

        // The customer applies the remediation the check suggests, with their own token.
        const report = PostureReport.make(yield* Effect.promise(() => decode(readFileSync(before, "utf8"), before)))
        const login = report.zones[0]?.items.find((i) => i.checkId === "cloudflare.waf.login-rate-limited")
        const request = login?.remediation?.request
        assert.isDefined(request)
        const added = yield* Effect.promise(() =>
          fetch(`${baseUrl}${request?.path ?? ""}`, {
            method: request?.method ?? "POST",
            headers: { authorization: `Bearer ${sim.tokens["customer"]}`, "content-type": "application/json" },
            body: JSON.stringify(request?.body)
          })
        )
        assert.strictEqual(added.status, 200)
        assert.strictEqual((yield* plumbline(["snapshot", "-o", after], env("scoped"))).code, 0)

        const ran = yield* plumbline(["diff", before, after])
        assert.strictEqual(ran.code, 1, ran.stderr)
        assert.match(ran.stdout, /^drift: 1 added, 0 removed, \d+ changed/)
        assert.match(ran.stdout, /\n\+ rate_limit_rules in zone redpine\.io: /)
        assert.include(ran.stdout, `    /expression: ${JSON.stringify(LOGIN_EXPRESSION)}`)

        const json = yield* plumbline(["diff", "--json", before, after])
        assert.strictEqual(json.code, 1)
        const drift = JSON.parse(json.stdout) as { changes: Array<{ _tag: string; resource: string; after?: { expression?: string } }> }
        const rule = drift.changes.find((c) => c._tag === "added")
        assert.strictEqual(rule?.resource, "rate_limit_rules")
        assert.strictEqual(rule?.after?.expression, LOGIN_EXPRESSION)

        const checked = yield* plumbline(["check", after])
        assert.match(checked.stdout, /cloudflare\.waf\.login-rate-limited\s+pass\s+high/)
      }),
      SPAWNS
    )

    it.scopedLive("names the file that is missing, not JSON or not a snapshot, and exits 2", () =>
      Effect.gen(function* () {
        const { dir, env } = yield* setup
        const good = join(dir, "good.json")
        assert.strictEqual((yield* plumbline(["snapshot", "-o", good], env("scoped"))).code, 0)
        const notJson = join(dir, "not-json.json")
        writeFileSync(notJson, "{ this is not json")
        const notSnapshot = join(dir, "not-snapshot.json")
        writeFileSync(notSnapshot, JSON.stringify({ connectionId: "x", results: "nope" }))
        const missing = join(dir, "missing.json")

        const a = yield* plumbline(["diff", good, notJson])
        assert.strictEqual(a.code, 2)
        assert.strictEqual(a.stdout, "")
        assert.include(a.stderr, `plumbline: ${notJson}: not JSON`)
        const b = yield* plumbline(["diff", notSnapshot, good])
        assert.strictEqual(b.code, 2)
        assert.include(b.stderr, `plumbline: ${notSnapshot}: not a Plumbline snapshot at /`)
        const c = yield* plumbline(["diff", good, missing])
        assert.strictEqual(c.code, 2)
        assert.include(c.stderr, `plumbline: ${missing}: cannot read it (no such file or directory)`)
        const usage = yield* plumbline(["diff", good])
        assert.strictEqual(usage.code, 2)
        assert.include(usage.stderr, "Missing argument <after>")
      }),
      SPAWNS
    )
    it.scopedLive("a file nested 5,000 levels deep is refused naming the file, exit 2, no stack trace", () =>
      Effect.gen(function* () {
        const { dir, env } = yield* setup
        const good = join(dir, "good.json")
        assert.strictEqual((yield* plumbline(["snapshot", "-o", good], env("scoped"))).code, 0)
        // A snapshot whose first record's value nests 5,000 arrays deep: valid JSON, valid shape above it.
        const snapshot = JSON.parse(readFileSync(good, "utf8")) as { results: Array<{ status: { records?: Array<{ value: unknown }> } }> }
        const record = snapshot.results.flatMap((r) => r.status.records ?? [])[0]
        assert.isDefined(record)
        record!.value = "DEEP"
        const deep = join(dir, "deep.json")
        writeFileSync(deep, JSON.stringify(snapshot).replace('"DEEP"', "[".repeat(5000) + "]".repeat(5000)))
        for (const args of [["diff", good, deep], ["diff", deep, good], ["check", deep]]) {
          const ran = yield* plumbline(args)
          assert.strictEqual(ran.code, 2, `${args.join(" ")}: ${ran.stderr}`)
          assert.strictEqual(ran.stdout, "")
          assert.include(ran.stderr, `plumbline: ${deep}: not a Plumbline snapshot: nested deeper than 256 levels`)
          assert.notInclude(ran.stderr, "internal error")
          assert.notInclude(ran.stderr, "    at ")
        }
      }),
      SPAWNS
    )
  })

  describe("check", () => {
    it.scopedLive("prints a table per zone with the login rate limit failing, its expression, and exits 1", () =>
      Effect.gen(function* () {
        const { dir, env } = yield* setup
        const file = join(dir, "redpine.json")
        assert.strictEqual((yield* plumbline(["snapshot", "-o", file], env("scoped"))).code, 0)
        const ran = yield* plumbline(["check", file])
        assert.strictEqual(ran.code, 1, ran.stderr)
        assert.match(ran.stdout, /\nzone redpine\.io \([0-9a-f]+\): score \d+\/100/)
        assert.match(ran.stdout, /\n {2}CHECK\s+STATUS\s+SEVERITY\s+TITLE\n/)
        const lines = ran.stdout.split("\n")
        const row = lines.findIndex((l) => /^ {2}cloudflare\.waf\.login-rate-limited\s+fail\s+high\s+A rate limiting rule protects POST \/login$/.test(l))
        assert.isAbove(row, 0, ran.stdout)
        const remediation = lines.slice(row + 1, row + 4)
        assert.include(remediation, `      expression: ${LOGIN_EXPRESSION}`)
        assert.match(remediation.join("\n"), /request: POST \/zones\/[0-9a-f]+\/rulesets\//)
        // What the scoped token may not read is skipped, with the permission to grant.
        assert.match(ran.stdout, /cloudflare\.tls\.ssl-strict\s+skipped\s+high .*\n\s+why: .*grant Zone Settings Read/)
      }),
      SPAWNS
    )

    it.scopedLive("--format ocsf over a live snapshot prints OCSF Compliance Findings (class 2003)", () =>
      Effect.gen(function* () {
        const { env } = yield* setup
        const ran = yield* plumbline(["check", "--format", "ocsf", "--zone", "redpine.io"], env("scoped"))
        assert.strictEqual(ran.code, 1, ran.stderr)
        const events = JSON.parse(ran.stdout) as Array<{
          class_uid: number
          category_uid: number
          compliance: { control: string; status: string }
          resources: Array<{ name: string }>
        }>
        assert.isAbove(events.length, 0)
        for (const event of events) {
          assert.strictEqual(event.class_uid, 2003)
          assert.strictEqual(event.category_uid, 2)
          assert.strictEqual(event.resources[0]?.name, "redpine.io")
        }
        const login = events.find((e) => e.compliance.control === "cloudflare.waf.login-rate-limited")
        assert.strictEqual(login?.compliance.status, "Fail")
        assert.match(ran.stderr, /snapshot of cloudflare: 1 zone/)
      }),
      SPAWNS
    )
  })

  it.live("without a command, or with an unknown option, exits 2", () =>
    Effect.gen(function* () {
      const bare = yield* plumbline([])
      assert.strictEqual(bare.code, 2)
      assert.include(bare.stderr, "name a command: snapshot, diff or check")
      const unknown = yield* plumbline(["check", "--format", "yaml", "x.json"])
      assert.strictEqual(unknown.code, 2)
      const help = yield* plumbline(["--help"])
      assert.strictEqual(help.code, 0)
      assert.include(help.stdout, "snapshot")
    }),
    SPAWNS
  )
})

describe("ProgressBar", () => {
  const scope = (kind: string, id: string, name?: string, parent?: string) =>
    new Scope.Scope({ kind, id, ...(name === undefined ? {} : { name }), ...(parent === undefined ? {} : { parent }) })
  const perKind = (kind: string) => ({ connection: 1, account: 3, zone: 10 })[kind] ?? 0

  it("counts the resources of every scope started and names the zone being read", () => {
    const root = scope("connection", "c")
    const zone = scope("zone", "z1", "redpine.io", "account:a")
    let state = ProgressBar.initial
    state = ProgressBar.step(state, { _tag: "ScopeStarted", scope: root }, perKind)
    state = ProgressBar.step(state, { _tag: "ResourceFinished", resource: "accounts", scope: root, status: "ok", records: 1 }, perKind)
    state = ProgressBar.step(state, { _tag: "ScopeStarted", scope: scope("account", "a", "Redpine", "connection:c") }, perKind)
    state = ProgressBar.step(state, { _tag: "ScopeStarted", scope: zone }, perKind)
    state = ProgressBar.step(state, { _tag: "PageFetched", resource: "dns_records", scope: zone, page: 1, items: 5 }, perKind)
    state = ProgressBar.step(state, { _tag: "ResourceFinished", resource: "dns_records", scope: zone, status: "failed", records: 0 }, perKind)
    assert.deepStrictEqual(state, { done: 2, total: 14, failed: 1, current: "zone redpine.io" })
  })

  it("renders done/total, a proportional bar and the zone, within the terminal's width", () => {
    const state = { done: 5, total: 20, failed: 0, current: "zone redpine.io" }
    const line = ProgressBar.render(state, 80)
    assert.strictEqual(line, `snapshot [${"█".repeat(8)}${"░".repeat(22)}] 5/20 resources · zone redpine.io`)
    assert.isAtMost(line.length, 79)
    assert.strictEqual(ProgressBar.render({ ...state, done: 20 }, 80).match(/█/g)?.length, 30)
    assert.include(ProgressBar.render({ ...state, failed: 2 }, 80), "5/20 resources (2 failed)")
    for (const columns of [0, 20, 40, 60]) assert.isAtMost(ProgressBar.render(state, columns).length, Math.max(10, columns - 1))
    assert.strictEqual(ProgressBar.render(ProgressBar.initial, 80), `snapshot [${"░".repeat(30)}] 0/0 resources`)
  })
})

describe("DriftSummary", () => {
  it("lists a changed field as its JSON Pointer with before → after, and a coverage change", () => {
    const zone = new Scope.Scope({ kind: "zone", id: "z1", name: "redpine.io" })
    const at = DateTime.unsafeMake("2026-01-01T00:00:00Z")
    const report = new Drift.DriftReport({
      connectionId: "cloudflare",
      from: at,
      to: at,
      changes: [
        new Drift.Changed({
          resource: "zone_settings",
          scope: zone,
          key: "ssl",
          fields: [new Drift.FieldChange({ path: "/value", before: "strict", after: "flexible" }), new Drift.FieldChange({ path: "/note", after: "x" })]
        })
      ],
      coverage: [new Drift.CoverageChange({ resource: "dns_records", scope: zone, before: "ok", after: "forbidden" })]
    })
    assert.strictEqual(
      DriftSummary.render(report),
      [
        "drift: 0 added, 0 removed, 1 changed, 1 coverage change (connection cloudflare, 2026-01-01T00:00:00.000Z → 2026-01-01T00:00:00.000Z)",
        "~ zone_settings in zone redpine.io: ssl",
        `    /value: ${Json.stringify("strict")} → ${Json.stringify("flexible")}`,
        '    /note: (absent) → "x"',
        "! dns_records in zone redpine.io: coverage ok → forbidden",
        ""
      ].join("\n")
    )
  })
})
