/**
 * Validates simulator responses against the lenient OpenAPI subset (copied into fixtures) with
 * Ajv, one compiled validator per GET operation.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Ajv } from "ajv"
import addFormatsModule from "ajv-formats"

type Spec = {
  paths: Record<string, { get?: { responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }> } }>
  components: { responses: Record<string, { content: Record<string, { schema: unknown }> }> }
}

const spec = JSON.parse(readFileSync(fileURLToPath(new URL("./fixtures/openapi-subset.lenient.json", import.meta.url)), "utf8")) as Spec

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const ajv = new Ajv({ strict: false, allErrors: true })
addFormats(ajv)
ajv.addSchema(spec as object, "spec")

const escape = (s: string): string => s.replace(/~/g, "~0").replace(/\//g, "~1")

/** Every GET path of the spec. */
export const specPaths: ReadonlyArray<string> = Object.keys(spec.paths).filter((p) => spec.paths[p]?.get !== undefined)

/** Turns `/zones/{zone_identifier}/filters` and `/zones/:zone_id/filters` into `/zones/{}/filters`. */
export const shape = (path: string): string => path.replace(/\{[^}]+\}|:[a-z_]+/g, "{}")

const validators = new Map<string, ReturnType<typeof ajv.compile>>()

/** The validator of a spec path's 200 response. */
export const validatorFor = (specPath: string): ReturnType<typeof ajv.compile> => {
  const cached = validators.get(specPath)
  if (cached !== undefined) return cached
  const response = spec.paths[specPath]?.get?.responses["200"]
  if (response === undefined) throw new Error(`no 200 response for ${specPath}`)
  const pointer =
    response.$ref !== undefined
      ? `spec${response.$ref}/content/application~1json/schema`
      : `spec#/paths/${escape(specPath)}/get/responses/200/content/application~1json/schema`
  const validate = ajv.compile({ $ref: pointer })
  validators.set(specPath, validate)
  return validate
}

/** The spec path that a concrete request path instantiates. */
export const specPathOf = (path: string): string | undefined => {
  const segments = path.split("/").filter((s) => s !== "")
  return specPaths.find((p) => {
    const t = p.split("/").filter((s) => s !== "")
    return t.length === segments.length && t.every((s, i) => s.startsWith("{") || s === segments[i])
  })
}

/** Validates a body; returns Ajv's error text or undefined. */
export const validate = (path: string, body: unknown): string | undefined => {
  const specPath = specPathOf(path)
  if (specPath === undefined) return `no spec path for ${path}`
  const v = validatorFor(specPath)
  return v(body) ? undefined : ajv.errorsText(v.errors, { separator: "\n" })
}
