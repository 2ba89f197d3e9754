/**
 * The package as a consumer gets it: build, `pnpm pack` @plumbline/core and @plumbline/cloudflare,
 * install both tarballs into a scratch project outside the workspace (one `npm install`), then
 * import the package there and use the facade against the standalone simulator.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { serve, Simulator } from "@plumbline/cloudflare-simulator"
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"

const run = promisify(execFile)
const here = fileURLToPath(new URL("..", import.meta.url))
const core = join(here, "..", "core")
const rules = join(here, "..", "cloudflare-rules")

/** Is any source file newer than the package's built entry point? */
const stale = (pkg: string): boolean => {
  const built = join(pkg, "dist", "index.js")
  if (!existsSync(built)) return true
  const at = statSync(built).mtimeMs
  return readdirSync(join(pkg, "src"), { recursive: true, encoding: "utf8" }).some((f) => statSync(join(pkg, "src", f)).mtimeMs > at)
}

const CONSUMER = `
import { createCloudflareConnector, isConnectorError, CloudflareConnector, Permissions } from "@plumbline/cloudflare"
import { Snapshot } from "@plumbline/core"
const [baseUrl, token, revoked] = process.argv.slice(2)
const cf = createCloudflareConnector({ token, baseUrl })
const zones = await cf.zones.list()
const snapshot = await cf.snapshot({ zones: ["redpine.io"] })
await cf.close()
let rejected
const bad = createCloudflareConnector({ token: revoked, baseUrl })
try { await bad.verify() } catch (e) { rejected = isConnectorError(e) ? e._tag : "untyped" }
await bad.close()
let internal = "exported"
try { await import("@plumbline/cloudflare/internal/records") } catch { internal = "blocked" }
console.log(JSON.stringify({
  zones: zones.map((z) => z.name),
  outcome: snapshot.outcome,
  waf: Snapshot.recordsOf(snapshot, "waf_custom_rules").length,
  resources: CloudflareConnector.resources.length,
  zoneRead: Permissions.Permission.ZoneRead,
  rejected,
  internal
}))
`

describe("Packed package", () => {
  const sim = Simulator.make({ scenario: "redpine", rateLimit: false })
  let server: Awaited<ReturnType<typeof serve>>
  let dir: string

  beforeAll(async () => {
    server = await serve(sim, { port: 0 })
    dir = mkdtempSync(join(tmpdir(), "plumbline-cloudflare-pack-"))
    // Other test files import these dists while this runs: rebuild them only when stale.
    for (const dependency of [core, rules]) {
      if (stale(dependency)) await run("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: dependency })
    }
    await run("npx", ["tsc", "-p", "tsconfig.build.json"], { cwd: here })
    for (const pkg of [core, rules, here]) await run("npx", ["-y", "pnpm@12.4.2", "pack", "--pack-destination", dir], { cwd: pkg })
    const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz")).map((f) => join(dir, f))
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }))
    writeFileSync(join(dir, "consumer.mjs"), CONSUMER)
    await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...tarballs, "effect@3.22.4", "@effect/platform@0.97.2"], {
      cwd: dir,
      timeout: 240_000
    })
    // Three builds, three packs and an install from the registry: about 20 s on a quiet machine,
    // several times that while the rest of the suite shares two cores.
  }, 300_000)

  afterAll(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it("installs outside the workspace, imports, and reads the simulator", async () => {
    const { stdout } = await run("node", ["consumer.mjs", server.baseUrl, sim.tokens["account"]!, sim.tokens["revoked"]!], { cwd: dir })
    const out = JSON.parse(stdout.trim()) as Record<string, unknown>
    assert.deepStrictEqual(out, {
      zones: ["redpine.dev", "redpine.io"],
      outcome: "complete",
      waf: 4,
      resources: 23,
      zoneRead: "Zone Read",
      rejected: "CredentialInvalid",
      internal: "blocked"
    })
    assert.isTrue(readdirSync(join(dir, "node_modules", "@plumbline", "cloudflare", "dist")).includes("index.d.ts"))
  }, 120_000)
})
