#!/usr/bin/env node
// Scaffolds a connector package: `pnpm new-connector <name>` writes packages/<name> (package.json,
// tsconfigs, vitest and eslint configs, README, a connector with one example resource, a fake of its
// example API and tests running the connector contract suite) and .changeset/<name>.md.
// It never overwrites anything. Run `npx -y pnpm@12.4.2 install` afterwards to link the package.
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const here = dirname(fileURLToPath(import.meta.url))
const templates = join(here, "templates")

/** Lowercase words joined by single dashes, starting with a letter: `acme`, `acme-cloud`, `s3-compat`. */
export const validName = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/

/** The placeholders every template may use, for one package name. */
export const placeholders = (name) => {
  const words = name.split("-")
  const capitalised = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1))
  return {
    __name__: name,
    __Name__: capitalised.join(""),
    __Title__: capitalised.join(" "),
    __CONST__: words.join("_").toUpperCase()
  }
}

const fill = (text, values) => Object.entries(values).reduce((out, [key, value]) => out.split(key).join(value), text)

const walk = (dir) =>
  readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry)
    return statSync(path).isDirectory() ? walk(path) : [path]
  })

/** Writes the package for `name` under `root`; returns the files written. Throws on a bad name or an existing package. */
export const generate = (root, name) => {
  if (typeof name !== "string" || !validName.test(name)) {
    throw new Error(`"${name ?? ""}" is not a valid connector name: use lowercase words separated by dashes, e.g. "acme-cloud"`)
  }
  const target = join(root, "packages", name)
  const changeset = join(root, ".changeset", `${name}.md`)
  if (existsSync(target)) throw new Error(`packages/${name} already exists; refusing to overwrite it`)
  if (existsSync(changeset)) throw new Error(`.changeset/${name}.md already exists; refusing to overwrite it`)
  const values = placeholders(name)
  const written = []
  for (const template of walk(templates)) {
    const relativePath = fill(relative(templates, template), values).replace(/\.tpl$/, "")
    const destination = relativePath === "changeset.md" ? changeset : join(target, relativePath)
    mkdirSync(dirname(destination), { recursive: true })
    writeFileSync(destination, fill(readFileSync(template, "utf8"), values), { flag: "wx" })
    written.push(relative(root, destination))
  }
  return written.sort()
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)
if (isMain) {
  const root = resolve(here, "..", "..")
  const name = process.argv[2]
  try {
    const written = generate(root, name)
    console.log(`Created @plumbline/${name}:\n${written.map((f) => `  ${f}`).join("\n")}`)
    console.log(`\nNext:\n  npx -y pnpm@12.4.2 install\n  cd packages/${name} && npx vitest run\n  then read docs/writing-a-connector.md`)
  } catch (error) {
    console.error(`new-connector: ${error instanceof Error ? error.message : String(error)}`)
    console.error("usage: pnpm new-connector <name>")
    process.exit(1)
  }
}
