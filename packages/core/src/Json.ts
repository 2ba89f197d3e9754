/**
 * JSON values and their canonical text. Snapshots, drift reports and golden files are written with
 * object keys sorted and no insignificant white space, so the same data always gives the same bytes.
 */
import { Schema } from "effect"

/** A JSON value. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/**
 * Whether `u` is a JSON value: null, a boolean, a number, a string, an array of JSON values or an
 * object whose own enumerable members are JSON values; `undefined`, functions, symbols, bigints and
 * cycles are refused. `ancestors` holds the objects on the path from the root, to find cycles.
 */
const isJson = (u: unknown, ancestors: Set<object>): boolean => {
  switch (typeof u) {
    case "string":
    case "number":
    case "boolean":
      return true
    case "object": {
      if (u === null) return true
      if (ancestors.has(u)) return false
      ancestors.add(u)
      let ok = true
      if (Array.isArray(u)) {
        for (let i = 0; ok && i < u.length; i++) ok = isJson(u[i], ancestors)
      } else {
        for (const key of Object.keys(u)) {
          if (!isJson((u as Record<string, unknown>)[key], ancestors)) {
            ok = false
            break
          }
        }
      }
      ancestors.delete(u)
      return ok
    }
    default:
      return false
  }
}

/**
 * The Schema of a JSON value (checked structurally, so `undefined`, functions and cycles are refused).
 * One walk of a type guard: every wire item's open members and every stored record pass through it,
 * and a recursive union of Schemas cost several times more (it showed in B1's profile).
 */
export const Json: Schema.Schema<Json> = Schema.declare((u: unknown): u is Json => isJson(u, new Set()), {
  identifier: "Json",
  description: "a JSON value"
})

/** Is this a plain JSON object (not an array, not null)? */
export const isObject = (value: Json | undefined): value is { readonly [key: string]: Json } =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Canonical JSON text: keys sorted by code unit, `undefined` members dropped, optional indentation. */
export const stringify = (value: unknown, indent?: number): string =>
  JSON.stringify(sortKeys(value), null, indent) ?? "null"

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value === "object" && value !== null) {
    const entries: Array<[string, unknown]> = []
    for (const key of Object.keys(value).sort()) {
      const member = (value as Record<string, unknown>)[key]
      if (member !== undefined) entries.push([key, sortKeys(member)])
    }
    // fromEntries keeps a member named "__proto__" as data instead of setting the prototype.
    return Object.fromEntries(entries)
  }
  return value
}

/** Deep structural equality of two JSON values. */
export const equals = (a: Json | undefined, b: Json | undefined): boolean => {
  if (a === b) return true
  if (a === undefined || b === undefined || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, i) => equals(item, b[i]))
  }
  if (isObject(a)) {
    if (!isObject(b)) return false
    const keys = Object.keys(a)
    if (keys.length !== Object.keys(b).length) return false
    return keys.every((key) => Object.hasOwn(b, key) && equals(a[key], b[key]))
  }
  return false
}
