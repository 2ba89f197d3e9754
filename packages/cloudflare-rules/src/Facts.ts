/**
 * Request facts: the value of every field for one request, in the engine's runtime
 * representation. Build them with `Request.make` from a simple description, or with
 * {@link make} from field values written as ordinary JavaScript data. Fields left out take their
 * type's default (`""`, `0`, `false`, empty array or map); an absent IP field is a missing value.
 */
import { fromUtf8 } from "./internal/bytes.js"
import type { Ip } from "./internal/ip.js"
import { formatIp, parseIp } from "./internal/ip.js"
import type { Type } from "./Scheme.js"
import { fieldType } from "./Scheme.js"

/**
 * A field value as JavaScript data: strings (UTF-8 text; use `Uint8Array` for raw bytes),
 * numbers, booleans, IPs as text, arrays, and objects or `Map`s for map fields.
 */
export type FieldInput =
  | string
  | number
  | boolean
  | Uint8Array
  | ReadonlyArray<FieldInput>
  | ReadonlyMap<string, FieldInput>
  | { readonly [key: string]: FieldInput }

/** Runtime values: byte strings, numbers, booleans, `number | bigint` IPs, arrays, Maps. */
export type RuntimeValue = string | number | boolean | Ip | ReadonlyArray<RuntimeValue> | ReadonlyMap<string, RuntimeValue>

const TypeId: unique symbol = Symbol.for("@plumbline/cloudflare-rules/Facts")

/** The facts of one request. */
export interface Facts {
  readonly [TypeId]: typeof TypeId
  /** Runtime values by field name (null-prototype record). */
  readonly values: Readonly<Record<string, RuntimeValue>>
}

/** True for {@link Facts}. */
export const isFacts = (u: unknown): u is Facts => typeof u === "object" && u !== null && TypeId in u

/** Wraps runtime values that are already in the engine's representation. */
export const unsafeFromValues = (values: Readonly<Record<string, RuntimeValue>>): Facts => ({ [TypeId]: TypeId, values })

/** Converts one JavaScript value to a field's runtime type, or undefined when it does not fit. */
export const convert = (type: Type, input: FieldInput): RuntimeValue | undefined => {
  if (type === "Bytes") {
    if (typeof input === "string") return fromUtf8(input)
    if (input instanceof Uint8Array) return Buffer.from(input).toString("latin1")
    if (typeof input === "number") return String(input)
    return undefined
  }
  if (type === "Int") return typeof input === "number" && Number.isSafeInteger(input) ? input : undefined
  if (type === "Bool") return typeof input === "boolean" ? input : undefined
  if (type === "Ip") return typeof input === "string" ? parseIp(input.trim()) : undefined
  if ("array" in type) {
    if (!Array.isArray(input)) return undefined
    const out: Array<RuntimeValue> = []
    for (const item of input as ReadonlyArray<FieldInput>) {
      const v = convert(type.array, item)
      if (v === undefined) return undefined
      out.push(v)
    }
    return out
  }
  if (typeof input !== "object" || input instanceof Uint8Array || Array.isArray(input)) return undefined
  const entries: Iterable<readonly [string, FieldInput]> =
    input instanceof Map ? (input as ReadonlyMap<string, FieldInput>).entries() : Object.entries(input)
  const out = new Map<string, RuntimeValue>()
  for (const [k, item] of entries) {
    const v = convert(type.map, item)
    if (v === undefined) return undefined
    const key = fromUtf8(k)
    // A map field's values are arrays; repeated keys (e.g. from a Map with odd casing) append.
    const existing = out.get(key)
    if (Array.isArray(existing) && Array.isArray(v)) out.set(key, [...existing, ...v])
    else out.set(key, v)
  }
  return out
}

/**
 * Builds facts from field values written as JavaScript data. Unknown field names and values of
 * the wrong type are reported in `rejected` instead of being silently used.
 */
export const makeWithReport = (
  fields: Readonly<Record<string, FieldInput>>
): { readonly facts: Facts; readonly rejected: ReadonlyArray<string> } => {
  const values: Record<string, RuntimeValue> = Object.create(null)
  const rejected: Array<string> = []
  for (const [name, input] of Object.entries(fields)) {
    const type = fieldType(name)
    const v = type === undefined ? undefined : convert(type, input)
    if (v === undefined) rejected.push(name)
    else values[name] = v
  }
  return { facts: unsafeFromValues(values), rejected }
}

/** Builds facts from field values written as JavaScript data (invalid entries are dropped). */
export const make = (fields: Readonly<Record<string, FieldInput>>): Facts => makeWithReport(fields).facts

/** Renders a runtime value as JavaScript data (byte strings decoded as UTF-8 where valid). */
export const display = (value: RuntimeValue | undefined, type: Type): unknown => {
  if (value === undefined) return undefined
  if (type === "Ip") return formatIp(value as Ip)
  if (type === "Bytes") return Buffer.from(value as string, "latin1").toString("utf8")
  if (typeof type === "object" && "array" in type) return (value as ReadonlyArray<RuntimeValue>).map((v) => display(v, type.array))
  if (typeof type === "object" && "map" in type) {
    return Object.fromEntries([...(value as ReadonlyMap<string, RuntimeValue>)].map(([k, v]) => [Buffer.from(k, "latin1").toString("utf8"), display(v, type.map)]))
  }
  return value
}
