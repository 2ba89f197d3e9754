/**
 * The documented Rules-language functions: how each one type-checks its arguments and what it
 * computes. Runtime values follow the engine's representation (binary strings, numbers,
 * `number | bigint` IPs, arrays, Maps, `undefined` for a missing value).
 */
import { createHash, createHmac } from "node:crypto"
import type { Argument } from "../Ast.js"
import type { Type } from "../Scheme.js"
import { arrayOf, formatType } from "../Scheme.js"
import { asciiLower, asciiUpper, fromUint8Array, fromUtf8, percentDecode, toUint8Array, toUtf8 } from "./bytes.js"
import type { Ip } from "./ip.js"
import { formatIp, networkOf } from "./ip.js"
import { compileRegexObject, fromByteSubject, toByteSubject } from "./regex.js"
import { parseWildcard } from "./wildcard.js"

/** What the checker knows about one argument. `type` is the element type for a `[*]` argument. */
export interface ArgInfo {
  readonly literal: boolean
  readonly type: Type
  readonly node: Argument
}

/** A rejected call. */
export interface CheckError {
  readonly error: string
}

/** True for a {@link CheckError}. */
export const isCheckError = (u: Type | CheckError): u is CheckError => typeof u === "object" && "error" in u

/** A function implementation over evaluated argument values (`undefined` = missing). */
export type FunctionImpl = (args: ReadonlyArray<unknown>) => unknown

/** A function's checker and implementation. */
export interface FunctionSpec {
  /** Returns the result type, or an error message (the reason is `InvalidArgument`). */
  readonly check: (args: ReadonlyArray<ArgInfo>) => Type | CheckError
  /** Builds the implementation once per call site (constant arguments are precomputed here). */
  readonly build: (args: ReadonlyArray<Argument>, types: ReadonlyArray<Type>) => FunctionImpl
  /** True when a missing argument does not make the result missing. */
  readonly tolerant?: boolean
}

const isBytes = (t: Type) => t === "Bytes"
const isInt = (t: Type) => t === "Int"

const fieldOnly = (name: string, args: ReadonlyArray<ArgInfo>): string | undefined =>
  args[0]?.literal === true
    ? `the first argument of ${name}() must be a field or function call, not a literal`
    : undefined

const arity = (name: string, args: ReadonlyArray<ArgInfo>, min: number, max: number): string | undefined =>
  args.length < min || args.length > max
    ? `${name}() takes ${min === max ? min : max === Infinity ? `at least ${min}` : `${min} to ${max}`} argument(s), got ${args.length}`
    : undefined

const expect = (name: string, index: number, arg: ArgInfo | undefined, ok: (t: Type) => boolean, want: string) =>
  arg !== undefined && !ok(arg.type)
    ? `argument ${index + 1} of ${name}() must be ${want}, got ${formatType(arg.type)}`
    : undefined

const literalString = (arg: Argument | undefined): string | undefined =>
  arg !== undefined && arg._tag === "String" ? arg.value : undefined

const first = (...checks: ReadonlyArray<string | undefined>): CheckError | undefined => {
  const error = checks.find((c) => c !== undefined)
  return error === undefined ? undefined : { error }
}

const stringTransform = (name: string, f: (s: string) => string): FunctionSpec => ({
  check: (args) =>
    first(arity(name, args, 1, 1), fieldOnly(name, args), expect(name, 0, args[0], isBytes, "a String")) ?? "Bytes",
  build: () => (a) => (typeof a[0] === "string" ? f(a[0]) : undefined)
})

const affix = (name: string, test: (s: string, x: string) => boolean): FunctionSpec => ({
  check: (args) =>
    first(
      arity(name, args, 2, 2),
      fieldOnly(name, args),
      expect(name, 0, args[0], isBytes, "a String"),
      expect(name, 1, args[1], isBytes, "a String")
    ) ?? "Bool",
  build: () => (a) => (typeof a[0] === "string" && typeof a[1] === "string" ? test(a[0], a[1]) : undefined)
})

const jsonLookup = (name: string, result: "Bytes" | "Int"): FunctionSpec => ({
  check: (args) =>
    first(
      arity(name, args, 2, Infinity),
      expect(name, 0, args[0], isBytes, "a String"),
      ...args.slice(1).map((a, i) =>
        a.literal ? expect(name, i + 1, a, (t) => t === "Bytes" || t === "Int", "a String or Integer literal") : `argument ${i + 2} of ${name}() must be a literal key or index`
      )
    ) ?? result,
  build: (args) => {
    const keys = args.slice(1).map((a) => (a._tag === "String" ? new TextDecoder().decode(toUint8Array(a.value)) : a._tag === "Int" ? a.value : ""))
    return (a) => {
      if (typeof a[0] !== "string") return undefined
      let doc: unknown
      try {
        doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(toUint8Array(a[0])))
      } catch {
        return undefined
      }
      for (const key of keys) {
        if (typeof key === "number") {
          if (!Array.isArray(doc) || key < 0 || key >= doc.length) return undefined
          doc = doc[key]
        } else {
          if (doc === null || typeof doc !== "object" || Array.isArray(doc) || !Object.prototype.hasOwnProperty.call(doc, key)) return undefined
          doc = (doc as Record<string, unknown>)[key]
        }
      }
      if (result === "Bytes") return typeof doc === "string" ? fromUint8Array(new TextEncoder().encode(doc)) : undefined
      return typeof doc === "number" && Number.isSafeInteger(doc) ? doc : undefined
    }
  }
})

const base64Decode = (s: string): string | undefined => {
  const cleaned = s.replace(/-/g, "+").replace(/_/g, "/")
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(cleaned)) return undefined
  return Buffer.from(cleaned, "base64").toString("latin1")
}

const toStringValue = (v: unknown): string | undefined =>
  typeof v === "string" ? v : typeof v === "number" ? String(v) : typeof v === "boolean" ? String(v) : typeof v === "bigint" ? formatIp(v) : undefined

const hmacValid = (args: ReadonlyArray<unknown>): boolean | undefined => {
  const [key, messageMac, ttl, now, sepLen, flags] = args
  if (typeof key !== "string" || typeof messageMac !== "string" || typeof ttl !== "number" || typeof now !== "number") return undefined
  const separator = typeof sepLen === "number" ? sepLen : 0
  const dash = messageMac.lastIndexOf("-")
  if (dash < 0) return false
  const mac = percentDecode(messageMac.slice(dash + 1), false, false)
  const stampMatch = /([0-9]+)$/.exec(messageMac.slice(0, dash))
  if (stampMatch === null) return false
  const stamp = stampMatch[1]!
  const message = messageMac.slice(0, dash - stamp.length - separator)
  if (dash - stamp.length - separator < 0) return false
  const timestamp = Number(stamp)
  if (now < timestamp || now - timestamp > ttl) return false
  const digest = createHmac("sha256", Buffer.from(key, "latin1")).update(Buffer.from(message + stamp, "latin1")).digest()
  const urlSafe = typeof flags === "string" && flags.includes("s")
  const expected = urlSafe ? digest.toString("base64url") : digest.toString("base64")
  return mac === expected || mac.replace(/=+$/, "") === expected.replace(/=+$/, "")
}

const substring = (s: string, start: number, end: number | undefined): string => {
  const len = s.length
  const norm = (i: number) => (i < 0 ? Math.max(0, len + i) : Math.min(i, len))
  const from = norm(start)
  const to = end === undefined ? len : norm(end)
  return to > from ? s.slice(from, to) : ""
}

const wildcardReplace = (segments: ReadonlyArray<string>, caseSensitive: boolean) => {
  const escape = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, (c) => "\\" + c)
  const source = "^" + segments.map(escape).join("(.*?)") + "$"
  return new RegExp(source, caseSensitive ? "s" : "is")
}

const expandReplacement = (template: string, groups: ReadonlyArray<string | undefined>): string =>
  template.replace(/\$\$|\$\{([0-9]+)\}/g, (m, n: string | undefined) => (m === "$$" ? "$" : (groups[Number(n)] ?? "")))

/** Every supported function, by name. */
export const functions: ReadonlyMap<string, FunctionSpec> = new Map<string, FunctionSpec>([
  ["lower", stringTransform("lower", asciiLower)],
  ["upper", stringTransform("upper", asciiUpper)],
  ["decode_base64", stringTransform("decode_base64", (s) => base64Decode(s) ?? "")],
  [
    "len",
    {
      check: (args) =>
        first(arity("len", args, 1, 1), fieldOnly("len", args), expect("len", 0, args[0], (t) => t === "Bytes" || typeof t === "object", "a String, Array or Map")) ?? "Int",
      build: () => (a) => {
        const v = a[0]
        return typeof v === "string" || Array.isArray(v) ? v.length : v instanceof Map ? v.size : undefined
      }
    }
  ],
  ["starts_with", affix("starts_with", (s, x) => s.startsWith(x))],
  ["ends_with", affix("ends_with", (s, x) => s.endsWith(x))],
  [
    "concat",
    {
      tolerant: true,
      check: (args) => {
        const err = arity("concat", args, 1, Infinity)
        if (err !== undefined) return { error: err }
        const arrays = args.filter((a) => typeof a.type === "object")
        if (arrays.length === 0) {
          return first(...args.map((a, i) => expect("concat", i, a, (t) => isBytes(t) || isInt(t), "a String or Integer"))) ?? "Bytes"
        }
        const t0 = args[0]!.type
        if (typeof t0 !== "object" || !("array" in t0)) return { error: "concat() cannot mix arrays and scalars" }
        return first(...args.map((a, i) => expect("concat", i, a, (t) => formatType(t) === formatType(t0), formatType(t0)))) ?? t0
      },
      build: () => (a) => {
        if (Array.isArray(a[0])) return a.flatMap((v) => (Array.isArray(v) ? v : []))
        let out = ""
        for (const v of a) out += typeof v === "string" ? v : typeof v === "number" ? String(v) : ""
        return out
      }
    }
  ],
  [
    "url_decode",
    {
      check: (args) =>
        first(
          arity("url_decode", args, 1, 2),
          fieldOnly("url_decode", args),
          expect("url_decode", 0, args[0], isBytes, "a String"),
          args[1] !== undefined && (!args[1].literal || !/^[ru]*$/.test(literalString(args[1].node) ?? "!"))
            ? "the options of url_decode() must be a string literal made of `r` and `u`"
            : undefined
        ) ?? "Bytes",
      build: (args) => {
        const opts = literalString(args[1]) ?? ""
        const recursive = opts.includes("r")
        const unicode = opts.includes("u")
        return (a) => {
          if (typeof a[0] !== "string") return undefined
          let s = percentDecode(a[0], true, unicode)
          if (recursive) {
            for (let i = 0; i < 16; i++) {
              const next = percentDecode(s, false, unicode)
              if (next === s) break
              s = next
            }
          }
          return s
        }
      }
    }
  ],
  ["lookup_json_string", jsonLookup("lookup_json_string", "Bytes")],
  ["lookup_json_integer", jsonLookup("lookup_json_integer", "Int")],
  [
    "regex_replace",
    {
      check: (args) =>
        first(
          arity("regex_replace", args, 3, 3),
          fieldOnly("regex_replace", args),
          expect("regex_replace", 0, args[0], isBytes, "a String"),
          args[1]?.literal !== true || literalString(args[1].node) === undefined
            ? "the second argument of regex_replace() must be a string literal"
            : compileRegexObject(toUtf8(literalString(args[1].node)!)) === undefined
              ? "the second argument of regex_replace() is not a valid regular expression"
              : undefined,
          args[2]?.literal !== true || literalString(args[2].node) === undefined
            ? "the third argument of regex_replace() must be a string literal"
            : undefined
        ) ?? "Bytes",
      build: (args) => {
        // The pattern is a byte-string literal; the regex compiler takes text.
        const compiled = compileRegexObject(toUtf8(literalString(args[1]) ?? ""))
        const template = literalString(args[2]) ?? ""
        return (a) => {
          if (typeof a[0] !== "string" || compiled === undefined) return undefined
          const input = a[0]
          // Match in the regex's own representation, then convert the result back to bytes.
          const subject = compiled.unicode ? toUtf8(input) : toByteSubject(input)
          const m = compiled.re.matcher(subject)
          if (!m.find()) return input
          const groups: Array<string | undefined> = []
          for (let g = 0; g <= m.groupCount(); g++) groups.push(m.group(g) ?? undefined)
          const replacement = expandReplacement(compiled.unicode ? toUtf8(template) : template, groups)
          const result = subject.slice(0, m.start()) + replacement + subject.slice(m.end())
          return compiled.unicode ? fromUtf8(result) : fromByteSubject(result)
        }
      }
    }
  ],
  [
    "wildcard_replace",
    {
      check: (args) => {
        const err = first(
          arity("wildcard_replace", args, 3, 4),
          fieldOnly("wildcard_replace", args),
          expect("wildcard_replace", 0, args[0], isBytes, "a String"),
          ...[1, 2, 3].map((i) =>
            args[i] !== undefined && (args[i]!.literal !== true || literalString(args[i]!.node) === undefined)
              ? `argument ${i + 1} of wildcard_replace() must be a string literal`
              : undefined
          )
        )
        if (err !== undefined) return err
        const parsed = parseWildcard(literalString(args[1]!.node)!)
        return parsed.ok ? "Bytes" : { error: parsed.error }
      },
      build: (args) => {
        const parsed = parseWildcard(literalString(args[1]) ?? "")
        const template = literalString(args[2]) ?? ""
        const re = parsed.ok ? wildcardReplace(parsed.segments, (literalString(args[3]) ?? "").includes("s")) : undefined
        return (a) => {
          if (typeof a[0] !== "string" || re === undefined) return undefined
          const m = re.exec(a[0])
          return m === null ? a[0] : expandReplacement(template, Array.from(m))
        }
      }
    }
  ],
  [
    "substring",
    {
      check: (args) =>
        first(
          arity("substring", args, 2, 3),
          expect("substring", 0, args[0], isBytes, "a String"),
          expect("substring", 1, args[1], isInt, "an Integer"),
          expect("substring", 2, args[2], isInt, "an Integer")
        ) ?? "Bytes",
      build: () => (a) =>
        typeof a[0] === "string" && typeof a[1] === "number"
          ? substring(a[0], a[1], typeof a[2] === "number" ? a[2] : undefined)
          : undefined
    }
  ],
  [
    "remove_bytes",
    {
      check: (args) =>
        first(
          arity("remove_bytes", args, 2, 2),
          expect("remove_bytes", 0, args[0], isBytes, "a String"),
          expect("remove_bytes", 1, args[1], isBytes, "a String")
        ) ?? "Bytes",
      build: () => (a) => {
        if (typeof a[0] !== "string" || typeof a[1] !== "string") return undefined
        const drop = new Set(a[1])
        let out = ""
        for (const c of a[0]) if (!drop.has(c)) out += c
        return out
      }
    }
  ],
  [
    "to_string",
    {
      check: (args) =>
        first(arity("to_string", args, 1, 1), expect("to_string", 0, args[0], (t) => t === "Int" || t === "Bool" || t === "Ip", "an Integer, Boolean or IP")) ??
        "Bytes",
      build: (_args, types) => {
        const isIp = types[0] === "Ip"
        return (a) => (a[0] === undefined ? undefined : isIp ? formatIp(a[0] as Ip) : toStringValue(a[0]))
      }
    }
  ],
  [
    "encode_base64",
    {
      check: (args) =>
        first(
          arity("encode_base64", args, 1, 2),
          expect("encode_base64", 0, args[0], isBytes, "a String"),
          args[1] !== undefined && (!args[1].literal || literalString(args[1].node) === undefined) ? "the flags of encode_base64() must be a string literal" : undefined
        ) ?? "Bytes",
      build: (args) => {
        const urlSafe = (literalString(args[1]) ?? "").includes("u")
        return (a) => (typeof a[0] === "string" ? Buffer.from(a[0], "latin1").toString(urlSafe ? "base64url" : "base64") : undefined)
      }
    }
  ],
  [
    "sha256",
    {
      check: (args) => first(arity("sha256", args, 1, 1), expect("sha256", 0, args[0], isBytes, "a String")) ?? "Bytes",
      build: () => (a) => (typeof a[0] === "string" ? createHash("sha256").update(Buffer.from(a[0], "latin1")).digest().toString("latin1") : undefined)
    }
  ],
  [
    "cidr",
    {
      check: (args) =>
        first(
          arity("cidr", args, 3, 3),
          fieldOnly("cidr", args),
          expect("cidr", 0, args[0], (t) => t === "Ip", "an IP address"),
          expect("cidr", 1, args[1], isInt, "an Integer"),
          expect("cidr", 2, args[2], isInt, "an Integer")
        ) ?? "Ip",
      build: () => (a) => {
        const ip = a[0] as Ip | undefined
        if (ip === undefined || typeof a[1] !== "number" || typeof a[2] !== "number") return undefined
        return networkOf(ip, typeof ip === "number" ? a[1] : a[2])
      }
    }
  ],
  [
    "cidr6",
    {
      check: (args) =>
        first(
          arity("cidr6", args, 2, 2),
          fieldOnly("cidr6", args),
          expect("cidr6", 0, args[0], (t) => t === "Ip", "an IP address"),
          expect("cidr6", 1, args[1], isInt, "an Integer")
        ) ?? "Ip",
      build: () => (a) => {
        const ip = a[0] as Ip | undefined
        if (ip === undefined || typeof a[1] !== "number") return undefined
        return typeof ip === "number" ? ip : networkOf(ip, a[1])
      }
    }
  ],
  [
    "uuidv4",
    {
      check: (args) => first(arity("uuidv4", args, 1, 1), expect("uuidv4", 0, args[0], isBytes, "a String")) ?? "Bytes",
      build: () => (a) => {
        if (typeof a[0] !== "string") return undefined
        const b = createHash("sha256").update(Buffer.from(a[0], "latin1")).digest()
        b[6] = (b[6]! & 0x0f) | 0x40
        b[8] = (b[8]! & 0x3f) | 0x80
        const h = b.subarray(0, 16).toString("hex")
        return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
      }
    }
  ],
  [
    "is_timed_hmac_valid_v0",
    {
      check: (args) =>
        first(
          arity("is_timed_hmac_valid_v0", args, 4, 6),
          expect("is_timed_hmac_valid_v0", 0, args[0], isBytes, "a String"),
          expect("is_timed_hmac_valid_v0", 1, args[1], isBytes, "a String"),
          expect("is_timed_hmac_valid_v0", 2, args[2], isInt, "an Integer"),
          expect("is_timed_hmac_valid_v0", 3, args[3], isInt, "an Integer"),
          expect("is_timed_hmac_valid_v0", 4, args[4], isInt, "an Integer"),
          expect("is_timed_hmac_valid_v0", 5, args[5], isBytes, "a String")
        ) ?? "Bool",
      build: () => hmacValid
    }
  ]
])

/** The result type of mapping a function over a `[*]` argument. */
export const mappedResult = (t: Type): Type => arrayOf(t)
