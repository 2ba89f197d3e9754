import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { describe, expect, it } from "vitest"

// Every TypeScript sample in the guides must be a verbatim excerpt of a file this package
// type-checks and tests, so a sample can never drift from code that compiles.
const docs = resolve(import.meta.dirname, "..")
const compiled = ["examples", "test"].flatMap((dir) =>
  readdirSync(join(docs, dir))
    .filter((file) => file.endsWith(".ts"))
    .map((file) => ({ file: `${dir}/${file}`, text: readFileSync(join(docs, dir, file), "utf8") }))
)

/** The fenced ```ts / ```typescript blocks of a markdown text. */
export const samples = (markdown: string): Array<{ readonly line: number; readonly code: string }> => {
  const found: Array<{ line: number; code: string }> = []
  const fence = /^```(ts|typescript)\s*\n([\s\S]*?)^```\s*$/gm
  for (let match = fence.exec(markdown); match !== null; match = fence.exec(markdown)) {
    found.push({ line: markdown.slice(0, match.index).split("\n").length, code: match[2] ?? "" })
  }
  return found
}

const guides = readdirSync(docs).filter((file) => file.endsWith(".md"))

describe("guide samples", () => {
  it("finds fenced samples, and notices one that is not in a compiled file", () => {
    const markdown = "text\n```ts\nconst a = 1\n```\n\n```sh\nls\n```\n"
    expect(samples(markdown)).toEqual([{ line: 2, code: "const a = 1\n" }])
    expect(compiled.some(({ text }) => text.includes("const a = 1\n"))).toBe(false)
  })

  for (const guide of guides) {
    it(`every TypeScript sample in ${guide} is verbatim in a compiled file`, () => {
      const markdown = readFileSync(join(docs, guide), "utf8")
      const found = samples(markdown)
      expect(found.length).toBeGreaterThan(0)
      const missing = found.filter(({ code }) => !compiled.some(({ text }) => text.includes(code)))
      expect(missing.map(({ line, code }) => `${guide}:${line}: ${code.split("\n")[0]}`)).toEqual([])
    })
  }
})
