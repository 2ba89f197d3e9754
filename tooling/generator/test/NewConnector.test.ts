import { execFileSync, type ExecFileSyncOptions } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generate, placeholders } from "../new-connector.mjs"

const root = resolve(import.meta.dirname, "..", "..", "..")
const name = "acme-demo"

/** The environment for child tools, without this vitest run's own variables. */
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST") && key !== "NODE_OPTIONS"))

const run = (command: string, args: ReadonlyArray<string>, cwd: string): string => {
  const options: ExecFileSyncOptions = { cwd, env: { ...env, FORCE_COLOR: "0", TURBO_TELEMETRY_DISABLED: "1" }, stdio: "pipe", maxBuffer: 64 * 1024 * 1024 }
  try {
    return execFileSync(command, args, options).toString()
  } catch (error) {
    const failed = error as { stdout?: Buffer; stderr?: Buffer; message: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${failed.stdout?.toString() ?? ""}\n${failed.stderr?.toString() ?? ""}\n${failed.message}`)
  }
}

// A temporary workspace: the root files, the shared tooling and the packages a new connector
// depends on (with their built dist, as turbo's ^build leaves them), installed offline.
let workspace: string
const copy = (path: string) =>
  cpSync(join(root, path), join(workspace, path), {
    recursive: true,
    filter: (source) => !/[/\\](node_modules|test-results|\.turbo)([/\\]|$)/.test(source.slice(root.length))
  })

beforeAll(() => {
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
  run("git", ["init", "-q", "-b", "main"], workspace)
  run("git", ["-c", "user.name=t", "-c", "user.email=t@example.test", "add", "-A"], workspace)
  run("git", ["-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-qm", "base"], workspace)
}, 60_000)

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

  it("scaffolds a package that installs, typechecks, lints, builds and passes its tests, and that turbo and changesets pick up", () => {
    const output = run("npx", ["-y", "pnpm@12.4.2", "new-connector", name], workspace)
    expect(output).toContain(`Created @plumbline/${name}`)
    const pkg = join(workspace, "packages", name)
    for (const file of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "vitest.config.ts", "eslint.config.js", "src/AcmeDemoConnector.ts", "test/Contract.test.ts"]) {
      expect(existsSync(join(pkg, file)), file).toBe(true)
    }
    expect(() => run("node", ["tooling/generator/new-connector.mjs", name], workspace)).toThrow(/refusing to overwrite/)

    run("npx", ["-y", "pnpm@12.4.2", "install", "--offline", "--ignore-scripts", "--no-frozen-lockfile"], workspace)
    const bin = (tool: string) => join(pkg, "node_modules", ".bin", tool)
    run(bin("tsc"), ["-p", "tsconfig.json"], pkg)
    run(bin("eslint"), ["."], pkg)
    run(bin("tsc"), ["-p", "tsconfig.build.json"], pkg)
    expect(existsSync(join(pkg, "dist", "AcmeDemoConnector.js"))).toBe(true)
    run(bin("vitest"), ["run"], pkg)
    const report = JSON.parse(readFileSync(join(pkg, "test-results", "vitest.json"), "utf8")) as { numPassedTests: number; numFailedTests: number }
    expect(report.numFailedTests).toBe(0)
    expect(report.numPassedTests).toBeGreaterThanOrEqual(15)

    const dry = JSON.parse(run(join(workspace, "node_modules", ".bin", "turbo"), ["run", "build", "typecheck", "lint", "test", `--filter=@plumbline/${name}`, "--dry=json"], workspace)) as {
      tasks: Array<{ taskId: string }>
    }
    const tasks = dry.tasks.map((t) => t.taskId)
    for (const task of ["build", "typecheck", "lint", "test"]) expect(tasks).toContain(`@plumbline/${name}#${task}`)

    const status = run(join(workspace, "node_modules", ".bin", "changeset"), ["status", "--verbose"], workspace)
    expect(status).toMatch(new RegExp(`@plumbline/${name}`))
    expect(status).toMatch(/minor/i)
  })
})
