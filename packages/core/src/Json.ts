/**
 * JSON values and their canonical text. Snapshots, drift reports and golden files are written with
 * object keys sorted and no insignificant white space, so the same data always gives the same bytes.
 */
import { Schema } from "effect"

/** A JSON value. */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/** The Schema of a JSON value (checked structurally, so `undefined`, functions and cycles are refused). */
export const Json: Schema.Schema<Json> = Schema.suspend(
  (): Schema.Schema<Json> =>
    Schema.Union(
      Schema.Null,
      Schema.Boolean,
      Schema.Number,
      Schema.String,
      Schema.Array(Json),
      Schema.Record({ key: Schema.String, value: Json })
    )
).annotations({ identifier: "Json" })

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
