/**
 * Type inference for values of an already-checked syntax tree. The parser validates while it
 * builds the tree; the compiler only needs to know the types again, which this recomputes.
 */
import type { Argument, Index, Value } from "../Ast.js"
import type { Type } from "../Scheme.js"
import { arrayOf, fieldType } from "../Scheme.js"
import { functions, isCheckError } from "./functions.js"

/** A value's type; for a mapped (`[*]`) value, the element type. */
export interface ValueType {
  readonly type: Type
  readonly mapped: boolean
}

/** Applies one index to a type (assumes the tree was checked). */
export const applyIndex = (current: ValueType, index: Index): ValueType | string => {
  const t = current.type
  switch (index._tag) {
    case "Element":
      return typeof t === "object" && "array" in t
        ? { type: t.array, mapped: current.mapped }
        : `[${index.index}] needs an Array, got ${describe(t)}`
    case "Key":
      return typeof t === "object" && "map" in t ? { type: t.map, mapped: current.mapped } : `["…"] needs a Map, got ${describe(t)}`
    case "Each":
      if (current.mapped) return "[*] can only be used once in a value"
      return typeof t === "object"
        ? { type: "array" in t ? t.array : t.map, mapped: true }
        : `[*] needs an Array or a Map, got ${describe(t)}`
  }
}

const describe = (t: Type): string =>
  typeof t === "string" ? t : "array" in t ? `Array<${describe(t.array)}>` : `Map<${describe(t.map)}>`

/** The type of an argument. */
export const argumentType = (arg: Argument): ValueType =>
  arg._tag === "String" ? { type: "Bytes", mapped: false } : arg._tag === "Int" ? { type: "Int", mapped: false } : valueType(arg)

/** The type of a checked value. */
export const valueType = (value: Value): ValueType => {
  let current: ValueType
  if (value._tag === "Field") {
    current = { type: fieldType(value.name) ?? "Bytes", mapped: false }
  } else {
    const args = value.args.map(argumentType)
    const spec = functions.get(value.name)
    const result = spec?.check(value.args.map((node, i) => ({ node, literal: node._tag === "String" || node._tag === "Int", type: args[i]!.type })))
    const type: Type = result === undefined || isCheckError(result) ? "Bytes" : result
    current = { type: args[0]?.mapped === true ? arrayOf(type) : type, mapped: false }
  }
  for (const index of value.indexes) {
    const next = applyIndex(current, index)
    if (typeof next === "string") return current
    current = next
  }
  return current
}
