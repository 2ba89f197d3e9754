import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"

const packageDir = fileURLToPath(new URL("..", import.meta.url))

describe("Bin", () => {
  it("starts the standalone server and prints one JSON line with the base URL and tokens", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "--scenario", "redpine", "--port", "0"], {
      cwd: packageDir,
      stdio: ["ignore", "pipe", "inherit"]
    })
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", resolve)
        child.once("exit", (code) => reject(new Error(`exited with ${code}`)))
      })
      const printed = JSON.parse(line) as { baseUrl: string; tokens: Record<string, string> }
      assert.deepStrictEqual(Object.keys(printed), ["baseUrl", "tokens"])
      assert.match(printed.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/client\/v4$/)
      assert.deepStrictEqual(Object.keys(printed.tokens), ["scoped", "account", "accountOwned", "revoked", "expired", "customer"])
      const res = await fetch(`${printed.baseUrl}/user/tokens/verify`, { headers: { authorization: `Bearer ${printed.tokens["scoped"]}` } })
      assert.strictEqual(res.status, 200)
    } finally {
      child.kill("SIGTERM")
    }
  })
})
