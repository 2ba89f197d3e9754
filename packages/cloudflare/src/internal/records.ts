/**
 * Helpers shared by the resource mappings: canonical records hold no `undefined` members (they are
 * JSON), arrays whose order means nothing are sorted, and members Cloudflare sends that the
 * connector does not name are kept under `extra`.
 */
import { Json } from "@plumbline/core"
import { Schema } from "effect"

/** Drops `undefined` members, deeply, so a record is plain JSON. */
export const compact = <A>(value: A): A => {
  if (Array.isArray(value)) return value.map(compact) as A
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const [key, member] of Object.entries(value)) if (member !== undefined) out[key] = compact(member)
    return out as A
  }
  return value
}

/** A sorted copy of a list of strings (`null`/absent stays absent). */
export const sorted = (values: ReadonlyArray<string> | null | undefined): Array<string> | undefined =>
  values === null || values === undefined ? undefined : [...values].sort()

/** `null` becomes absent. */
export const orUndefined = <A>(value: A | null | undefined): A | undefined => (value === null ? undefined : value)

// ---------------------------------------------------------------------------------------------
// Members the connector does not name (issue #14 §3)
//
// A field Cloudflare adds tomorrow must show up in drift, not vanish. Wire Structs are therefore
// "open": besides the fields they name, an index signature takes every other member as JSON, so the
// per-item decoding keeps it whatever `onExcessProperty` says (an index signature leaves no member
// "excess"). The mapping then puts those members, keys sorted, under the record's `extra`: one
// place, so a new field appears in drift as `/extra/<name>` and its removal too, while the typed
// members keep their own paths. Nothing is added when Cloudflare sends nothing unknown, so records
// (and drift) stay as quiet as before.

/** Members of a wire object that its Struct does not name, as JSON. */
export const Unnamed = Schema.Record({ key: Schema.String, value: Json.Json })

/** A wire Struct that also keeps, as JSON, every member it does not name (see `extraOf`). */
export const openStruct = <F extends Schema.Struct.Fields>(fields: F) => Schema.Struct(fields, Unnamed)

/** The canonical records' `extra`: the members Cloudflare sent that the connector does not name. */
export const Extra = Schema.optional(Unnamed)

/**
 * The members of a decoded wire object that `fields` do not name, keys sorted; `undefined` when
 * there are none, so a record without unknown members has no `extra` at all.
 */
export const extraOf = (
  wire: { readonly [key: string]: Json.Json | undefined },
  fields: Schema.Struct.Fields
): { readonly [key: string]: Json.Json } | undefined => {
  const entries: Array<[string, Json.Json]> = []
  for (const key of Object.keys(wire).sort()) {
    if (Object.hasOwn(fields, key)) continue
    const value = wire[key]
    if (value !== undefined) entries.push([key, value])
  }
  // fromEntries keeps a member named "__proto__" as data instead of setting the prototype.
  return entries.length === 0 ? undefined : Object.fromEntries(entries)
}
