/**
 * Compiles a checked syntax tree into closures. All the work that does not depend on the
 * request happens here, once: field defaults, regexes, wildcard segments, set lookups and CIDR
 * ranges. Evaluating is then a chain of closure calls over the facts record, with no tree
 * walking and no allocation on the common paths.
 */
import type * as Ast from "../Ast.js"
import type { NamedLists } from "../NamedLists.js"
import type { Type } from "../Scheme.js"
import { fieldType } from "../Scheme.js"
import { functions } from "./functions.js"
import type { Ip } from "./ip.js"
import { lastOf, networkOf, parseIp } from "./ip.js"
import { compileRegex } from "./regex.js"
import { argumentType, valueType } from "./typing.js"
import { parseWildcard, wildcardMatcher } from "./wildcard.js"

/** The facts record a compiled rule reads. */
export type Values = Readonly<Record<string, unknown>>

/** A compiled boolean expression. */
export type Evaluator = (values: Values, lists: NamedLists) => boolean

type Getter = (values: Values, lists: NamedLists) => unknown
type ArrayEval = (values: Values, lists: NamedLists) => ReadonlyArray<boolean> | undefined
type Predicate = (value: unknown, lists: NamedLists) => boolean

const EMPTY: ReadonlyArray<never> = []

const defaultFor = (type: Type): unknown =>
  type === "Bytes" ? "" : type === "Int" ? 0 : type === "Bool" ? false : type === "Ip" ? undefined : "array" in type ? EMPTY : new Map()

const compileIndexes = (base: Getter, indexes: ReadonlyArray<Ast.Index>): Getter => {
  let getter = base
  let mapped = false
  for (const index of indexes) {
    const prev = getter
    if (index._tag === "Each") {
      mapped = true
      getter = (f, l) => {
        const v = prev(f, l)
        return Array.isArray(v) ? v : v instanceof Map ? Array.from(v.values()) : EMPTY
      }
      continue
    }
    const step: (v: unknown) => unknown =
      index._tag === "Element"
        ? ((i) => (v: unknown) => (Array.isArray(v) ? v[i] : undefined))(index.index)
        : ((k) => (v: unknown) => (v instanceof Map ? v.get(k) : undefined))(index.key)
    if (mapped) {
      getter = (f, l) => {
        const out: Array<unknown> = []
        for (const item of prev(f, l) as ReadonlyArray<unknown>) {
          const v = step(item)
          if (v !== undefined) out.push(v)
        }
        return out
      }
    } else {
      getter = (f, l) => step(prev(f, l))
    }
  }
  return getter
}

const compileArgument = (arg: Ast.Argument): Getter => {
  if (arg._tag === "String" || arg._tag === "Int") {
    const constant = arg.value
    return () => constant
  }
  return compileValue(arg)
}

/** Compiles a value; a mapped (`[*]`) value yields an array of its present elements. */
export const compileValue = (value: Ast.Value): Getter => {
  if (value._tag === "Field") {
    const name = value.name
    const fallback = defaultFor(fieldType(name) ?? "Bytes")
    const base: Getter = (f) => {
      const v = f[name]
      return v === undefined ? fallback : v
    }
    return compileIndexes(base, value.indexes)
  }
  const spec = functions.get(value.name)!
  const types = value.args.map((a) => argumentType(a).type)
  const impl = spec.build(value.args, types)
  const args = value.args.map(compileArgument)
  const mappedFirst = value.args[0] !== undefined && argumentType(value.args[0]).mapped
  const tolerant = spec.tolerant === true
  let call: Getter
  if (mappedFirst) {
    const rest = args.slice(1)
    const first = args[0]!
    call = (f, l) => {
      const others = rest.map((g) => g(f, l))
      if (!tolerant && others.some((v) => v === undefined)) return undefined
      const out: Array<unknown> = []
      for (const item of first(f, l) as ReadonlyArray<unknown>) {
        const r = impl([item, ...others])
        if (r !== undefined) out.push(r)
      }
      return out
    }
  } else if (args.length === 1) {
    const a0 = args[0]!
    call = (f, l) => {
      const v = a0(f, l)
      return v === undefined && !tolerant ? undefined : impl([v])
    }
  } else if (args.length === 2) {
    const a0 = args[0]!
    const a1 = args[1]!
    call = (f, l) => {
      const v0 = a0(f, l)
      const v1 = a1(f, l)
      return !tolerant && (v0 === undefined || v1 === undefined) ? undefined : impl([v0, v1])
    }
  } else {
    call = (f, l) => {
      const vs = args.map((g) => g(f, l))
      return !tolerant && vs.some((v) => v === undefined) ? undefined : impl(vs)
    }
  }
  return compileIndexes(call, value.indexes)
}

const ipOf = (text: string): Ip => parseIp(text) ?? 0

const ipSetPredicate = (elements: ReadonlyArray<Ast.SetElement>): ((v: Ip) => boolean) => {
  const exact = new Set<Ip>()
  const ranges: Array<readonly [Ip, Ip]> = []
  for (const e of elements) {
    if (e._tag === "Ip") exact.add(ipOf(e.value))
    else if (e._tag === "Cidr") {
      const ip = ipOf(e.address)
      ranges.push([networkOf(ip, e.prefix), lastOf(ip, e.prefix)])
    } else if (e._tag === "IpRange") ranges.push([ipOf(e.from), ipOf(e.to)])
  }
  if (ranges.length === 0) return (v) => exact.has(v)
  return (v) => {
    if (exact.has(v)) return true
    const family = typeof v
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!
      if (typeof r[0] === family && v >= r[0] && v <= r[1]) return true
    }
    return false
  }
}

const intSetPredicate = (elements: ReadonlyArray<Ast.SetElement>): ((v: number) => boolean) => {
  const exact = new Set<number>()
  const ranges: Array<readonly [number, number]> = []
  for (const e of elements) {
    if (e._tag === "Int") exact.add(e.value)
    else if (e._tag === "IntRange") ranges.push([e.from, e.to])
  }
  if (ranges.length === 0) return (v) => exact.has(v)
  return (v) => {
    if (exact.has(v)) return true
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i]!
      if (v >= r[0] && v <= r[1]) return true
    }
    return false
  }
}

const bitwiseAnd = (mask: number) => {
  const small = mask >= -0x80000000 && mask <= 0x7fffffff
  const big = BigInt(mask)
  return (v: number) =>
    small && v >= -0x80000000 && v <= 0x7fffffff ? (v & mask) !== 0 : (BigInt(v) & big) !== 0n
}

const scalarConstant = (rhs: Ast.Rhs): unknown =>
  rhs._tag === "String" || rhs._tag === "Int" ? rhs.value : rhs._tag === "Ip" ? ipOf(rhs.value) : undefined

/** A per-element predicate for a comparison; the element is never missing here. */
const comparisonPredicate = (c: Ast.Comparison, type: Type): Predicate => {
  const rhs = c.right
  const k = scalarConstant(rhs)
  const ks = k as string
  const ki = k as Ip
  const isIp = type === "Ip"
  switch (c.operator) {
    case "eq":
      return (v) => v === k
    case "ne":
      return (v) => v !== k
    case "lt":
      return isIp ? (v) => typeof v === typeof k && (v as Ip) < ki : (v) => (v as string) < ks
    case "le":
      return isIp ? (v) => typeof v === typeof k && (v as Ip) <= ki : (v) => (v as string) <= ks
    case "gt":
      return isIp ? (v) => typeof v === typeof k && (v as Ip) > ki : (v) => (v as string) > ks
    case "ge":
      return isIp ? (v) => typeof v === typeof k && (v as Ip) >= ki : (v) => (v as string) >= ks
    case "contains": {
      const needle = ks
      return (v) => (v as string).includes(needle)
    }
    case "matches": {
      const compiled = compileRegex((rhs as Ast.RegexLiteral).pattern)
      const m = compiled.ok ? compiled.matcher : () => false
      return (v) => m(v as string)
    }
    case "wildcard":
    case "strict wildcard": {
      const parsed = parseWildcard((rhs as Ast.WildcardLiteral).pattern)
      const m = parsed.ok ? wildcardMatcher(parsed.segments, c.operator === "strict wildcard") : () => false
      return (v) => m(v as string)
    }
    case "bitwise_and": {
      const test = bitwiseAnd(k as number)
      return (v) => test(v as number)
    }
    case "in": {
      if (rhs._tag === "List") {
        const name = rhs.name
        if (type === "Bytes") return (v, l) => l.get(name)?.hasBytes(v as string) ?? false
        if (type === "Int") return (v, l) => l.get(name)?.hasInt(v as number) ?? false
        return (v, l) => l.get(name)?.hasIp(v as Ip) ?? false
      }
      const elements = (rhs as Ast.SetLiteral).elements
      if (type === "Bytes") {
        const set = new Set(elements.map((e) => (e as Ast.StringLiteral).value))
        return (v) => set.has(v as string)
      }
      if (type === "Int") {
        const p = intSetPredicate(elements)
        return (v) => p(v as number)
      }
      const p = ipSetPredicate(elements)
      return (v) => p(v as Ip)
    }
  }
}

type Compiled = { readonly array: false; readonly run: Evaluator } | { readonly array: true; readonly run: ArrayEval }

const compileComparison = (c: Ast.Comparison): Compiled => {
  const vt = valueType(c.left)
  const get = compileValue(c.left)
  const p = comparisonPredicate(c, vt.type)
  if (vt.mapped) {
    return {
      array: true,
      run: (f, l) => {
        const items = get(f, l) as ReadonlyArray<unknown>
        const out = new Array<boolean>(items.length)
        for (let i = 0; i < items.length; i++) out[i] = p(items[i], l)
        return out
      }
    }
  }
  return {
    array: false,
    run: (f, l) => {
      const v = get(f, l)
      return v !== undefined && p(v, l)
    }
  }
}

const elementwise = (runs: ReadonlyArray<ArrayEval>, combine: (bits: ReadonlyArray<boolean>) => boolean): ArrayEval => (f, l) => {
  const arrays: Array<ReadonlyArray<boolean>> = []
  for (const r of runs) {
    const a = r(f, l)
    if (a === undefined) return undefined
    arrays.push(a)
  }
  const n = Math.min(...arrays.map((a) => a.length))
  const out = new Array<boolean>(n)
  for (let i = 0; i < n; i++) out[i] = combine(arrays.map((a) => a[i]!))
  return out
}

const combiners: Record<Ast.LogicalOperator, (bits: ReadonlyArray<boolean>) => boolean> = {
  and: (b) => b.every(Boolean),
  or: (b) => b.some(Boolean),
  xor: (b) => b.filter(Boolean).length % 2 === 1
}

const compileLogical = (e: Ast.Logical): Compiled => {
  const parts = e.operands.map(compileNode)
  if (parts[0]?.array === true) {
    return { array: true, run: elementwise(parts.map((p) => p.run as ArrayEval), combiners[e.operator]) }
  }
  const runs = parts.map((p) => p.run as Evaluator)
  const n = runs.length
  switch (e.operator) {
    case "and": {
      if (n === 2) {
        const [a, b] = runs as [Evaluator, Evaluator]
        return { array: false, run: (f, l) => a(f, l) && b(f, l) }
      }
      return {
        array: false,
        run: (f, l) => {
          for (let i = 0; i < n; i++) if (!runs[i]!(f, l)) return false
          return true
        }
      }
    }
    case "or": {
      if (n === 2) {
        const [a, b] = runs as [Evaluator, Evaluator]
        return { array: false, run: (f, l) => a(f, l) || b(f, l) }
      }
      return {
        array: false,
        run: (f, l) => {
          for (let i = 0; i < n; i++) if (runs[i]!(f, l)) return true
          return false
        }
      }
    }
    case "xor":
      return {
        array: false,
        run: (f, l) => {
          let odd = false
          for (let i = 0; i < n; i++) if (runs[i]!(f, l)) odd = !odd
          return odd
        }
      }
  }
}

const compileNode = (e: Ast.Expression): Compiled => {
  switch (e._tag) {
    case "Logical":
      return compileLogical(e)
    case "Not": {
      const inner = compileNode(e.operand)
      if (inner.array) {
        const run = inner.run
        return { array: true, run: (f, l) => run(f, l)?.map((b) => !b) }
      }
      const run = inner.run
      return { array: false, run: (f, l) => !run(f, l) }
    }
    case "Quantifier": {
      const inner = compileNode(e.operand)
      const run = inner.run as ArrayEval
      return e.quantifier === "any"
        ? { array: false, run: (f, l) => run(f, l)?.some((b) => b) ?? false }
        : { array: false, run: (f, l) => run(f, l)?.every((b) => b) ?? false }
    }
    case "Comparison":
      return compileComparison(e)
    case "BareValue": {
      const vt = valueType(e.value)
      const get = compileValue(e.value)
      if (vt.mapped || typeof vt.type === "object") {
        return {
          array: true,
          run: (f, l) => {
            const v = get(f, l)
            return Array.isArray(v) ? (v as ReadonlyArray<boolean>) : undefined
          }
        }
      }
      return { array: false, run: (f, l) => get(f, l) === true }
    }
  }
}

/** Compiles a checked top-level (Bool) expression. */
export const compileExpression = (e: Ast.Expression): Evaluator => {
  const compiled = compileNode(e)
  if (compiled.array) {
    const run = compiled.run
    return (f, l) => run(f, l)?.some((b) => b) ?? false
  }
  return compiled.run
}
