import { execFile } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generate, placeholders } from "../new-connector.mjs"

const root = resolve(import.meta.dirname, "..", "..", "..")
const name = "acme-demo"

/** The environment for child tools, without this vitest run's own variables. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST") && key !== "NODE_OPTIONS"))

/**
 * Runs a command without blocking this worker: a blocked worker cannot answer vitest's own RPC, and
 * on a loaded machine an install or a nested test run takes longer than vitest waits for it.
 */
const run = (command: string, args: ReadonlyArray<string>, cwd: string): Promise<string> =>
  new Promise((resolvePromise, reject) => {
    execFile(
      command,
      args,
      { cwd, env: { ...env, FORCE_COLOR: "0", TURBO_TELEMETRY_DISABLED: "1" }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error === null) resolvePromise(stdout)
        else reject(new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${stdout}\n${stderr}\n${error.message}`))
      }
    )
  })

// A temporary workspace: the root files, the shared tooling and the packages a new connector
// depends on (with their built dist, as turbo's ^build leaves them), installed offline.
let workspace: string
const copy = (path: string) =>
  cpSync(join(root, path), join(workspace, path), {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|test-results|\.turbo)([/\\]|$)/.test(source.slice(root.length))
  })

beforeAll(async () => {
  workspace = mkdtempSync(join(tmpdir(), "plumbline-generator-"))
  for (const path of ["package.json", ".gitignore", "pnpm-workspace.yaml", "pnpm-lock.yaml", "turbo.json", ".changeset/config.json"]) copy(path)
  for (const path of ["tooling/typescript", "tooling/eslint", "tooling/vitest", "tooling/generator", "packages/core", "packages/testkit"]) copy(path)
  if (!existsSync(join(workspace, "packages/core/dist/index.js")) || !existsSync(join(workspace, "packages/testkit/dist/index.js"))) {
    throw new Error("build @plumbline/core and @plumbline/testkit first (turbo's ^build does)")
  }
  // The copy holds a subset of the workspace: changesets refuses to ignore packages it cannot find.
  const changesetConfig = join(workspace, ".changeset", "config.json")
  const config = JSON.parse(readFileSync(changesetConfig, "utf8")) as { ignore?: Array<string> }
  const present = new Set(["packages/core", "packages/testkit"].map((dir) => (JSON.parse(readFileSync(join(workspace, dir, "package.json"), "utf8")) as { name: string }).name))
  writeFileSync(changesetConfig, JSON.stringify({ ...config, ignore: (config.ignore ?? []).filter((name) => present.has(name)) }, null, 2))
  await run("git", ["init", "-q", "-b", "main"], workspace)
  await run("git", ["-c", "user.name=t", "-c", "user.email=t@example.test", "add", "-A"], workspace)
  await run("git", ["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "base"], workspace)
}, 120_000)

afterAll(() => {
  if (workspace !== undefined) rmSync(workspace, { recursive: true, force: true })
})

describe("new-connector", () => {
  it("refuses names that are not lowercase and dash-separated", () => {
    for (const bad of ["Acme", "acme_cloud", "-acme", "acme-", "acme--cloud", "1acme", "", "../core"]) {
      expect(() => generate(workspace, bad)).toThrow(/not a valid connector name/)
    }
    expect(placeholders("acme-cloud")).toEqual({ __name__: "acme-cloud", __Name__: "AcmeCloud", __Title__: "Acme Cloud", __CONST__: "ACME_CLOUD" })
  })

  it("refuses to overwrite an existing package", () => {
    expect(() => generate(workspace, "core")).toThrow(/packages\/core already exists/)
  })

  it("scaffolds a package that installs, typechecks, lints, builds and passes its tests, and that turbo and changesets pick up", async () => {
    const output = await run("npx", ["-y", "pnpm@12.4.2", "new-connector", name], workspace)
    expect(output).toContain(`Created @plumbline/${name}`)
    const pkg = join(workspace, "packages", name)
    for (const file of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "vitest.config.ts", "eslint.config.js", "src/AcmeDemoConnector.ts", "test/Contract.test.ts"]) {
      expect(existsSync(join(pkg, file)), file).toBe(true)
    }
    await expect(run("node", ["tooling/generator/new-connector.mjs", name], workspace)).rejects.toThrow(/refusing to overwrite/)

    await run("npx", ["-y", "pnpm@12.4.2", "install", "--offline", "--ignore-scripts", "--no-frozen-lockfile"], workspace)
    const bin = (tool: string) => join(pkg, "node_modules", ".bin", tool)
    await run(bin("tsc"), ["-p", "tsconfig.json"], pkg)
    await run(bin("eslint"), ["."], pkg)
    await run(bin("tsc"), ["-p", "tsconfig.build.json"], pkg)
    expect(existsSync(join(pkg, "dist", "AcmeDemoConnector.js"))).toBe(true)
    await run(bin("vitest"), ["run"], pkg)
    const report = JSON.parse(readFileSync(join(pkg, "test-results", "vitest.json"), "utf8")) as { numPassedTests: number; numFailedTests: number }
    expect(report.numFailedTests).toBe(0)
    expect(report.numPassedTests).toBeGreaterThanOrEqual(15)

    const dry = JSON.parse(await run(join(workspace, "node_modules", ".bin", "turbo"), ["run", "build", "typecheck", "lint", "test", `--filter=@plumbline/${name}`, "--dry=json"], workspace)) as {
      tasks: Array<{ taskId: string }>
    }
    const tasks = dry.tasks.map((t) => t.taskId)
    for (const task of ["build", "typecheck", "lint", "test"]) expect(tasks).toContain(`@plumbline/${name}#${task}`)

    const status = await run(join(workspace, "node_modules", ".bin", "changeset"), ["status", "--verbose"], workspace)
    expect(status).toMatch(new RegExp(`@plumbline/${name}`))
    expect(status).toMatch(/minor/i)
  }, 300_000)
})
